"""Run every benchmark group and print its tables: ``python benchmarks/run.py [--quick]``.

Groups live in ``bench_*.py`` modules beside this file; each has ``run(quick) -> list[...]``
of tables that print as Markdown and list their goals (``Measured``). After the tables comes
every goal of the run with its verdict. Tables that also have ``ratios()`` (see
``_chart.Charted``) can be drawn with ``--chart``; ``--page`` writes the goals into the
performance page of the docs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import os
import platform
import sys
from pathlib import Path
from typing import Protocol

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

from _chart import Charted, draw  # noqa: E402 (found through the path above)
from _goals import Verdict, summary, write_block  # noqa: E402


class Measured(Protocol):
    """What every group returns: tables that print, each with its goals judged."""

    def markdown(self) -> str: ...

    def verdicts(self) -> list[Verdict]: ...


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer rounds, for a smoke run")
    parser.add_argument("--markdown", type=Path, help="also write the tables to this file")
    parser.add_argument(
        "--chart",
        type=Path,
        action="append",
        default=[],
        help="also draw the ratios of the tables that have them into this PNG (repeatable)",
    )
    parser.add_argument(
        "--page",
        type=Path,
        help="also write every goal and its verdict into this docs page (a full run only)",
    )
    parser.add_argument("groups", nargs="*", help="only these groups (e.g. core dynamodb)")
    options = parser.parse_args()
    if options.page and (options.quick or options.groups):
        parser.error("--page publishes the goals of a full run: leave out --quick and groups")
    names = sorted(path.stem for path in HERE.glob("bench_*.py"))
    if options.groups:
        names = [name for name in names if name.removeprefix("bench_") in options.groups]
    header = (
        f"Measured {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC on "
        f"{platform.node()} ({platform.machine()}, Python {platform.python_version()})"
        f"{', quick run (fewer rounds and rows)' if options.quick else ''}\n"
    )
    output = [header]
    print(header)
    tables: list[Measured] = []
    for name in names:
        module = importlib.import_module(name)
        for table in module.run(options.quick):
            text = table.markdown()
            print(text, flush=True)
            output.append(text)
            tables.append(table)
    verdicts = [verdict for table in tables for verdict in table.verdicts()]
    goals = summary(verdicts)
    print(goals)
    output.insert(1, goals)
    charted = [table for table in tables if isinstance(table, Charted)]
    if options.chart and charted:
        draw(charted, options.chart, caption=header.strip())
        if options.markdown:
            image = os.path.relpath(options.chart[0], options.markdown.parent)
            output.insert(1, f"![Ratios to the floor]({Path(image).as_posix()})\n")
    elif options.chart:
        print("(no chart drawn: no table measured here has ratios to chart)")
    if options.markdown:
        options.markdown.write_text("\n".join(output))
    if options.page:
        unmeasured = [verdict.table for verdict in verdicts if verdict.passed is None]
        if unmeasured:
            print(f"(page not written: not run here: {', '.join(unmeasured)})")
            return 1
        write_block(options.page, summary(verdicts, heading=f"{header.strip()}."))
    return 0


if __name__ == "__main__":
    sys.exit(main())
