"""Fixtures: a real DynamoDB-compatible server over HTTP, a backend, a request counter."""

from __future__ import annotations

import copy
import os
import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from fault_proxy import FaultProxy

from restmachine_orm import Backend, DuplicateKeyError, InMemoryBackend, Model
from restmachine_orm_dynamodb import DEFAULT_CONFIG, DynamoDBBackend
from restmachine_orm_dynamodb._keys import SENTINEL
from restmachine_orm_dynamodb._moto import EmbeddedMoto
from restmachine_orm_dynamodb._serialize import from_item
from restmachine_orm_dynamodb.testing import ENV_ENDPOINT


@pytest.fixture(scope="session")
def endpoint() -> Iterator[str]:
    given = os.environ.get(ENV_ENDPOINT)
    if given:
        yield given
        return
    server = EmbeddedMoto()
    yield server.start()
    server.stop()


def make_client(endpoint: str, **config: Any) -> Any:
    return boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=DEFAULT_CONFIG.merge(boto3.session.Config(**config)) if config else DEFAULT_CONFIG,
    )


@pytest.fixture(scope="session")
def session_backend(endpoint: str) -> DynamoDBBackend:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    backend = DynamoDBBackend(
        f"restmachine-orm-backend-tests-{worker}", client=make_client(endpoint)
    )
    backend.create_table()
    return backend


@pytest.fixture
def proxy(endpoint: str) -> Iterator[FaultProxy]:
    """A proxy in front of the server that can lose or slow down answers."""
    relay = FaultProxy(endpoint)
    yield relay
    relay.close()


@pytest.fixture
def second_client(endpoint: str) -> Any:
    """Another client on the same server, for sending requests the backend does not see."""
    return make_client(endpoint)


@pytest.fixture
def backend(session_backend: DynamoDBBackend) -> DynamoDBBackend:
    session_backend.clear()
    return session_backend


class Requests:
    """Counts the requests the backend sends (each attempt), by DynamoDB operation."""

    def __init__(self, backend: DynamoDBBackend) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []
        self._backend = backend
        backend.interceptors.append(self._record)

    def _record(self, operation: str, body: dict[str, Any]) -> None:
        # Counting only: returning None lets the real request go to the server. A copy:
        # the backend may build its next request from the same dicts.
        self.sent.append((operation, copy.deepcopy(body)))

    def stop(self) -> None:
        self._backend.interceptors.remove(self._record)

    @property
    def operations(self) -> list[str]:
        return [name for name, _ in self.sent]

    def counts(self) -> Counter[str]:
        return Counter(self.operations)

    def reset(self) -> None:
        self.sent.clear()


def unmarked(body: dict[str, Any]) -> tuple[str, list[str]]:
    """An ``UpdateExpression`` and its attribute names, without the write mark (``_once``)."""
    names = body.get("ExpressionAttributeNames", {})
    expression = body["UpdateExpression"]
    for placeholder, name in names.items():
        if name.startswith("_w:"):
            expression = re.sub(rf"{placeholder} = :v\d+(, )?", "", expression)
            expression = expression.replace("SET  ", "").removeprefix("SET ").strip()
            if expression.startswith(("#", ":")):  # other assignments followed the mark
                expression = "SET " + expression
    return expression, sorted(name for name in names.values() if not name.startswith("_w:"))


@pytest.fixture
def requests(backend: DynamoDBBackend) -> Iterator[Requests]:
    counter = Requests(backend)
    yield counter
    counter.stop()


@pytest.fixture
def bind(backend: DynamoDBBackend) -> Iterator[Any]:
    """Bind model classes to the DynamoDB backend for one test, restoring them after."""
    bound: list[tuple[type[Model], Backend | None]] = []

    def bind_models(*models: type[Model]) -> None:
        for model in models:
            bound.append((model, model.__dict__.get("model_backend")))
            model.model_backend = backend

    yield bind_models
    for model, before in reversed(bound):
        if before is None:
            del model.model_backend
        else:
            model.model_backend = before


@pytest.fixture
def reference() -> InMemoryBackend:
    return InMemoryBackend()


@pytest.fixture
def inject(backend: DynamoDBBackend) -> Iterator[Any]:
    """Install an interceptor for one test, first in line: on the test's backend, or on
    ``into`` (another backend the test made)."""
    installed: list[tuple[DynamoDBBackend, Any]] = []

    def install(handler: Any, into: DynamoDBBackend | None = None) -> None:
        target = backend if into is None else into
        target.interceptors.insert(0, handler)
        installed.append((target, handler))

    yield install
    for target, handler in installed:
        target.interceptors.remove(handler)


def scan_all(client: Any, table: str) -> list[dict[str, Any]]:
    """Every item of the table, read by a client of the test's own (consistent scan)."""
    items: list[dict[str, Any]] = []
    request: dict[str, Any] = {"TableName": table, "ConsistentRead": True}
    while True:
        page = client.scan(**request)
        items += page.get("Items", [])
        if "LastEvaluatedKey" not in page:
            return items
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


@pytest.fixture
def claims(backend: DynamoDBBackend, second_client: Any) -> Any:
    """Check that a model's unique values and their sentinels match one to one.

    Every stored value has a sentinel owned by its row, and every sentinel belongs to a
    row holding its value: nothing claimed by nobody, nothing held without a claim.
    """

    def check(model: type[Model]) -> None:
        schema = model.orm_schema()
        keys = backend.keys
        items = scan_all(second_client, backend.table_name)
        rows = [i for i in items if i.get(keys.entity) == {"S": schema.name}]
        expected = {}
        for item in rows:
            row = from_item(schema, item)
            for name in schema.unique_fields:
                if row[name] is not None:
                    sentinel = keys.sentinel_key(schema, name, row[name])
                    owner = {keys.pk: item[keys.pk], keys.sk: item[keys.sk]}
                    expected[sentinel[keys.pk]["S"]] = owner
        prefix = f"{schema.name}#"
        sentinels = {
            i[keys.pk]["S"]: i[keys.owner]["M"]
            for i in items
            if i[keys.sk] == {"S": SENTINEL} and i[keys.pk]["S"].startswith(prefix)
        }
        assert sentinels == expected

    return check


def one_winner(outcomes: list[Any], model: type[Model], field: str | None = None) -> Any:
    """The one instance among racers' outcomes; every other one lost with DuplicateKeyError
    (on ``field``, when given)."""
    winners = [outcome for outcome in outcomes if isinstance(outcome, model)]
    assert len(winners) == 1, outcomes
    losers = [outcome for outcome in outcomes if outcome is not winners[0]]
    assert all(isinstance(o, DuplicateKeyError) for o in losers), losers
    assert field is None or all(o.field == field for o in losers), losers
    return winners[0]
