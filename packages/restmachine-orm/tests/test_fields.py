from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError

from restmachine_orm import Field, FieldOptions, Model, ModelDefinitionError
from restmachine_orm.fields import options_of


def test_field_takes_the_default_first_and_pydantic_keywords():
    class Thing(Model):
        id: str = Field(primary_key=True)
        count: int = Field(ge=0, default=0)
        seen: dt.datetime | None = Field(None, auto_now_add=True)

    thing = Thing(id="t")
    assert thing.count == 0 and thing.seen is None
    with pytest.raises(ValidationError):
        Thing(id="t", count=-1)
    assert options_of(Thing.model_fields["id"]) == FieldOptions(primary_key=True)
    assert options_of(Thing.model_fields["seen"]).auto_now_add


@pytest.mark.parametrize("key", ["primary", "partition", "sort"])
def test_key_fields_reject_empty_strings(key):
    class Keyed(Model):
        a: str = Field(primary_key=key == "primary", partition_key=key != "primary")
        b: str = Field("x", sort_key=key != "primary")

    field = "b" if key == "sort" else "a"
    values = {"a": "ok", "b": "ok", field: ""}
    with pytest.raises(ValidationError, match="must not be an empty string"):
        Keyed(**values)


def test_unknown_fields_are_rejected():
    class Thing(Model):
        id: str = Field(primary_key=True)

    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        Thing(id="t", nmae="typo")


def test_assignments_are_validated():
    class Thing(Model):
        id: str = Field(primary_key=True)
        count: int = Field(ge=0, default=0)

    thing = Thing(id="t")
    with pytest.raises(ValidationError):
        thing.count = -5
    assert thing.count == 0


BAD_MODELS = {
    "two primary keys": {"a": (str, Field(primary_key=True)), "b": (str, Field(primary_key=True))},
    "primary and partition": {
        "a": (str, Field(primary_key=True)),
        "b": (str, Field(partition_key=True)),
    },
    "sort without partition": {"a": (str, Field(sort_key=True))},
    "optional key": {"a": (str | None, Field(None, primary_key=True))},
    "list key": {"a": (list[str], Field(primary_key=True))},
    "unique dict": {"a": (str, Field(primary_key=True)), "b": (dict[str, int], Field(unique=True))},
    "unique primary key": {"a": (str, Field(primary_key=True, unique=True))},
    "auto_now on a str": {
        "a": (str, Field(primary_key=True)),
        "b": (str, Field("", auto_now=True)),
    },
    "both auto options": {
        "a": (str, Field(primary_key=True)),
        "b": (dt.datetime | None, Field(None, auto_now=True, auto_now_add=True)),
    },
    "index on a key": {"a": (str, Field(primary_key=True, index=True))},
    "index on a list": {"a": (str, Field(primary_key=True)), "b": (list[int], Field(index=True))},
}


@pytest.mark.parametrize("fields", BAD_MODELS.values(), ids=BAD_MODELS.keys())
def test_inconsistent_definitions_fail_at_class_creation(fields):
    from pydantic import create_model

    with pytest.raises(ModelDefinitionError, match="Bad"):
        create_model("Bad", __base__=Model, **fields)


def test_a_model_without_a_key_can_exist_but_not_be_stored():
    class Base(Model):
        name: str

    with pytest.raises(ModelDefinitionError, match="Base declares no key field"):
        Base.create(name="x")
