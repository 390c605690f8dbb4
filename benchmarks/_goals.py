"""Every goal of a run with its verdict, as one table for the results and the docs page.

Each kind of table a benchmark group returns lists its goals (``verdicts()``); this module
puts them side by side, and writes them into the block of ``docs/performance.md`` kept
between ``BEGIN`` and ``END``, so that the page shows every goal of the last full run, misses
included, exactly as the run judged it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

BEGIN = "<!-- goals: written by `benchmarks/run.py --page`; edits here are overwritten -->"
END = "<!-- /goals -->"


@dataclass(frozen=True)
class Verdict:
    """One goal as one run measured it."""

    table: str  # the table the figure is in
    measure: str  # what the goal is about, as the table's row names it
    measured: str  # the figure the goal bounds, e.g. "1.04x" or "+0.031 ms"
    goal: str  # e.g. "<= 1.10x"
    passed: bool | None  # None: not measured in this run

    @property
    def word(self) -> str:
        """PASS, MISS, or NOT RUN."""
        return "NOT RUN" if self.passed is None else "PASS" if self.passed else "MISS"


@dataclass(frozen=True)
class NotRun:
    """A table a group could not measure here, and why: its goals go unjudged, not unseen."""

    title: str
    reason: str

    def markdown(self) -> str:
        """The table's heading and why it is missing."""
        return f"### {self.title}\n\nNot run: {self.reason}.\n"

    def verdicts(self) -> list[Verdict]:
        """One line standing for the table's goals."""
        return [Verdict(self.title, "every goal of the table", f"not run: {self.reason}", "", None)]


def summary(verdicts: Sequence[Verdict], heading: str = "### Every goal") -> str:
    """A Markdown table of the goals, in the order measured, with a count of the misses."""
    missed = sum(verdict.passed is False for verdict in verdicts)
    met = sum(verdict.passed is True for verdict in verdicts)
    unmeasured = len(verdicts) - missed - met
    lines = [
        heading,
        "",
        f"{met + missed} goals judged: {met} met, {missed} missed"
        + (f"; {unmeasured} tables not run." if unmeasured else "."),
        "",
        "| table | measure | measured | goal | verdict |",
        "|---|---|---:|---|---|",
    ]
    lines += [f"| {v.table} | {v.measure} | {v.measured} | {v.goal} | {v.word} |" for v in verdicts]
    return "\n".join(lines) + "\n"


def write_block(page: Path, text: str) -> None:
    """Replace what lies between ``BEGIN`` and ``END`` in ``page`` with ``text``.

    Raises:
        ValueError: The page does not have the two markers, in that order, once each.
    """
    content = page.read_text()
    if (
        content.count(BEGIN) != 1
        or content.count(END) != 1
        or content.index(BEGIN) > content.index(END)
    ):
        raise ValueError(f"{page} needs one line {BEGIN!r} and, after it, one line {END!r}")
    head, rest = content.split(BEGIN)
    _, tail = rest.split(END)
    page.write_text(f"{head}{BEGIN}\n\n{text}\n{END}{tail}")
