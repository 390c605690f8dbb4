"""Key templates: how a model's rows are addressed in one shared table (single-table design).

A model may declare how the table's key attributes are built from its fields::

    class Order(Model):
        model_keys = Keys(pk="CUSTOMER#{customer_id}", sk="ORDER#{order_id}")

and, for global secondary indexes, how each index's key attributes are built
(``Keys(..., indexes={"gsi1": IndexKeys(pk="STATUS#{status}", sk="{placed}")})``). A model
that declares nothing gets the default layout (``pk="Order#{id}"``, ``sk="Order"``), which
is expressed with the same templates, so every backend reads one description of the keys.

A template is literal text with ``{field}`` placeholders. It has to be readable back: two
placeholders need literal text between them, and a value may not contain the first
character of the text that follows its placeholder (the separator, usually ``#``), so the
template splits a stored key back into the values that built it. Two models whose
templates could build the same table key would overwrite each other's rows: that is refused
when the second class is created.
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import re
import threading
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from .errors import ModelDefinitionError

__all__ = [
    "SENTINEL_SORT_KEY",
    "IndexKeys",
    "IndexLayout",
    "KeyLayout",
    "Keys",
    "Template",
    "key_text",
]

#: The sort key of the items backends use to claim unique values: no row may have it.
SENTINEL_SORT_KEY = "#unique"

_DECIMAL_TEXT = decimal.Context(prec=40)
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


def key_text(value: Any) -> str:
    """The text of a scalar as it appears in a key: what templates put in place of a field.

    Equal values have one text: ``Decimal("1.0")`` and ``Decimal("1")`` are one key, as
    they are one value in memory, and so are ``-0.0`` and ``0.0``; datetimes are UTC ISO
    text with microseconds, so their texts sort as the times do.
    """
    if type(value) is str:  # the usual keys first: no conversion, or the plain one
        return value
    if type(value) is int:
        return str(value)
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.timezone.utc)
        text: str = value.isoformat(timespec="microseconds")
        return text
    if isinstance(value, enum.Enum):
        return key_text(value.value)
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value) if value else "0.0"
    if isinstance(value, decimal.Decimal):
        return str(value.normalize(_DECIMAL_TEXT)) if value else "0"
    return str(value)


@dataclass(frozen=True)
class IndexKeys:
    """How one global secondary index's key attributes are built from a model's fields.

    Attributes:
        pk: The template of the index's partition key, e.g. ``"EMAIL#{email}"``.
        sk: The template of its sort key, or ``None`` for an index without one.
        pk_attribute: The attribute holding the partition key (default: the index's name
            followed by ``pk``, e.g. ``gsi1pk``).
        sk_attribute: The attribute holding the sort key (default: the name + ``sk``).

    A row with ``None`` in a field of the index's templates is left out of the index (a
    sparse index).
    """

    pk: str
    sk: str | None = None
    pk_attribute: str | None = None
    sk_attribute: str | None = None


@dataclass(frozen=True)
class Keys:
    """How a model's table keys, and its index keys, are built from its fields.

    Assign one to ``model_keys`` in the class body::

        class OrderLine(Model):
            model_keys = Keys(pk="ORDER#{order_id}", sk="LINE#{line}")

    Attributes:
        pk: The template of the table's partition key.
        sk: The template of the table's sort key.
        indexes: Global secondary indexes by name, each an ``IndexKeys``.

    The fields of ``pk`` and ``sk`` together are the model's key fields, each used once.
    Models whose ``pk`` templates are the same text share partitions, and a ``Collection``
    reads them together.
    """

    pk: str
    sk: str
    indexes: Mapping[str, IndexKeys] = field(default_factory=dict)


@dataclass(frozen=True)
class Template:
    """A parsed key template: literal text and field placeholders, in order.

    Attributes:
        text: The template as written, e.g. ``"ORG#{org_id}"``.
        parts: Literal texts and field names in order; ``fields`` tells which is which.
        fields: The fields of the placeholders, in order.
        separators: For each field followed by literal text, the character its value may
            not contain (that text's first), so that a stored key splits back into values.
    """

    text: str
    parts: tuple[str, ...]
    fields: tuple[str, ...]
    separators: Mapping[str, str]

    @classmethod
    def parse(cls, text: str, where: str) -> Template:
        """Read a template; ``where`` names it in errors (``"Order.model_keys.pk"``).

        Raises:
            ModelDefinitionError: The text is not a template, or could not be read back.
        """
        if not isinstance(text, str) or not text:
            raise ModelDefinitionError(f"{where}: a key template is a non-empty str, not {text!r}")
        if "{" in _PLACEHOLDER.sub("", text) or "}" in _PLACEHOLDER.sub("", text):
            raise ModelDefinitionError(
                f"{where}: unbalanced or nested braces in {text!r}; a placeholder is {{field_name}}"
            )
        parts: list[str] = []
        fields: list[str] = []
        position = 0
        for match in _PLACEHOLDER.finditer(text):
            literal, name = text[position : match.start()], match.group(1)
            if not name.isidentifier():
                raise ModelDefinitionError(
                    f"{where}: {{{name}}} in {text!r} is not a field placeholder"
                )
            if fields and not literal:
                raise ModelDefinitionError(
                    f"{where}: {{{fields[-1]}}} and {{{name}}} in {text!r} need literal text "
                    "between them, or a stored key could not be split back into their values"
                )
            if name in fields:
                raise ModelDefinitionError(f"{where}: {{{name}}} appears twice in {text!r}")
            parts += [literal, name]
            fields.append(name)
            position = match.end()
        tail = text[position:]
        parts.append(tail)
        return cls(text, tuple(parts), tuple(fields), _separators(parts, fields))

    @classmethod
    def of(cls, *pieces: str, fields: tuple[str, ...] = ()) -> Template:
        """A template from literal pieces and fields alternating (the default layout's)."""
        parts = tuple(pieces)
        text = "".join(
            f"{{{part}}}" if i % 2 else part.replace("{", "{{") for i, part in enumerate(parts)
        )
        return cls(text, parts, fields, _separators(parts, fields))

    def render(self, values: Mapping[str, Any]) -> str:
        """The key text of these field values (every field of the template among them)."""
        parts = self.parts
        if len(parts) == 3:  # one placeholder: the usual case, without a join
            return parts[0] + key_text(values[parts[1]]) + parts[2]
        if len(parts) == 1:
            return parts[0]
        return "".join(key_text(values[part]) if i % 2 else part for i, part in enumerate(parts))

    def prefix(self, values: Mapping[str, Any], starts: Mapping[str, str] | None = None) -> str:
        """The start of every key built with these values: up to the first missing field.

        A value is followed by the separator after it, so ``"USER#5#"`` is not a prefix
        of ``"USER#55#..."``. ``starts`` holds, for text fields, text their values start
        with (a ``startswith`` filter): the first missing field's adds to the prefix.
        """
        text = self.parts[0]
        for i, name in enumerate(self.fields):
            if name not in values:
                return text + (starts or {}).get(name, "")
            text += key_text(values[name]) + self.parts[2 * i + 2]
        return text

    def split(self, text: str) -> dict[str, str] | None:
        """The texts of the fields a key was built from, or ``None``: not this template's."""
        parts = self.parts
        if not text.startswith(parts[0]):
            return None
        position = len(parts[0])
        values: dict[str, str] = {}
        for i, name in enumerate(self.fields):
            literal = parts[2 * i + 2]
            if not literal:  # the last placeholder takes the rest
                end = len(text)
            else:
                end = text.find(literal[0], position)
                if end < 0:
                    return None
            if end == position:
                return None
            values[name] = text[position:end]
            if not text.startswith(literal, end):
                return None
            position = end + len(literal)
        return values if position == len(text) else None

    def problem(self, values: Mapping[str, Any]) -> tuple[str, str] | None:
        """A field whose value holds its separator, and that separator; or ``None``."""
        for name, separator in self.separators.items():
            value = values.get(name)
            if value is not None and separator in key_text(value):
                return name, separator
        return None


def _separators(parts: Sequence[str], fields: Sequence[str]) -> dict[str, str]:
    """Each field followed by literal text, and that text's first character."""
    return {name: parts[2 * i + 2][0] for i, name in enumerate(fields) if parts[2 * i + 2]}


@dataclass(frozen=True)
class IndexLayout:
    """One index a model's rows appear in, and how its key attributes are built.

    Attributes:
        name: The index's name.
        pk_attribute: The attribute holding its partition key.
        pk: The partition key's template.
        sk_attribute: The attribute holding its sort key, if it has one.
        sk: The sort key's template, if it has one.
    """

    name: str
    pk_attribute: str
    pk: Template
    sk_attribute: str | None = None
    sk: Template | None = None

    @property
    def fields(self) -> tuple[str, ...]:
        """Every field its key is built from."""
        return self.pk.fields + (self.sk.fields if self.sk is not None else ())


@dataclass(frozen=True)
class KeyLayout:
    """Where a model's rows live: the table key templates and the indexes.

    Attributes:
        pk: The template of the table's partition key.
        sk: The template of the table's sort key.
        indexes: The declared indexes (``model_keys``'s), by name.
        declared: Whether the model declared its keys (``model_keys``); else the default.
    """

    pk: Template
    sk: Template
    indexes: Mapping[str, IndexLayout]
    declared: bool

    def separator_problem(self, values: Mapping[str, Any]) -> tuple[str, str] | None:
        """A key or index field whose value holds its template's separator, if any."""
        for template in self._templates():
            problem = template.problem(values)
            if problem is not None:
                return problem
        return None

    def _templates(self) -> list[Template]:
        found = [self.pk, self.sk]
        for index in self.indexes.values():
            found.append(index.pk)
            if index.sk is not None:
                found.append(index.sk)
        return found


class _Shape(Protocol):
    """What a layout is built from (a ``ModelSchema``; named here, which sits below it)."""

    @property
    def model(self) -> type:
        """The model class."""
        ...

    @property
    def name(self) -> str:
        """The model's name."""
        ...

    @property
    def fields(self) -> Mapping[str, Any]:
        """Every field's spec (``FieldSpec``) by name."""
        ...

    @property
    def key_fields(self) -> tuple[str, ...]:
        """The key's fields."""
        ...


def build_layout(schema: _Shape, declared: object) -> KeyLayout | None:
    """The key layout of a model: its ``model_keys``, or the default one.

    Returns ``None`` for a model without key fields (an abstract base).

    Raises:
        ModelDefinitionError: ``model_keys`` is not a ``Keys``, names an unknown field,
            does not build the key from exactly the key fields, cannot be read back, or
            collides with another model's layout.
    """
    name = schema.name
    if declared is None:
        if not schema.key_fields:
            return None
        return _remember(schema, _default_layout(schema))
    if not isinstance(declared, Keys):
        raise ModelDefinitionError(
            f"{name}.model_keys must be a Keys(pk=..., sk=...), not {declared!r}"
        )
    pk = _template(schema, declared.pk, f"{name}.model_keys.pk")
    sk = _template(schema, declared.sk, f"{name}.model_keys.sk")
    used = pk.fields + sk.fields
    if sorted(used) != sorted(schema.key_fields) or len(set(used)) != len(used):
        raise ModelDefinitionError(
            f"{name}.model_keys: pk and sk must be built from the key fields "
            f"({', '.join(schema.key_fields) or 'none declared'}), each once; they use "
            f"{', '.join(used) or 'no field'}"
        )
    indexes = {index: _index(schema, index, keys) for index, keys in dict(declared.indexes).items()}
    return _remember(schema, KeyLayout(pk, sk, indexes, declared=True))


def _template(schema: _Shape, text: str, where: str) -> Template:
    template = Template.parse(text, where)
    for name in template.fields:
        spec = schema.fields.get(name)
        if spec is None:
            raise ModelDefinitionError(
                f"{where}: {{{name}}} in {text!r} is not a field of {schema.name}; its fields "
                f"are: {', '.join(schema.fields)}"
            )
        if spec.kind.value in ("list", "dict", "other", "bool"):
            raise ModelDefinitionError(
                f"{where}: {{{name}}} holds {spec.annotation!r}; a key template takes str, "
                "number, date, datetime, time, enum or UUID fields"
            )
    return template


def _index(schema: _Shape, name: str, keys: object) -> IndexLayout:
    where = f"{schema.name}.model_keys.indexes[{name!r}]"
    if not isinstance(keys, IndexKeys):
        raise ModelDefinitionError(f"{where} must be an IndexKeys(pk=..., sk=...), not {keys!r}")
    if not name or not re.fullmatch(r"[A-Za-z0-9_.-]{3,255}", name):
        raise ModelDefinitionError(
            f"{where}: an index name takes 3 to 255 letters, digits, '_', '-' or '.'"
        )
    pk = _template(schema, keys.pk, f"{where}.pk")
    sk = None if keys.sk is None else _template(schema, keys.sk, f"{where}.sk")
    pk_attribute = keys.pk_attribute or f"{name}pk"
    sk_attribute = None if sk is None else (keys.sk_attribute or f"{name}sk")
    clash = sorted({pk_attribute, sk_attribute or pk_attribute} & set(schema.fields))
    if clash:
        raise ModelDefinitionError(
            f"{where}: the index attribute {', '.join(map(repr, clash))} is also a "
            f"field of {schema.name}; name the attribute otherwise (pk_attribute=...)"
        )
    return IndexLayout(name, pk_attribute, pk, sk_attribute, sk)


def _default_layout(schema: _Shape) -> KeyLayout:
    """``pk="<Model>#{key}"``, ``sk="<Model>"`` (or ``"<Model>#{sort key}"``)."""
    first, *rest = schema.key_fields
    pk = Template.of(f"{schema.name}#", first, "", fields=(first,))
    if rest:
        sk = Template.of(f"{schema.name}#", rest[0], "", fields=(rest[0],))
    else:
        sk = Template.of(schema.name)
    return KeyLayout(pk, sk, {}, declared=False)


# -- collisions ---------------------------------------------------------------------------

# The layouts of the models created so far, by module and qualified name: a class created
# again under the same name (a reloaded module, a test defining it twice) replaces its
# former self instead of colliding with it. Weak, so dropped classes drop out.
_LAYOUTS: dict[tuple[str, str], tuple[weakref.ref[type], KeyLayout, str]] = {}
_LAYOUTS_LOCK = threading.Lock()


def _remember(schema: _Shape, layout: KeyLayout) -> KeyLayout:
    """Register a model's layout, refusing one that collides with another model's."""
    model = schema.model
    name = (model.__module__, model.__qualname__)
    if layout.declared and _can_build(layout.sk, SENTINEL_SORT_KEY):
        raise ModelDefinitionError(
            f"{schema.name}.model_keys.sk: {layout.sk.text!r} can build the sort key "
            f"{SENTINEL_SORT_KEY!r}, which the backends keep for unique-value claims"
        )
    with _LAYOUTS_LOCK:
        for other_name, (ref, other, label) in list(_LAYOUTS.items()):
            if ref() is None:
                del _LAYOUTS[other_name]
                continue
            if other_name == name or not (layout.declared or other.declared):
                continue
            if _overlap(layout.pk, other.pk) and _overlap(layout.sk, other.sk):
                if issubclass(model, ref()) and layout == other:  # type: ignore[arg-type]
                    raise ModelDefinitionError(
                        f"{schema.name} inherits the model_keys of {label}, so their rows "
                        f"would share keys; give {schema.name} its own: model_keys = Keys(...)"
                    )
                raise ModelDefinitionError(
                    f"{schema.name}: its keys (pk={layout.pk.text!r}, sk={layout.sk.text!r}) "
                    f"can be the same as {label}'s (pk={other.pk.text!r}, "
                    f"sk={other.sk.text!r}), so one model's rows would overwrite the "
                    "other's; give one of them a different literal prefix"
                )
            _check_shared_indexes(schema.name, layout, label, other)
        _LAYOUTS[name] = (weakref.ref(model), layout, schema.name)
    return layout


def _check_shared_indexes(name: str, layout: KeyLayout, label: str, other: KeyLayout) -> None:
    """Models may share an index, but must agree on the attributes it is keyed on."""
    for index in layout.indexes.keys() & other.indexes.keys():
        mine, theirs = layout.indexes[index], other.indexes[index]
        if (mine.pk_attribute, mine.sk_attribute) != (theirs.pk_attribute, theirs.sk_attribute):
            raise ModelDefinitionError(
                f"{name}: index {index!r} is keyed on ({mine.pk_attribute}, "
                f"{mine.sk_attribute}) but {label} keys it on ({theirs.pk_attribute}, "
                f"{theirs.sk_attribute}); one table has one definition of each index"
            )


def _can_build(template: Template, text: str) -> bool:
    return _overlap(template, Template.of(text))


# A template as a sequence of symbols: a literal character, or a placeholder's value (one
# or more characters, without its separator: ``_Value(separator)``).
@dataclass(frozen=True)
class _Value:
    excluded: str | None


def _symbols(template: Template) -> list[str | _Value]:
    symbols: list[str | _Value] = []
    for i, part in enumerate(template.parts):
        if i % 2:
            symbols.append(_Value(template.separators.get(part)))
        else:
            symbols.extend(part)
    return symbols


def _overlap(first: Template, second: Template) -> bool:
    """Whether some text can be built by both templates (values being any allowed text).

    A search over pairs of positions in the two symbol sequences: both read the same
    character at each step. A value reads one character, then may stay to read more.
    """
    a, b = _symbols(first), _symbols(second)
    # A state is (position in a, inside a value there?, position in b, inside b's value?).
    start = (0, False, 0, False)
    seen = {start}
    todo = [start]
    while todo:
        i, in_a, j, in_b = todo.pop()
        if _at_end(a, i, inside=in_a) and _at_end(b, j, inside=in_b):
            return True
        for step_a in _steps(a, i, inside=in_a):
            for step_b in _steps(b, j, inside=in_b):
                if _same_character(step_a[0], step_b[0]):
                    state = (step_a[1], step_a[2], step_b[1], step_b[2])
                    if state not in seen:
                        seen.add(state)
                        todo.append(state)
    return False


def _at_end(symbols: list[str | _Value], i: int, *, inside: bool) -> bool:
    return i == len(symbols) or (inside and i == len(symbols) - 1)


def _steps(
    symbols: list[str | _Value], i: int, *, inside: bool
) -> list[tuple[str | _Value, int, bool]]:
    """Each way to read one more character: what it reads, and the position after it."""
    steps: list[tuple[str | _Value, int, bool]] = []
    if inside:  # within a value that has read a character: read more, or go past it
        steps.append((symbols[i], i, True))
        i += 1
    if i < len(symbols):
        symbol = symbols[i]
        steps.append((symbol, i, True) if isinstance(symbol, _Value) else (symbol, i + 1, False))
    return steps


def _same_character(first: str | _Value, second: str | _Value) -> bool:
    """Whether one character can be read by both symbols."""
    if isinstance(first, str) and isinstance(second, str):
        return first == second
    if isinstance(first, str):
        return first != second.excluded  # type: ignore[union-attr]
    if isinstance(second, str):
        return second != first.excluded
    return True  # two values: some character is neither separator
