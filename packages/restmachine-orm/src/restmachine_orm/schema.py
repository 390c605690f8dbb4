"""Per-model facts, computed once per class: keys, unique fields, auto fields, lookups."""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import types
import typing
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Union

from pydantic import BaseModel, TypeAdapter, ValidationError

from .errors import ModelDefinitionError, QueryError
from .fields import FieldOptions, options_of
from .keys import KeyLayout, build_layout
from .storable import MAX_KEY_BYTES, MAX_SORT_KEY_BYTES, text_problem

__all__ = ["LOOKUPS", "TEXT_MATCH_LOOKUPS", "FieldKind", "FieldSpec", "ModelSchema"]

#: Every lookup the query language knows, in the order the docs list them.
LOOKUPS: tuple[str, ...] = (
    "eq",
    "ne",
    "gt",
    "gte",
    "lt",
    "lte",
    "in",
    "between",
    "startswith",
    "endswith",
    "contains",
    "iexact",
    "istartswith",
    "iendswith",
    "icontains",
    "isnull",
)

#: Text lookups that some backends evaluate after reading (DynamoDB has no ``ends_with`` and
#: no case folding). They filter queries on every backend, but a write's ``condition=``
#: refuses them: it must be checked atomically with the write, by the storage itself.
TEXT_MATCH_LOOKUPS: frozenset[str] = frozenset(
    {"endswith", "iexact", "istartswith", "iendswith", "icontains"}
)


class FieldKind(str, enum.Enum):
    """What a field holds, as far as storing, comparing and ordering go."""

    STR = "str"
    NUMBER = "number"
    BOOL = "bool"
    DATETIME = "datetime"
    DATE = "date"
    TIME = "time"
    ENUM = "enum"
    UUID = "uuid"
    LIST = "list"
    DICT = "dict"
    OTHER = "other"


_EQUALITY = frozenset({"eq", "ne", "in", "isnull"})
_ORDERED = _EQUALITY | {"gt", "gte", "lt", "lte", "between"}
_LOOKUPS_BY_KIND: dict[FieldKind, frozenset[str]] = {
    FieldKind.STR: _ORDERED | {"startswith", "contains"} | TEXT_MATCH_LOOKUPS,
    FieldKind.NUMBER: _ORDERED,
    FieldKind.DATETIME: _ORDERED,
    FieldKind.DATE: _ORDERED,
    FieldKind.TIME: _ORDERED,
    FieldKind.BOOL: _EQUALITY,
    FieldKind.ENUM: _EQUALITY,
    FieldKind.UUID: _EQUALITY,
    FieldKind.LIST: _EQUALITY | {"contains"},
    FieldKind.DICT: frozenset({"eq", "ne", "isnull"}),
    FieldKind.OTHER: frozenset({"eq", "ne", "isnull"}),
}
# Values of these kinds are immutable and hashable: safe to share, usable as keys.
_SCALAR_KINDS = frozenset(
    {
        FieldKind.STR,
        FieldKind.NUMBER,
        FieldKind.BOOL,
        FieldKind.DATETIME,
        FieldKind.DATE,
        FieldKind.TIME,
        FieldKind.ENUM,
        FieldKind.UUID,
    }
)
_ORDERABLE_KINDS = _SCALAR_KINDS - {FieldKind.ENUM, FieldKind.UUID}
_KEY_KINDS = _SCALAR_KINDS - {FieldKind.BOOL}


def _strip_optional(annotation: Any) -> tuple[Any, bool]:
    """Return the annotation without ``None`` in it, and whether ``None`` was allowed."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _strip_optional(typing.get_args(annotation)[0])
    if origin is Union or origin is types.UnionType:
        members = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        nullable = len(members) < len(typing.get_args(annotation))
        if len(members) == 1:
            inner, inner_nullable = _strip_optional(members[0])
            return inner, nullable or inner_nullable
        return Union[tuple(members)], nullable  # noqa: UP007 - rebuilt from parts
    return annotation, annotation is type(None) or annotation is Any


def _kind_of(annotation: Any) -> FieldKind:
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        values = typing.get_args(annotation)
        if all(isinstance(value, str) for value in values):
            return FieldKind.STR
        return FieldKind.OTHER
    if origin in (list, set, frozenset, tuple):
        return FieldKind.LIST
    if origin in (dict, Mapping):
        return FieldKind.DICT
    if not isinstance(annotation, type):
        return FieldKind.OTHER
    # Order matters: bool is an int, datetime is a date, str enums are str.
    checks: tuple[tuple[type, FieldKind], ...] = (
        (enum.Enum, FieldKind.ENUM),
        (bool, FieldKind.BOOL),
        (str, FieldKind.STR),
        (int, FieldKind.NUMBER),
        (float, FieldKind.NUMBER),
        (decimal.Decimal, FieldKind.NUMBER),
        (dt.datetime, FieldKind.DATETIME),
        (dt.date, FieldKind.DATE),
        (dt.time, FieldKind.TIME),
        (uuid.UUID, FieldKind.UUID),
        (list, FieldKind.LIST),
        (set, FieldKind.LIST),
        (frozenset, FieldKind.LIST),
        (tuple, FieldKind.LIST),
        (dict, FieldKind.DICT),
        (BaseModel, FieldKind.DICT),
    )
    for base, kind in checks:
        if issubclass(annotation, base):
            return kind
    return FieldKind.OTHER


@dataclass(frozen=True)
class FieldSpec:
    """One field of a model as the ORM sees it.

    Attributes:
        name: The field's name.
        kind: What it holds (decides lookups, ordering and how it is copied).
        nullable: Whether ``None`` is an allowed value.
        options: The ORM options given to ``Field``.
        annotation: The field's declared type.
        inner: The declared type without ``None`` (and without ``Annotated`` metadata).
        lookups: The lookups a filter may use on it.
    """

    name: str
    kind: FieldKind
    nullable: bool
    options: FieldOptions
    annotation: Any
    inner: Any
    lookups: frozenset[str]

    @property
    def element(self) -> Any:
        """The element type of a list-like field (``Any`` when it is not declared)."""
        args = [arg for arg in typing.get_args(self.inner) if arg is not Ellipsis]
        return args[0] if len(args) == 1 else Any

    @property
    def is_set(self) -> bool:
        """Whether the field holds a ``set`` or ``frozenset``."""
        inner = self.inner
        return typing.get_origin(inner) in (set, frozenset) or inner in (set, frozenset)

    @property
    def orderable(self) -> bool:
        """Whether ``order_by`` may use this field."""
        return self.kind in _ORDERABLE_KINDS


@dataclass
class ModelSchema:
    """Everything the ORM needs to know about one model class, computed once.

    Attributes:
        model: The model class.
        name: The model's name, used in messages and by backends as its namespace.
        fields: Every field by name, in declaration order.
        key_fields: The key's fields, partition first, then sort (empty for abstract bases).
        unique_fields: Fields whose values no two rows may share.
        auto_now_add: Fields set on create only.
        auto_now: Fields set on every write.
        indexed_fields: Fields declared with ``index=True``.
        version_field: The field declared with ``version=True``, if any.
        ttl_field: The field declared with ``ttl=True`` (the row's expiry), if any.
        number_fields: Fields holding numbers (their values are checked before writes).
        text_fields: Fields holding strings (the only flat values whose size is unbounded).
        byte_limits: The most UTF-8 bytes a value may take, for every string field that is
            part of a key, unique or indexed (see ``storable``).
        rows_are_flat: Every field holds an immutable scalar, so a shallow copy is a full copy.
        layout: How the model's table and index keys are built from its fields: its
            ``model_keys`` or the default layout (``None`` without key fields).
        allow_scan: Whether a query of the model may read every row to answer (``False``:
            the class was declared with ``allow_scan=False``).
    """

    model: type[BaseModel]
    name: str
    fields: dict[str, FieldSpec]
    key_fields: tuple[str, ...]
    unique_fields: tuple[str, ...]
    auto_now_add: tuple[str, ...]
    auto_now: tuple[str, ...]
    indexed_fields: tuple[str, ...]
    version_field: str | None
    ttl_field: str | None
    number_fields: tuple[str, ...]
    text_fields: tuple[str, ...]
    byte_limits: dict[str, int]
    rows_are_flat: bool
    layout: KeyLayout | None = None
    allow_scan: bool = True
    _adapters: dict[tuple[str, bool], TypeAdapter[Any]] = field(default_factory=dict, repr=False)

    @classmethod
    def build(cls, model: type[BaseModel]) -> ModelSchema:
        """Read a model class's fields and check that its storage options fit together.

        Raises:
            ModelDefinitionError: The options contradict each other or a field's type.
        """
        specs: dict[str, FieldSpec] = {}
        for name, info in model.model_fields.items():
            annotation, nullable = _strip_optional(info.annotation)
            kind = _kind_of(annotation)
            specs[name] = FieldSpec(
                name=name,
                kind=kind,
                nullable=nullable,
                options=options_of(info),
                annotation=info.annotation,
                inner=annotation,
                lookups=_LOOKUPS_BY_KIND[kind],
            )
        schema = cls(
            model=model,
            name=model.__name__,
            fields=specs,
            key_fields=_key_fields(model.__name__, specs),
            unique_fields=tuple(n for n, s in specs.items() if s.options.unique),
            auto_now_add=tuple(n for n, s in specs.items() if s.options.auto_now_add),
            auto_now=tuple(n for n, s in specs.items() if s.options.auto_now),
            indexed_fields=tuple(n for n, s in specs.items() if s.options.index),
            version_field=_only_field(model.__name__, specs, "version"),
            ttl_field=_only_field(model.__name__, specs, "ttl"),
            number_fields=tuple(n for n, s in specs.items() if s.kind is FieldKind.NUMBER),
            text_fields=tuple(n for n, s in specs.items() if s.kind is FieldKind.STR),
            byte_limits={n: _byte_limit(s.options) for n, s in specs.items() if _is_bounded(s)},
            rows_are_flat=all(spec.kind in _SCALAR_KINDS for spec in specs.values()),
        )
        for spec in specs.values():
            _check_field(schema.name, spec)
        schema.layout = build_layout(schema, getattr(model, "model_keys", None))
        schema.allow_scan = getattr(model, "__orm_allow_scan__", True)
        return schema

    @property
    def partition_key(self) -> str:
        """The partition part of the key (the primary key for single-field keys)."""
        return self.require_key()[0]

    @property
    def sort_key(self) -> str | None:
        """The sort part of a composite key, or ``None``."""
        keys = self.require_key()
        return keys[1] if len(keys) > 1 else None

    def require_key(self) -> tuple[str, ...]:
        """Return the key fields, or fail for a model that declares none.

        Raises:
            ModelDefinitionError: The model has no key field (e.g. an abstract base).
        """
        if not self.key_fields:
            raise ModelDefinitionError(
                f"{self.name} declares no key field; mark one with Field(primary_key=True) "
                "(or partition_key=True / sort_key=True) before storing it"
            )
        return self.key_fields

    def key_of(self, row: Mapping[str, Any]) -> tuple[Any, ...]:
        """Return the key tuple of a row (or of any mapping holding the key fields)."""
        fields = self.key_fields
        # Keys of one or two fields (every key) are built without a generator: a hot path.
        if len(fields) == 1:
            return (row[fields[0]],)
        if len(fields) == 2:
            return (row[fields[0]], row[fields[1]])
        return tuple(row[name] for name in self.require_key())

    def key_dict(self, key: tuple[Any, ...]) -> dict[str, Any]:
        """Return a key tuple as ``{field: value}``, for messages and errors."""
        return dict(zip(self.require_key(), key, strict=True))

    def validate_value(self, name: str, value: Any, *, purpose: str, element: bool = False) -> Any:
        """Check a value against a field's type (not its constraints) and coerce it.

        Args:
            name: The field.
            value: The value a filter or key lookup compares the field to.
            purpose: What the value is for, shown in the error (e.g. ``"age__gte"``).
            element: Check against the element type of a list field instead.

        Raises:
            QueryError: The value cannot be a value of that field.
        """
        adapter = self._adapters.get((name, element))
        if adapter is None:
            spec = self.fields[name]
            adapter = TypeAdapter(spec.element if element else spec.annotation)
            self._adapters[(name, element)] = adapter
        try:
            return adapter.validate_python(value)
        except ValidationError as exc:
            reason = exc.errors()[0]["msg"]
            what = "element" if element else "value"
            raise QueryError(
                f"{self.name}.{name}: {value!r} is not a valid {what} for {purpose}: {reason}"
            ) from None

    def coerce_key(self, name: str, value: Any) -> Any:
        """Check one key value, skipping validation when it already has the exact type.

        Raises:
            QueryError: The value cannot be a value of that field, or is longer than any
                stored key can be.
        """
        if type(value) is int and self.fields[name].inner is int:
            return value
        if type(value) is not str or self.fields[name].inner is not str:
            value = self.validate_value(name, value, purpose=f"key {name}=...")
        limit = self.byte_limits.get(name)
        problem = None if limit is None else text_problem(value, limit)
        if problem is not None:
            raise QueryError(f"{self.name}.{name}: key {name}=...: {problem}")
        return value

    def field_spec(self, name: str, *, purpose: str) -> FieldSpec:
        """Return a field's spec, or fail naming the model and the fields it does have.

        Raises:
            QueryError: The model has no such field.
        """
        spec = self.fields.get(name)
        if spec is None:
            known = ", ".join(self.fields)
            raise QueryError(
                f"{self.name} has no field {name!r} (in {purpose}); its fields are: {known}"
            )
        return spec


def _key_fields(model: str, specs: dict[str, FieldSpec]) -> tuple[str, ...]:
    def marked(flag: str) -> list[str]:
        return [name for name, spec in specs.items() if getattr(spec.options, flag)]

    primary, partition, sort = marked("primary_key"), marked("partition_key"), marked("sort_key")
    for flag, names in (("primary_key", primary), ("partition_key", partition), ("sort_key", sort)):
        if len(names) > 1:
            raise ModelDefinitionError(
                f"{model}: only one field may set {flag}=True, found {', '.join(names)}"
            )
    if primary and (partition or sort):
        raise ModelDefinitionError(
            f"{model}: use either primary_key=True on one field, or partition_key=True with an "
            f"optional sort_key=True, not both (primary_key={primary[0]!r}, "
            f"partition_key/sort_key={(partition + sort)!r})"
        )
    if sort and not partition:
        raise ModelDefinitionError(
            f"{model}: sort_key field {sort[0]!r} needs a partition_key=True field beside it"
        )
    return tuple(primary + partition + sort)


def _is_bounded(spec: FieldSpec) -> bool:
    options = spec.options
    return spec.kind is FieldKind.STR and (options.is_key or options.unique or options.index)


def _byte_limit(options: FieldOptions) -> int:
    return MAX_SORT_KEY_BYTES if options.sort_key else MAX_KEY_BYTES


def _only_field(model: str, specs: dict[str, FieldSpec], option: str) -> str | None:
    """The one field setting a per-model option (``version``, ``ttl``), if any."""
    names = [name for name, spec in specs.items() if getattr(spec.options, option)]
    if len(names) > 1:
        raise ModelDefinitionError(
            f"{model}: only one field may set {option}=True, found {', '.join(names)}"
        )
    return names[0] if names else None


def _check_field(model: str, spec: FieldSpec) -> None:
    where = f"{model}.{spec.name}"
    options = spec.options
    if options.is_key:
        if spec.kind not in _KEY_KINDS:
            raise ModelDefinitionError(
                f"{where}: a key field must hold a str, number, date, datetime, time, enum or "
                f"UUID value, not {spec.annotation!r}"
            )
        if spec.nullable:
            raise ModelDefinitionError(f"{where}: a key field cannot be optional (None)")
    if options.index:
        if options.is_key:
            raise ModelDefinitionError(f"{where}: a key field is indexed already; drop index=True")
        if spec.kind not in _SCALAR_KINDS:
            raise ModelDefinitionError(
                f"{where}: index=True needs a scalar type (str, number, bool, date, datetime, "
                f"time, enum, UUID), not {spec.annotation!r}"
            )
    if options.unique:
        if options.primary_key:
            raise ModelDefinitionError(
                f"{where}: a primary key is unique already; drop unique=True"
            )
        if spec.kind not in _SCALAR_KINDS:
            raise ModelDefinitionError(
                f"{where}: unique=True needs a scalar type (str, number, bool, date, datetime, "
                f"time, enum, UUID), not {spec.annotation!r}"
            )
    if options.auto_now or options.auto_now_add:
        if options.auto_now and options.auto_now_add:
            raise ModelDefinitionError(f"{where}: choose auto_now or auto_now_add, not both")
        if spec.kind is not FieldKind.DATETIME:
            raise ModelDefinitionError(
                f"{where}: auto_now/auto_now_add need a datetime field, not {spec.annotation!r}"
            )
        if options.is_key:
            raise ModelDefinitionError(f"{where}: a key field cannot be set automatically")
    if options.version:
        if spec.inner is not int or spec.nullable:
            raise ModelDefinitionError(
                f"{where}: version=True needs a plain int field, not {spec.annotation!r}"
            )
        if options.is_key or options.unique or options.auto_now or options.auto_now_add:
            raise ModelDefinitionError(
                f"{where}: the version field is set by the ORM; it cannot also be a key, "
                "unique or auto_now/auto_now_add"
            )
    if options.ttl:
        if spec.kind is not FieldKind.DATETIME:
            raise ModelDefinitionError(
                f"{where}: ttl=True needs a datetime field (datetime | None), not "
                f"{spec.annotation!r}"
            )
        if options.is_key or options.unique or options.auto_now or options.auto_now_add:
            raise ModelDefinitionError(
                f"{where}: the expiry field (ttl=True) cannot also be a key, unique or "
                "auto_now/auto_now_add (a row stamped with the time of its write would "
                "expire at once)"
            )
