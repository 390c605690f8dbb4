"""Atomic changes: ``F`` expressions on stored values, and the changes backends receive.

``instance.update(views=F("views") + 1)`` changes the stored value itself, in the write:
nothing is read first, so concurrent increments never lose one another. A user writes an
``F`` expression; ``parse_changes`` checks it against the model and turns it into what a
backend applies (``Increment``, ``Append``, ``AddToSet``, ``RemoveFromSet``), beside the
plain values it validates.
"""

from __future__ import annotations

import decimal
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import QueryError
from ..schema import FieldKind, ModelSchema
from ..storable import number_problem

__all__ = [
    "AddToSet",
    "Append",
    "Expression",
    "F",
    "Increment",
    "RemoveFromSet",
    "apply_change",
    "apply_changes",
    "expected_version",
    "is_computed",
    "parse_changes",
]


@dataclass(frozen=True)
class F:
    """The stored value of a field, in an atomic change: ``F("views") + 1``.

    ``+`` adds to a number or appends to a list; ``-`` subtracts from a number or removes
    elements from a set; ``|`` adds elements to a set.
    """

    field: str

    def __add__(self, operand: Any) -> Expression:
        return Expression(self.field, "+", operand)

    def __sub__(self, operand: Any) -> Expression:
        return Expression(self.field, "-", operand)

    def __or__(self, operand: Any) -> Expression:
        return Expression(self.field, "|", operand)


@dataclass(frozen=True)
class Expression:
    """``F(field) <operator> operand``, as written; checked by ``parse_changes``."""

    field: str
    operator: str
    operand: Any

    def __repr__(self) -> str:
        return f"F({self.field!r}) {self.operator} {self.operand!r}"


@dataclass(frozen=True)
class Increment:
    """Add ``amount`` to the stored number (``0`` when it is unset); negative subtracts."""

    amount: int | float | decimal.Decimal


@dataclass(frozen=True)
class Append:
    """Append ``values`` to the stored list (an empty one when it is unset)."""

    values: tuple[Any, ...]


@dataclass(frozen=True)
class AddToSet:
    """Add ``values`` to the stored set (an empty one when it is unset)."""

    values: frozenset[Any]


@dataclass(frozen=True)
class RemoveFromSet:
    """Remove ``values`` from the stored set (those it holds; the others are no change)."""

    values: frozenset[Any]


_NUMBERS = (int, float, decimal.Decimal)
# Elements of a set an expression may change: each backend stores such a set as a set of
# its own (DynamoDB: string, number or binary sets), which it can change in place.
_SET_ELEMENTS = (str, int, float, decimal.Decimal, bytes)


def parse_changes(schema: ModelSchema, changes: Mapping[str, Any], verb: str) -> dict[str, Any]:
    """Check an atomic update's changes against the model; what the backend applies.

    Plain values are validated as the field's type; expressions become ``Increment`` or
    ``Append``. Key fields, and the version field (which the ORM keeps), cannot change.

    Raises:
        QueryError: A field is unknown or may not change, or a value or expression does
            not fit the field (adding to a text, appending to a number...).
    """
    if not changes:
        raise QueryError(f"{schema.name}.{verb}(): give at least one field to change")
    parsed: dict[str, Any] = {}
    for name, change in changes.items():
        spec = schema.field_spec(name, purpose=f"{verb}({name}=...)")
        if name in schema.key_fields:
            raise QueryError(f"{schema.name}.{name}: a key field cannot change ({verb})")
        if name == schema.version_field:
            raise QueryError(
                f"{schema.name}.{name}: the version field is the ORM's to change ({verb})"
            )
        if isinstance(change, F):
            raise QueryError(
                f"{schema.name}.{name}: {change!r} is not a change; write F({change.field!r})"
                " + value or - value"
            )
        if not isinstance(change, Expression):
            parsed[name] = schema.validate_value(name, change, purpose=f"{verb}({name}=...)")
            continue
        if change.field != name:
            raise QueryError(
                f"{schema.name}.{name}: {change!r} reads another field; an expression may "
                "only change the field it reads"
            )
        parsed[name] = _expression(schema, name, spec.kind, change, verb)
    _check_index_keys(schema, parsed, verb)
    return parsed


def _check_index_keys(schema: ModelSchema, changes: Mapping[str, Any], verb: str) -> None:
    """Refuse changes that would leave a declared index's key out of step with the row.

    An index key is built from the values of all its template's fields, and an update
    reads nothing first: changing some of them without the others (key fields aside: the
    update knows the key), or computing one with an expression, leaves the backend without
    the values to build the key from.

    Raises:
        QueryError: Names the model, the index, the fields changed and the ones missing.
    """
    layout = schema.layout
    if layout is None or not layout.declared:
        return
    for index in layout.indexes.values():
        touched = [name for name in index.fields if name in changes]
        if not touched:
            continue
        missing = [
            name for name in index.fields if name not in changes and name not in schema.key_fields
        ]
        computed = [name for name in touched if is_computed(changes[name])]
        if missing or computed:
            change = (
                f"changing {', '.join(touched)} without {', '.join(missing)}"
                if missing
                else f"computing {', '.join(computed)} from the stored value"
            )
            raise QueryError(
                f"{schema.name}.{verb}(): index {index.name!r} is keyed on "
                f"{', '.join(index.fields)}; {change} would leave the index out of step with "
                "the row: give every one of them as a plain value"
            )
    problem = layout.separator_problem(changes)
    if problem is not None:
        name, separator = problem
        raise QueryError(
            f"{schema.name}.{name}: {changes[name]!r} contains {separator!r}, which "
            f"separates the fields of its key template ({verb})"
        )


def _expression(
    schema: ModelSchema, name: str, kind: FieldKind, change: Expression, verb: str
) -> Increment | Append | AddToSet | RemoveFromSet:
    operand, where = change.operand, f"{schema.name}.{name}"
    spec = schema.fields[name]
    if spec.is_set:
        if change.operator == "+":
            raise QueryError(f"{where}: {change!r}: add elements to a set with |")
        return _set_change(schema, name, change, verb)
    if change.operator == "|":
        raise QueryError(f"{where}: {change!r}: | adds elements to a set field only")
    if kind is FieldKind.NUMBER:
        if not isinstance(operand, _NUMBERS) or isinstance(operand, bool):
            raise QueryError(f"{where}: {change!r} needs a number, not {operand!r}")
        amount = schema.validate_value(name, operand, purpose=f"{verb}({name}={change!r})")
        if type(amount) is not type(operand) and not isinstance(operand, int):
            raise QueryError(f"{where}: {change!r} would change the field's type")
        problem = number_problem(amount)
        if problem:
            raise QueryError(f"{where}: {change!r}: {problem}")
        return Increment(amount if change.operator == "+" else -amount)
    if kind is FieldKind.LIST and change.operator == "+":
        if not isinstance(operand, (list, tuple)):
            raise QueryError(f"{where}: {change!r} appends a list, not {operand!r}")
        values = [
            schema.validate_value(name, value, purpose=f"{verb}({name}=...)", element=True)
            for value in operand
        ]
        return Append(tuple(values))
    raise QueryError(
        f"{where}: {change!r} does not apply to a {kind.value} field; "
        "+ and - apply to numbers, + to lists, | and - to sets"
    )


def _set_change(
    schema: ModelSchema, name: str, change: Expression, verb: str
) -> AddToSet | RemoveFromSet:
    """``F(set) | {...}`` or ``F(set) - {...}``, checked: the elements, and the field."""
    operand, where, spec = change.operand, f"{schema.name}.{name}", schema.fields[name]
    if spec.nullable:
        raise QueryError(
            f"{where}: {change!r} needs a set field that is never None (declare it "
            f"{name}: set[...] = set()): a backend cannot add to a set that is not there"
        )
    element = spec.element
    settable = isinstance(element, type) and issubclass(element, _SET_ELEMENTS)
    if not settable or issubclass(element, bool):
        raise QueryError(
            f"{where}: {change!r} changes a set of str, numbers or bytes in place, not a "
            f"set of {getattr(element, '__name__', element)!r}; assign the whole set and save()"
        )
    if not isinstance(operand, (set, frozenset, list, tuple)):
        raise QueryError(f"{where}: {change!r} takes a set of elements, not {operand!r}")
    if not operand:
        raise QueryError(f"{where}: {change!r} changes nothing; leave it out")
    values = frozenset(
        schema.validate_value(name, value, purpose=f"{verb}({name}=...)", element=True)
        for value in operand
    )
    return AddToSet(values) if change.operator == "|" else RemoveFromSet(values)


def is_computed(change: Any) -> bool:
    """Whether a change is computed from the stored value (an ``F`` expression's)."""
    return isinstance(change, (Increment, Append, AddToSet, RemoveFromSet))


def apply_change(stored: Any, change: Any) -> Any:
    """The value a change leaves, given the stored one (how the in-memory backend applies it)."""
    if isinstance(change, Increment):
        return (0 if stored is None else stored) + change.amount
    if isinstance(change, Append):
        return [*(stored or ()), *change.values]
    if isinstance(change, AddToSet):
        return {*(stored or ()), *change.values}
    if isinstance(change, RemoveFromSet):
        return set(stored or ()) - change.values
    return change


def apply_changes(stored: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """The row ``changes`` leave when applied to the ``stored`` one (``apply_change`` each)."""
    return {**stored, **{name: apply_change(stored.get(name), c) for name, c in changes.items()}}


def expected_version(schema: ModelSchema, changes: Mapping[str, Any]) -> int | None:
    """The stored version an update of ``changes`` is based on: one below the one it writes.

    ``None`` when there is none to check: the model is not versioned, or the update is an
    atomic one (``Increment(1)`` of the version: nothing was read).
    """
    field = schema.version_field
    if field is None or isinstance(changes[field], Increment):
        return None
    return int(changes[field]) - 1
