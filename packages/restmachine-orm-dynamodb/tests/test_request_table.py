"""The docs' request table is what ``Query.explain()`` says each example query sends.

The rows between the ``request-table`` markers of docs/backends/dynamodb.md are built here
from the plans of a fixed list of queries, each written once as the text the table shows
and evaluated to get its query. The docs must hold exactly that table: a change in which
request a query sends fails here until the docs say so. Run with
``RESTMACHINE_ORM_UPDATE_DOCS=1`` to write the table into the docs instead.

``explain()`` sends nothing, so the backend points at a port where no server listens, with
made-up credentials; an interceptor (which sees every attempt before it would be sent)
proves that no request is even attempted.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from answers import error

from restmachine_orm import Field, IndexKeys, InMemoryBackend, Keys, Model, Plan, Query
from restmachine_orm_dynamodb import DynamoDBBackend, DynamoDBError

DOC = Path(__file__).parents[3] / "docs" / "backends" / "dynamodb.md"
BEGIN = "<!-- request-table: generated from Query.explain() by test_request_table.py -->"
END = "<!-- /request-table -->"
UPDATE = "RESTMACHINE_ORM_UPDATE_DOCS"


class User(Model):
    """The default layout: ``pk="User#{id}"``, ``sk="User"``."""

    id: str = Field(primary_key=True)
    email: str = Field(unique=True)
    team: str = Field(index=True)
    name: str = ""
    age: int = 0


class Line(Model):
    """The default layout of a composite key: ``pk="Line#{order}"``, ``sk="Line#{number}"``."""

    order: str = Field(partition_key=True)
    number: int = Field(sort_key=True)


class Order(Model):
    """Declared keys, and a declared index whose sort key field is never ``None``."""

    model_keys = Keys(
        pk="ORDER#{order_id}",
        sk="ORDER",
        indexes={"gsi1": IndexKeys(pk="CUSTOMER#{customer}", sk="PLACED#{placed}")},
    )

    order_id: str = Field(primary_key=True)
    customer: str
    placed: str
    total: int = 0


class OrderLine(Model):
    """Shares its order's partition; its sort keys start with ``LINE#``."""

    model_keys = Keys(pk="ORDER#{order_id}", sk="LINE#{line}")

    order_id: str = Field(partition_key=True)
    line: str = Field(sort_key=True)
    sku: str = ""


MODELS: dict[str, type[Model]] = {model.__name__: model for model in (User, Line, Order, OrderLine)}

#: The queries of the table, as the table shows them (each is evaluated with MODELS).
QUERIES = [
    'User.where(id="u1")',
    'User.where(email="ann@example.com")',
    'User.where(id__in=["u1", "u2"])',
    'Line.where(order="o1")',
    'Line.where(order="o1", number__gte=3)',
    'OrderLine.where(order_id="o1")',
    'OrderLine.where(order_id="o1", line__startswith="00")',
    'User.where(team="red")',
    'Order.where(customer="c1")',
    'Order.where(customer="c1", total__gt=100)',
    "User.where(age__gte=30)",
    "User.where(age__gte=30).segments(4)",
    'User.where(name__iendswith="son")',
    'User.where(team="red").order_by("-age").limit(10)',
]


@pytest.fixture
def backend() -> Iterator[DynamoDBBackend]:
    """A backend nothing can reach, the models bound to it: explain() needs no server."""
    session = boto3.session.Session(
        aws_access_key_id="explain", aws_secret_access_key="explain", region_name="eu-west-1"
    )
    made = DynamoDBBackend("request-table", session=session, endpoint_url="http://127.0.0.1:9")
    for model in MODELS.values():
        model.model_backend = made
    yield made
    for model in MODELS.values():
        del model.model_backend


def query_of(text: str) -> Query[Any]:
    query = eval(text, {"__builtins__": {}}, MODELS)
    assert isinstance(query, Query), text
    return query


def plan_of(text: str) -> Plan:
    return query_of(text).explain()


def shown_value(value: Any) -> str:
    """A DynamoDB attribute value as the table shows it: text quoted, numbers bare."""
    if isinstance(value, dict) and len(value) == 1:
        kind, inner = next(iter(value.items()))
        if kind == "S":
            return json.dumps(inner, ensure_ascii=False)
        if kind == "N":
            return str(inner)
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def resolved(plan: Plan, expression: str | None) -> str:
    """An expression with its placeholders put back, as a code span (or empty)."""
    if not expression:
        return ""
    text = expression
    # Longest first, so that #n1 is not replaced inside #n10.
    for placeholder in sorted(plan.names, key=len, reverse=True):
        text = text.replace(placeholder, plan.names[placeholder])
    for placeholder in sorted(plan.values, key=len, reverse=True):
        text = text.replace(placeholder, shown_value(plan.values[placeholder]))
    return code(text)


def code(text: str) -> str:
    return "`" + text.replace("|", "\\|") + "`"


def row(text: str, plan: Plan) -> str:
    operation = f"{code(plan.operation)} ({plan.access})"
    if plan.segments > 1:
        operation += f", {plan.segments} segments"
    cells = [
        code(text),
        operation,
        code(plan.index) if plan.index else "",
        resolved(plan, plan.key_condition),
        resolved(plan, plan.filter),
        "; ".join(plan.client_side).replace("|", "\\|"),
    ]
    return "| " + " | ".join(cells) + " |"


def generated_table() -> str:
    lines = [
        "| query | operation (access) | index | key condition | filter | then, client-side |",
        "|---|---|---|---|---|---|",
    ]
    lines += [row(text, plan_of(text)) for text in QUERIES]
    return "\n".join(lines)


def documented_table(doc: str) -> str:
    if BEGIN not in doc or END not in doc:
        return f"(no {BEGIN} ... {END} in {DOC.name})"
    return doc[doc.index(BEGIN) + len(BEGIN) : doc.index(END)].strip()


def test_the_docs_request_table_is_what_explain_says(backend: DynamoDBBackend) -> None:
    table = generated_table()
    doc = DOC.read_text(encoding="utf-8")
    if os.environ.get(UPDATE) == "1":
        assert BEGIN in doc and END in doc, f"{DOC} lacks the request-table markers"
        start, end = doc.index(BEGIN) + len(BEGIN), doc.index(END)
        DOC.write_text(doc[:start] + "\n" + table + "\n" + doc[end:], encoding="utf-8")
        return
    assert table == documented_table(doc), (
        f"docs/backends/dynamodb.md's request table differs from explain() (rewrite it with "
        f"{UPDATE}=1):\n{table}"
    )


def test_explain_sends_no_request(backend: DynamoDBBackend) -> None:
    attempted: list[str] = []

    def refuse(operation: str, body: dict[str, Any]) -> Any:
        attempted.append(operation)
        return error("ValidationException", "explain() must not send a request")

    backend.interceptors.append(refuse)
    for text in QUERIES:
        query_of(text).explain()
        assert attempted == [], text
    # The interceptor does see a read that sends: the silence above is explain()'s.
    with pytest.raises(DynamoDBError):
        query_of(QUERIES[0]).first()
    assert attempted == ["GetItem"]


def test_every_backend_names_the_same_access(backend: DynamoDBBackend) -> None:
    reference = InMemoryBackend()
    for text in QUERIES:
        query = query_of(text)
        assert query.explain().access == reference.explain(query.spec).access, text


def test_the_table_covers_every_access_path(backend: DynamoDBBackend) -> None:
    plans = [plan_of(text) for text in QUERIES]
    assert {plan.access for plan in plans} == {
        "key",
        "keys",
        "unique",
        "partition",
        "index",
        "scan",
    }
    assert {plan.operation for plan in plans} == {"GetItem", "BatchGetItem", "Query", "Scan"}
    assert any(plan.segments > 1 for plan in plans)
    assert any(plan.index == "gsi1" for plan in plans)  # a declared index
    assert any(plan.index == "by_team" for plan in plans)  # an index=True field
