"""``Field``: pydantic's ``Field`` plus the storage options, written exactly as users write it."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import pydantic
import pytest
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined
from sample_models import Message, User

from restmachine_orm import Field, FieldOptions, Model
from restmachine_orm.fields import options_of


def test_primary_key_field_is_required_and_marked() -> None:
    info = Field(primary_key=True)
    assert isinstance(info, FieldInfo)
    assert info.default is PydanticUndefined
    assert info.is_required()
    assert options_of(info) == FieldOptions(primary_key=True)


def test_unique_field() -> None:
    options = options_of(Field(unique=True))
    assert options.unique
    assert not options.is_key


def test_default_given_by_keyword_with_a_constraint() -> None:
    info = Field(ge=0, default=0)
    assert info.default == 0
    assert not info.is_required()
    assert options_of(info) == FieldOptions()


def test_positional_default_with_auto_now_add() -> None:
    info = Field(None, auto_now_add=True)
    assert info.default is None
    assert options_of(info) == FieldOptions(auto_now_add=True)


def test_auto_now_option() -> None:
    assert options_of(Field(None, auto_now=True)) == FieldOptions(auto_now=True)


def test_composite_key_options() -> None:
    partition = options_of(Field(partition_key=True))
    sort = options_of(Field(sort_key=True))
    assert partition.partition_key and partition.is_key
    assert sort.sort_key and sort.is_key
    assert not partition.primary_key and not sort.primary_key


def test_index_option() -> None:
    options = options_of(Field(index=True))
    assert options.index
    assert not options.is_key


def test_pydantic_keywords_pass_through() -> None:
    info = Field("x", max_length=3, description="a short code", alias="code")
    assert info.default == "x"
    assert info.description == "a short code"
    assert info.alias == "code"
    assert any(getattr(item, "max_length", None) == 3 for item in info.metadata)


def test_default_factory_passes_through() -> None:
    info = Field(default_factory=list)
    assert info.default_factory is list


def test_options_of_a_plain_pydantic_field_are_the_defaults() -> None:
    assert options_of(pydantic.Field(default=1)) == FieldOptions()
    assert not FieldOptions().is_key


def test_field_options_are_frozen() -> None:
    options = FieldOptions(unique=True)
    with pytest.raises(AttributeError):
        options.unique = False  # type: ignore[misc]


def test_constraint_is_enforced_by_the_model() -> None:
    with pytest.raises(pydantic.ValidationError):
        User(id="u1", email="a@example.com", name="Ann", age=-1)
    assert User(id="u1", email="a@example.com", name="Ann").age == 0


def test_constraint_failure_in_create_writes_nothing(rows_of) -> None:
    with pytest.raises(pydantic.ValidationError):
        User.create(id="u1", email="a@example.com", name="Ann", age=-1)
    assert rows_of(User) == []


def test_default_factory_gives_each_instance_its_own_list() -> None:
    first = User(id="u1", email="a@example.com", name="Ann")
    second = User(id="u2", email="b@example.com", name="Bob")
    first.tags.append("x")
    assert second.tags == []


@pytest.mark.parametrize(
    ("model", "data"),
    [
        (User, {"id": "", "email": "a@example.com", "name": "Ann"}),
        (Message, {"thread": "", "seq": 1, "body": "hi"}),
    ],
    ids=["primary_key", "partition_key"],
)
def test_empty_string_key_is_rejected(model: type[Model], data: dict, rows_of) -> None:
    with pytest.raises(pydantic.ValidationError, match="must not be an empty string"):
        model.create(**data)
    assert rows_of(model) == []


def test_empty_string_sort_key_is_rejected(rows_of) -> None:
    class Event(Model):
        stream: str = Field(partition_key=True)
        at: str = Field(sort_key=True)

    with pytest.raises(pydantic.ValidationError, match="must not be an empty string"):
        Event.create(stream="s", at="")
    assert rows_of(Event) == []


def test_empty_string_key_is_rejected_on_assignment() -> None:
    user = User.create(id="u1", email="a@example.com", name="Ann")
    with pytest.raises(pydantic.ValidationError, match="must not be an empty string"):
        user.id = ""
    assert user.id == "u1"


def test_empty_string_is_fine_in_a_field_that_is_not_a_key() -> None:
    user = User.create(id="u1", email="a@example.com", name="")
    assert User.get(id="u1") == user
    assert user.name == ""


def test_options_are_read_from_annotated_metadata() -> None:
    class Tagged(Model):
        id: Annotated[str, Field(primary_key=True)]
        code: Annotated[str, Field(unique=True)]
        when: Annotated[dt.datetime | None, Field(auto_now=True)] = None

    schema = Tagged.orm_schema()
    assert schema.key_fields == ("id",)
    assert schema.unique_fields == ("code",)
    assert schema.auto_now == ("when",)
    with pytest.raises(pydantic.ValidationError):
        Tagged(id="", code="c")
