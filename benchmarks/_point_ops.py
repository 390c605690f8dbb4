"""The six operations of the sync-and-async lineup, as a contender does them, and the ORM's.

A contender reads and writes the ``Reading`` items of ``_dynamo`` (string ``pk``/``sk``
such as ``Reading#s3``, an ``_type`` attribute), blocking (``PointOps``: ``_dynamo``'s
``RawReadings`` and ``OrmReadings`` already are) or awaited (``AsyncPointOps``). Every read
is consistent; ``get`` raises when the row is missing, as every library's own does.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AsyncExitStack
from typing import Any, Protocol

from _dynamo import Reading


class PointOps(Protocol):
    """One library doing the lineup's operations, blocking."""

    def create(self, sensor: str, at: int, value: int) -> None:
        """Store a new row, refused if its key is taken."""

    def get(self, sensor: str, at: int) -> Any:
        """Read one row by key."""

    def save(self, row: Any, value: int) -> None:
        """Change two fields of a loaded row (``value``, ``note``) and store them."""

    def delete(self, row: Any) -> None:
        """Delete a loaded row, refused if it is already gone."""

    def query(self, sensor: str) -> Sequence[object]:
        """Every row of one partition."""

    def count(self, sensor: str) -> int:
        """How many rows one partition holds."""


class AsyncPointOps(Protocol):
    """The same operations, awaited."""

    async def create(self, sensor: str, at: int, value: int) -> None:
        """Store a new row, refused if its key is taken."""

    async def get(self, sensor: str, at: int) -> Any:
        """Read one row by key."""

    async def save(self, row: Any, value: int) -> None:
        """Change two fields of a loaded row (``value``, ``note``) and store them."""

    async def delete(self, row: Any) -> None:
        """Delete a loaded row, refused if it is already gone."""

    async def query(self, sensor: str) -> Sequence[object]:
        """Every row of one partition."""

    async def count(self, sensor: str) -> int:
        """How many rows one partition holds."""


class AsyncOrmReadings:
    """restmachine-orm's async API: the ``Reading`` model on the backend it is bound to."""

    async def create(self, sensor: str, at: int, value: int) -> None:
        await Reading.acreate(sensor=sensor, at=at, value=value)

    async def get(self, sensor: str, at: int) -> Reading:
        row = await Reading.aget(sensor=sensor, at=at)
        if row is None:
            raise LookupError(f"no Reading {sensor}/{at}")
        return row

    async def save(self, row: Reading, value: int) -> None:
        row.value = value
        row.note = "saved"
        await row.asave()

    async def delete(self, row: Reading) -> None:
        await row.adelete()

    async def query(self, sensor: str) -> list[Reading]:
        return await Reading.where(sensor=sensor).aall()

    async def count(self, sensor: str) -> int:
        return await Reading.where(sensor=sensor).acount()


async def close(stack: AsyncExitStack, backends: Sequence[Any]) -> None:
    """Close the async contenders' clients (on ``stack``) and the ORM's backends."""
    await stack.aclose()
    for backend in backends:
        aclose = getattr(backend, "aclose", None)  # the ORM's async transport, when it has one
        if aclose is not None:
            await aclose()
