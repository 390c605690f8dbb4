"""``python -m restmachine_orm_testing``: the installed backends, and the suite's version.

Prints a title line (this package's version and the conformance suite's), then a table
with one row per registered backend (its package, that package's version, its
capabilities) and one per first-party backend that is not registered; ``--json`` prints
the same as JSON. Exits 0, or 2 if a plugin failed to load or a driver could not be made,
after saying so on stderr, one line each.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from restmachine_orm import CAPABILITIES

from ._version import __version__
from .registry import FIRST_PARTY, DriverRegistry
from .suite import SUITE_VERSION

__all__ = ["BROKEN", "COLUMNS", "Listing", "Row", "main"]

#: The table's column titles, in order.
COLUMNS = ("backend", "package", "version", "capabilities")
#: The exit status when a plugin failed to load or a driver could not be made.
BROKEN = 2


class Row(NamedTuple):
    """One registered backend, as listed.

    Attributes:
        backend: The backend's name.
        package: The distribution that registers its driver (``""`` if unknown).
        version: That distribution's version (``""`` if unknown).
        capabilities: Its backend's capabilities, sorted; ``None`` if the driver could not
            be made.
    """

    backend: str
    package: str
    version: str
    capabilities: list[str] | None


@dataclass
class Listing:
    """What ``python -m restmachine_orm_testing`` reports.

    Attributes:
        rows: One row per registered backend, sorted by name.
        missing: First-party backends that are not registered, each to why: the line that
            installs it or, when a plugin failed to load (it may be the one providing it),
            that.
        problems: One line per plugin that failed to load or driver that could not be made.
    """

    rows: list[Row]
    missing: dict[str, str]
    problems: list[str]

    @classmethod
    def of(cls, registry: DriverRegistry) -> Listing:
        """Read the registry, making each driver once to ask its capabilities."""
        rows: list[Row] = []
        problems = registry.failure_lines()
        for name, registered in sorted(registry.drivers.items()):
            capabilities: list[str] | None
            try:
                capabilities = sorted(registered.factory().capabilities)
            except Exception as error:
                capabilities = None
                problems.append(
                    f"backend {name!r} ({registered.source}): cannot create its driver: "
                    f"{type(error).__name__}: {error}"
                )
            rows.append(Row(name, registered.package, registered.version, capabilities))
        missing = {
            name: "not loaded: a plugin failed to load"
            if registry.failures
            else f"not installed: {install}"
            for name, install in sorted(FIRST_PARTY.items())
            if name not in registry.drivers
        }
        return cls(rows, missing, problems)

    def table(self) -> str:
        """The listing as text: the title line, a blank line, then the aligned table.

        Columns are two spaces apart or more, so that a row splits back into its cells on
        runs of two spaces; capabilities are one cell, comma-separated.
        """
        cells = [list(COLUMNS)]
        for row in self.rows:
            if row.capabilities is None:
                shown = "(driver failed)"
            else:
                shown = ", ".join(row.capabilities) or "(none)"
            cells.append([row.backend, row.package or "-", row.version or "-", shown])
        for name, why in self.missing.items():
            cells.append([name, "-", "-", why])
        # The last column is left ragged: padding it would only add trailing spaces.
        widths = [max(len(line[column]) for line in cells) for column in range(len(COLUMNS) - 1)]
        lines = [f"restmachine-orm-testing {__version__}, conformance suite {SUITE_VERSION}", ""]
        lines += ["  ".join([*map(str.ljust, line[:-1], widths), line[-1]]) for line in cells]
        return "\n".join(lines) + "\n"

    def as_json(self) -> str:
        """The listing as JSON, with what each capability means."""
        document = {
            "version": __version__,
            "suite_version": SUITE_VERSION,
            "backends": {
                row.backend: {
                    "package": row.package,
                    "version": row.version,
                    "capabilities": row.capabilities,
                }
                for row in self.rows
            },
            "missing": self.missing,
            "problems": self.problems,
            "capabilities": dict(CAPABILITIES),
        }
        return json.dumps(document, indent=2) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """List the registered backends; return the exit status (0, or ``BROKEN``)."""
    parser = argparse.ArgumentParser(
        prog="python -m restmachine_orm_testing",
        description="List the backends restmachine-orm-testing can run tests on, with the "
        "package, version and capabilities of each, and the conformance suite's version.",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    options = parser.parse_args(argv)
    listing = Listing.of(DriverRegistry.load())
    sys.stdout.write(listing.as_json() if options.json else listing.table())
    for problem in listing.problems:
        # One line each, so that a script (or a CI log) reads one problem per line even
        # when an error's message spans several.
        one_line = " ".join(problem.split())
        print(f"restmachine-orm-testing: {one_line}", file=sys.stderr)
    return BROKEN if listing.problems else 0


if __name__ == "__main__":
    sys.exit(main())
