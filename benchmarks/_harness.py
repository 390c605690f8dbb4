"""Side-by-side timing: contenders measured in alternating rounds, compared as ratios.

The machines are small and noisy, so absolute times mean little: every row times its
contender and its floor in the same run, interleaved round by round, and reports the ratio
of their medians.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Row:
    """One comparison: a contender against a floor, with the goal for their ratio."""

    name: str
    contender: float  # median seconds per operation
    floor: float
    goal: float  # the ratio must be at most this (or, with added=True, the added time)
    unit: str = "µs"
    note: str = ""
    added: bool = False  # the goal bounds contender - floor, in seconds

    @property
    def ratio(self) -> float:
        return self.contender / self.floor if self.floor else float("inf")

    @property
    def verdict(self) -> str:
        measured = self.contender - self.floor if self.added else self.ratio
        return "PASS" if measured <= self.goal else "MISS"

    def goal_text(self) -> str:
        if self.added:
            added = (self.contender - self.floor) * 1e3
            return f"+{self.goal * 1e3:.3f} ms added (measured {added:+.3f})"
        return f"<= {self.goal:.2f}x"


@dataclass
class Table:
    """A titled group of rows, printed as Markdown."""

    title: str
    contender: str
    floor: str
    rows: list[Row] = field(default_factory=list)

    def markdown(self) -> str:
        scale = {"µs": 1e6, "ms": 1e3, "ratio": 1.0, "KiB": 1 / 1024}
        lines = [
            f"### {self.title}",
            "",
            f"| operation | {self.contender} | {self.floor} | ratio | goal | |",
            "|---|---:|---:|---:|---:|---|",
        ]
        for row in self.rows:
            factor = scale[row.unit]
            unit = "x" if row.unit == "ratio" else f" {row.unit}"
            lines.append(
                f"| {row.name} | {row.contender * factor:.2f}{unit} "
                f"| {row.floor * factor:.2f}{unit} | {row.ratio:.2f}x "
                f"| {row.goal_text()} | {row.verdict}{' ' + row.note if row.note else ''} |"
            )
        return "\n".join(lines) + "\n"


def side_by_side(
    contenders: dict[str, Callable[[int], None]],
    *,
    rounds: int,
    ops: int,
    clock: Callable[[], float] = time.perf_counter,
) -> dict[str, float]:
    """Time each contender ``rounds`` times, interleaved; return median seconds per op.

    Each callable receives the round number and performs ``ops`` operations. ``clock``
    may be ``time.process_time`` to compare CPU spent by this process instead of wall time.
    """
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    for round_number in range(rounds):
        order = list(contenders.items())
        if round_number % 2:
            order.reverse()  # neither side always runs first (warm caches, turbo)
        for name, run in order:
            gc.collect()
            gc.disable()
            try:
                start = clock()
                run(round_number)
                samples[name].append((clock() - start) / ops)
            finally:
                gc.enable()
    return {name: statistics.median(values) for name, values in samples.items()}
