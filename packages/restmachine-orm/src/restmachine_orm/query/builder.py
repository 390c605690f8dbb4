"""``Query``: the chainable, immutable query builder that ``Model.where`` returns."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from typing_extensions import Self

from ..errors import QueryError
from ..schema import ModelSchema
from .access import refuse_scan
from .cursor import decode_cursor, encode_cursor
from .filters import And, Filter, Not, Or, conjuncts
from .ordering import OrderBy
from .plan import Plan
from .q import resolve_filters
from .spec import QuerySpec

if TYPE_CHECKING:
    from .q import Q

__all__ = ["Page", "Query", "Queryable", "RowSource"]

#: DynamoDB's limit on ``TotalSegments``, which every backend accepts alike.
_MAX_SEGMENTS = 1_000_000


class RowSource(Protocol):
    """What a query reads rows from: the model's backend (every ``Backend`` is one).

    Named here, not imported from ``backends``, so that the query layer sits below the
    backends that execute it.
    """

    #: Whether it lets queries read every row of a model (see ``Backend.allow_scan``).
    allow_scan: bool

    def explain(self, spec: QuerySpec) -> Plan:
        """What the query would ask the storage, worked out without reading anything."""
        ...

    def query(self, spec: QuerySpec) -> Iterator[dict[str, Any]]:
        """Yield the rows a query selects."""
        ...

    def count(self, spec: QuerySpec) -> int:
        """Count the rows matching the filter."""
        ...

    def exists(self, spec: QuerySpec) -> bool:
        """Tell whether a row matches the filter."""
        ...

    def aquery(self, spec: QuerySpec) -> AsyncIterator[dict[str, Any]]:
        """Yield, asynchronously, the rows a query selects."""
        ...

    async def acount(self, spec: QuerySpec) -> int:
        """Awaitable ``count``."""
        ...

    async def aexists(self, spec: QuerySpec) -> bool:
        """Awaitable ``exists``."""
        ...


class Queryable(Protocol):
    """A stored model class as its queries use it (``Model`` is one)."""

    @classmethod
    def _orm_backend(cls) -> RowSource:
        """The backend storing the model."""
        ...

    @classmethod
    def orm_schema(cls) -> ModelSchema:
        """The model's schema."""
        ...

    @classmethod
    def _orm_load(cls, row: dict[str, Any]) -> Self:
        """An instance of a stored row."""
        ...

    @classmethod
    def _orm_load_all(cls, rows: Iterable[dict[str, Any]]) -> list[Self]:
        """Instances of stored rows."""
        ...


M = TypeVar("M", bound=Queryable)


@dataclass(frozen=True)
class Page(Generic[M]):
    """One page of a paginated query.

    Attributes:
        items: The rows of this page, in order.
        next_cursor: Pass it to ``paginate`` for the next page; ``None`` on the last page.
    """

    items: list[M]
    next_cursor: str | None


class Query(Generic[M]):
    """A lazy, immutable query over one model: every method returns a new query.

    Filters are validated when they are added, so a mistake raises ``QueryError`` at the line
    that made it, before any backend is touched.
    """

    __slots__ = ("_model", "_spec")

    def __init__(self, model: type[M], spec: QuerySpec | None = None) -> None:
        """Start a query matching every row of ``model``."""
        self._model = model
        self._spec = spec if spec is not None else QuerySpec(model.orm_schema())

    @property
    def spec(self) -> QuerySpec:
        """The validated request this query sends to the backend."""
        return self._spec

    def _source(self) -> RowSource:
        """The backend to read from, once it is sure the read is allowed.

        Raises:
            QueryError: The query would scan and the model or backend refuses scans.
        """
        backend = self._model._orm_backend()
        spec = self._spec
        if not (spec.schema.allow_scan and backend.allow_scan):
            refuse_scan(spec.schema, spec.filter)
        return backend

    def explain(self) -> Plan:
        """The request this query would send its backend, worked out without sending it.

        ``str(plan)`` reads as a few lines; its attributes (``access``, ``operation``,
        ``index``, ``key_condition``, ``filter``, ``client_side``, placeholders) are the
        parts. A query refused by ``allow_scan=False`` is explained all the same.
        """
        return self._model._orm_backend().explain(self._spec)

    def _with(self, **changes: Any) -> Query[M]:
        return Query(self._model, replace(self._spec, **changes))

    def _parse(
        self, conditions: tuple[Any, ...], filters: dict[str, Any], method: str
    ) -> Filter | None:
        return resolve_filters(self._spec.schema, conditions, filters, method)

    def where(self, *conditions: Q, **filters: Any) -> Query[M]:
        """Keep rows matching every filter (``field=value`` or ``field__lookup=value``).

        ``Q`` objects given positionally must hold too: ``where(Q(a=1) | Q(b=2), c=3)``.
        """
        added = self._parse(conditions, filters, "where")
        if added is None:
            return self
        return self._with(filter=_conjoin(self._spec.filter, added))

    def and_(self, *conditions: Q, **filters: Any) -> Query[M]:
        """Keep rows that match the query so far *and* every filter given here."""
        added = self._parse(conditions, filters, "and_")
        if added is None:
            return self
        return self._with(filter=_conjoin(self._spec.filter, added))

    def or_(self, *conditions: Q, **filters: Any) -> Query[M]:
        """Keep rows that match the query so far *or* every filter given here.

        A query without filters matches every row, so ``or_`` on it changes nothing; nor
        does ``or_()`` given nothing. Filters that match every row (``Q() | ...``) make the
        query match every row.
        """
        if not conditions and not filters:
            return self
        added = self._parse(conditions, filters, "or_")
        current = self._spec.filter
        if added is None or current is None:
            return self._with(filter=None)
        return self._with(filter=Or((current, added)))

    def not_(self, *conditions: Q, **filters: Any) -> Query[M]:
        """Drop rows that match every filter given here.

        Raises:
            QueryError: The filters given match every row (``Q()``), which would drop all.
        """
        if not conditions and not filters:
            return self
        added = self._parse(conditions, filters, "not_")
        if added is None:
            raise QueryError(
                f"{self._spec.schema.name}: not_({_shown(conditions, filters)}) negates "
                "filters that match every row, which would match no row"
            )
        return self._with(filter=_conjoin(self._spec.filter, Not(added)))

    def include_expired(self) -> Query[M]:
        """Return rows whose time to live has passed too, where the backend still holds them.

        Expired rows are absent from every other read. A backend deletes them in its own
        time (DynamoDB within days, the in-memory backend at the next write meeting them),
        so which expired rows this returns depends on that, not on the query.
        """
        return self._with(include_expired=True)

    def order_by(self, *fields: str) -> Query[M]:
        """Order by these fields, added after any earlier ones; ``"-age"`` is descending.

        ``None`` comes before every other value (so last when descending).
        """
        schema = self._spec.schema
        added = []
        for text in fields:
            descending = text.startswith("-")
            name = text[1:] if descending else text
            spec = schema.field_spec(name, purpose=f"order_by({text!r})")
            if not spec.orderable:
                raise QueryError(
                    f"{schema.name}.{name}: a {spec.kind.value} field cannot be ordered by"
                )
            added.append(OrderBy(name, descending))
        return self._with(order=self._spec.order + tuple(added))

    def limit(self, count: int) -> Query[M]:
        """Return at most ``count`` rows."""
        return self._with(limit=self._count_argument("limit", count))

    def offset(self, count: int) -> Query[M]:
        """Skip the first ``count`` rows."""
        return self._with(offset=self._count_argument("offset", count))

    def segments(self, count: int) -> Query[M]:
        """Read a whole-model read as ``count`` segments at the same time (parallel scan).

        Only a read that scans (no key, unique value or index pins it) is split; the rows,
        counts and errors are the same for any ``count``, only the natural order differs.
        Memory stays bounded: each segment holds at most one page at a time.

        Raises:
            QueryError: ``count`` is not a whole number from 1 to 1,000,000.
        """
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= _MAX_SEGMENTS:
            raise QueryError(
                f"{self._spec.schema.name}: segments() takes a whole number from 1 to "
                f"{_MAX_SEGMENTS:,}, not {count!r}"
            )
        return self._with(segments=count)

    def _count_argument(self, name: str, count: int) -> int:
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise QueryError(
                f"{self._spec.schema.name}: {name}() takes a whole number >= 0, not {count!r}"
            )
        return count

    def all(self) -> list[M]:
        """Run the query and return every matching instance."""
        return self._model._orm_load_all(self._source().query(self._spec))

    async def aall(self) -> list[M]:
        """Awaitable ``all``."""
        rows = [row async for row in self._source().aquery(self._spec)]
        return self._model._orm_load_all(rows)

    def __iter__(self) -> Iterator[M]:
        """Iterate the matching instances, reading them from the backend as they are used."""
        load = self._model._orm_load
        for row in self._source().query(self._spec):
            yield load(row)

    async def __aiter__(self) -> AsyncIterator[M]:
        """``async for``: the matching instances, read page by page as they are used."""
        load = self._model._orm_load
        async for row in self._source().aquery(self._spec):
            yield load(row)

    def __bool__(self) -> bool:
        """Refuse a truth test: ``if query:`` would not read the backend (use ``exists()``).

        Raises:
            TypeError: Always, naming ``exists()`` and ``count()``.
        """
        raise TypeError(
            f"a {self._spec.schema.name} query has no truth value: it reads nothing until "
            "asked; use query.exists() (or query.count())"
        )

    def __len__(self) -> int:
        """Refuse ``len(query)``: say ``count()``, which counts on the backend.

        Raises:
            TypeError: Always, naming ``count()``.
        """
        raise TypeError(
            f"a {self._spec.schema.name} query has no length: it reads nothing until asked; "
            "use query.count(), which counts on the backend"
        )

    def first(self) -> M | None:
        """Return the first matching instance, or ``None``."""
        found = self._first_only().all()
        return found[0] if found else None

    async def afirst(self) -> M | None:
        """Awaitable ``first``."""
        found = await self._first_only().aall()
        return found[0] if found else None

    def last(self) -> M | None:
        """Return the last matching instance in the query's order, or ``None``.

        It is the last row ``all()`` would return, read without building the others.

        Raises:
            QueryError: The query has no ``order_by`` (its natural order differs from one
                backend to another, so "last" would too).
        """
        spec = self._last_spec()
        row = None
        for row in self._source().query(spec):  # noqa: B007 - keep the last
            pass
        return None if row is None else self._model._orm_load(row)

    async def alast(self) -> M | None:
        """Awaitable ``last``."""
        spec = self._last_spec()
        row = None
        async for row in self._source().aquery(spec):  # noqa: B007 - keep the last
            pass
        return None if row is None else self._model._orm_load(row)

    def _last_spec(self) -> QuerySpec:
        spec = self._spec
        if not spec.order:
            raise QueryError(
                f"{spec.schema.name}: last() needs an order; add order_by(...) (without one, "
                "rows come in each backend's own order, so the last row would differ)"
            )
        return spec

    def values(self, *fields: str) -> list[dict[str, Any]]:
        """Run the query and return each row as a dict of only these fields (all if none).

        Values are those an instance would hold; no instance is built, so ``after_load``
        hooks do not run. DynamoDB reads only these fields (a ``ProjectionExpression``).

        Raises:
            QueryError: A name is not a field of the model.
        """
        spec = self._values_spec(fields)
        return self._picked(spec, list(self._source().query(spec)))

    async def avalues(self, *fields: str) -> list[dict[str, Any]]:
        """Awaitable ``values``."""
        spec = self._values_spec(fields)
        return self._picked(spec, [row async for row in self._source().aquery(spec)])

    def _values_spec(self, fields: tuple[str, ...]) -> QuerySpec:
        schema = self._spec.schema
        for name in fields:
            schema.field_spec(name, purpose=f"values({name!r})")
        return replace(self._spec, fields=fields or tuple(schema.fields))

    @staticmethod
    def _picked(spec: QuerySpec, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        schema, names = spec.schema, spec.fields or ()
        return [
            {name: schema.validate_value(name, row[name], purpose="values()") for name in names}
            for row in rows
        ]

    def _first_only(self) -> Query[M]:
        limit = self._spec.limit
        return self._with(limit=1 if limit is None else min(limit, 1))

    def count(self) -> int:
        """Count the matching rows (after ``offset``, at most ``limit``)."""
        return self._sliced(self._source().count(self._spec.unsliced()))

    async def acount(self) -> int:
        """Awaitable ``count``."""
        return self._sliced(await self._source().acount(self._spec.unsliced()))

    def _sliced(self, total: int) -> int:
        """How many of ``total`` matching rows the query's offset and limit leave."""
        spec = self._spec
        left = max(total - spec.offset, 0)
        return left if spec.limit is None else min(left, spec.limit)

    def exists(self) -> bool:
        """Tell whether at least one row matches."""
        spec = self._spec
        if spec.offset or spec.limit is not None:
            return self.count() > 0
        return self._source().exists(spec.unsliced())

    async def aexists(self) -> bool:
        """Awaitable ``exists``."""
        spec = self._spec
        if spec.offset or spec.limit is not None:
            return await self.acount() > 0
        return await self._source().aexists(spec.unsliced())

    def paginate(self, page_size: int, cursor: str | None = None) -> Page[M]:
        """Return one page, in a stable order, and the cursor of the next page.

        Rows are ordered by the query's ``order_by`` fields and then by key, so pages never
        overlap or skip a row that stays put, even while other rows are written.

        Raises:
            QueryError: ``page_size`` is not positive, the query already has ``limit`` or
                ``offset``, or the cursor belongs to another query.
        """
        window = self._page_window(page_size, cursor)
        return self._page(window, list(self._source().query(window)))

    async def apaginate(self, page_size: int, cursor: str | None = None) -> Page[M]:
        """Awaitable ``paginate``: the same pages and cursors."""
        window = self._page_window(page_size, cursor)
        return self._page(window, [row async for row in self._source().aquery(window)])

    def _page_window(self, page_size: int, cursor: str | None) -> QuerySpec:
        """The query a page reads: stable order, after the cursor, one row past the page."""
        spec = self._spec
        schema = spec.schema
        if isinstance(page_size, bool) or not isinstance(page_size, int) or page_size < 1:
            raise QueryError(f"{schema.name}: page_size must be a whole number >= 1")
        if spec.limit is not None or spec.offset:
            raise QueryError(
                f"{schema.name}: paginate() sets its own limit and position; "
                "drop limit()/offset() from the query"
            )
        named = {order.field for order in spec.order}
        order = spec.order + tuple(OrderBy(k) for k in schema.require_key() if k not in named)
        after = None if cursor is None else decode_cursor(schema, order, cursor)
        return replace(spec, order=order, after=after, limit=page_size + 1)

    def _page(self, window: QuerySpec, rows: list[dict[str, Any]]) -> Page[M]:
        """The page of the rows ``window`` read (one more than a page when more follow)."""
        page_size = window.limit - 1  # type: ignore[operator]  # the window always has one
        more = len(rows) > page_size
        rows = rows[:page_size]
        items = self._model._orm_load_all(rows)
        next_cursor = None
        if more:
            last = rows[-1]
            order = window.order
            next_cursor = encode_cursor(window.schema, order, [last[field] for field, _ in order])
        return Page(items, next_cursor)


def _shown(conditions: tuple[Any, ...], filters: dict[str, Any]) -> str:
    """The arguments of a call, as written: for messages."""
    return ", ".join([*map(repr, conditions), *(f"{k}={v!r}" for k, v in filters.items())])


def _conjoin(current: Filter | None, added: Filter) -> Filter:
    # Keep one flat And, so backends see every top-level condition (e.g. a pinned key).
    if current is None:
        return added
    return And(conjuncts(current) + conjuncts(added))
