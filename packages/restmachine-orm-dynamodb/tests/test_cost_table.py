"""The docs' cost table is what DynamoDB Local measures: read and write units per operation.

Each scenario runs on an empty table inside ``backend.capacity()``; its requests are
counted by the request counter. The table the test builds from those figures must be the
one between the ``cost-table`` markers of docs/backends/dynamodb.md, character for
character: a change in what an operation costs fails here until the docs say so (the
failure prints the table to paste).

moto reports capacity figures of its own (half a unit for some writes, none for
transactions), so the comparison runs on DynamoDB Local, which bills as AWS does: the
``tests-dynamodb-local`` nox session.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import Requests

from restmachine_orm import F, Field, Model, transaction
from restmachine_orm_dynamodb import DynamoDBBackend
from restmachine_orm_dynamodb.testing import ENV_ENDPOINT

DOC = Path(__file__).parents[3] / "docs" / "backends" / "dynamodb.md"
BEGIN = "<!-- cost-table: measured on DynamoDB Local by test_cost_table.py -->"
END = "<!-- /cost-table -->"


class Note(Model):
    """No unique field, no index: one item per row."""

    id: str = Field(primary_key=True)
    text: str = "hello"
    n: int = 0


class Account(Model):
    """One unique field: each row has a claim item beside it."""

    id: str = Field(primary_key=True)
    email: str = Field(unique=True)


class Tagged(Model):
    """One indexed field: each row is written to the index too."""

    id: str = Field(primary_key=True)
    tag: str = Field(index=True)


class Line(Model):
    """Lines of one order share a partition: a Query reads them."""

    order: str = Field(partition_key=True)
    number: int = Field(sort_key=True)
    text: str = "a line of an order"


def setup_notes(count: int) -> Callable[[], None]:
    def setup() -> None:
        Note.create_many([{"id": f"n{i}"} for i in range(count)])

    return setup


def setup_lines() -> None:
    Line.create_many([{"order": "o1", "number": i} for i in range(10)])


def setup_account() -> None:
    Account.create(id="a1", email="a@x.io")


def save_note() -> None:
    note = Note.get(id="n0")
    assert note is not None
    note.text = "changed"
    note.save()


def save_account_email() -> None:
    account = Account.get(id="a1")
    assert account is not None
    account.email = "b@x.io"
    account.save()


def transfer() -> None:
    first, second = Note.get(id="n0"), Note.get(id="n1")
    assert first is not None and second is not None
    with transaction() as tx:
        tx.update(first, n=F("n") - 5)
        tx.update(second, n=F("n") + 5)


def two_creates() -> None:
    with transaction() as tx:
        tx.create(Note, id="n0")
        tx.create(Note, id="n1")


def delete_account() -> None:
    account = Account.get(id="a1")
    assert account is not None
    account.delete()


def delete_note() -> None:
    note = Note.get(id="n0")
    assert note is not None
    note.delete()


def no_setup() -> None:
    pass


#: (what the row of the table says, what runs before it unmetered, what is measured)
SCENARIOS: list[tuple[str, Callable[[], None], Callable[[], Any]]] = [
    ("`create`, no unique field, no index", no_setup, lambda: Note.create(id="n0")),
    ("`create`, one indexed field", no_setup, lambda: Tagged.create(id="t0", tag="red")),
    ("`create`, one unique field", no_setup, lambda: Account.create(id="a1", email="a@x.io")),
    ("`get`", setup_notes(1), lambda: Note.get(id="n0")),
    ("`save` of a changed field (after its `get`)", setup_notes(1), save_note),
    ("`save` of a new unique value (after its `get`)", setup_account, save_account_email),
    (
        "`update(n=F('n') + 1)` by key (an increment)",
        setup_notes(1),
        lambda: Note.update_by_key({"id": "n0"}, n=F("n") + 1),
    ),
    ("`delete`, no unique field (after its `get`)", setup_notes(1), delete_note),
    ("`delete`, one unique field (after its `get`)", setup_account, delete_account),
    (
        "`where(order=...)`: a page of 10 small rows",
        setup_lines,
        lambda: Line.where(order="o1").all(),
    ),
    ("`where(order=...).count()` of 10 rows", setup_lines, lambda: Line.where(order="o1").count()),
    ("`where(text=...)`: a `Scan` of 10 rows", setup_notes(10), lambda: Note.where(text="x").all()),
    ("transaction of 2 creates", no_setup, two_creates),
    ("transaction of 2 increments (after 2 `get`)", setup_notes(2), transfer),
    (
        "`create_many` of 10 rows",
        no_setup,
        lambda: Note.create_many([{"id": f"n{i}"} for i in range(10)]),
    ),
    (
        "`get_many` of 10 rows",
        setup_notes(10),
        lambda: Note.get_many([{"id": f"n{i}"} for i in range(10)]),
    ),
]


@pytest.fixture
def cost_backend(endpoint: str, bind: Any) -> Iterator[DynamoDBBackend]:
    from conftest import make_client

    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    made = DynamoDBBackend(f"restmachine-orm-cost-{worker}", client=make_client(endpoint))
    made.create_table([Note, Account, Tagged, Line])
    for model in (Note, Account, Tagged, Line):
        bind(model)
        model.model_backend = made
    yield made
    made.close()


def _units(value: float) -> str:
    return f"{value:g}"


def measured_table(backend: DynamoDBBackend) -> str:
    lines = [
        "| operation | requests | read units | write units |",
        "|---|---|---:|---:|",
    ]
    for label, setup, measured in SCENARIOS:
        backend.clear()
        setup()
        counter = Requests(backend)
        with backend.capacity() as used:
            measured()
        counter.stop()
        sent = Counter(counter.operations)
        requests = ", ".join(f"{count} `{name}`" for name, count in sent.items())
        lines.append(f"| {label} | {requests} | {_units(used.read)} | {_units(used.write)} |")
    return "\n".join(lines)


def documented_table() -> str:
    text = DOC.read_text(encoding="utf-8")
    if BEGIN not in text or END not in text:
        return f"(no {BEGIN} ... {END} in {DOC.name})"
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    return text[start:end].strip()


def test_the_docs_cost_table_is_what_dynamodb_local_measures(
    cost_backend: DynamoDBBackend,
) -> None:
    if not os.environ.get(ENV_ENDPOINT):
        pytest.skip(
            "moto reports capacity figures of its own: the cost table is checked on "
            "DynamoDB Local (nox -s tests-dynamodb-local)"
        )
    table = measured_table(cost_backend)
    assert table == documented_table(), f"measured:\n{table}"
