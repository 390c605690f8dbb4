"""Contenders' figures side by side, and goals that compare one contender with another.

For measurements that are not a time per operation against one floor: the wall time of a
whole workload run several ways (one by one, 32 in flight, 32 threads), or the lag of an
event loop under load. Each goal compares a subject's figure with another contender's: at
most a multiple of it, or at least so many times faster.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from _goals import Verdict


@dataclass(frozen=True)
class Claim:
    """A goal: the ``subject``'s figure against the ``other``'s.

    With ``faster``, the other's figure must be at least ``bound`` times the subject's
    ("4x faster"); otherwise the subject's may be at most ``bound`` times the other's.
    """

    subject: str
    other: str
    bound: float
    faster: bool = False

    def judge(self, title: str, ratio: float) -> Verdict:
        """The verdict, given the subject's figure ÷ the other's."""
        if self.faster:
            speedup = 1 / ratio
            return Verdict(
                title,
                f"{self.subject} vs {self.other}",
                f"{speedup:.2f}x faster",
                f">= {self.bound:.2f}x faster",
                speedup >= self.bound,
            )
        return Verdict(
            title,
            f"{self.subject} vs {self.other}",
            f"{ratio:.2f}x",
            f"<= {self.bound:.2f}x",
            ratio <= self.bound,
        )


@dataclass
class Standings:
    """A titled table of each contender's figures, then its claims judged.

    ``ratio(subject, other)`` gives the subject's figure ÷ the other's, as the claims
    compare them (e.g. the median of round-by-round ratios of wall times).
    """

    title: str
    columns: list[str]
    rows: dict[str, list[str]]  # by contender: its cells, formatted
    claims: list[Claim]
    ratio: Callable[[str, str], float]
    notes: list[str] = field(default_factory=list)

    def markdown(self) -> str:
        """The figures, the goals with their verdicts, then the notes."""
        lines = [
            f"### {self.title}",
            "",
            f"| contender | {' | '.join(self.columns)} |",
            f"|---|{'---:|' * len(self.columns)}",
            *(f"| {name} | {' | '.join(cells)} |" for name, cells in self.rows.items()),
            "",
            "| goal | measured | goal | |",
            "|---|---:|---|---|",
        ]
        for verdict in self.verdicts():
            lines.append(
                f"| {verdict.measure} | {verdict.measured} | {verdict.goal} | {verdict.word} |"
            )
        lines += ["", *(f"- {note}" for note in self.notes)] if self.notes else []
        return "\n".join(lines) + "\n"

    def verdicts(self) -> list[Verdict]:
        """Every claim, judged."""
        return [
            claim.judge(self.title, self.ratio(claim.subject, claim.other)) for claim in self.claims
        ]
