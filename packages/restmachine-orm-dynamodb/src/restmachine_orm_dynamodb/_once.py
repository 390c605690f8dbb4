"""Writes that apply exactly once, though a lost answer makes the protocol send them again.

When no answer comes back (a reset connection, a timeout), the write may have landed or
not, and the protocol sends it again (botocore's standard retries do the same). Sent again
blindly, an increment would count twice and a create would report its own row as taken.
So every ``PutItem`` and ``UpdateItem`` of a row carries a *mark*: it sets the attribute
of its *lane* to a fresh write id. Once an answer is lost, the protocol resends the write
*guarded* (``Mark.guarded``): on the condition that the attribute does not hold that id
already, asking for the stored item when a condition fails
(``ReturnValuesOnConditionCheckFailure``). A retry of a write that landed finds its own id
there: its condition fails, and the item returned is the write's own result. The first
try carries no such condition: until an answer is lost, a write cannot have landed.

A lane is one write in flight of this backend: a write takes a free lane and gives it
back once answered, so a lane's attribute on an item always holds the id of that lane's
last write, and no other write in flight overwrites it. An item carries one mark per lane
that ever wrote it (a few dozen bytes each: ``_w:<backend>:<lane>`` = ``<time>.<count>``),
bounded by the writers' concurrency, not by how often it is written; marks older than
``HORIZON`` are removed once an item holds more than ``PRUNE_AT`` of them.

Deletes and transactions leave no mark (a delete removes the item; a transaction has
DynamoDB's ``ClientRequestToken``, which not every server honours): when one is refused
after a lost answer, or a write fails for good after one, ``known`` raises
``WriteOutcomeUnknownError`` instead of a wrong answer.
"""

from __future__ import annotations

import itertools
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

__all__ = [
    "HORIZON",
    "MARK_PREFIX",
    "PRUNE_AT",
    "Lanes",
    "Mark",
    "guarded",
    "known",
    "landed",
    "marked",
    "stale_marks",
]

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
        """No lane in use yet; this backend's marks get a random name of their own.

        32 random bits: two backends sharing a name (and so lanes) is a chance of about one
        in ten thousand among a thousand processes writing one table.
        """
        self._prefix = f"{MARK_PREFIX}{secrets.token_hex(4)}:"
        self._free: list[str] = []
        self._made = 0
        self._lock = threading.Lock()
        # Write ids need only differ within a lane, whose name is this backend's own: a
        # count does (``next`` on it is atomic), without asking the OS for randomness.
        self._writes = itertools.count(1)

    def mark(self, lane: str) -> Mark:
        """A fresh mark on ``lane``: its id is the time (for pruning) and a count."""
        return Mark(lane, f"{int(time.time()):x}.{next(self._writes):x}")

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


@dataclass(slots=True)
class Mark:
    """One write's mark: its lane's attribute, and the write's own id.

    Attributes:
        lane: The attribute this write sets.
        wid: The write's id: its time (seconds, in hex) and a count of the backend's writes.
    """

    lane: str
    wid: str
    _placed: tuple[str, str] = ("", "")  # its placeholders, once set by an UpdateItem

    def attribute(self) -> dict[str, dict[str, str]]:
        """The mark as an item attribute, for a ``PutItem``."""
        return {self.lane: {"S": self.wid}}

    def assignment(self, ex: Expressions) -> str:
        """The mark as a ``SET`` assignment, for an ``UpdateItem``."""
        self._placed = (ex.name(self.lane), ex.value(self.wid))
        return f"{self._placed[0]} = {self._placed[1]}"

    def guarded(self, request: dict[str, Any]) -> dict[str, Any]:
        """``request`` as it is sent again once an answer was lost.

        It is refused if this very write landed already, and the refusal carries the
        stored item (``landed`` reads it). The first try needs neither: a write is new
        until an answer is lost, so it pays for no condition of its own. A ``PutItem``
        of a new row is refused by its own condition already (the row exists).
        """
        guarded = {**request, "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}
        name, value = self._placed
        if name:
            unless = f"(attribute_not_exists({name}) OR {name} <> {value})"
            condition = request.get("ConditionExpression")
            guarded["ConditionExpression"] = f"{condition} AND {unless}" if condition else unless
        return guarded

    def landed(self, answer: Any) -> Item | None:
        """The stored item, when ``answer`` refused this write because it had landed."""
        if type(answer) is not Refusal:
            return None
        item: Item | None = answer.answer.get("Item")
        if item is None or item.get(self.lane) != {"S": self.wid}:
            return None
        return item


def marked(lanes: Lanes | None, write: Callable[[Mark | None], Flow[T]]) -> Flow[T]:
    """Run ``write`` with a fresh mark on a lane of its own, given back afterwards.

    ``lanes`` is ``None`` only where writes are measured without marks (the benchmark's
    baseline, see ``benchmarks/bench_exactly_once.py``): ``write`` gets ``None`` then.
    """
    if lanes is None:
        return (yield from write(None))
    lane = lanes.take()
    try:
        return (yield from write(lanes.mark(lane)))
    finally:
        lanes.give(lane)


def guarded(mark: Mark | None) -> Callable[[dict[str, Any]], dict[str, Any]] | None:
    """What makes the body to resend after a lost answer (``None``: resend it as it is)."""
    return None if mark is None else mark.guarded


def landed(mark: Mark | None, answer: Any) -> Item | None:
    """The stored item, when ``answer`` refused ``mark``'s write because it had landed."""
    return None if mark is None else mark.landed(answer)


def stale_marks(item: Mapping[str, Any], now: float | None = None) -> dict[str, str]:
    """The marks of ``item`` older than ``HORIZON``, once it holds more than ``PRUNE_AT``."""
    if len(item) <= PRUNE_AT:  # the common case: too few attributes to hold that many
        return {}
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
