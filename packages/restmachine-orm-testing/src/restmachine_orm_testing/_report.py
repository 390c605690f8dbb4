"""The backend-by-outcome matrix of a run: collected from reports, printed and written."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from ._pytest_internals import skip_reason, xfail_reason

__all__ = ["Matrix", "Outcome"]

_ORDER = ("passed", "failed", "error", "skipped", "xfailed", "xpassed")


@dataclass(frozen=True)
class Outcome:
    """How one test ended on one backend.

    Attributes:
        status: passed, failed, error, skipped, xfailed or xpassed.
        reason: Why it was skipped or expected to fail, when it was.
    """

    status: str
    reason: str = ""


@dataclass
class Matrix:
    """Outcomes by test and backend, plus each backend's capabilities.

    Each test class lists the backends its tests ran on, and only those, in the terminal
    summary and in both report formats alike.
    """

    outcomes: dict[str, dict[str, Outcome]] = field(default_factory=dict)
    capabilities: dict[str, list[str]] = field(default_factory=dict)

    def record(self, report: pytest.TestReport) -> None:
        """Fold one phase report of a multi-backend test into the matrix."""
        props = dict(report.user_properties)
        backend, test = props.get("orm_backend"), props.get("orm_test")
        if not isinstance(backend, str) or not isinstance(test, str):
            return
        outcome = _outcome(report)
        if outcome is None:
            return
        row = self.outcomes.setdefault(test, {})
        # Teardown can only make a passed test an error; it never hides a failure.
        if report.when != "teardown" or row.get(backend, Outcome("passed")).status == "passed":
            row[backend] = outcome

    @property
    def backends(self) -> list[str]:
        """Backends seen in the run, sorted."""
        return sorted({name for row in self.outcomes.values() for name in row})

    def by_class(self) -> dict[str, dict[str, Counter[str]]]:
        """Count outcomes per test class (the test id up to its last ``::``) and backend.

        A class has an entry for the backends its tests ran on (skipped included) and no
        other: one that a class does not enable, or that the run deselected, is left out.
        """
        grouped: dict[str, dict[str, Counter[str]]] = {}
        for test, row in self.outcomes.items():
            owner = _owner(test)
            for backend, outcome in row.items():
                counter = grouped.setdefault(owner, {}).setdefault(backend, Counter())
                counter[outcome.status] += 1
        return grouped

    def summary_lines(self) -> list[str]:
        """The terminal summary: one line per test class, with the backends it ran on."""
        lines = []
        for owner, cells in sorted(self.by_class().items()):
            shown = "  |  ".join(f"{name}: {_counts(cells[name])}" for name in sorted(cells))
            lines.append(f"{owner}  |  {shown}")
        return lines

    def write(self, path: Path) -> None:
        """Write the whole matrix as Markdown (``.md``) or JSON (``.json``)."""
        if path.suffix == ".json":
            path.write_text(json.dumps(self._as_json(), indent=2, sort_keys=True) + "\n")
        else:
            path.write_text(self._as_markdown())

    def _as_json(self) -> dict[str, object]:
        totals = {backend: Counter[str]() for backend in self.backends}
        for row in self.outcomes.values():
            for backend, outcome in row.items():
                totals[backend][outcome.status] += 1
        return {
            "backends": {
                name: {"capabilities": self.capabilities.get(name, []), "totals": dict(total)}
                for name, total in totals.items()
            },
            "classes": {
                owner: {name: dict(counter) for name, counter in cells.items()}
                for owner, cells in self.by_class().items()
            },
            "tests": {
                test: {name: {"status": o.status, "reason": o.reason} for name, o in row.items()}
                for test, row in sorted(self.outcomes.items())
            },
        }

    def _as_markdown(self) -> str:
        backends = self.backends
        known = sorted({cap for caps in self.capabilities.values() for cap in caps})
        lines = ["# Backend test matrix", "", "## Capabilities", ""]
        lines += _table_head("capability", backends)
        for cap in known:
            marks = ["yes" if cap in self.capabilities.get(b, []) else "no" for b in backends]
            lines.append(f"| {cap} | " + " | ".join(marks) + " |")
        lines += ["", "## Outcomes"]
        rows_by_class: dict[str, list[tuple[str, dict[str, Outcome]]]] = {}
        for test, row in sorted(self.outcomes.items()):
            rows_by_class.setdefault(_owner(test), []).append((test, row))
        for owner, rows in sorted(rows_by_class.items()):
            ran = sorted({name for _, row in rows for name in row})
            lines += ["", f"### `{owner}`", ""]
            lines += _table_head("test", ran)
            for test, row in rows:
                cells = [_cell(row.get(name)) for name in ran]
                lines.append(f"| `{test}` | " + " | ".join(cells) + " |")
        return "\n".join(lines) + "\n"


def _table_head(first: str, backends: list[str]) -> list[str]:
    return [f"| {first} | " + " | ".join(backends) + " |", "|---|" + "---|" * len(backends)]


def _cell(outcome: Outcome | None) -> str:
    if outcome is None:
        return "-"
    text = outcome.status + (f": {outcome.reason}" if outcome.reason else "")
    return text.replace("|", "\\|").replace("\n", " ")


def _counts(counter: Counter[str]) -> str:
    return ", ".join(f"{counter[s]} {s}" for s in _ORDER if counter[s])


def _owner(test: str) -> str:
    """The test class (or module) of a test id: everything up to its last ``::``."""
    return test.rsplit("::", 1)[0]


def _outcome(report: pytest.TestReport) -> Outcome | None:
    expected = xfail_reason(report)
    if report.when == "call":
        if expected is not None:
            return Outcome("xfailed" if report.skipped else "xpassed", expected)
        if report.skipped:
            return Outcome("skipped", skip_reason(report))
        return Outcome("passed" if report.passed else "failed")
    if report.skipped:
        if expected is not None:
            return Outcome("xfailed", expected)
        return Outcome("skipped", skip_reason(report))
    if report.failed:
        return Outcome("error")
    return None
