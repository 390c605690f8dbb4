"""The table object every request goes through: answers, typed refusals, translated errors."""

from __future__ import annotations

from typing import Any

import pytest
from answers import error

from restmachine_orm_dynamodb import DynamoDBError, RetryConfig, TransactionsUnsupportedError
from restmachine_orm_dynamodb._flow import Flow, run
from restmachine_orm_dynamodb._keys import KeyScheme
from restmachine_orm_dynamodb._table import CancellationReason, Table


@pytest.fixture
def table(backend) -> Table:
    """A table object on the test table, through the backend's protocol layer."""
    return Table(backend._table.protocol, backend.table_name, KeyScheme(), RetryConfig())


@pytest.fixture
def sent(backend) -> Any:
    """Run a flow of the table through the backend's sender."""

    def send(flow: Flow[Any]) -> Any:
        return run(flow, backend._sender)

    return send


def put(table: Table, pk: str, **condition: Any) -> dict[str, Any]:
    item = {"pk": {"S": pk}, "sk": {"S": "x"}, "n": {"N": "1"}}
    return {"Put": {"TableName": table.name, "Item": item, **condition}}


def test_a_cancelled_transaction_gives_one_typed_reason_per_action(table, sent):
    assert sent(table.transact([put(table, "a")])) is None  # written
    absent = {
        **table.keys.if_absent(),
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }
    reasons = sent(table.transact([put(table, "b"), put(table, "a", **absent)]))
    assert reasons is not None and len(reasons) == 2
    fine, failed = reasons
    assert fine.code is None and fine.item is None  # that action was fine
    assert failed.code == "ConditionalCheckFailed"
    assert failed.item == {"pk": {"S": "a"}, "sk": {"S": "x"}, "n": {"N": "1"}}
    assert sent(table.read({"pk": {"S": "b"}, "sk": {"S": "x"}})) is None  # nothing applied


def test_unparseable_reasons_read_as_fine_actions():
    assert CancellationReason.parse("junk") == CancellationReason(None, "", None)
    assert CancellationReason.parse({"Code": "None"}).code is None
    assert CancellationReason.parse({"Code": "TransactionConflict", "Message": "m"}) == (
        CancellationReason("TransactionConflict", "m", None)
    )


def test_a_failed_condition_is_none_and_other_errors_name_operation_endpoint_and_table(
    backend, table, sent
):
    key = {"pk": {"S": "c"}, "sk": {"S": "x"}}
    assert sent(table.conditional("PutItem", Item=key, **table.keys.if_absent())) is not None
    assert sent(table.conditional("PutItem", Item=key, **table.keys.if_absent())) is None
    with pytest.raises(DynamoDBError) as caught:
        sent(table.call("PutItem", Item={"pk": {"S": "d"}}))  # no sort key: refused
    message = str(caught.value)
    assert message.startswith(
        f"PutItem on table {table.name!r} at {backend.client.meta.endpoint_url}"
    )
    assert "ValidationException" in message
    assert caught.value.__cause__ is not None  # botocore's error, kept


def test_a_server_without_transactions_is_named_as_such(table, sent, inject):
    def unknown(operation: str, _: dict[str, Any]) -> Any:
        if operation == "TransactWriteItems":
            return error("UnknownOperationException", "")
        return None

    inject(unknown)
    with pytest.raises(TransactionsUnsupportedError, match="does not support TransactWriteItems"):
        sent(table.transact([put(table, "e")]))
