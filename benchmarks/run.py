"""Run every benchmark group and print its tables: ``python benchmarks/run.py [--quick]``.

Groups live in ``bench_*.py`` modules beside this file; each has ``run(quick) -> list[Table]``.
Tables that also have ``ratios()`` (see ``_chart.Charted``) can be drawn with ``--chart``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import os
import platform
import sys
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))


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
    parser.add_argument("groups", nargs="*", help="only these groups (e.g. core dynamodb)")
    options = parser.parse_args()
    names = sorted(path.stem for path in HERE.glob("bench_*.py"))
    if options.groups:
        names = [name for name in names if name.removeprefix("bench_") in options.groups]
    header = (
        f"Measured {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC on "
        f"{platform.node()} ({platform.machine()}, Python {platform.python_version()})\n"
    )
    output = [header]
    print(header)
    tables = []
    for name in names:
        module = importlib.import_module(name)
        for table in module.run(options.quick):
            text = table.markdown()
            print(text, flush=True)
            output.append(text)
            tables.append(table)
    charted = [table for table in tables if hasattr(table, "ratios")]
    if options.chart and charted:
        from _chart import draw

        draw(charted, options.chart, caption=header.strip())
        if options.markdown:
            image = os.path.relpath(options.chart[0], options.markdown.parent)
            output.insert(1, f"![Ratios to the floor]({Path(image).as_posix()})\n")
    elif options.chart:
        print("(no chart drawn: no table measured here has ratios to chart)")
    if options.markdown:
        options.markdown.write_text("\n".join(output))
    return 0


if __name__ == "__main__":
    sys.exit(main())
