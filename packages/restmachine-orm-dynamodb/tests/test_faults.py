"""Faults at the HTTP layer: a server that is down or silent, throttling, answers lost on
the way back, cancelled transactions and sentinels left behind by a crash.

Faults are real: a closed port, a socket that never answers, DynamoDB's own error answers
returned by an interceptor (so the protocol layer's retry rules apply to them as to the
server's), and a proxy that cuts answers off after the server applied the request.
"""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from answers import Throttle, cancelled
from conftest import make_client, scan_all
from fault_proxy import FaultProxy

from restmachine_orm import (
    BackendError,
    DuplicateKeyError,
    F,
    Field,
    Model,
    OrmError,
    PartialWriteError,
    WriteOutcomeUnknownError,
    transaction,
)
from restmachine_orm_dynamodb import DynamoDBBackend, DynamoDBError
from restmachine_orm_dynamodb._keys import SENTINEL


class Note(Model):
    id: str = Field(primary_key=True)
    text: str = ""


class Handle(Model):
    id: str = Field(primary_key=True)
    handle: str = Field(unique=True)
    bio: str = ""


def unbound_backend(endpoint: str, **timeouts: float) -> DynamoDBBackend:
    retries = {"mode": "standard", "max_attempts": 2}
    return DynamoDBBackend("unreachable", client=make_client(endpoint, retries=retries, **timeouts))


# -- a server that is not there -------------------------------------------------------------


@pytest.fixture
def silent_endpoint() -> Iterator[str]:
    """A port that accepts connections and never answers."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    thread.join()
    for connection in held:
        connection.close()
    listener.close()


def closed_endpoint() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"  # nothing listens there once the probe is closed


def test_a_refused_connection_is_a_backend_error_naming_endpoint_and_table():
    endpoint = closed_endpoint()
    backend = unbound_backend(endpoint, connect_timeout=1, read_timeout=1)
    Note.model_backend = backend
    try:
        with pytest.raises(BackendError) as failure:
            Note.create(id="n1")
    finally:
        del Note.model_backend
    assert isinstance(failure.value, DynamoDBError)
    assert endpoint in str(failure.value) and "'unreachable'" in str(failure.value)
    assert "PutItem" in str(failure.value)


def test_a_silent_server_fails_within_the_configured_timeout(silent_endpoint):
    # Three attempts (two retries) of a 0.5 s read timeout each, and short backoffs.
    backend = unbound_backend(silent_endpoint, connect_timeout=0.5, read_timeout=0.5)
    started = time.monotonic()
    with pytest.raises(DynamoDBError) as failure:
        backend.get(Note.orm_schema(), ("n1",))
    elapsed = time.monotonic() - started
    assert silent_endpoint in str(failure.value) and "'unreachable'" in str(failure.value)
    assert "timeout" in str(failure.value).lower()
    # The default read timeout alone is 15 s: finishing this soon proves the setting holds.
    assert elapsed < 5, elapsed


# -- throttling -----------------------------------------------------------------------------


@pytest.fixture
def throttled(endpoint, session_backend) -> Callable[[Throttle], DynamoDBBackend]:
    """A backend on the test table whose client retries 3 times, behind a throttle."""

    def make(throttle: Throttle) -> DynamoDBBackend:
        client = make_client(endpoint, retries={"mode": "standard", "max_attempts": 3})
        backend = DynamoDBBackend(session_backend.table_name, client=client)
        backend.interceptors.append(throttle)
        return backend

    return make


def throttled_transaction(operation: str, _: dict[str, Any]) -> Any:
    """What DynamoDB answers a transaction it throttles: cancelled, for throttling."""
    if operation != "TransactWriteItems" or throttled_transaction.left == 0:
        return None
    throttled_transaction.left -= 1
    return cancelled("ThrottlingError", "None")


@pytest.mark.parametrize(
    ("throttle", "model", "data"),
    [
        (
            Throttle("PutItem", "ProvisionedThroughputExceededException", 2),
            Note,
            {"id": "n1", "text": "x"},
        ),
        (
            Throttle("TransactWriteItems", "ThrottlingException", 2),
            Handle,
            {"id": "h1", "handle": "h"},
        ),
        (Throttle("GetItem", "ThrottlingException", 2), Note, None),
    ],
    ids=["PutItem", "TransactWriteItems", "GetItem"],
)
def test_a_throttling_burst_is_retried_by_botocore_and_succeeds(
    backend, bind, throttled, throttle, model, data
):
    bind(Note, Handle)
    Note.create(id="n0", text="there")
    model.model_backend = throttled(throttle)
    if data is None:
        assert Note.get(id="n0").text == "there"
    else:
        model.create(**data)
    model.model_backend = backend
    assert throttle.seen == 3  # two refusals, then the request that went through
    if data is not None:
        assert model.get(id=data["id"]).model_dump() == model(**data).model_dump()


def test_a_transaction_cancelled_for_throttling_is_sent_again(bind, inject, claims):
    bind(Handle)
    throttled_transaction.left = 2
    inject(throttled_transaction)
    Handle.create(id="h1", handle="h")
    assert throttled_transaction.left == 0
    assert Handle.get(id="h1").handle == "h"
    claims(Handle)


def test_throttling_beyond_the_retry_budget_is_a_backend_error_and_writes_nothing(
    backend, throttled, second_client, claims
):
    throttle = Throttle("TransactWriteItems", "ThrottlingException", times=10)
    Handle.model_backend = throttled(throttle)
    try:
        with pytest.raises(DynamoDBError, match="ThrottlingException") as failure:
            Handle.create(id="h1", handle="taken-by-nobody")
    finally:
        del Handle.model_backend
    assert throttle.seen == 4  # the first attempt and the client's 3 retries, no more
    assert backend.table_name in str(failure.value)
    assert scan_all(second_client, backend.table_name) == []
    claims(Handle)


# -- cancelled transactions and orphaned sentinels --------------------------------------------


def sentinels(client: Any, backend: DynamoDBBackend) -> set[str]:
    return {
        item[backend.keys.pk]["S"]
        for item in scan_all(client, backend.table_name)
        if item[backend.keys.sk] == {"S": SENTINEL}
    }


def test_a_cancelled_create_leaves_no_sentinel_behind(bind, backend, second_client, claims):
    bind(Handle)
    Handle.create(id="h1", handle="first")
    with pytest.raises(DuplicateKeyError) as caught:
        Handle.create(id="h1", handle="second")  # key taken: the claim of "second" is undone
    assert caught.value.fields == ("id",)
    assert sentinels(second_client, backend) == {"Handle#handle#first"}
    claims(Handle)


def test_a_cancelled_save_keeps_the_old_claim_and_makes_no_new_one(
    bind, backend, second_client, claims
):
    bind(Handle)
    Handle.create(id="h1", handle="first")
    Handle.create(id="h2", handle="taken")
    mover = Handle.get(id="h1")
    mover.handle = "taken"
    with pytest.raises(DuplicateKeyError):
        mover.save()
    assert sentinels(second_client, backend) == {"Handle#handle#first", "Handle#handle#taken"}
    claims(Handle)


def orphan(backend: DynamoDBBackend, client: Any, value: str, owner: str) -> None:
    """Leave the sentinel of ``handle=value`` owned by row ``owner``, as a crash would."""
    schema = Handle.orm_schema()
    client.put_item(
        TableName=backend.table_name,
        Item={
            **backend.keys.sentinel_key(schema, "handle", value),
            backend.keys.entity: {"S": SENTINEL},
            backend.keys.owner: {"M": backend.keys.item_key(schema, (owner,))},
        },
    )


def _prepared_save() -> Callable[[], Any]:
    Handle.create(id="h2", handle="before")
    instance = Handle.get(id="h2")
    instance.handle = "lost"
    return instance.save


RECLAIMS: dict[str, Callable[[], Callable[[], Any]]] = {
    "create": lambda: lambda: Handle.create(id="h2", handle="lost"),
    "create_many": lambda: lambda: Handle.create_many([{"id": "h2", "handle": "lost"}]),
    "upsert": lambda: lambda: Handle.upsert(id="h2", handle="lost"),
    "save": _prepared_save,
}


@pytest.mark.parametrize("prepare", RECLAIMS.values(), ids=RECLAIMS.keys())
@pytest.mark.parametrize(
    "owner", ["gone", "h1", "h2"], ids=["owner-gone", "owner-moved-on", "the-row-itself"]
)
def test_a_sentinel_orphaned_by_a_crash_is_reclaimed(
    bind, backend, second_client, claims, prepare, owner
):
    bind(Handle)
    Handle.create(id="h1", handle="other")  # h1 exists, but holds another value
    claim = prepare()
    orphan(backend, second_client, "lost", owner)
    claim()
    assert Handle.get(id="h2").handle == "lost"
    claims(Handle)


def test_a_sentinel_whose_owner_holds_the_value_is_never_taken(
    bind, backend, second_client, claims
):
    bind(Handle)
    Handle.create(id="h1", handle="mine")
    for attempt in (
        lambda: Handle.create(id="h2", handle="mine"),
        lambda: Handle.create_many([{"id": "h2", "handle": "mine"}]),
        lambda: Handle.upsert(id="h2", handle="mine"),
    ):
        with pytest.raises(DuplicateKeyError) as caught:
            attempt()
        assert caught.value.field == "handle"
    assert [h.id for h in Handle.all()] == ["h1"]
    claims(Handle)


# -- create_many with unique values: transactions ------------------------------------------------


def test_create_many_with_unique_values_writes_rows_and_claims_together(bind, requests, claims):
    bind(Handle)
    rows = [{"id": f"h{i:03}", "handle": f"handle{i}"} for i in range(120)]
    Handle.create_many(rows)
    # 120 rows with one claim each: 240 actions, 100 to a transaction.
    assert requests.counts()["TransactWriteItems"] == 3
    assert "BatchWriteItem" not in requests.counts()
    assert sorted(h.handle for h in Handle.all()) == sorted(r["handle"] for r in rows)
    claims(Handle)


def test_create_many_that_loses_a_race_half_way_names_the_rows_not_stored(
    bind, backend, inject, claims
):
    bind(Handle)
    rows = [{"id": f"h{i:03}", "handle": f"handle{i}"} for i in range(60)]
    rival = DynamoDBBackend(
        backend.table_name, client=make_client(backend.client.meta.endpoint_url)
    )

    raced = []

    def race(operation: str, body: dict[str, Any]) -> None:
        # Just before the transaction of rows 50-59 goes out, another writer takes a value.
        # Once: the reclaim that follows names the value too.
        if not raced and operation == "TransactWriteItems" and '"handle55"' in json.dumps(body):
            raced.append(body)
            rival.insert(Handle.orm_schema(), {"id": "rival", "handle": "handle55", "bio": ""})

    inject(race)
    with pytest.raises(PartialWriteError) as caught:
        Handle.create_many(rows)
    assert isinstance(caught.value.__cause__, DuplicateKeyError)
    assert caught.value.__cause__.field == "handle"
    stored = {h.id for h in Handle.all()} - {"rival"}
    assert stored == {r["id"] for r in rows[:50]}
    assert [r["id"] for r in caught.value.failed] == [r["id"] for r in rows[50:]]
    claims(Handle)


# -- answers lost on the way back -------------------------------------------------------------


@pytest.fixture(scope="session")
def tokens_honoured(session_backend) -> bool:
    """Whether the server answers a repeated TransactWriteItems token as the first time."""
    client, table = session_backend.client, session_backend.table_name
    put = {
        "Put": {
            "TableName": table,
            "Item": {"pk": {"S": "#probe"}, "sk": {"S": "#probe"}},
            "ConditionExpression": "attribute_not_exists(pk)",
        }
    }
    token = str(uuid.uuid4())
    client.transact_write_items(TransactItems=[put], ClientRequestToken=token)
    try:
        client.transact_write_items(TransactItems=[put], ClientRequestToken=token)
        return True
    except client.exceptions.TransactionCanceledException:
        return False
    finally:
        client.delete_item(TableName=table, Key={"pk": {"S": "#probe"}, "sk": {"S": "#probe"}})


def through(proxy: FaultProxy, backend: DynamoDBBackend, retries: int) -> DynamoDBBackend:
    client = make_client(proxy.endpoint, retries={"mode": "standard", "max_attempts": retries})
    return DynamoDBBackend(backend.table_name, client=client)


@dataclass(frozen=True)
class Loss:
    """A write whose answer is lost: what it sends, what is stored, what a resend reports."""

    id: str
    operation: str
    write: Callable[[], Any]
    stored: dict[str, str]
    # The answer after the resend (None: success). A resent PutItem or UpdateItem finds its
    # own write mark and succeeds; a delete cannot tell its own landed delete from another's.
    # A resent transaction carries the same ClientRequestToken, so servers that honour it
    # (DynamoDB, DynamoDB Local) answer it as the first time: success; elsewhere (moto) a
    # refusal after a lost answer is no sure answer: WriteOutcomeUnknownError.
    resent: type[OrmError] | None


# Every test starts from note n0 = "old" and handle h0 = "old"; `stored` is what it ends with.
N0, H0 = {"n0": "old"}, {"h0": "old"}
LOST = [
    Loss(
        "create", "PutItem", lambda: Note.create(id="n1", text="new"), N0 | H0 | {"n1": "new"}, None
    ),
    Loss("save", "UpdateItem", lambda: _save(Note, "n0", text="saved"), H0 | {"n0": "saved"}, None),
    Loss(
        "upsert",
        "UpdateItem",
        lambda: Note.upsert(id="n0", text="whole"),
        H0 | {"n0": "whole"},
        None,
    ),
    Loss("delete", "DeleteItem", lambda: Note.get(id="n0").delete(), H0, WriteOutcomeUnknownError),
    Loss(
        "create_many",
        "TransactWriteItems",
        lambda: Note.create_many([{"id": "n1"}]),
        N0 | H0 | {"n1": ""},
        WriteOutcomeUnknownError,
    ),
    Loss(
        "unique-create",
        "TransactWriteItems",
        lambda: Handle.create(id="h1", handle="new"),
        N0 | H0 | {"h1": "new"},
        WriteOutcomeUnknownError,
    ),
    Loss(
        "unique-save",
        "TransactWriteItems",
        lambda: _save(Handle, "h0", handle="moved"),
        N0 | {"h0": "moved"},
        WriteOutcomeUnknownError,
    ),
    Loss(
        "unique-upsert",
        "TransactWriteItems",
        lambda: Handle.upsert(id="h0", handle="whole"),
        N0 | {"h0": "whole"},
        WriteOutcomeUnknownError,
    ),
    Loss(
        "unique-delete",
        "TransactWriteItems",
        lambda: Handle.get(id="h0").delete(),
        N0,
        WriteOutcomeUnknownError,
    ),
    Loss(
        "unique-create_many",
        "TransactWriteItems",
        lambda: Handle.create_many([{"id": "h1", "handle": "new"}]),
        N0 | H0 | {"h1": "new"},
        WriteOutcomeUnknownError,
    ),
]


def contents() -> dict[str, str]:
    return {n.id: n.text for n in Note.all()} | {h.id: h.handle for h in Handle.all()}


def _save(model: type[Model], key: str, **changes: Any) -> None:
    instance = model.get(id=key)
    for name, value in changes.items():
        setattr(instance, name, value)
    instance.save()


# Without retries, the connection closes before the answer starts: an answer cut half-way
# is noticed only by botocore's CRC32 check, which runs when it may retry (see the docs).
LOSSES = [(0, "silence"), (3, "cut"), (3, "silence")]
LOSS_IDS = ["no-retries", "cut-then-resent", "silent-then-resent"]


@pytest.mark.parametrize(("retries", "mode"), LOSSES, ids=LOSS_IDS)
@pytest.mark.parametrize("loss", LOST, ids=[loss.id for loss in LOST])
def test_a_lost_answer_is_surfaced_and_the_resend_is_harmless(
    bind, backend, proxy, claims, tokens_honoured, retries, mode, loss
):
    bind(Note, Handle)
    Note.create(id="n0", text="old")
    Handle.create(id="h0", handle="old")
    Note.model_backend = Handle.model_backend = through(proxy, backend, retries)
    proxy.drop(loss.operation, mode)
    try:
        outcome = _outcome(loss.write)
    finally:
        Note.model_backend = Handle.model_backend = backend
    assert proxy.dropped[loss.operation] == 1
    if retries == 0:
        # Nobody resent it: the caller learns the answer was lost, from whom and where.
        assert type(outcome) is WriteOutcomeUnknownError, outcome
        assert proxy.endpoint in str(outcome) and backend.table_name in str(outcome)
        assert isinstance(outcome.__cause__, DynamoDBError)
    else:
        # The protocol resent it; its mark, its condition or its token kept it from
        # applying twice, and what it reports is the truth, or that the truth is unknown.
        assert proxy.forwarded[loss.operation] >= 2
        resent = None if tokens_honoured and loss.operation == "TransactWriteItems" else loss.resent
        assert type(outcome) is resent if resent else outcome is None, outcome
    assert contents() == loss.stored
    claims(Handle)
    if loss.stored.get("h0") != "old":
        Handle.create(id="later", handle="old")  # the value h0 moved away from is free


def _outcome(write: Callable[[], Any]) -> BaseException | None:
    try:
        write()
    except Exception as failure:
        return failure
    return None


# -- a transaction resent after its answer was lost -----------------------------------------


class Purse(Model):
    id: str = Field(primary_key=True)
    coins: int = 0


def _transfer(amount: int) -> None:
    with transaction() as tx:
        tx.update(
            Purse.model_construct(id="p0"),
            coins=F("coins") - amount,
            condition={"coins__gte": amount},
        )
        tx.update(Purse.model_construct(id="p1"), coins=F("coins") + amount)


def _fresh_token(operation: str, body: dict[str, Any]) -> None:
    """Break idempotency: every attempt of a transaction carries a token of its own."""
    if operation == "TransactWriteItems":
        body["ClientRequestToken"] = str(uuid.uuid4())


@pytest.mark.parametrize("mode", ["cut", "silence"])
@pytest.mark.parametrize("token", ["kept", "new-each-attempt"])
def test_a_resent_transaction_applies_once_where_its_token_is_honoured(
    bind, backend, proxy, tokens_honoured, mode, token
):
    bind(Purse)
    Purse.create(id="p0", coins=100)
    Purse.create(id="p1", coins=0)
    lossy = through(proxy, backend, retries=3)
    if token == "new-each-attempt":  # the proof: then the resend is a second transfer
        lossy.interceptors.append(_fresh_token)
    Purse.model_backend = lossy
    proxy.drop("TransactWriteItems", mode)
    try:
        _transfer(30)
    finally:
        Purse.model_backend = backend
        lossy.close()
    assert proxy.dropped["TransactWriteItems"] == 1
    assert proxy.forwarded["TransactWriteItems"] == 2
    coins = (Purse.get(id="p0").coins, Purse.get(id="p1").coins)
    once = tokens_honoured and token == "kept"
    assert coins == ((70, 30) if once else (40, 60)), (tokens_honoured, token)
