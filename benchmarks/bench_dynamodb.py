"""The DynamoDB backend against the raw boto3 client sending the same requests.

Runs on the server at ``RESTMACHINE_ORM_BENCH_ENDPOINT`` (``nox -s benchmarks`` starts
dynalite, the fastest local server, so that client overhead shows).
"""

from __future__ import annotations

import os
import time

import boto3
from _harness import Row, Table, side_by_side

from restmachine_orm import Field, Model
from restmachine_orm_dynamodb import DEFAULT_CONFIG, DynamoDBBackend

ENDPOINT_VAR = "RESTMACHINE_ORM_BENCH_ENDPOINT"


class Reading(Model):
    sensor: str = Field(partition_key=True)
    at: int = Field(sort_key=True)
    value: int = 0
    note: str = ""


def _client(endpoint: str) -> object:
    return boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="bench",
        aws_secret_access_key="bench",
        config=DEFAULT_CONFIG,
    )


def _key(sensor: str, at: int) -> dict[str, dict[str, str]]:
    return {"pk": {"S": f"Reading#{sensor}"}, "sk": {"S": f"Reading#{at}"}}


def _item(sensor: str, at: int, value: int) -> dict[str, dict[str, str]]:
    return {
        **_key(sensor, at),
        "_type": {"S": "Reading"},
        "sensor": {"S": sensor},
        "at": {"N": str(at)},
        "value": {"N": str(value)},
        "note": {"S": ""},
    }


ABSENT = {
    "ConditionExpression": "attribute_not_exists(#k)",
    "ExpressionAttributeNames": {"#k": "pk"},
}
PRESENT = {"ConditionExpression": "attribute_exists(#k)", "ExpressionAttributeNames": {"#k": "pk"}}


def run(quick: bool) -> list[Table]:
    endpoint = os.environ.get(ENDPOINT_VAR)
    if not endpoint:
        print(f"(DynamoDB group not run: set {ENDPOINT_VAR}, as `nox -s benchmarks` does)\n")
        return []
    client = _client(endpoint)
    table_name = f"bench-{int(time.time())}"
    backend = DynamoDBBackend(table_name, client=client)
    backend.create_table()
    Reading.model_backend = backend
    rounds, ops = (3, 30) if quick else (9, 100)
    raw = client
    t = table_name

    # Point operations: each round works on its own fresh keys.
    def orm_create(r: int) -> None:
        for i in range(ops):
            Reading.create(sensor=f"o{r}", at=i, value=i)

    def raw_create(r: int) -> None:
        for i in range(ops):
            raw.put_item(TableName=t, Item=_item(f"r{r}", i, i), **ABSENT)

    def orm_get(r: int) -> None:
        for i in range(ops):
            Reading.get(sensor=f"o{r}", at=i)

    def raw_get(r: int) -> None:
        for i in range(ops):
            raw.get_item(TableName=t, Key=_key(f"r{r}", i), ConsistentRead=True)

    loaded: dict[int, list[Reading]] = {}

    def orm_save(r: int) -> None:
        for row in loaded[r]:
            row.value += 1
            row.note = "saved"
            row.save()

    def raw_save(r: int) -> None:
        for i in range(ops):
            raw.update_item(
                TableName=t,
                Key=_key(f"r{r}", i),
                ReturnValues="ALL_NEW",
                UpdateExpression="SET #v = :v, #n = :n",
                ConditionExpression="attribute_exists(#k)",
                ExpressionAttributeNames={"#v": "value", "#n": "note", "#k": "pk"},
                ExpressionAttributeValues={":v": {"N": str(i + 1)}, ":n": {"S": "saved"}},
            )

    def orm_delete(r: int) -> None:
        for row in loaded[r]:
            row.delete()

    def raw_delete(r: int) -> None:
        for i in range(ops):
            raw.delete_item(TableName=t, Key=_key(f"r{r}", i), **PRESENT)

    table = Table(
        "DynamoDB backend on dynalite (model without unique fields)",
        "ORM",
        "raw boto3 (same requests)",
    )
    medians = {}
    for name, orm, floor in (
        ("create (PutItem)", orm_create, raw_create),
        ("get (GetItem)", orm_get, raw_get),
        ("save, 2 fields (UpdateItem)", orm_save, raw_save),
        ("delete (DeleteItem)", orm_delete, raw_delete),
    ):
        if orm is orm_save:  # load the rows to save outside the timed rounds
            for r in range(rounds):
                loaded[r] = [Reading.get(sensor=f"o{r}", at=i) for i in range(ops)]
        measured = side_by_side({"orm": orm, "floor": floor}, rounds=rounds, ops=ops)
        medians[name] = measured
        table.rows.append(Row(name, measured["orm"], measured["floor"], goal=1.10, unit="ms"))

    # Reads over fixed data: 100 items in one partition, 1,000 in total.
    Reading.create_many([{"sensor": f"s{i % 10}", "at": i, "value": i} for i in range(1000)])

    def raw_partition(**extra: object) -> None:
        _drain(
            raw,
            "query",
            TableName=t,
            ConsistentRead=True,
            **extra,
            KeyConditionExpression="#k = :k AND begins_with(#s, :m)",
            ExpressionAttributeNames={"#k": "pk", "#s": "sk"},
            ExpressionAttributeValues={":k": {"S": "Reading#s3"}, ":m": {"S": "Reading"}},
        )

    def raw_filtered(**extra: object) -> None:
        _drain(
            raw,
            "scan",
            TableName=t,
            ConsistentRead=True,
            **extra,
            FilterExpression="#t = :t AND #v >= :v",
            ExpressionAttributeNames={"#t": "_type", "#v": "value"},
            ExpressionAttributeValues={":t": {"S": "Reading"}, ":v": {"N": "900"}},
        )

    reads = {
        "query 100 in a partition": (
            lambda _: Reading.where(sensor="s3").all(),
            lambda _: raw_partition(),
            1.20,
        ),
        "scan + filter over 1,000": (
            lambda _: Reading.where(value__gte=900).all(),
            lambda _: raw_filtered(),
            1.20,
        ),
        "count in a partition": (
            lambda _: Reading.where(sensor="s3").count(),
            lambda _: raw_partition(Select="COUNT"),
            1.10,
        ),
        "count with a filter": (
            lambda _: Reading.where(value__gte=900).count(),
            lambda _: raw_filtered(Select="COUNT"),
            1.10,
        ),
    }
    for name, (orm, floor, goal) in reads.items():
        measured = side_by_side({"orm": orm, "floor": floor}, rounds=rounds * 2, ops=1)
        table.rows.append(Row(name, measured["orm"], measured["floor"], goal=goal, unit="ms"))

    cpu = Table("Client CPU per point operation (process time)", "ORM", "raw boto3")
    Reading.create_many([{"sensor": "cpu", "at": i} for i in range(ops)])
    measured = side_by_side(
        {
            "orm": lambda _: [Reading.get(sensor="cpu", at=i) for i in range(ops)],
            "floor": lambda _: [
                raw.get_item(TableName=t, Key=_key("cpu", i), ConsistentRead=True)
                for i in range(ops)
            ],
        },
        rounds=rounds * 2,
        ops=ops,
        clock=time.process_time,
    )
    orm_cpu, raw_cpu = measured["orm"], measured["floor"]
    cpu.rows.append(
        Row("get: CPU added per op", orm_cpu, raw_cpu, goal=0.05e-3, unit="ms", added=True)
    )
    client.delete_table(TableName=t)
    return [table, cpu]


def _drain(client: object, operation: str, **request: object) -> None:
    method = getattr(client, operation)
    while True:
        answer = method(**request)
        last = answer.get("LastEvaluatedKey")
        if not last:
            return
        request["ExclusiveStartKey"] = last
