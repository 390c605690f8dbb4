"""``ModelSchema``: per-class facts computed once, and the model definitions it rejects."""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import uuid
from typing import Any, Literal

import pytest
from pydantic import BaseModel
from sample_models import Account, Message, Person, User

from restmachine_orm import Field, Model, ModelDefinitionError, ModelSchema, QueryError
from restmachine_orm.schema import LOOKUPS, TEXT_MATCH_LOOKUPS, FieldKind


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Point(BaseModel):
    x: int
    y: int


# -- facts -----------------------------------------------------------------------------


def test_single_key_schema() -> None:
    schema = User.orm_schema()
    assert isinstance(schema, ModelSchema)
    assert schema.model is User
    assert schema.name == "User"
    assert list(schema.fields) == [
        "id",
        "email",
        "name",
        "age",
        "nickname",
        "tags",
        "created_at",
        "updated_at",
    ]
    assert schema.key_fields == ("id",)
    assert schema.partition_key == "id"
    assert schema.sort_key is None
    assert schema.unique_fields == ("email",)
    assert schema.auto_now_add == ("created_at",)
    assert schema.auto_now == ("updated_at",)
    assert schema.indexed_fields == ()
    assert schema.rows_are_flat is False


def test_composite_key_schema_lists_partition_then_sort() -> None:
    class Reversed(Model):
        seq: int = Field(sort_key=True)
        thread: str = Field(partition_key=True)

    assert Message.orm_schema().key_fields == ("thread", "seq")
    schema = Reversed.orm_schema()
    assert schema.key_fields == ("thread", "seq")
    assert schema.partition_key == "thread"
    assert schema.sort_key == "seq"


def test_flat_model_is_detected() -> None:
    assert Account.orm_schema().rows_are_flat is True
    assert Account.orm_schema().unique_fields == ("email", "handle")


def test_schema_is_computed_once_per_class() -> None:
    assert User.orm_schema() is User.orm_schema()
    assert User.orm_schema() is not Message.orm_schema()


def test_subclass_gets_its_own_schema() -> None:
    class Admin(User):
        level: int = 1

    schema = Admin.orm_schema()
    assert schema is not User.orm_schema()
    assert schema.model is Admin
    assert "level" in schema.fields
    assert "level" not in User.orm_schema().fields
    assert schema.key_fields == ("id",)
    assert schema.unique_fields == ("email",)


def test_key_of_and_key_dict() -> None:
    schema = Message.orm_schema()
    assert schema.key_of({"thread": "t", "seq": 3, "body": "x"}) == ("t", 3)
    assert schema.key_dict(("t", 3)) == {"thread": "t", "seq": 3}
    assert User.orm_schema().key_of({"id": "u1", "email": "e"}) == ("u1",)


@pytest.mark.parametrize(
    ("annotation", "kind"),
    [
        (str, FieldKind.STR),
        (Literal["a", "b"], FieldKind.STR),
        (Literal[1, 2], FieldKind.OTHER),
        (int, FieldKind.NUMBER),
        (float, FieldKind.NUMBER),
        (decimal.Decimal, FieldKind.NUMBER),
        (bool, FieldKind.BOOL),
        (dt.datetime, FieldKind.DATETIME),
        (dt.date, FieldKind.DATE),
        (dt.time, FieldKind.TIME),
        (Color, FieldKind.ENUM),
        (uuid.UUID, FieldKind.UUID),
        (list[str], FieldKind.LIST),
        (set[int], FieldKind.LIST),
        (tuple[int, ...], FieldKind.LIST),
        (dict[str, int], FieldKind.DICT),
        (Point, FieldKind.DICT),
        (int | None, FieldKind.NUMBER),
        (int | str, FieldKind.OTHER),
        (Any, FieldKind.OTHER),
    ],
)
def test_field_kinds(annotation: Any, kind: FieldKind) -> None:
    model = type(
        "Probe",
        (Model,),
        {
            "__annotations__": {"id": str, "value": annotation},
            "id": Field(primary_key=True),
            "__module__": __name__,
        },
    )
    assert model.orm_schema().fields["value"].kind is kind


def test_nullable_is_detected() -> None:
    fields = Person.orm_schema().fields
    assert fields["age"].nullable is True
    assert fields["age"].inner is int
    assert fields["name"].nullable is False


@pytest.mark.parametrize(
    ("field", "allowed"),
    [
        ("name", set(LOOKUPS)),
        ("age", set(LOOKUPS) - {"startswith", "contains"} - TEXT_MATCH_LOOKUPS),
        ("active", {"eq", "ne", "in", "isnull"}),
        ("tags", {"eq", "ne", "in", "isnull", "contains"}),
        ("meta", {"eq", "ne", "isnull"}),
    ],
)
def test_lookups_per_kind(field: str, allowed: set[str]) -> None:
    assert Person.orm_schema().fields[field].lookups == allowed


def test_orderable_fields() -> None:
    fields = Person.orm_schema().fields
    assert all(fields[name].orderable for name in ("id", "name", "age", "score", "born", "seen"))
    assert not fields["tags"].orderable
    assert not fields["meta"].orderable


def test_list_element_type() -> None:
    assert Person.orm_schema().fields["tags"].element is str


def test_validate_value_coerces_or_raises_query_error() -> None:
    schema = Person.orm_schema()
    assert schema.validate_value("age", "7", purpose="age__gte") == 7
    with pytest.raises(QueryError, match=r"Person\.age: 'x' is not a valid value for age__gte"):
        schema.validate_value("age", "x", purpose="age__gte")
    with pytest.raises(QueryError, match="element"):
        schema.validate_value("tags", 5, purpose="tags__contains", element=True)


def test_field_spec_of_unknown_field_names_the_model_and_its_fields() -> None:
    with pytest.raises(QueryError) as caught:
        Person.orm_schema().field_spec("nope", purpose="filter 'nope'")
    message = str(caught.value)
    assert "Person has no field 'nope'" in message
    assert "id, name, nick, age" in message


def test_model_without_key_is_allowed_as_an_abstract_base(rows_of) -> None:
    class Stamped(Model):
        note: str = ""

    class Note(Stamped):
        id: str = Field(primary_key=True)

    assert Stamped.orm_schema().key_fields == ()
    assert Note.orm_schema().key_fields == ("id",)
    with pytest.raises(ModelDefinitionError, match="declares no key field"):
        Stamped.orm_schema().require_key()
    with pytest.raises(ModelDefinitionError, match="Stamped declares no key field"):
        Stamped.create(note="x")
    with pytest.raises(ModelDefinitionError):
        Stamped.get(note="x")
    assert rows_of(Stamped) == []


# -- definitions rejected --------------------------------------------------------------


def test_two_primary_keys() -> None:
    with pytest.raises(ModelDefinitionError, match=r"only one field may set primary_key=True"):

        class Bad(Model):
            a: str = Field(primary_key=True)
            b: str = Field(primary_key=True)


def test_two_partition_keys() -> None:
    with pytest.raises(ModelDefinitionError, match=r"partition_key=True, found a, b"):

        class Bad(Model):
            a: str = Field(partition_key=True)
            b: str = Field(partition_key=True)


def test_primary_key_with_partition_key() -> None:
    with pytest.raises(ModelDefinitionError, match="not both"):

        class Bad(Model):
            a: str = Field(primary_key=True)
            b: str = Field(partition_key=True)


def test_primary_key_with_sort_key() -> None:
    with pytest.raises(ModelDefinitionError, match="not both"):

        class Bad(Model):
            a: str = Field(primary_key=True)
            b: int = Field(sort_key=True)


def test_sort_key_without_partition_key() -> None:
    with pytest.raises(ModelDefinitionError, match="needs a partition_key=True field"):

        class Bad(Model):
            a: int = Field(sort_key=True)


def test_optional_key() -> None:
    with pytest.raises(ModelDefinitionError, match=r"Bad\.a: a key field cannot be optional"):

        class Bad(Model):
            a: str | None = Field(None, primary_key=True)


def test_optional_sort_key() -> None:
    with pytest.raises(ModelDefinitionError, match="cannot be optional"):

        class Bad(Model):
            a: str = Field(partition_key=True)
            b: int | None = Field(None, sort_key=True)


@pytest.mark.parametrize("annotation", [list[str], dict[str, int], bool, Point])
def test_key_of_a_type_that_cannot_be_a_key(annotation: Any) -> None:
    with pytest.raises(ModelDefinitionError, match="a key field must hold"):
        type(
            "Bad",
            (Model,),
            {
                "__annotations__": {"a": annotation},
                "a": Field(primary_key=True),
                "__module__": __name__,
            },
        )


def test_list_key() -> None:
    with pytest.raises(ModelDefinitionError, match=r"Bad\.a: a key field must hold"):

        class Bad(Model):
            a: list[str] = Field(primary_key=True)


def test_unique_on_a_dict_field() -> None:
    with pytest.raises(ModelDefinitionError, match=r"Bad\.data: unique=True needs a scalar type"):

        class Bad(Model):
            id: str = Field(primary_key=True)
            data: dict[str, int] = Field(default_factory=dict, unique=True)


def test_unique_on_a_list_field() -> None:
    with pytest.raises(ModelDefinitionError, match="unique=True needs a scalar type"):

        class Bad(Model):
            id: str = Field(primary_key=True)
            data: list[int] = Field(default_factory=list, unique=True)


def test_unique_on_the_primary_key() -> None:
    with pytest.raises(ModelDefinitionError, match="unique already"):

        class Bad(Model):
            id: str = Field(primary_key=True, unique=True)


@pytest.mark.parametrize("option", ["auto_now", "auto_now_add"])
def test_auto_timestamp_on_a_field_that_is_not_a_datetime(option: str) -> None:
    with pytest.raises(ModelDefinitionError, match="need a datetime field"):
        type(
            "Bad",
            (Model,),
            {
                "__annotations__": {"id": str, "when": "dt.date | None"},
                "id": Field(primary_key=True),
                "when": Field(None, **{option: True}),
                "__module__": __name__,
            },
        )


def test_auto_now_on_a_str_field() -> None:
    with pytest.raises(ModelDefinitionError, match=r"Bad\.when: auto_now/auto_now_add need"):

        class Bad(Model):
            id: str = Field(primary_key=True)
            when: str | None = Field(None, auto_now=True)


def test_auto_now_with_auto_now_add() -> None:
    with pytest.raises(ModelDefinitionError, match="choose auto_now or auto_now_add, not both"):

        class Bad(Model):
            id: str = Field(primary_key=True)
            when: dt.datetime | None = Field(None, auto_now=True, auto_now_add=True)


def test_auto_timestamp_on_a_key() -> None:
    with pytest.raises(ModelDefinitionError, match="cannot be set automatically"):

        class Bad(Model):
            id: dt.datetime = Field(primary_key=True, auto_now_add=True)


def test_index_on_a_key() -> None:
    with pytest.raises(ModelDefinitionError, match="indexed already"):

        class Bad(Model):
            id: str = Field(primary_key=True, index=True)


def test_index_on_a_list() -> None:
    with pytest.raises(ModelDefinitionError, match="index=True needs a scalar type"):

        class Bad(Model):
            id: str = Field(primary_key=True)
            tags: list[str] = Field(default_factory=list, index=True)


def test_definition_error_is_also_a_type_error() -> None:
    with pytest.raises(TypeError):

        class Bad(Model):
            a: str = Field(primary_key=True)
            b: str = Field(primary_key=True)
