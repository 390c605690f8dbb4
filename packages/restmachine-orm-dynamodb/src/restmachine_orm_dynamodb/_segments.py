"""Parallel scans: one Scan read as ``TotalSegments`` segments at the same time.

DynamoDB splits a table's items into disjoint segments by partition key; each segment is a
Scan of its own (``Segment=i``), paged on its own ``LastEvaluatedKey``. ``Query.segments(n)``
asks for ``n`` of them (``QuerySpec.segments``); other reads ignore it, since only a Scan
takes the parameters.

The rows are read in rounds: one ``Together`` step per round, sending the next page of
every segment not yet done, and the round's rows go to the caller before the next round
is sent. So a query holds at most one page per segment, whichever runner drives it (the
sync runner on threads, the async one as tasks). A count has no rows to hand over: each
segment pages to its end on its own, all of them at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, TypeVar, cast

from ._flow import Flow, Together

__all__ = ["IN_FLIGHT", "Pager", "Rounds", "count", "in_rounds", "split"]

T = TypeVar("T")


class Pager(Protocol):
    """What reads one request page by page (``_reads.Pages``, or ``Rounds`` of several)."""

    @property
    def done(self) -> bool:
        """Whether the last page has been read."""
        ...

    def next(self) -> Flow[dict[str, Any]]:
        """Send the request of the next page and return its answer."""
        ...


def split(operation: str, request: dict[str, Any], total: int) -> list[dict[str, Any]]:
    """The requests that read ``request``: one per segment of a Scan, else ``request`` alone.

    Args:
        operation: The request's operation; only ``Scan`` is split.
        request: The request, without paging.
        total: How many segments were asked for (``QuerySpec.segments``).
    """
    if operation != "Scan" or total <= 1:
        return [request]
    return [{**request, "Segment": i, "TotalSegments": total} for i in range(total)]


#: Segments read at the same time, at most: a query holds at most this many pages, and the
#: sync runner runs at most this many threads, however many segments were asked for (the
#: rest wait their turn).
IN_FLIGHT = 32


class Rounds:
    """Several pagers read in rounds: a page of each of the first pagers not yet done.

    A round reads at most ``IN_FLIGHT`` pagers; later ones start as earlier ones finish.

    ``next()`` answers as one page would: the round's ``Items`` (in segment order) and
    their ``Count``, so a reader of pages reads rounds unchanged.
    """

    def __init__(self, pagers: Sequence[Pager]) -> None:
        """Read ``pagers`` (nothing is sent yet)."""
        self._pagers = pagers

    @property
    def done(self) -> bool:
        """Whether every pager has read its last page."""
        return all(pager.done for pager in self._pagers)

    def next(self) -> Flow[dict[str, Any]]:
        """Read the next page of every pager not yet done, all at once; one answer of them."""
        reading = [pager for pager in self._pagers if not pager.done][:IN_FLIGHT]
        answers = _succeeded((yield Together([p.next() for p in reading], len(reading))))
        items = [item for answer in answers for item in answer.get("Items", ())]
        return {"Items": items, "Count": sum(int(a.get("Count", 0)) for a in answers)}


def in_rounds(pagers: Sequence[Pager]) -> Pager:
    """One pager reading ``pagers``: the only one as it is, several in ``Rounds``."""
    return pagers[0] if len(pagers) == 1 else Rounds(pagers)


def count(pagers: Sequence[Pager]) -> Flow[int]:
    """The sum of the ``Count`` of every page of ``pagers``, each paged to its end at once."""
    if len(pagers) == 1:
        return (yield from _counted(pagers[0]))
    # No rows to hand over between pages: no rounds, so no segment waits for a slower one.
    totals = yield Together([_counted(pager) for pager in pagers], min(len(pagers), IN_FLIGHT))
    return sum(_succeeded(totals))


def _counted(pager: Pager) -> Flow[int]:
    total = 0
    while not pager.done:
        total += int((yield from pager.next()).get("Count", 0))
    return total


def _succeeded(outcomes: list[T | Exception]) -> list[T]:
    """What each flow returned; the first failure, in flow order, is raised instead."""
    for outcome in outcomes:
        if isinstance(outcome, Exception):
            raise outcome
    return cast("list[T]", outcomes)  # no Exception is left in it
