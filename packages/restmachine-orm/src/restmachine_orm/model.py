"""``Model``: a pydantic model that stores itself (ActiveRecord)."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, cast

from pydantic import BaseModel, ConfigDict
from typing_extensions import Self

from . import clock
from ._assignment import plain_assignments
from .backends.base import Backend, Key, Row
from .backends.inmemory import InMemoryBackend
from .errors import ModelDefinitionError, OrmError, QueryError
from .hooks import hook_names
from .keys import KeyLayout, Keys
from .query.builder import Query
from .query.changes import Increment, is_computed, parse_changes
from .query.filters import Condition, Filter, walk
from .query.q import Q, WriteCondition, resolve_filters
from .schema import TEXT_MATCH_LOOKUPS, ModelSchema
from .storable import check_row, unstorable_error

__all__ = ["Model"]

_UNSTORED = object()  # a field the stored row lacks: every value is a change to it


class Model(BaseModel):
    """Base class of stored models: declare fields with ``Field``, then create and query.

    Class attributes:
        model_backend: The ``Backend`` that stores this model. It defaults to one in-memory
            backend shared by the process; assign another on a class to rebind that class
            (and its subclasses that do not set their own).

    Unknown fields are rejected, assignments are validated, key fields reject empty strings,
    and values no backend could store (NaN, numbers beyond 38 digits, arbitrary objects in
    untyped fields) are refused before writing, so data one backend accepts every backend
    accepts.
    """

    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)
    # The row an instance was last loaded from or written as, kept in a slot: pydantic's
    # equality, copies and pickles leave it out, and it costs nothing at instance creation.
    __slots__ = ("_orm_row",)
    if TYPE_CHECKING:  # declared for type checkers only: pydantic would make it a PrivateAttr
        _orm_row: Row | None

    model_backend: ClassVar[Backend] = InMemoryBackend()
    #: How the model's table keys and index keys are built from its fields (``Keys``), or
    #: ``None`` for the default layout. See ``restmachine_orm.keys``.
    model_keys: ClassVar[Keys | None] = None
    # Whether queries may read every row to answer (the class keyword ``allow_scan``).
    __orm_allow_scan__: ClassVar[bool] = True
    __orm_schema__: ClassVar[ModelSchema | None] = None
    # The names of the class's hook methods (see ``hooks``), found once per class, so the
    # write and read paths skip an empty tuple instead of looking hooks up on every call.
    __orm_before_save__: ClassVar[tuple[str, ...]] = ()
    __orm_after_save__: ClassVar[tuple[str, ...]] = ()
    __orm_after_load__: ClassVar[tuple[str, ...]] = ()
    # The hooks of atomic updates: the decorated ones. Overrides of the before_save() and
    # after_save() methods keep what they always did, which excluded updates.
    __orm_before_update__: ClassVar[tuple[str, ...]] = ()
    __orm_after_update__: ClassVar[tuple[str, ...]] = ()
    # Whether the class defines its own __init__, which every creating write must run.
    __orm_own_init__: ClassVar[bool] = False
    # Per field, the value types an assignment stores without pydantic (see _assignment).
    __orm_plain__: ClassVar[Mapping[str, tuple[type, ...]]] = {}

    def __init_subclass__(
        cls,
        *,
        model_backend: Backend | None = None,
        allow_scan: bool | None = None,
        **kwargs: Any,
    ) -> None:
        """Take the class keywords: a backend to bind to, and whether queries may scan.

        ``class Thing(Model, model_backend=backend)`` is the same as assigning
        ``model_backend = backend`` in the class body. ``allow_scan=False`` makes every
        query of the class that would read all its rows (a ``Scan``) raise ``QueryError``
        before any request; subclasses inherit it.
        """
        super().__init_subclass__(**kwargs)
        if model_backend is not None:
            cls.model_backend = model_backend
        if allow_scan is not None:
            if not isinstance(allow_scan, bool):
                raise ModelDefinitionError(
                    f"{cls.__name__}: allow_scan takes True or False, not {allow_scan!r}"
                )
            cls.__orm_allow_scan__ = allow_scan

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        """Compute the class's schema once, as soon as pydantic has completed the class."""
        # The class keywords were taken by __init_subclass__; pydantic passes them here too.
        kwargs.pop("model_backend", None)
        kwargs.pop("allow_scan", None)
        super().__pydantic_init_subclass__(**kwargs)
        hooks = hook_names(cls, Model)
        cls.__orm_before_save__ = hooks["before_save"]
        cls.__orm_after_save__ = hooks["after_save"]
        cls.__orm_after_load__ = hooks["after_load"]
        cls.__orm_before_update__ = _decorated(hooks["before_save"])
        cls.__orm_after_update__ = _decorated(hooks["after_save"])
        cls.__orm_own_init__ = cls.__init__ is not BaseModel.__init__  # type: ignore[comparison-overlap]
        cls.__orm_schema__ = None
        cls.__orm_plain__ = {}
        if cls.__pydantic_complete__:
            cls._orm_complete()

    @classmethod
    def orm_schema(cls) -> ModelSchema:
        """Return the ORM's facts about this class (built once, on first need if deferred)."""
        # Every subclass sets its own attribute at creation, so plain lookup is the class's own.
        schema = cls.__orm_schema__
        if schema is None:
            if not cls.__pydantic_complete__:
                cls.model_rebuild(raise_errors=True)
            schema = cls._orm_complete()
        return schema

    @classmethod
    def _orm_complete(cls) -> ModelSchema:
        # Both read the finished pydantic class: its fields and its compiled core schema.
        cls.__orm_plain__ = plain_assignments(cls)
        schema = cls.__orm_schema__ = ModelSchema.build(cls)
        return schema

    # -- class-level operations -------------------------------------------------------

    @classmethod
    def create(cls, **data: Any) -> Self:
        """Validate and store a new row.

        Raises:
            pydantic.ValidationError: The data does not fit the model.
            DuplicateKeyError: The key or a unique value is taken; nothing is written.
        """
        instance, schema, row = cls._orm_creating(data)
        cls.model_backend.insert(schema, row)
        instance._orm_finish(schema, row, row)
        return instance

    @classmethod
    async def acreate(cls, **data: Any) -> Self:
        """Awaitable ``create``: the same steps, errors and requests."""
        instance, schema, row = cls._orm_creating(data)
        await cls.model_backend.ainsert(schema, row)
        instance._orm_finish(schema, row, row)
        return instance

    @classmethod
    def create_many(cls, items: Iterable[Mapping[str, Any]]) -> list[Self]:
        """Validate and store several new rows in one backend call: all of them, or none.

        Raises:
            pydantic.ValidationError: An item does not fit the model; nothing is written.
            DuplicateKeyError: A key or unique value is taken or repeated.
        """
        schema, instances, rows = cls._orm_creating_many(items)
        cls.model_backend.insert_many(schema, rows)
        return cls._orm_finish_many(schema, instances, rows)

    @classmethod
    async def acreate_many(cls, items: Iterable[Mapping[str, Any]]) -> list[Self]:
        """Awaitable ``create_many``: the same steps, errors and requests."""
        schema, instances, rows = cls._orm_creating_many(items)
        await cls.model_backend.ainsert_many(schema, rows)
        return cls._orm_finish_many(schema, instances, rows)

    @classmethod
    def get(cls, **key: Any) -> Self | None:
        """Return the row with this key (every key field, nothing else), or ``None``.

        Raises:
            QueryError: A key field is missing, a non-key field is given, or a value does
                not fit its field.
        """
        schema = cls.__orm_schema__ or cls.orm_schema()
        row = cls.model_backend.get(schema, cls._orm_key_from(schema, key, "get"))
        return None if row is None else cls._orm_load(row)

    @classmethod
    async def aget(cls, **key: Any) -> Self | None:
        """Awaitable ``get``: the same checks, errors and request."""
        schema = cls.__orm_schema__ or cls.orm_schema()
        row = await cls.model_backend.aget(schema, cls._orm_key_from(schema, key, "aget"))
        return None if row is None else cls._orm_load(row)

    @classmethod
    def get_many(cls, keys: Iterable[Mapping[str, Any]]) -> list[Self | None]:
        """Return the row of each key in one backend call, ``None`` where there is none."""
        schema = cls.orm_schema()
        rows = cls.model_backend.get_many(schema, cls._orm_keys_from(schema, keys, "get_many"))
        return [None if row is None else cls._orm_load(row) for row in rows]

    @classmethod
    async def aget_many(cls, keys: Iterable[Mapping[str, Any]]) -> list[Self | None]:
        """Awaitable ``get_many``: the same checks, errors and requests."""
        schema = cls.orm_schema()
        wanted = cls._orm_keys_from(schema, keys, "aget_many")
        rows = await cls.model_backend.aget_many(schema, wanted)
        return [None if row is None else cls._orm_load(row) for row in rows]

    @classmethod
    def upsert(cls, **data: Any) -> Self:
        """Store the row whole: insert it, or replace the row with the same key.

        Fields left out take their defaults; an ``auto_now_add`` field keeps its stored
        value; unique values of the replaced row are released.

        Raises:
            pydantic.ValidationError: The data does not fit the model.
            DuplicateKeyError: A unique value belongs to another row; nothing is written.
        """
        instance, schema, row = cls._orm_creating(data)
        instance._orm_finish(schema, cls.model_backend.upsert(schema, row), row)
        return instance

    @classmethod
    async def aupsert(cls, **data: Any) -> Self:
        """Awaitable ``upsert``: the same steps, errors and requests."""
        instance, schema, row = cls._orm_creating(data)
        instance._orm_finish(schema, await cls.model_backend.aupsert(schema, row), row)
        return instance

    @classmethod
    def all(cls) -> list[Self]:
        """Return every stored row of this model, in the backend's natural order."""
        return Query(cls).all()

    @classmethod
    async def aall(cls) -> list[Self]:
        """Awaitable ``all``."""
        return await Query(cls).aall()

    @classmethod
    def where(cls, *conditions: Q, **filters: Any) -> Query[Self]:
        """Start a query: ``User.where(age__gte=30).order_by("-age").all()``.

        ``Q`` objects given positionally hold too: ``User.where(Q(age__gte=30) | Q(name="Bo"))``.

        Raises:
            QueryError: A field, lookup or value does not fit the model.
        """
        return Query(cls).where(*conditions, **filters)

    @classmethod
    def find_by(cls, *conditions: Q, **filters: Any) -> Self | None:
        """The first row matching the filters (as ``where(...).first()``), or ``None``.

        Raises:
            QueryError: A field, lookup or value does not fit the model.
        """
        return Query(cls).where(*conditions, **filters).first()

    @classmethod
    async def afind_by(cls, *conditions: Q, **filters: Any) -> Self | None:
        """Awaitable ``find_by``."""
        return await Query(cls).where(*conditions, **filters).afirst()

    # -- instance operations -----------------------------------------------------------

    def save(self, *, condition: WriteCondition | None = None) -> Self:
        """Write this instance's changes to its stored row.

        Args:
            condition: Write only if this holds on the stored row, checked atomically with
                the write: lookups as in ``where`` (``{"balance__gte": 100}``).

        Raises:
            NotFoundError: The row does not exist (any more); nothing is written.
            DuplicateKeyError: A changed unique value is taken; nothing is written.
            ConcurrentModificationError: The model has a version field and the row was
                changed since this instance read it; nothing is written.
            ConditionFailedError: ``condition`` does not hold; nothing is written.
            QueryError: ``condition`` names an unknown field or a lookup that does not
                apply, or the backend cannot check conditions.
            OrmError: A key field was changed (keys are immutable).
        """
        # The condition is checked first: a bad one changes nothing, not even the stamps.
        options = self._orm_condition(condition, "save")
        schema, key, changes, stored, row = self._orm_saving()
        self._orm_saved(
            schema, self.model_backend.update(schema, key, changes, stored, **options), row
        )
        return self

    async def asave(self, *, condition: WriteCondition | None = None) -> Self:
        """Awaitable ``save``: the same steps, errors and requests."""
        options = self._orm_condition(condition, "save")
        schema, key, changes, stored, row = self._orm_saving()
        written = await self.model_backend.aupdate(schema, key, changes, stored, **options)
        self._orm_saved(schema, written, row)
        return self

    def delete(self, *, condition: WriteCondition | None = None) -> None:
        """Delete this instance's stored row and release its unique values.

        Args:
            condition: Delete only if this holds on the stored row (as for ``save``).

        Raises:
            NotFoundError: The row does not exist (any more).
            ConcurrentModificationError: The model has a version field and the row was
                changed since this instance read it; nothing is deleted.
            ConditionFailedError: ``condition`` does not hold; nothing is deleted.
            QueryError: ``condition`` does not fit the model, or the backend cannot check
                conditions.
        """
        schema, key, stored = self._orm_deleting()
        options = self._orm_condition(condition, "delete")
        self.model_backend.delete(schema, key, stored, **options)
        object.__setattr__(self, "_orm_row", None)

    async def adelete(self, *, condition: WriteCondition | None = None) -> None:
        """Awaitable ``delete``: the same checks, errors and requests."""
        schema, key, stored = self._orm_deleting()
        options = self._orm_condition(condition, "delete")
        await self.model_backend.adelete(schema, key, stored, **options)
        object.__setattr__(self, "_orm_row", None)

    def update(self, *, condition: WriteCondition | None = None, **changes: Any) -> Self:
        """Change some fields of the stored row in one atomic write; refresh from it.

        Nothing is read first. A change is a value or an expression on the stored value
        (``views=F("views") + 1``, ``tags=F("tags") + ["x"]``), applied by the backend, so
        concurrent updates never lose one another. ``auto_now`` fields are stamped and a
        version field goes up by one (without a version check: nothing was read).
        ``before_save`` hooks run on a copy of the instance holding the assigned values, and
        what they change is written too; ``after_save`` hooks run once the instance holds
        the row as stored.

        Args:
            condition: Write only if this holds on the stored row (as for ``save``).
            **changes: The fields to change.

        Raises:
            NotFoundError: The row does not exist (any more).
            DuplicateKeyError: A changed unique value is taken; nothing is written.
            ConditionFailedError: ``condition`` does not hold; nothing is written.
            QueryError: A change does not fit the model (an unknown field, a key field,
                adding to a text...), or the backend cannot apply it; nothing is sent.
        """
        schema = self.__orm_schema__ or self.orm_schema()
        key = self._orm_key(schema, self._orm_stored())
        sent, options = self._orm_updating(schema, key, condition, changes, "update")
        return self._orm_updated(
            schema, self.model_backend.update(schema, key, sent, None, **options)
        )

    async def aupdate(self, *, condition: WriteCondition | None = None, **changes: Any) -> Self:
        """Awaitable ``update``: the same checks, errors and request."""
        schema = self.__orm_schema__ or self.orm_schema()
        key = self._orm_key(schema, self._orm_stored())
        sent, options = self._orm_updating(schema, key, condition, changes, "aupdate")
        written = await self.model_backend.aupdate(schema, key, sent, None, **options)
        return self._orm_updated(schema, written)

    @classmethod
    def update_by_key(
        cls, key: Mapping[str, Any], *, condition: WriteCondition | None = None, **changes: Any
    ) -> Self:
        """``update`` a row known by its key, without loading it first; the stored row.

        ``Counter.update_by_key({"id": "c1"}, hits=F("hits") + 1)`` is one request.
        """
        schema = cls.orm_schema()
        row_key = cls._orm_key_from(schema, key, "update_by_key")
        instance = cls._orm_keyed(schema, row_key)
        sent, options = instance._orm_updating(schema, row_key, condition, changes, "update_by_key")
        written = instance.model_backend.update(schema, row_key, sent, None, **options)
        return instance._orm_updated(schema, written)

    @classmethod
    async def aupdate_by_key(
        cls, key: Mapping[str, Any], *, condition: WriteCondition | None = None, **changes: Any
    ) -> Self:
        """Awaitable ``update_by_key``."""
        schema = cls.orm_schema()
        row_key = cls._orm_key_from(schema, key, "aupdate_by_key")
        instance = cls._orm_keyed(schema, row_key)
        sent, options = instance._orm_updating(
            schema, row_key, condition, changes, "aupdate_by_key"
        )
        written = await instance.model_backend.aupdate(schema, row_key, sent, None, **options)
        return instance._orm_updated(schema, written)

    def before_save(self) -> None:
        """Run before every write, as the first ``@before_save`` hook; override to adjust.

        Define it in the class body: a class's hooks are found once, when it is created.
        """

    def after_save(self) -> None:
        """Run after every successful write, as the first ``@after_save`` hook."""

    @property
    def is_stored(self) -> bool:
        """Whether this instance holds a stored row: created, loaded or saved, not deleted."""
        return self._orm_stored() is not None

    def __setattr__(self, name: str, value: Any) -> None:
        """Assign a field, validated as pydantic validates it.

        A value of exactly a plain field's type (``int``, ``str``, ``bool``, or ``None``
        where allowed, on a field without constraints or validators) is stored as it is,
        which is what pydantic's validator would do at several times the cost.
        """
        if type(value) in self.__orm_plain__.get(name, ()):
            self.__dict__[name] = value
            self.__pydantic_fields_set__.add(name)
        else:
            super().__setattr__(name, value)

    # -- internals ---------------------------------------------------------------------

    @classmethod
    def _orm_backend(cls) -> Backend:
        schema = cls.__orm_schema__ or cls.orm_schema()
        if schema.ttl_field is not None:
            cls._orm_check_ttl(schema)
        return cls.model_backend

    @classmethod
    def _orm_check_ttl(cls, schema: ModelSchema) -> None:
        """Refuse to store or read a model whose rows expire on a backend that cannot.

        Raises:
            ModelDefinitionError: The model has a ``ttl=True`` field and its backend lacks
                the ``ttl`` capability (it would return expired rows).
        """
        backend = cls.model_backend
        if "ttl" not in backend.capabilities:
            raise ModelDefinitionError(
                f"{schema.name}.{schema.ttl_field} is declared ttl=True, but "
                f"{type(backend).__name__} cannot expire rows (it lacks the 'ttl' "
                "capability); bind the model to a backend that has it"
            )

    @classmethod
    def _orm_new(cls, data: Mapping[str, Any]) -> Self:
        """The instance a creating write starts from: ``cls(**data)``."""
        if cls.__orm_own_init__:
            return cls(**data)
        # What pydantic's own __init__ does, without its frame.
        instance: Self = cls.__pydantic_validator__.validate_python(data)
        return instance

    # The write pipeline: every write verb runs _orm_prepare, then its backend call, then
    # _orm_finish, so the steps and their order are the same for all of them. The verbs'
    # sync and async twins share everything but the backend call, through the helpers below.

    @classmethod
    def _orm_creating(cls, data: Mapping[str, Any]) -> tuple[Self, ModelSchema, Row]:
        """A creating write's instance, schema and row to send (create, upsert)."""
        schema = cls.__orm_schema__ or cls.orm_schema()
        if schema.ttl_field is not None:
            cls._orm_check_ttl(schema)
        instance = cls._orm_new(data)
        return instance, schema, instance._orm_prepare(schema, creating=True)

    @classmethod
    def _orm_creating_many(
        cls, items: Iterable[Mapping[str, Any]]
    ) -> tuple[ModelSchema, list[Self], list[Row]]:
        """``create_many``'s schema, instances and rows: every item validated first."""
        schema = cls.orm_schema()
        if schema.ttl_field is not None:
            cls._orm_check_ttl(schema)
        instances = [cls._orm_new(item) for item in items]
        rows = [instance._orm_prepare(schema, creating=True) for instance in instances]
        return schema, instances, rows

    @classmethod
    def _orm_finish_many(
        cls, schema: ModelSchema, instances: list[Self], rows: list[Row]
    ) -> list[Self]:
        for instance, row in zip(instances, rows, strict=True):
            instance._orm_finish(schema, row, row)
        return instances

    def _orm_saving(self) -> tuple[ModelSchema, Key, Row, Row | None, Row]:
        """What ``save`` sends: schema, key, changed fields, the stored row, the whole row."""
        schema = self.__orm_schema__ or self.orm_schema()
        if schema.ttl_field is not None:
            self._orm_check_ttl(schema)
        stored = self._orm_stored()
        row = self._orm_prepare(schema, creating=False, stored=stored)
        version = schema.version_field
        if version is not None:
            # The write is based on the version this instance was read at, not on whatever
            # the caller may have assigned to the field.
            row[version] = (row[version] if stored is None else stored[version]) + 1
        kept, before = schema.auto_now_add, stored or {}
        changes = {
            name: value
            for name, value in row.items()
            if name not in kept and before.get(name, _UNSTORED) != value
        }
        # An index key is built from all its fields: a change to some of them sends the
        # others too, as this instance holds them, so that the index key is rebuilt whole.
        _with_index_keys(schema, row, changes)
        return schema, schema.key_of(row), changes, stored, row

    def _orm_saved(self, schema: ModelSchema, written: Row, row: Row) -> None:
        if schema.version_field is not None:
            # So that adopting the written row finds nothing new.
            self.__dict__[schema.version_field] = written[schema.version_field]
        self._orm_finish(schema, written, row)

    def _orm_updating(
        self,
        schema: ModelSchema,
        key: Key,
        condition: WriteCondition | None,
        changes: Mapping[str, Any],
        verb: str,
    ) -> tuple[Row, dict[str, Filter]]:
        """What an atomic ``update`` sends: the parsed changes, stamps, version; options.

        ``verb`` is the method called, for messages.
        """
        backend = self.model_backend
        if schema.ttl_field is not None:
            self._orm_check_ttl(schema)
        if "atomic_updates" not in backend.capabilities:
            raise QueryError(
                f"{schema.name}.{verb}(): {type(backend).__name__} cannot apply atomic updates "
                "(it lacks the 'atomic_updates' capability); assign the fields and save() "
                "instead. Nothing was written"
            )
        sent = parse_changes(schema, changes, verb)
        if schema.auto_now:
            now = clock.now()
            sent.update({name: now for name in schema.auto_now})
        options = self._orm_condition(condition, "update")
        if self.__orm_before_update__:
            self._orm_hooked_changes(schema, sent, verb)
        if schema.version_field is not None:
            sent[schema.version_field] = Increment(1)
        _with_index_keys(schema, schema.key_dict(key), sent)
        return sent, options

    def _orm_updated(self, schema: ModelSchema, written: Row) -> Self:
        """Take the row an atomic update stored."""
        fresh = type(self).__pydantic_validator__.validate_python(written)
        object.__setattr__(self, "__dict__", fresh.__dict__)
        object.__setattr__(self, "__pydantic_fields_set__", fresh.__pydantic_fields_set__)
        self._orm_remember(written)
        for name in self.__orm_after_update__:
            getattr(self, name)()
        return self

    @classmethod
    def _orm_condition(cls, condition: WriteCondition | None, verb: str) -> dict[str, Filter]:
        """The backend options of a write's ``condition=``: none, or the parsed filter.

        Raises:
            QueryError: The condition does not fit the model, uses a lookup that cannot be
                checked atomically with a write, or the backend cannot check conditions.
        """
        if condition is None:
            return {}
        schema = cls.orm_schema()
        backend = cls.model_backend
        if "conditions" not in backend.capabilities:
            raise QueryError(
                f"{schema.name}.{verb}(condition=...): {type(backend).__name__} cannot check "
                "conditions (it lacks the 'conditions' capability); nothing was written"
            )
        if isinstance(condition, Q):
            tree = resolve_filters(schema, (condition,), {}, verb)
        else:
            tree = resolve_filters(schema, (), condition, verb)
        if tree is None:
            raise QueryError(
                f"{schema.name}.{verb}(condition={condition!r}): the condition is empty; "
                "leave it out to write unconditionally"
            )
        for node in walk(tree):
            if isinstance(node, Condition) and node.lookup in TEXT_MATCH_LOOKUPS:
                raise QueryError(
                    f"{schema.name}.{node.field}: {verb}(condition=...) cannot use the "
                    f"{node.lookup!r} lookup: a condition is checked atomically with the write "
                    "and some backends (DynamoDB) cannot evaluate it there; nothing was written"
                )
        return {"condition": tree}

    def _orm_deleting(self) -> tuple[ModelSchema, Key, Row | None]:
        """What ``delete`` sends: schema, the key to delete and the stored row."""
        schema = self.__orm_schema__ or self.orm_schema()
        if schema.ttl_field is not None:
            self._orm_check_ttl(schema)
        stored = self._orm_stored()
        return schema, self._orm_key(schema, stored), stored

    def _orm_prepare(
        self, schema: ModelSchema, *, creating: bool, stored: Row | None = None
    ) -> Row:
        """The steps before a write's backend call; returns the row to write.

        In order: stamp the automatic fields, run ``before_save``, check that the key is
        still the stored row's (after the hook, which may have changed it), build the row
        from the declared fields and refuse values some backend cannot store.

        Raises:
            OrmError: A key field differs from the stored row's.
        """
        if schema.auto_now or (creating and (schema.auto_now_add or schema.version_field)):
            self._orm_stamp(schema, creating=creating)
        if self.__orm_before_save__:
            self._orm_before_save(schema)
        if stored is not None:
            self._orm_key(schema, stored)
        return self._orm_write_row(schema)

    def _orm_finish(self, schema: ModelSchema, written: Row, sent: Row) -> None:
        """The steps after a successful write: take the stored row, run ``after_save``.

        ``written`` is the row the backend stored, ``sent`` the one this instance sent. The
        stored row may differ (an upsert keeps ``auto_now_add`` values): the instance then
        takes its values.
        """
        if written is not sent and written != (
            self.__dict__ if schema.rows_are_flat else self.model_dump()
        ):
            fresh = type(self).model_validate(written)
            object.__setattr__(self, "__dict__", fresh.__dict__)
        object.__setattr__(self, "_orm_row", written)
        if self.__orm_after_save__:  # checked here: the write hot path makes no call
            self._orm_after_save()

    def _orm_before_save(self, schema: ModelSchema, hooks: tuple[str, ...] | None = None) -> None:
        """Run the ``before_save`` hooks (or those named), refusing one that changes the key.

        Raises:
            OrmError: A hook changed a key field; nothing is written.
        """
        key = schema.key_of(self.__dict__)
        for name in self.__orm_before_save__ if hooks is None else hooks:
            getattr(self, name)()
            changed = schema.key_of(self.__dict__)
            if changed != key:
                raise OrmError(
                    f"{schema.name}.{name}(): key fields are immutable, and this "
                    f"before_save hook changed the key from {schema.key_dict(key)} to "
                    f"{schema.key_dict(changed)}; hooks may change any other field. "
                    "Nothing was written"
                )

    def _orm_after_save(self) -> None:
        for name in self.__orm_after_save__:
            getattr(self, name)()

    def _orm_hooked_changes(self, schema: ModelSchema, sent: Row, verb: str) -> None:
        """Run the decorated ``before_save`` hooks for an atomic update; send what they change.

        The hooks see a copy of the instance holding the values the update assigns (an
        expression's result is unknown until the backend applies it): a failed write leaves
        the instance's fields untouched, while its private attributes, never stored, are
        shared with the copy. Only the fields whose value a hook changed are sent, so a hook
        that rewrites a field to what it already holds cannot put back a stale value over
        a concurrent write. After ``update_by_key`` the copy holds the key and the assigned
        values only: no read was made, so a hook reading any other field is refused.

        Raises:
            OrmError: A hook changed the key, changed a field the update computes, or read
                a field the copy does not hold; nothing is written.
        """
        assigned = {name: change for name, change in sent.items() if not is_computed(change)}
        before = {**self.__dict__, **assigned}
        probe = self.model_copy()
        object.__setattr__(probe, "__dict__", copy.deepcopy(before))
        object.__setattr__(probe, "__pydantic_private__", self.__pydantic_private__)
        try:
            probe._orm_before_save(schema, self.__orm_before_update__)
        except AttributeError as error:
            raise OrmError(
                f"{schema.name}.{verb}(): a before_save hook read a field the update does not "
                f"hold ({error}); {verb} sends no read, so its hooks see the key and the "
                "assigned values only. Load the row and call update() on it instead. "
                "Nothing was written"
            ) from None
        changed = {
            name: value
            for name, value in probe.__dict__.items()
            if name in schema.fields and before.get(name, _UNSTORED) != value
        }
        computed = [name for name in changed if is_computed(sent.get(name))]
        if computed:
            raise OrmError(
                f"{schema.name}.{verb}(): a before_save hook assigned {', '.join(computed)}, "
                "which this update computes from the stored value; nothing was written"
            )
        if changed:
            sent.update(parse_changes(schema, changed, verb))

    @classmethod
    def _orm_keyed(cls, schema: ModelSchema, key: Key) -> Self:
        """The instance ``update_by_key`` starts from: the key, no other field (none is read)."""
        instance = cast(Self, cls.model_construct(**schema.key_dict(key)))
        object.__setattr__(instance, "__dict__", dict(schema.key_dict(key)))
        return instance

    @classmethod
    def _orm_load(cls, row: Row) -> Self:
        instance: Self = cls.__pydantic_validator__.validate_python(row)
        instance._orm_remember(row)
        for name in cls.__orm_after_load__:
            getattr(instance, name)()
        return instance

    @classmethod
    def _orm_load_all(cls, rows: Iterable[Row]) -> list[Self]:
        """Validate stored rows into instances that remember them (the query hot path)."""
        # The query hot path: one validator call and one remember per row, no other frame.
        validate = cls.__pydantic_validator__.validate_python
        loaded: list[Self] = []
        for row in rows:
            instance = validate(row)
            instance._orm_remember(row)
            loaded.append(instance)
        for name in cls.__orm_after_load__:
            for instance in loaded:
                getattr(instance, name)()
        return loaded

    @classmethod
    def _orm_key_from(cls, schema: ModelSchema, given: Mapping[str, Any], method: str) -> Key:
        if schema.ttl_field is not None:
            cls._orm_check_ttl(schema)
        key_fields = schema.require_key()
        if len(given) == len(key_fields):
            try:
                if len(key_fields) == 1:
                    return (schema.coerce_key(key_fields[0], given[key_fields[0]]),)
                return tuple(schema.coerce_key(name, given[name]) for name in key_fields)
            except KeyError:
                pass  # a field other than the key's: explained below
        extra = [name for name in given if name not in key_fields]
        missing = [name for name in key_fields if name not in given]
        if extra or missing:
            problem = f"{', '.join(map(repr, extra))} is not a key field" if extra else "missing"
            hint = f"; use {schema.name}.where(...).first() to find a row by other fields"
            raise QueryError(
                f"{schema.name}.{method}() takes exactly the key fields "
                f"({', '.join(key_fields)}): {problem}"
                f"{' ' + ', '.join(map(repr, missing)) if missing and not extra else ''}"
                f"{hint if extra else ''}"
            )
        return tuple(
            schema.validate_value(name, given[name], purpose=f"{method}({name}=...)")
            for name in key_fields
        )

    @classmethod
    def _orm_keys_from(
        cls, schema: ModelSchema, keys: Iterable[Mapping[str, Any]], method: str
    ) -> list[Key]:
        return [cls._orm_key_from(schema, key, method) for key in keys]

    def _orm_write_row(self, schema: ModelSchema) -> Row:
        """The row to write: declared fields only, refused if some backend cannot store it."""
        if schema.rows_are_flat:
            values = self.__dict__
            # An attribute set outside the fields (``instance._note = 1``) lands in __dict__
            # too: it is never stored.
            row = dict(values) if len(values) == len(schema.fields) else _fields_of(schema, values)
        else:
            row = self.model_dump()
        check_row(schema, row)
        layout = schema.layout
        if layout is not None and layout.declared:
            _check_key_texts(schema, layout, row)
        return row

    def _orm_stamp(self, schema: ModelSchema, *, creating: bool) -> None:
        if creating and schema.version_field is not None:
            self.__dict__[schema.version_field] = 1
        if not (schema.auto_now or (creating and schema.auto_now_add)):
            return
        now = clock.now()
        names = schema.auto_now + (schema.auto_now_add if creating else ())
        for name in names:
            self.__dict__[name] = now
            self.__pydantic_fields_set__.add(name)

    def _orm_remember(self, row: Row) -> None:
        object.__setattr__(self, "_orm_row", row)

    def _orm_stored(self) -> Row | None:
        try:
            return self._orm_row
        except AttributeError:  # never stored: the slot was not set
            return None

    def _orm_key(self, schema: ModelSchema, stored: Row | None) -> Key:
        """The key to write to: the stored row's, which the instance must still hold."""
        current = schema.key_of(self.__dict__)
        if stored is not None and schema.key_of(stored) != current:
            raise OrmError(
                f"{schema.name}: key fields are immutable; changed "
                f"{schema.key_dict(schema.key_of(stored))} to {schema.key_dict(current)}. "
                "Create a new row and delete the old one instead"
            )
        return current


def _with_index_keys(schema: ModelSchema, values: Mapping[str, Any], changes: Row) -> None:
    """Add to ``changes`` the other fields of each declared index key they touch.

    ``values`` holds those fields (the whole row for ``save``; the key for an atomic
    update, whose changes must give every other field: ``parse_changes`` checks it).
    """
    layout = schema.layout
    if layout is None or not layout.indexes:
        return
    for index in layout.indexes.values():
        if any(name in changes for name in index.fields):
            changes.update(
                (name, values[name])
                for name in index.fields
                if name in values and name not in changes
            )


def _check_key_texts(schema: ModelSchema, layout: KeyLayout, row: Row) -> None:
    """Refuse a key or index value holding its template's separator.

    The key would not split back into the values that built it, and could be another's.
    """
    problem = layout.separator_problem(row)
    if problem is not None:
        name, separator = problem
        raise unstorable_error(
            schema.name,
            (name,),
            row[name],
            f"contains {separator!r}, which separates the fields of its key template",
        )


def _decorated(hooks: tuple[str, ...]) -> tuple[str, ...]:
    """The hooks named, less the overridden ``before_save``/``after_save`` methods."""
    return tuple(name for name in hooks if name not in ("before_save", "after_save"))


def _fields_of(schema: ModelSchema, values: Mapping[str, Any]) -> Row:
    return {name: values[name] for name in schema.fields}
