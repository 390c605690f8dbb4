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


@dataclass(frozen=True)
class Timing:
    """Medians of one contender, in seconds per operation."""

    wall: float
    cpu_rounds: tuple[float, ...]  # time.process_time per op (what the client itself spent)

    @property
    def cpu(self) -> float:
        """The median round's CPU per operation."""
        return statistics.median(self.cpu_rounds)

    def cpu_added(self, floor: Timing) -> float:
        """CPU spent over the floor's: the median of the differences round by round.

        Contenders run back to back within a round, so a slow stretch of the machine
        (another process, a throttled core) touches both sides of a difference; the
        difference of the two medians would carry it whole.
        """
        pairs = zip(self.cpu_rounds, floor.cpu_rounds, strict=True)
        return statistics.median(mine - theirs for mine, theirs in pairs)


def interleaved(
    contenders: Mapping[str, Callable[[int], None]], *, rounds: int, ops: int
) -> dict[str, Timing]:
    """Time each contender ``rounds`` times, rotating who goes first; medians per op.

    Each callable receives the round number and performs ``ops`` operations. Wall and CPU
    clocks are read around the same runs, so both describe the same requests.
    """
    names = list(contenders)
    walls: dict[str, list[float]] = {name: [] for name in names}
    cpus: dict[str, list[float]] = {name: [] for name in names}
    for round_number in range(rounds):
        # Rotating the order gives every contender every position (warm caches, turbo).
        shift = round_number % len(names)
        for name in names[shift:] + names[:shift]:
            gc.collect()
            gc.disable()
            try:
                wall, cpu = time.perf_counter(), time.process_time()
                contenders[name](round_number)
                cpus[name].append((time.process_time() - cpu) / ops)
                walls[name].append((time.perf_counter() - wall) / ops)
            finally:
                gc.enable()
    return {name: Timing(statistics.median(walls[name]), tuple(cpus[name])) for name in names}


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
            lines.append(self._cpu_row(line, names))
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

    def _cpu_row(self, line: Line, names: list[str]) -> str:
        base = line.timings[self.floor]
        floor = base.cpu
        cells = [
            _ms(floor, 3)
            if name == self.floor
            else f"{_ms(line.timings[name].cpu, 3)} ({_added(line.timings[name].cpu_added(base))})"
            for name in names
        ]
        versus = line.timings[self.subject].cpu / line.timings[self.peer].cpu
        if line.cpu_goal is None:
            goal, verdict = "", ""
        else:
            added = line.timings[self.subject].cpu_added(base)
            goal = f"<= {_added(line.cpu_goal)}"
            verdict = "PASS" if added <= line.cpu_goal else "MISS"
        return f"| ↳ client CPU | {' | '.join(cells)} | {versus:.2f}x | {goal} | {verdict} |"


def _ms(seconds: float, digits: int = 2) -> str:
    return f"{seconds * 1e3:.{digits}f} ms"


def _added(seconds: float) -> str:
    return f"{seconds * 1e3:+.3f} ms"
