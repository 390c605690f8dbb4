"""Many contenders against one floor: wall and CPU time from the same interleaved rounds.

``_harness`` compares one contender with its floor; a lineup compares several libraries
doing the same operation, each as a ratio to the floor, with the client CPU each one spends.
As in ``_harness``, the garbage collector stays on while a round is timed.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from operator import attrgetter

from _goals import Verdict
from _harness import median_difference, median_interval


@dataclass(frozen=True)
class Timing:
    """Medians of one contender, in seconds per operation."""

    wall: float
    cpu_rounds: tuple[float, ...]  # time.process_time per op (what the client itself spent)
    own_rounds: tuple[float, ...]  # the part of it spent outside the AWS SDK (botocore)
    wall_rounds: tuple[float, ...] = ()  # each round's wall time per op, ``wall`` their median

    @property
    def cpu(self) -> float:
        """The median round's CPU per operation."""
        return statistics.median(self.cpu_rounds)

    @property
    def own(self) -> float:
        """The median round's CPU per operation outside botocore."""
        return statistics.median(self.own_rounds)

    def cpu_added(self, floor: Timing) -> float:
        """CPU spent over the floor's: the median of the differences round by round."""
        return median_difference(self.cpu_rounds, floor.cpu_rounds)

    def cpu_added_interval(self, floor: Timing) -> tuple[float, float]:
        """The 95% confidence interval of ``cpu_added``: how settled its median is."""
        return median_interval(
            [a - b for a, b in zip(self.cpu_rounds, floor.cpu_rounds, strict=True)]
        )

    def own_added(self, floor: Timing) -> float:
        """CPU spent outside botocore over the floor's, round by round as ``cpu_added``."""
        return median_difference(self.own_rounds, floor.own_rounds)


def interleaved(
    contenders: Mapping[str, Callable[[int], None]],
    *,
    rounds: int,
    ops: int,
    sdk: Callable[[], float] = lambda: 0.0,
) -> dict[str, Timing]:
    """Time each contender ``rounds`` times, rotating who goes first; medians per op.

    Each callable receives the round number and performs ``ops`` operations. Wall and CPU
    clocks are read around the same runs, so both describe the same requests. ``sdk``
    reads the CPU time spent inside botocore so far (``SdkMeter.reading``), which the
    CPU outside botocore leaves out; without it, none is told apart.
    """
    names = list(contenders)
    walls: dict[str, list[float]] = {name: [] for name in names}
    cpus: dict[str, list[float]] = {name: [] for name in names}
    owns: dict[str, list[float]] = {name: [] for name in names}
    for round_number in range(rounds):
        # Rotating the order gives every contender every position (warm caches, turbo).
        shift = round_number % len(names)
        for name in names[shift:] + names[:shift]:
            # Untimed: the garbage the previous contender left is not this one's to collect.
            gc.collect()
            wall, cpu, inside = time.perf_counter(), time.process_time(), sdk()
            contenders[name](round_number)
            spent = time.process_time() - cpu
            cpus[name].append(spent / ops)
            owns[name].append((spent - (sdk() - inside)) / ops)
            walls[name].append((time.perf_counter() - wall) / ops)
    return {
        name: Timing(
            statistics.median(walls[name]),
            tuple(cpus[name]),
            tuple(owns[name]),
            tuple(walls[name]),
        )
        for name in names
    }


@dataclass
class Line:
    """One operation done by every contender, and the goals of the subject.

    A line with ``against`` set is there for information: it reads every contender's wall
    time against that contender instead of the table's floor, and has no goal.
    """

    name: str
    timings: dict[str, Timing]  # by contender, floor included
    goal: float | None  # the subject's wall ratio to the floor must be at most this
    peer_margin: float | None = None  # ... and its wall ratio to the peer at most this
    cpu_goal: float | None = None  # the subject's client CPU added over the floor's, s per op
    against: str | None = None  # the contender an informational line is read against


@dataclass
class Lineup:
    """A titled table: one row of wall time and two of client CPU per operation."""

    title: str
    floor: str
    subject: str
    peer: str
    lines: list[Line] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def contenders(self) -> list[str]:
        """Column order: the floor, the subject, then the others as measured."""
        rest = [name for line in self.lines for name in line.timings]
        order = [self.floor, self.subject, *rest]
        return list(dict.fromkeys(order))

    def ratios(self) -> dict[str, dict[str, float]]:
        """Wall ratio to the floor, by judged operation and contender (the floor left out)."""
        return {
            line.name: {
                name: timing.wall / line.timings[self.floor].wall
                for name, timing in line.timings.items()
                if name != self.floor
            }
            for line in self.lines
            if line.against is None
        }

    def markdown(self) -> str:
        """The table as Markdown, with a verdict on the subject's goals and the notes."""
        names = self.contenders()
        lines = [
            f"### {self.title}",
            "",
            "Median per operation; in brackets the ratio to the floor (wall) or the time "
            "added over it (CPU).",
            "",
            f"| operation | {' | '.join(names)} | {self.subject} ÷ {self.peer} | goal | |",
            f"|---|{'---:|' * len(names)}---:|---|---|",
        ]
        for line in self.lines:
            lines.append(self._wall_row(line, names))
            if line.against is None:  # an informational line repeats the timings above it
                lines += self._cpu_rows(line, names)
        lines += ["", *(f"- {note}" for note in self.notes)] if self.notes else []
        return "\n".join(lines) + "\n"

    def verdicts(self) -> list[Verdict]:
        """Every goal of the subject: wall ratio to the floor and to the peer, client CPU."""
        found = []
        for line in self.lines:
            if line.goal is None or line.against is not None:
                continue
            subject, floor = line.timings[self.subject], line.timings[self.floor]
            ratio = subject.wall / floor.wall
            found.append(
                Verdict(
                    self.title,
                    f"{line.name}, wall time vs {self.floor}",
                    f"{ratio:.2f}x",
                    f"<= {line.goal:.2f}x",
                    ratio <= line.goal,
                )
            )
            if line.peer_margin is not None:
                versus = subject.wall / line.timings[self.peer].wall
                found.append(
                    Verdict(
                        self.title,
                        f"{line.name}, wall time vs {self.peer}",
                        f"{versus:.2f}x",
                        f"<= {line.peer_margin:.2f}x",
                        versus <= line.peer_margin,
                    )
                )
            if line.cpu_goal is not None:
                added = subject.cpu_added(floor)
                found.append(
                    Verdict(
                        self.title,
                        f"{line.name}, client CPU over {self.floor}",
                        f"{_added(added)} ({_interval(subject.cpu_added_interval(floor))})",
                        f"<= {_added(line.cpu_goal)} per operation",
                        added <= line.cpu_goal,
                    )
                )
        return found

    def _wall_row(self, line: Line, names: list[str]) -> str:
        reference = line.against or self.floor
        base = line.timings[reference].wall
        cells = [
            _ms(base)
            if name == reference
            else f"{_ms(line.timings[name].wall)} ({line.timings[name].wall / base:.2f}x)"
            for name in names
        ]
        versus = line.timings[self.subject].wall / line.timings[self.peer].wall
        row = f"| {line.name} | {' | '.join(cells)} | {versus:.2f}x"
        if line.goal is None or line.against is not None:
            return f"{row} | none: for information | |"
        ratio = line.timings[self.subject].wall / base
        goal = f"<= {line.goal:.2f}x"
        missed = ["floor"] if ratio > line.goal else []
        if line.peer_margin is not None:
            goal += f", <= {line.peer_margin:.2f}x {self.peer}"
            missed += [self.peer] if versus > line.peer_margin else []
        verdict = f"MISS ({', '.join(missed)})" if missed else "PASS"
        return f"{row} | {goal} | {verdict} |"

    def _cpu_rows(self, line: Line, names: list[str]) -> list[str]:
        """Client CPU in all, the figure the goal bounds, then the part outside botocore.

        The part outside botocore is a diagnostic: botocore's share, about 1.4 ms per
        request, is the same work for every contender sending the same request, so what a
        library adds shows there with less noise; but the goal is worded on the client's
        CPU in all, and is judged on it.
        """
        total = self._cpu_row(line, names, "↳ client CPU", attrgetter("cpu"), Timing.cpu_added)
        own = self._cpu_row(
            line, names, "↳ of it outside botocore", attrgetter("own"), Timing.own_added
        )
        if line.cpu_goal is not None:
            subject, floor = line.timings[self.subject], line.timings[self.floor]
            added = subject.cpu_added(floor)
            verdict = "PASS" if added <= line.cpu_goal else "MISS"
            interval = _interval(subject.cpu_added_interval(floor))
            total += f" <= {_added(line.cpu_goal)} | {verdict} ({interval}) |"
            own += " diagnostic | |"
        else:
            total, own = total + " | |", own + " | |"
        return [total, own]

    def _cpu_row(
        self,
        line: Line,
        names: list[str],
        label: str,
        spent: Callable[[Timing], float],
        added: Callable[[Timing, Timing], float],
    ) -> str:
        """The row's cells up to its goal cell, which the caller fills."""
        base = line.timings[self.floor]
        cells = [
            _ms(spent(base), 3)
            if name == self.floor
            else f"{_ms(spent(line.timings[name]), 3)} ({_added(added(line.timings[name], base))})"
            for name in names
        ]
        versus = spent(line.timings[self.subject]) / spent(line.timings[self.peer])
        return f"| {label} | {' | '.join(cells)} | {versus:.2f}x |"


def _ms(seconds: float, digits: int = 2) -> str:
    return f"{seconds * 1e3:.{digits}f} ms"


def _added(seconds: float) -> str:
    return f"{seconds * 1e3:+.3f} ms"


def _interval(bounds: tuple[float, float]) -> str:
    return f"95% CI {_added(bounds[0])} to {_added(bounds[1])}"
