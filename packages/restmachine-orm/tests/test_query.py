from __future__ import annotations

import pytest
from models import User

from restmachine_orm import InMemoryBackend, Model, QueryError
from restmachine_orm.query import And, Condition, Not, Or

PEOPLE = [
    {"id": "u1", "email": "ann@x.io", "name": "Ann", "age": 30, "nickname": "annie", "tags": ["a"]},
    {"id": "u2", "email": "bob@x.io", "name": "Bob", "age": 25, "tags": ["a", "b"]},
    {"id": "u3", "email": "cy@x.io", "name": "Cy", "age": 35, "nickname": "c"},
    {"id": "u4", "email": "di@x.io", "name": "Di", "age": 30, "nickname": "dd"},
]


@pytest.fixture(autouse=True)
def people(backend):
    for person in PEOPLE:
        User.create(**person)


def ids(query):
    return sorted(user.id for user in query)


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"age": 30}, ["u1", "u4"]),
        ({"age__eq": 30}, ["u1", "u4"]),
        ({"age__ne": 30}, ["u2", "u3"]),
        ({"nickname__ne": "c"}, ["u1", "u2", "u4"]),  # ne matches None
        ({"age__gt": 30}, ["u3"]),
        ({"age__gte": 30}, ["u1", "u3", "u4"]),
        ({"age__lt": 30}, ["u2"]),
        ({"age__lte": 30}, ["u1", "u2", "u4"]),
        ({"nickname__gt": "b"}, ["u3", "u4"]),  # None never satisfies an ordering
        ({"age__in": [25, 35, 99]}, ["u2", "u3"]),
        ({"age__in": []}, []),
        ({"nickname__in": ["c", None]}, ["u2", "u3"]),
        ({"age__between": (26, 34)}, ["u1", "u4"]),
        ({"age__between": [35, 25]}, []),
        ({"name__startswith": "C"}, ["u3"]),
        ({"nickname__startswith": "a"}, ["u1"]),
        ({"name__contains": "i"}, ["u4"]),
        ({"tags__contains": "b"}, ["u2"]),
        ({"nickname__isnull": True}, ["u2"]),
        ({"nickname__isnull": False}, ["u1", "u3", "u4"]),
        ({"nickname": None}, ["u2"]),
        ({"age__gte": 30, "name__startswith": "D"}, ["u4"]),
        ({"email": "cy@x.io"}, ["u3"]),
        ({"id": "u2"}, ["u2"]),
        ({"age": "30"}, ["u1", "u4"]),  # coerced like the model coerces
    ],
)
def test_lookups(filters, expected):
    assert ids(User.where(**filters)) == expected
    assert User.where(**filters).count() == len(expected)
    assert User.where(**filters).exists() == bool(expected)


def test_and_or_not_chain():
    assert ids(User.where(age=30).and_(name="Di")) == ["u4"]
    assert ids(User.where(age=25).or_(name="Cy")) == ["u2", "u3"]
    assert ids(User.where(age__gte=25).not_(age=30)) == ["u2", "u3"]
    assert ids(User.where().not_(nickname__isnull=True)) == ["u1", "u3", "u4"]
    assert ids(User.where(age=25).or_(name="Cy").and_(age__gt=30)) == ["u3"]
    assert ids(User.where().or_(name="Cy")) == ["u1", "u2", "u3", "u4"]  # all OR x is all


def test_the_tree_backends_receive_is_parsed_and_flat():
    query = User.where(age__gte=30).and_(name="Di").or_(age=1).not_(nickname=None)
    tree = query.spec.filter
    assert tree == And(
        (
            Or(
                (
                    And((Condition("age", "gte", 30), Condition("name", "eq", "Di"))),
                    Condition("age", "eq", 1),
                )
            ),
            Not(Condition("nickname", "eq", None)),
        )
    )


def test_order_by_several_fields_with_none_first_and_descending():
    assert [u.id for u in User.where().order_by("age", "-name")] == ["u2", "u4", "u1", "u3"]
    assert [u.id for u in User.where().order_by("nickname")] == ["u2", "u1", "u3", "u4"]
    assert [u.id for u in User.where().order_by("-nickname")] == ["u4", "u3", "u1", "u2"]
    # ties keep a stable order: the later field decides, else insertion order
    assert [u.id for u in User.where().order_by("-age")] == ["u3", "u1", "u4", "u2"]


def test_limit_offset_first_count_and_iteration():
    ordered = User.where().order_by("id")
    assert [u.id for u in ordered.limit(2)] == ["u1", "u2"]
    assert [u.id for u in ordered.offset(1).limit(2)] == ["u2", "u3"]
    assert [u.id for u in ordered.offset(3)] == ["u4"]
    assert ordered.offset(10).all() == []
    assert ordered.limit(0).all() == []
    assert ordered.first().id == "u1"
    assert User.where(age=99).first() is None
    assert ordered.offset(1).limit(2).count() == 2
    assert ordered.offset(3).count() == 1
    assert ordered.offset(9).exists() is False
    assert len(User.all()) == 4


class ForbiddenBackend(InMemoryBackend):
    """A backend that fails the test if a read reaches it."""

    def query(self, spec):
        raise AssertionError("the backend was touched")

    count = exists = query


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: User.where(agee=1), "User has no field 'agee'"),
        (lambda: User.where(age__foo=1), r"unknown lookup 'foo'.*allowed lookups: eq, ne"),
        (lambda: User.where(age__gte="x"), r"User\.age: 'x' is not a valid value for age__gte"),
        (lambda: User.where(name__startswith=3), "takes a string"),
        (lambda: User.where(age__in=5), "takes a list"),
        (lambda: User.where(age__between=(1,)), r"\(low, high\) pair"),
        (lambda: User.where(age__isnull="yes"), "True or False"),
        (lambda: User.where(age__gt=None), "cannot compare with None"),
        (lambda: User.where(age=None), "never None"),
        (lambda: User.where(tags__startswith="a"), "does not apply to a list field"),
        (lambda: User.where(tags__contains=["x"]), "not a valid element"),
        (lambda: User.where().order_by("nope"), "User has no field 'nope'"),
        (lambda: User.where().order_by("tags"), "cannot be ordered by"),
        (lambda: User.where().limit(-1), "whole number"),
        (lambda: User.where().offset(1.5), "whole number"),
    ],
)
def test_bad_queries_fail_before_any_backend_is_touched(build, message):
    Model.model_backend = ForbiddenBackend()
    with pytest.raises(QueryError, match=message):
        build()
