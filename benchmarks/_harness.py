"""Side-by-side timing: contenders measured in alternating rounds, compared as ratios.

The machines are small and noisy, so absolute times mean little: every row times its
contender and its floor in the same run, interleaved round by round, and reports the ratio
of their medians. The garbage collector stays on while a round is timed: the ORM allocates
more than its floors, and collecting that garbage is part of what it costs.
"""

from __future__ import annotations

import gc
import math
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from _goals import Verdict

#: "Flat at scale": the ORM's own cost (its time minus the floor's) on the large store may be
#: at most this many times its own cost on the small one.
FLAT_GOAL = 1.3


@dataclass
class Row:
    """One comparison: a contender against a floor, with the goal for their ratio."""

    name: str
    contender: float  # median seconds per operation
    floor: float
    goal: float  # the ratio must be at most this (or, with added=True, the added time)
    unit: str = "µs"
    added: bool = False  # the goal bounds contender - floor, in seconds
    detail: str = ""  # shown beside the name in the table, e.g. the times a ratio is of

    @property
    def ratio(self) -> float:
        return self.contender / self.floor if self.floor else float("inf")

    @property
    def measured(self) -> float:
        """What the goal bounds: the ratio, or with ``added`` the seconds added."""
        return self.contender - self.floor if self.added else self.ratio

    @property
    def verdict(self) -> str:
        return "PASS" if self.measured <= self.goal else "MISS"

    def goal_text(self) -> str:
        if self.added:
            return f"<= +{self.goal * 1e3:.3f} ms added"
        return f"<= {self.goal:.2f}x"

    def measured_text(self) -> str:
        if self.added:
            return f"{self.measured * 1e3:+.3f} ms"
        return f"{self.ratio:.2f}x"


@dataclass
class Table:
    """A titled group of rows, printed as Markdown."""

    title: str
    contender: str
    floor: str
    rows: list[Row] = field(default_factory=list)

    def markdown(self) -> str:
        scale = {"µs": 1e6, "ms": 1e3, "KiB": 1 / 1024}
        lines = [
            f"### {self.title}",
            "",
            f"| operation | {self.contender} | {self.floor} | ratio | goal | |",
            "|---|---:|---:|---:|---:|---|",
        ]
        for row in self.rows:
            factor = scale[row.unit]
            goal = row.goal_text()
            if row.added:
                goal += f" (measured {row.measured_text()})"
            name = f"{row.name} ({row.detail})" if row.detail else row.name
            lines.append(
                f"| {name} | {row.contender * factor:.2f} {row.unit} "
                f"| {row.floor * factor:.2f} {row.unit} | {row.ratio:.2f}x "
                f"| {goal} | {row.verdict} |"
            )
        return "\n".join(lines) + "\n"

    def verdicts(self) -> list[Verdict]:
        """Every row's goal, as measured in this run."""
        return [
            Verdict(
                self.title, row.name, row.measured_text(), row.goal_text(), row.measured <= row.goal
            )
            for row in self.rows
        ]


def side_by_side(
    contenders: dict[str, Callable[[int], None]],
    *,
    rounds: int,
    ops: int,
    clock: Callable[[], float] = time.perf_counter,
) -> dict[str, list[float]]:
    """Time each contender ``rounds`` times, interleaved; return each round's seconds per op.

    Each callable receives the round number and performs ``ops`` operations. ``clock``
    may be ``time.process_time`` to compare CPU spent by this process instead of wall time.
    """
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    for round_number in range(rounds):
        order = list(contenders.items())
        if round_number % 2:
            order.reverse()  # neither side always runs first (warm caches, turbo)
        for name, run in order:
            # Untimed: the garbage the previous contender left is not this one's to collect.
            gc.collect()
            start = clock()
            run(round_number)
            samples[name].append((clock() - start) / ops)
    return samples


def median_difference(mine: Sequence[float], theirs: Sequence[float]) -> float:
    """The median of the differences of two contenders' rounds, taken round by round."""
    # Contenders run back to back within a round, so a slow stretch of the machine (another
    # process, a throttled core) touches both sides of a difference; the difference of the
    # two medians would carry it whole.
    return statistics.median(a - b for a, b in zip(mine, theirs, strict=True))


def median_interval(values: Sequence[float], confidence: float = 0.95) -> tuple[float, float]:
    """A distribution-free confidence interval of the median of ``values``.

    The order statistics bounding the median with at least ``confidence``, from the
    binomial distribution of how many values fall below it: nothing is assumed about the
    noise. With few values the interval is the whole range.
    """
    ordered = sorted(values)
    n = len(ordered)
    below = 0.0  # P(at most k - 1 of n values fall below the median)
    k = 0
    while k < n // 2:
        step = math.comb(n, k) / 2**n
        if 2 * (below + step) > 1 - confidence:
            break
        below += step
        k += 1
    return ordered[max(k - 1, 0)], ordered[min(n - k, n - 1)]


def flat_row(
    name: str,
    small: tuple[Sequence[float], Sequence[float]],
    large: tuple[Sequence[float], Sequence[float]],
) -> Row:
    """The "flat at scale" goal: the ORM's own cost on a large store against a small one.

    ``small`` and ``large`` are ``(ORM rounds, floor rounds)``, each timed on a store of
    that size. The own cost is the ORM's time minus the floor's, round by round; the row's
    ratio is the large store's own cost over the small one's, which may be at most
    ``FLAT_GOAL``.
    """
    own_small, own_large = median_difference(*small), median_difference(*large)
    orm, floor = (_micros(small[which], large[which]) for which in (0, 1))
    detail = f"ORM {orm} µs, floor {floor} µs"
    return Row(name, own_large, own_small, goal=FLAT_GOAL, detail=detail)


def _micros(small: Sequence[float], large: Sequence[float]) -> str:
    return f"{statistics.median(small) * 1e6:.2f} -> {statistics.median(large) * 1e6:.2f}"
