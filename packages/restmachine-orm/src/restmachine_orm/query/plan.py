"""``Plan``: what a query would ask its backend, as ``Query.explain()`` shows it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Plan"]


@dataclass(frozen=True)
class Plan:
    """The request a query would send, worked out without sending anything.

    Attributes:
        access: How the rows are found: ``key``, ``keys``, ``unique``, ``partition``,
            ``index`` or ``scan``, the same on every backend (see
            ``restmachine_orm.query.access``).
        operation: The backend's own request, e.g. DynamoDB's ``GetItem``,
            ``BatchGetItem``, ``Query`` or ``Scan``; for the in-memory backend, a
            dictionary lookup or a pass over rows.
        index: The index read, if any.
        key_condition: The key condition, with placeholders (DynamoDB's
            ``KeyConditionExpression``), if any.
        filter: The filter the storage applies, with placeholders, if any.
        client_side: What is done to the rows after they are read, in words (a lookup the
            storage cannot evaluate, an ordering, an offset).
        names: The attribute name placeholders and the names they stand for.
        values: The value placeholders and the values they stand for.
        segments: How many segments a scan is read in at the same time.
    """

    access: str
    operation: str
    index: str | None = None
    key_condition: str | None = None
    filter: str | None = None
    client_side: tuple[str, ...] = ()
    names: Mapping[str, str] = field(default_factory=dict)
    values: Mapping[str, Any] = field(default_factory=dict)
    segments: int = 1

    def __str__(self) -> str:
        """The plan on a few lines, placeholders resolved: for reading, not parsing."""
        lines = [f"{self.operation} ({self.access})"]
        if self.index:
            lines.append(f"  index: {self.index}")
        for label, text in (("key condition", self.key_condition), ("filter", self.filter)):
            if text:
                lines.append(f"  {label}: {self._resolved(text)}")
        if self.segments > 1:
            lines.append(f"  segments: {self.segments}")
        lines += [f"  then, client-side: {step}" for step in self.client_side]
        return "\n".join(lines)

    def _resolved(self, text: str) -> str:
        # Longest placeholders first, so that #n1 is not read inside #n10.
        for placeholder in sorted(self.names, key=len, reverse=True):
            text = text.replace(placeholder, self.names[placeholder])
        for placeholder in sorted(self.values, key=len, reverse=True):
            text = text.replace(placeholder, repr(self.values[placeholder]))
        return text
