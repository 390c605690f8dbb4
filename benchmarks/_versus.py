"""Subjects against a floor and a field of peers: client CPU and wall time as ratios.

``_lineup`` judges one subject by the time it adds over its floor. Issue 17's goals are
ratios instead, for two subjects (the ORM's sync and async APIs): client CPU at most a
share of the floor's and at most a margin over the best peer's, wall time ahead of the
floor's. Every ratio is the median of the ratios taken round by round: the contenders of a
round run back to back, so a slow stretch of the machine touches both sides of a ratio.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field

from _goals import Verdict
from _lineup import Timing

CPU_SHARE = 0.55  # a subject's client CPU ÷ the floor's, at most
PEER_MARGIN = 1.15  # a subject's client CPU ÷ the best peer's, at most
WALL_AHEAD = 1.00  # a subject's wall time ÷ the floor's, below


def round_ratio(mine: Sequence[float], theirs: Sequence[float]) -> float:
    """The median of ``mine / theirs``, round by round."""
    return statistics.median(a / b for a, b in zip(mine, theirs, strict=True))


@dataclass(frozen=True)
class Goal:
    """One goal of a subject on an operation, as measured."""

    measure: str  # e.g. "client CPU vs the best peer (aiodynamo)"
    short: str  # e.g. "CPU vs best peer", for the table's verdict column
    ratio: float
    goal: str  # e.g. "<= 1.15x"
    passed: bool


@dataclass(frozen=True)
class Judged:
    """One subject on one operation: its three ratios and the peer the CPU one is against."""

    cpu_to_floor: float
    best_peer: str
    cpu_to_peer: float
    wall_to_floor: float

    def goals(self, floor: str) -> list[Goal]:
        """The three goals, judged."""
        return [
            Goal(
                f"client CPU vs {floor}",
                "CPU vs floor",
                self.cpu_to_floor,
                f"<= {CPU_SHARE:.2f}x",
                self.cpu_to_floor <= CPU_SHARE,
            ),
            Goal(
                f"client CPU vs the best peer ({self.best_peer})",
                "CPU vs best peer",
                self.cpu_to_peer,
                f"<= {PEER_MARGIN:.2f}x",
                self.cpu_to_peer <= PEER_MARGIN,
            ),
            Goal(
                f"wall time vs {floor}",
                "wall vs floor",
                self.wall_to_floor,
                f"< {WALL_AHEAD:.2f}x",
                self.wall_to_floor < WALL_AHEAD,
            ),
        ]


@dataclass
class Versus:
    """A titled table: every contender's wall time and client CPU, then the subjects' goals."""

    title: str
    floor: str
    subjects: list[str]
    peers: list[str]  # those measured; the best of them on each operation sets the CPU bar
    lines: dict[str, dict[str, Timing]] = field(default_factory=dict)  # by operation
    notes: list[str] = field(default_factory=list)

    def contenders(self) -> list[str]:
        """Column order: the floor, the subjects, the peers, then any other contender."""
        rest = [name for timings in self.lines.values() for name in timings]
        return list(dict.fromkeys([self.floor, *self.subjects, *self.peers, *rest]))

    def judge(self, operation: str, subject: str) -> Judged:
        """The subject's ratios on the operation."""
        timings = self.lines[operation]
        mine, floor = timings[subject], timings[self.floor]
        best = min(self.peers, key=lambda peer: timings[peer].cpu)
        return Judged(
            cpu_to_floor=round_ratio(mine.cpu_rounds, floor.cpu_rounds),
            best_peer=best,
            cpu_to_peer=round_ratio(mine.cpu_rounds, timings[best].cpu_rounds),
            wall_to_floor=round_ratio(mine.wall_rounds, floor.wall_rounds),
        )

    def markdown(self) -> str:
        """The measurements, then a verdict per subject and operation, then the notes."""
        names = self.contenders()
        lines = [
            f"### {self.title}",
            "",
            "Median per operation: wall time, then client CPU (process time, which counts the "
            f"threads of the Rust libraries); in brackets the ratio to {self.floor}'s, taken "
            "round by round.",
            "",
            f"| operation | | {' | '.join(names)} |",
            f"|---|---|{'---:|' * len(names)}",
        ]
        for operation, timings in self.lines.items():
            floor = timings[self.floor]
            for label, attribute in (("wall", "wall_rounds"), ("client CPU", "cpu_rounds")):
                base = getattr(floor, attribute)
                cells = []
                for name in names:
                    rounds = getattr(timings[name], attribute)
                    median = statistics.median(rounds)
                    ratio = "" if name == self.floor else f" ({round_ratio(rounds, base):.2f}x)"
                    cells.append(f"{median * 1e3:.3f} ms{ratio}")
                first = operation if label == "wall" else ""
                lines.append(f"| {first} | {label} | {' | '.join(cells)} |")
        lines += [
            "",
            f"Goals: client CPU <= {CPU_SHARE:.2f}x {self.floor}'s and <= {PEER_MARGIN:.2f}x "
            f"the best of {', '.join(self.peers)} on the same operation (the one spending the "
            f"least CPU on it); wall time ahead of {self.floor} (< {WALL_AHEAD:.2f}x).",
            "",
            "| operation | subject | CPU ÷ floor | CPU ÷ best peer | wall ÷ floor | |",
            "|---|---|---:|---:|---:|---|",
        ]
        for operation in self.lines:
            for subject in self.subjects:
                judged = self.judge(operation, subject)
                misses = [goal.short for goal in judged.goals(self.floor) if not goal.passed]
                verdict = f"MISS ({', '.join(misses)})" if misses else "PASS"
                lines.append(
                    f"| {operation} | {subject} | {judged.cpu_to_floor:.2f}x "
                    f"| {judged.cpu_to_peer:.2f}x ({judged.best_peer}) "
                    f"| {judged.wall_to_floor:.2f}x | {verdict} |"
                )
        lines += ["", *(f"- {note}" for note in self.notes)] if self.notes else []
        return "\n".join(lines) + "\n"

    def verdicts(self) -> list[Verdict]:
        """Three goals per subject and operation."""
        return [
            Verdict(
                self.title,
                f"{operation}, {subject}: {goal.measure}",
                f"{goal.ratio:.2f}x",
                goal.goal,
                goal.passed,
            )
            for operation in self.lines
            for subject in self.subjects
            for goal in self.judge(operation, subject).goals(self.floor)
        ]
