"""Parsing ``field__lookup=value`` filters: validated against the model before any backend call."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sample_models import Person

from restmachine_orm import Field, Model, QueryError
from restmachine_orm.query import And, Condition, Not, Or, conjuncts
from restmachine_orm.query.parse import parse_filters, split_lookup
from restmachine_orm.schema import LOOKUPS

SCHEMA = Person.orm_schema()


# -- the tree backends receive -----------------------------------------------------------


def test_no_filters_parse_to_none() -> None:
    assert parse_filters(SCHEMA, {}) is None
    assert Person.where().spec.filter is None


def test_plain_field_is_eq() -> None:
    assert parse_filters(SCHEMA, {"name": "Ann"}) == Condition("name", "eq", "Ann")


def test_several_filters_are_an_and_in_order() -> None:
    assert parse_filters(SCHEMA, {"name": "Ann", "age__gte": 3}) == And(
        (Condition("name", "eq", "Ann"), Condition("age", "gte", 3))
    )


@pytest.mark.parametrize(
    ("keyword", "value", "expected"),
    [
        ("age__eq", "4", Condition("age", "eq", 4)),
        ("age__ne", None, Condition("age", "ne", None)),
        ("age__gt", 1, Condition("age", "gt", 1)),
        ("age__gte", "2", Condition("age", "gte", 2)),
        ("age__lt", 3.0, Condition("age", "lt", 3)),
        ("age__lte", 4, Condition("age", "lte", 4)),
        ("age__in", [1, "2", None], Condition("age", "in", (1, 2, None))),
        ("age__in", {5}, Condition("age", "in", (5,))),
        ("age__between", [1, "9"], Condition("age", "between", (1, 9))),
        ("name__startswith", "A", Condition("name", "startswith", "A")),
        ("name__contains", "n", Condition("name", "contains", "n")),
        ("tags__contains", "red", Condition("tags", "contains", "red")),
        ("age__isnull", True, Condition("age", "isnull", True)),
        ("born__lt", "2000-01-02", Condition("born", "lt", dt.date(2000, 1, 2))),
    ],
)
def test_values_are_validated_and_coerced(keyword: str, value: Any, expected: Condition) -> None:
    assert parse_filters(SCHEMA, {keyword: value}) == expected


def test_query_spec_carries_the_parsed_tree() -> None:
    query = Person.where(age__gte=30).or_(name="Ann").not_(active=False)
    assert query.spec.filter == And(
        (
            Or((Condition("age", "gte", 30), Condition("name", "eq", "Ann"))),
            Not(Condition("active", "eq", False)),
        )
    )


def test_and_keeps_one_flat_level() -> None:
    query = Person.where(name="Ann", age=3).and_(score=1.0)
    assert query.spec.filter == And(
        (
            Condition("name", "eq", "Ann"),
            Condition("age", "eq", 3),
            Condition("score", "eq", 1.0),
        )
    )


def test_split_lookup() -> None:
    spec, lookup = split_lookup(SCHEMA, "age__between")
    assert (spec.name, lookup) == ("age", "between")
    spec, lookup = split_lookup(SCHEMA, "name")
    assert (spec.name, lookup) == ("name", "eq")


def test_a_field_whose_name_holds_a_double_underscore() -> None:
    class Odd(Model):
        id: str = Field(primary_key=True)
        first__name: str = ""

    spec, lookup = split_lookup(Odd.orm_schema(), "first__name")
    assert (spec.name, lookup) == ("first__name", "eq")
    spec, lookup = split_lookup(Odd.orm_schema(), "first__name__startswith")
    assert (spec.name, lookup) == ("first__name", "startswith")


# -- mistakes --------------------------------------------------------------------------


def test_unknown_field_names_the_model_and_its_fields() -> None:
    with pytest.raises(QueryError) as caught:
        Person.where(nmae="Ann")
    message = str(caught.value)
    assert "Person has no field 'nmae'" in message
    assert "its fields are: id, name, nick, age" in message


def test_unknown_field_with_a_lookup() -> None:
    with pytest.raises(QueryError, match="Person has no field 'nmae'"):
        Person.where(nmae__startswith="A")


def test_unknown_lookup_names_model_field_and_allowed_lookups() -> None:
    with pytest.raises(QueryError) as caught:
        Person.where(age__greater=3)
    message = str(caught.value)
    assert "Person.age: unknown lookup 'greater' in 'age__greater'" in message
    assert "allowed lookups: eq, ne, gt, gte, lt, lte, in, between, isnull" in message


def test_lookup_that_does_not_apply_to_the_field() -> None:
    with pytest.raises(QueryError) as caught:
        Person.where(age__startswith="1")
    message = str(caught.value)
    assert "Person.age: lookup 'startswith' does not apply to a number field" in message
    assert "allowed lookups: eq, ne, gt, gte, lt, lte, in, between, isnull" in message


@pytest.mark.parametrize(
    ("filters", "fragment"),
    [
        ({"age__gte": "x"}, "is not a valid value for age__gte"),
        ({"age": "x"}, "is not a valid value for age"),
        ({"name__startswith": 3}, "name__startswith takes a string"),
        ({"name__contains": 3}, "name__contains takes a string"),
        ({"age__in": 5}, "age__in takes a list, tuple or set"),
        ({"age__in": "12"}, "age__in takes a list, tuple or set"),
        ({"age__in": [1, "x"]}, "is not a valid value"),
        ({"age__between": (1,)}, "age__between takes a (low, high) pair"),
        ({"age__between": (1, 2, 3)}, "takes a (low, high) pair"),
        ({"age__between": {1, 2}}, "takes a (low, high) pair"),
        ({"age__between": (1, None)}, "cannot compare with None"),
        ({"age__isnull": "yes"}, "age__isnull takes True or False"),
        ({"age__isnull": 1}, "takes True or False"),
        ({"age__gt": None}, "age__gt cannot compare with None; use age__isnull=True"),
        ({"age__lte": None}, "cannot compare with None"),
        ({"name": None}, "the field is never None"),
        ({"name__in": ["a", None]}, "the field is never None"),
        ({"tags__contains": 5}, "is not a valid element for tags__contains"),
        ({"tags__gt": ["a"]}, "lookup 'gt' does not apply to a list field"),
        ({"meta__in": [{}]}, "lookup 'in' does not apply to a dict field"),
        ({"active__gt": True}, "lookup 'gt' does not apply to a bool field"),
        ({"born__gte": "yesterday"}, "is not a valid value"),
    ],
)
def test_bad_filters_raise_query_error_before_the_backend(
    filters: dict[str, Any], fragment: str, untouchable
) -> None:
    with pytest.raises(QueryError) as caught:
        Person.where(**filters).all()
    assert fragment in str(caught.value)
    assert untouchable.calls == []


@pytest.mark.parametrize("method", ["where", "and_", "or_", "not_"])
def test_every_combinator_validates(method: str, untouchable) -> None:
    query = Person.where(name="Ann")
    with pytest.raises(QueryError):
        getattr(query, method)(age__gte="x").count()
    assert untouchable.calls == []


@pytest.mark.parametrize(
    "build",
    [
        lambda: Person.where().order_by("nope"),
        lambda: Person.where().order_by("-nope"),
        lambda: Person.where().order_by("-"),
        lambda: Person.where().order_by("tags"),
        lambda: Person.where().order_by("-meta"),
        lambda: Person.where().limit(-1),
        lambda: Person.where().limit(1.5),
        lambda: Person.where().limit(True),
        lambda: Person.where().limit("3"),
        lambda: Person.where().offset(-1),
        lambda: Person.where().offset(None),
    ],
    ids=[
        "order_by-unknown",
        "order_by-unknown-descending",
        "order_by-empty",
        "order_by-list",
        "order_by-dict",
        "limit-negative",
        "limit-float",
        "limit-bool",
        "limit-str",
        "offset-negative",
        "offset-none",
    ],
)
def test_bad_ordering_and_slicing_raise_before_the_backend(build, untouchable) -> None:
    for run in (list, lambda q: q.count(), lambda q: q.exists(), lambda q: q.first()):
        with pytest.raises(QueryError):
            run(build())
    assert untouchable.calls == []


def test_order_by_messages() -> None:
    with pytest.raises(QueryError, match=r"Person has no field 'nope' \(in order_by\('-nope'\)\)"):
        Person.where().order_by("-nope")
    with pytest.raises(QueryError, match=r"Person\.tags: a list field cannot be ordered by"):
        Person.where().order_by("tags")
    with pytest.raises(QueryError, match=r"limit\(\) takes a whole number >= 0, not -1"):
        Person.where().limit(-1)


def test_all_lookups_are_listed() -> None:
    assert LOOKUPS == (
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


def test_conjuncts_are_the_parts_a_row_must_match_all_of():
    first, second = Condition("a", "eq", 1), Condition("b", "gt", 2)
    assert conjuncts(None) == ()
    assert conjuncts(first) == (first,)
    assert conjuncts(And((first, second))) == (first, second)
    either = Or((first, second))
    assert conjuncts(either) == (either,)
