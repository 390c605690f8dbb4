"""Many contenders against one floor: wall and CPU time from the same interleaved rounds.

``_harness`` compares one contender with its floor; a lineup compares several libraries
doing the same operation, each as a ratio to the floor, with the client CPU each one spends.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from operator import attrgetter


@dataclass(frozen=True)
class Timing:
    """Medians of one contender, in seconds per operation."""

    wall: float
    cpu_rounds: tuple[float, ...]  # time.process_time per op (what the client itself spent)
    own_rounds: tuple[float, ...]  # the part of it spent outside the AWS SDK (botocore)

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
        return _median_difference(self.cpu_rounds, floor.cpu_rounds)

    def own_added(self, floor: Timing) -> float:
        """CPU spent outside botocore over the floor's, round by round as ``cpu_added``."""
        return _median_difference(self.own_rounds, floor.own_rounds)


def _median_difference(mine: tuple[float, ...], theirs: tuple[float, ...]) -> float:
    # Contenders run back to back within a round, so a slow stretch of the machine (another
    # process, a throttled core) touches both sides of a difference; the difference of the
    # two medians would carry it whole.
    return statistics.median(a - b for a, b in zip(mine, theirs, strict=True))


def interleaved(
    contenders: Mapping[str, Callable[[int], None]],
    *,
    rounds: int,
    ops: int,
    sdk: Callable[[], float],
) -> dict[str, Timing]:
    """Time each contender ``rounds`` times, rotating who goes first; medians per op.

    Each callable receives the round number and performs ``ops`` operations. Wall and CPU
    clocks are read around the same runs, so both describe the same requests. ``sdk``
    reads the CPU time spent inside botocore so far (``SdkMeter.reading``), which the
    CPU outside botocore leaves out.
    """
    names = list(contenders)
    walls: dict[str, list[float]] = {name: [] for name in names}
    cpus: dict[str, list[float]] = {name: [] for name in names}
    owns: dict[str, list[float]] = {name: [] for name in names}
    for round_number in range(rounds):
        # Rotating the order gives every contender every position (warm caches, turbo).
        shift = round_number % len(names)
        for name in names[shift:] + names[:shift]:
            gc.collect()
            gc.disable()
            try:
                wall, cpu, inside = time.perf_counter(), time.process_time(), sdk()
                contenders[name](round_number)
                spent = time.process_time() - cpu
                cpus[name].append(spent / ops)
                owns[name].append((spent - (sdk() - inside)) / ops)
                walls[name].append((time.perf_counter() - wall) / ops)
            finally:
                gc.enable()
    return {
        name: Timing(statistics.median(walls[name]), tuple(cpus[name]), tuple(owns[name]))
        for name in names
    }


@dataclass
class Line:
    """One operation done by every contender, and the goals of the subject."""

    name: str
    timings: dict[str, Timing]  # by contender, floor included
    goal: float  # the subject's wall ratio to the floor must be at most this
    peer_margin: float | None = None  # ... and its wall ratio to the peer at most this
    cpu_goal: float | None = None  # the subject's CPU added over the floor, seconds per op


@dataclass
class Lineup:
    """A titled table: one row of wall time and one of client CPU per operation."""

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
        """Wall ratio to the floor, by operation and contender (the floor left out)."""
        return {
            line.name: {
                name: timing.wall / line.timings[self.floor].wall
                for name, timing in line.timings.items()
                if name != self.floor
            }
            for line in self.lines
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
            lines += self._cpu_rows(line, names)
        lines += ["", *(f"- {note}" for note in self.notes)] if self.notes else []
        return "\n".join(lines) + "\n"

    def _wall_row(self, line: Line, names: list[str]) -> str:
        floor = line.timings[self.floor].wall
        cells = [
            _ms(floor)
            if name == self.floor
            else f"{_ms(line.timings[name].wall)} ({line.timings[name].wall / floor:.2f}x)"
            for name in names
        ]
        ratio = line.timings[self.subject].wall / floor
        versus = line.timings[self.subject].wall / line.timings[self.peer].wall
        goal = f"<= {line.goal:.2f}x"
        missed = ["floor"] if ratio > line.goal else []
        if line.peer_margin is not None:
            goal += f", <= {line.peer_margin:.2f}x {self.peer}"
            missed += [self.peer] if versus > line.peer_margin else []
        verdict = f"MISS ({', '.join(missed)})" if missed else "PASS"
        return f"| {line.name} | {' | '.join(cells)} | {versus:.2f}x | {goal} | {verdict} |"

    def _cpu_rows(self, line: Line, names: list[str]) -> list[str]:
        """Client CPU in all, then outside botocore: the part the goal is judged on.

        botocore's share, about 1.4 ms per request, is the same work for every contender
        sending the same request, and varies round to round by more than the goal; what a
        library adds is read off the rest.
        """
        total = self._cpu_row(
            line, names, "↳ client CPU", attrgetter("cpu"), Timing.cpu_added, False
        )
        own = self._cpu_row(
            line, names, "↳ of it outside botocore", attrgetter("own"), Timing.own_added, True
        )
        return [total, own]

    def _cpu_row(
        self,
        line: Line,
        names: list[str],
        label: str,
        spent: Callable[[Timing], float],
        added: Callable[[Timing, Timing], float],
        judged: bool,
    ) -> str:
        base = line.timings[self.floor]
        cells = [
            _ms(spent(base), 3)
            if name == self.floor
            else f"{_ms(spent(line.timings[name]), 3)} ({_added(added(line.timings[name], base))})"
            for name in names
        ]
        versus = spent(line.timings[self.subject]) / spent(line.timings[self.peer])
        goal, verdict = "", ""
        if judged and line.cpu_goal is not None:
            goal = f"<= {_added(line.cpu_goal)}"
            ok = added(line.timings[self.subject], base) <= line.cpu_goal
            verdict = "PASS" if ok else "MISS"
        return f"| {label} | {' | '.join(cells)} | {versus:.2f}x | {goal} | {verdict} |"


def _ms(seconds: float, digits: int = 2) -> str:
    return f"{seconds * 1e3:.{digits}f} ms"


def _added(seconds: float) -> str:
    return f"{seconds * 1e3:+.3f} ms"
