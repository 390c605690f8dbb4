"""Writes that apply exactly once, though a lost answer makes the protocol send them again.

When no answer comes back (a reset connection, a timeout), the write may have landed or
not, and the protocol sends it again (botocore's standard retries do the same). Sent again
blindly, an increment would count twice and a create would report its own row as taken.
So every ``PutItem`` and ``UpdateItem`` of a row carries a *mark*: it sets the attribute
of its *lane* to a fresh write id, on the condition that the attribute does not hold that
id already, and asks for the stored item when a condition fails
(``ReturnValuesOnConditionCheckFailure``). A retry of a write that landed finds its own id
there: its condition fails, and the item returned is the write's own result.

A lane is one write in flight of this backend: a write takes a free lane and gives it
back once answered, so a lane's attribute on an item always holds the id of that lane's
last write, and no other write in flight overwrites it. An item carries one mark per lane
that ever wrote it (a few dozen bytes each: ``_w:<backend>:<lane>`` = ``<time>.<random>``),
bounded by the writers' concurrency, not by how often it is written; marks older than
``HORIZON`` are removed once an item holds more than ``PRUNE_AT`` of them.

Deletes and transactions leave no mark (a delete removes the item; a transaction has
DynamoDB's ``ClientRequestToken``, which not every server honours): when one is refused
after a lost answer, or a write fails for good after one, ``known`` raises
``WriteOutcomeUnknownError`` instead of a wrong answer.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from restmachine_orm import WriteOutcomeUnknownError

from ._expressions import Expressions
from ._flow import Flow
from ._protocol import AnswerLost, Refusal
from ._serialize import Item

__all__ = ["HORIZON", "MARK_PREFIX", "PRUNE_AT", "Lanes", "Mark", "known", "stale_marks"]

T = TypeVar("T")

#: The attributes holding write marks start with this.
MARK_PREFIX = "_w:"
#: An item's marks are pruned once it holds more than this many.
PRUNE_AT = 16
#: Seconds a mark is kept at least: far beyond the longest retry of one write (the
#: default config's 6 tries of at most 15 s, with waits of at most 20 s each).
HORIZON = 900


class Lanes:
    """The lanes of one backend: one per write in flight, each with its own mark attribute."""

    def __init__(self) -> None:
        """No lane in use yet; this backend's marks get a random name of their own."""
        self._prefix = f"{MARK_PREFIX}{secrets.token_hex(3)}:"
        self._free: list[str] = []
        self._made = 0
        self._lock = threading.Lock()

    def take(self) -> str:
        """A lane no write in flight holds: the name of its mark attribute."""
        with self._lock:
            if self._free:
                return self._free.pop()
            self._made += 1
            return f"{self._prefix}{self._made - 1}"

    def give(self, lane: str) -> None:
        """The write holding ``lane`` was answered (or gave up): another may take it."""
        with self._lock:
            self._free.append(lane)


@dataclass(frozen=True, slots=True)
class Mark:
    """One write's mark: its lane's attribute, and the write's own id.

    Attributes:
        lane: The attribute this write sets.
        wid: The write's id: its time (seconds, in hex) and 8 random hex digits.
    """

    lane: str
    wid: str

    @classmethod
    def new(cls, lane: str) -> Mark:
        """A fresh mark on ``lane``."""
        return cls(lane, f"{int(time.time()):x}.{secrets.token_hex(4)}")

    def attribute(self) -> dict[str, dict[str, str]]:
        """The mark as an item attribute, for a ``PutItem``."""
        return {self.lane: {"S": self.wid}}

    def assignment(self, ex: Expressions) -> str:
        """The mark as a ``SET`` assignment, for an ``UpdateItem``."""
        return f"{ex.name(self.lane)} = {ex.value(self.wid)}"

    def unless_landed(self, ex: Expressions) -> str:
        """A condition that fails when this very write was applied already."""
        name = ex.name(self.lane)
        return f"(attribute_not_exists({name}) OR {name} <> {ex.value(self.wid)})"

    def landed(self, answer: Any) -> Item | None:
        """The stored item, when ``answer`` refused this write because it had landed."""
        if type(answer) is not Refusal:
            return None
        item: Item | None = answer.answer.get("Item")
        if item is None or item.get(self.lane) != {"S": self.wid}:
            return None
        return item


def marked(lanes: Lanes, write: Callable[[Mark], Flow[T]]) -> Flow[T]:
    """Run ``write`` with a fresh mark on a lane of its own, given back afterwards."""
    lane = lanes.take()
    try:
        return (yield from write(Mark.new(lane)))
    finally:
        lanes.give(lane)


def stale_marks(item: Mapping[str, Any], now: float | None = None) -> dict[str, str]:
    """The marks of ``item`` older than ``HORIZON``, once it holds more than ``PRUNE_AT``."""
    marks = {
        name: value.get("S", "")
        for name, value in item.items()
        if name.startswith(MARK_PREFIX) and isinstance(value, Mapping)
    }
    if len(marks) <= PRUNE_AT:
        return {}
    oldest = (time.time() if now is None else now) - HORIZON
    return {name: wid for name, wid in marks.items() if _written_at(wid) < oldest}


def _written_at(wid: str) -> float:
    try:
        return float(int(wid.split(".", 1)[0], 16))
    except ValueError:
        return 0.0  # not one of ours: as old as can be


def known(flow: Flow[T], model: str, key: dict[str, Any], operation: str) -> Flow[T]:
    """``flow``, with a write that may have landed unseen told as ``WriteOutcomeUnknownError``."""
    try:
        return (yield from flow)
    except AnswerLost as lost:
        raise WriteOutcomeUnknownError(model, key, operation, str(lost)) from lost
