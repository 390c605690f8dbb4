"""DynamoDB's half of the query helpers: what it sends for text lookups and ``values()``.

DynamoDB has no ``ends_with`` and no case folding, so those conditions stay out of the
request and are tested on the rows read; ``values()`` reads only its fields. The suite
(``TestQueryHelpers``) proves the results equal the in-memory backend's; these tests pin
the requests.
"""

from __future__ import annotations

from typing import Any

from restmachine_orm import Field, Model, Q
from restmachine_orm_dynamodb import DynamoDBBackend


class Person(Model):
    id: str = Field(primary_key=True)
    name: str = ""
    email: str = ""
    age: int = 0
    bio: str = ""


def _people() -> None:
    Person.create(id="p1", name="Ada", email="ada@x.COM", age=36, bio="x" * 1000)
    Person.create(id="p2", name="bo", email="bo@y.org", age=25, bio="y" * 1000)


def _sent(requests: Any) -> dict[str, Any]:
    (operation, body), *_ = requests.sent
    assert operation == "Scan"
    return body


def test_text_lookups_stay_out_of_the_filter_expression(bind: Any, requests: Any) -> None:
    bind(Person)
    _people()
    requests.reset()
    found = Person.where(Q(email__iendswith=".com") | Q(name="zz"), age__gte=30).all()
    assert [p.id for p in found] == ["p1"]
    body = _sent(requests)
    # The age condition is sent; the Or holding a client-side lookup is not.
    assert sorted(body["ExpressionAttributeNames"].values()) == ["_type", "age"]
    assert list(body["ExpressionAttributeValues"].values()) == [{"S": "Person"}, {"N": "30"}]


def test_a_count_with_a_client_side_part_reads_only_the_fields_it_tests(
    bind: Any, requests: Any
) -> None:
    bind(Person)
    _people()
    requests.reset()
    assert Person.where(name__iexact="BO").count() == 1
    body = _sent(requests)
    assert "Select" not in body
    projected = {
        body["ExpressionAttributeNames"][n] for n in body["ProjectionExpression"].split(", ")
    }
    assert projected == {"id", "name"}


def test_values_reads_only_its_fields_and_what_the_reader_needs(bind: Any, requests: Any) -> None:
    bind(Person)
    _people()
    requests.reset()
    rows = Person.where(email__endswith=".org").order_by("age").values("name")
    assert rows == [{"name": "bo"}]
    body = _sent(requests)
    projected = {
        body["ExpressionAttributeNames"][n] for n in body["ProjectionExpression"].split(", ")
    }
    assert projected == {"name", "id", "age", "email"}  # never the large bio


def test_the_class_keyword_binds_a_dynamodb_backend(backend: DynamoDBBackend) -> None:
    class Bound(Model, model_backend=backend):
        id: str = Field(primary_key=True)

    assert Bound.model_backend is backend
    Bound.create(id="b1")
    stored = Bound.get(id="b1")
    assert stored is not None and stored.is_stored
    stored.delete()
    assert not stored.is_stored


def test_an_expression_for_a_client_side_lookup_is_refused_naming_the_field() -> None:
    import pytest

    from restmachine_orm import QueryError
    from restmachine_orm.query import Condition
    from restmachine_orm_dynamodb._expressions import Expressions

    with pytest.raises(QueryError, match=r"Person.name: DynamoDB has no expression for 'iexact'"):
        Expressions().filter(Condition("name", "iexact", "x"), "pk", Person.orm_schema())
