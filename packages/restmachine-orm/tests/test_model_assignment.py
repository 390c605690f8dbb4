"""Assigning to a field behaves exactly as pydantic's validated assignment.

Plain fields take values of their exact type without calling pydantic's validator (see
``restmachine_orm._assignment``); these tests hold that shortcut to pydantic's outcome on
every field shape, and check that anything that could change a value keeps pydantic.
"""

from __future__ import annotations

import decimal
import enum
from typing import Annotated, Any, ClassVar

import pydantic
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import AfterValidator, BaseModel, ConfigDict, field_validator, model_validator

from restmachine_orm import Field, Model
from restmachine_orm._assignment import plain_assignments

MODEL_CONFIG = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)


class Level(enum.IntEnum):
    LOW = 1


class Name(str):
    """A ``str`` subclass: not exactly ``str``, so pydantic decides what it becomes."""


# Field shapes: plain ones the shortcut takes, and ones that must go through pydantic.
SHAPES: dict[str, tuple[Any, Any]] = {
    "integer": (int, 0),
    "text": (str, ""),
    "flag": (bool, False),
    "maybe_integer": (int | None, None),
    "maybe_text": (str | None, None),
    "bounded": (int, pydantic.Field(0, ge=0)),
    "short": (str, pydantic.Field("", max_length=3)),
    "strict": (Annotated[int, pydantic.Strict()], 0),
    "doubled": (Annotated[int, AfterValidator(lambda v: v * 2)], 0),
    "real": (float, 0.0),
    "frozen": (int, pydantic.Field(0, frozen=True)),
}
PLAIN = {
    "integer": (int,),
    "text": (str,),
    "flag": (bool,),
    "maybe_integer": (int, type(None)),
    "maybe_text": (str, type(None)),
}
VALUES: list[Any] = [
    0,
    -7,
    2**70,
    True,
    "",
    "12",
    " padded ",
    "much too long",
    None,
    1.0,
    1.5,
    float("nan"),
    decimal.Decimal("3"),
    Level.LOW,
    Name("n"),
    b"bytes",
    [1],
]


def _fields() -> dict[str, Any]:
    return {"id": (str, Field(primary_key=True)), **SHAPES}


Shapes: type[Model] = pydantic.create_model("Shapes", __base__=Model, **_fields())
Mirror: type[BaseModel] = pydantic.create_model("Mirror", __config__=MODEL_CONFIG, **SHAPES)


def _outcome(instance: BaseModel, name: str, value: Any) -> tuple[Any, ...]:
    """What assigning does: the fields and the set fields after it, or the errors raised."""
    try:
        setattr(instance, name, value)
    except pydantic.ValidationError as error:
        return ("refused", error.errors(include_url=False))
    fields = {n: v for n, v in instance.__dict__.items() if n != "id"}
    return ("stored", fields, {n for n in instance.model_fields_set if n != "id"})


def _same(ours: tuple[Any, ...], theirs: tuple[Any, ...]) -> bool:
    # NaN is the one value unequal to itself: compare representations, which show types too.
    return repr(ours) == repr(theirs)


def test_only_plain_fields_skip_the_validator() -> None:
    assert plain_assignments(Shapes) == PLAIN
    assert Shapes.__orm_plain__ == PLAIN


@pytest.mark.parametrize("name", list(SHAPES))
@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_assignment_matches_pydantic(name: str, value: Any) -> None:
    ours = _outcome(Shapes(id="s"), name, value)
    theirs = _outcome(Mirror(), name, value)
    assert _same(ours, theirs), (ours, theirs)


@given(
    name=st.sampled_from(sorted(PLAIN)),
    value=st.one_of(st.integers(), st.text(), st.booleans(), st.none(), st.floats()),
)
def test_any_value_matches_pydantic(name: str, value: Any) -> None:
    ours = _outcome(Shapes(id="s"), name, value)
    theirs = _outcome(Mirror(), name, value)
    assert _same(ours, theirs), (ours, theirs)


def test_a_stored_value_keeps_its_type_and_identity() -> None:
    row = Shapes(id="s")
    text = "a string long enough not to be interned " * 2
    row.text = text
    row.integer = 5
    assert row.text is text
    assert type(row.integer) is int
    assert row.model_fields_set == {"id", "text", "integer"}


def test_key_fields_keep_the_empty_string_check() -> None:
    assert "id" not in Shapes.__orm_plain__
    with pytest.raises(pydantic.ValidationError, match="must not be an empty string"):
        Shapes(id="s").id = ""


def test_a_subclass_validator_on_an_inherited_field_runs() -> None:
    class Shouting(Shapes):  # type: ignore[misc, valid-type]
        @field_validator("text")
        @classmethod
        def shout(cls, value: str) -> str:
            return value.upper()

    row = Shouting(id="s")
    row.text = "quiet"
    assert row.text == "QUIET"
    assert "text" not in Shouting.__orm_plain__
    assert Shouting.__orm_plain__.keys() == PLAIN.keys() - {"text"}


def test_a_model_validator_keeps_every_assignment_with_pydantic() -> None:
    class Checked(Model):
        calls: ClassVar[list[str]] = []
        id: str = Field(primary_key=True)
        count: int = 0

        @model_validator(mode="after")
        def seen(self) -> Checked:
            Checked.calls.append("after")
            return self

    row = Checked(id="c")
    row.count = 2
    assert Checked.__orm_plain__ == {}
    assert Checked.calls == ["after", "after"]


@pytest.mark.parametrize(
    "config",
    [
        ConfigDict(str_strip_whitespace=True),
        ConfigDict(str_to_upper=True),
        ConfigDict(str_max_length=2),
        ConfigDict(strict=True),
        ConfigDict(frozen=True),
    ],
    ids=lambda config: next(iter(config)),
)
def test_a_config_that_changes_values_keeps_pydantic(config: ConfigDict) -> None:
    base = type("Base", (Model,), {"model_config": config, "__module__": __name__})
    configured = pydantic.create_model("Configured", __base__=base, **_fields())
    mirror = pydantic.create_model("Mirror", __config__={**MODEL_CONFIG, **config}, **SHAPES)
    assert configured.__orm_plain__ == {}
    for value in (" padded ", "abc", 3, True):
        assert _same(_outcome(configured(id="s"), "text", value), _outcome(mirror(), "text", value))


def test_a_model_completed_later_takes_the_shortcut_once_complete() -> None:
    class Later(Model):
        id: str = Field(primary_key=True)
        count: int = 0
        other: Undeclared | None = None  # type: ignore[name-defined]  # noqa: F821

    assert Later.__orm_plain__ == {}
    globals()["Undeclared"] = int
    try:
        Later.orm_schema()
        assert Later.__orm_plain__ == {"count": (int,), "other": (int, type(None))}
        row = Later(id="l")
        row.count = 4
        assert row.count == 4
    finally:
        del globals()["Undeclared"]
