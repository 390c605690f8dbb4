"""The test driver: per-test isolation on one table, emptied by deleting what was written."""

from __future__ import annotations

from conftest import Requests, scan_all

from restmachine_orm import Field, Model
from restmachine_orm_dynamodb.testing import DynamoDBDriver


class Thing(Model):
    id: str = Field(primary_key=True)
    handle: str | None = Field(None, unique=True)


def test_a_reset_deletes_exactly_what_was_written_and_nothing_after_reads(endpoint):
    driver = DynamoDBDriver(endpoint)
    try:
        backend = driver.backend
        sent = Requests(backend)
        driver.reset([Thing])
        # First use: the indexes are looked up, and what an earlier session left is found.
        assert sent.operations == ["DescribeTable", "Scan"]
        Thing.model_backend = backend
        Thing.create(id="t1", handle="h1")  # a row and its claim
        Thing.create_many([{"id": f"m{i}"} for i in range(30)])
        Thing.upsert(id="u1")
        row = Thing.get(id="m0")
        row.handle = "h2"
        row.save()  # claims h2 too
        sent.reset()
        driver.reset([Thing])
        deletes = [
            entry["DeleteRequest"]["Key"]["pk"]["S"]
            for name, body in sent.sent
            for entry in body["RequestItems"][backend.table_name]
        ]
        assert {name for name, _ in sent.sent} == {"BatchWriteItem"}  # no Scan
        assert len(deletes) == 32 + 2  # 32 rows, then 2 claims
        assert Thing.all() == []
        sent.reset()
        Thing.get(id="t1")
        driver.reset([Thing])  # the last test only read: nothing to empty
        assert sent.operations == ["GetItem"]
    finally:
        if "model_backend" in vars(Thing):
            del Thing.model_backend
        driver.close()


def test_a_write_it_cannot_read_makes_the_next_reset_scan(endpoint):
    driver = DynamoDBDriver(endpoint)
    try:
        backend = driver.backend
        driver.reset([Thing])
        for interceptor in list(backend.interceptors):  # the driver's watch among them
            interceptor("PutItem", {"TableName": backend.table_name, "Item": "not an item"})
        sent = Requests(backend)
        driver.reset([Thing])
        assert sent.operations == ["Scan"]
    finally:
        driver.close()


def test_the_embedded_server_is_emptied_without_a_request(monkeypatch):
    monkeypatch.delenv("RESTMACHINE_ORM_DYNAMODB_ENDPOINT", raising=False)
    driver = DynamoDBDriver()
    try:
        backend = driver.backend
        driver.reset([Thing])
        Thing.model_backend = backend
        Thing.create(id="t1", handle="h1")
        Thing.create_many([{"id": f"m{i}"} for i in range(30)])
        sent = Requests(backend)
        driver.reset([Thing])
        assert sent.operations == []
        assert scan_all(backend.client, backend.table_name) == []
    finally:
        if "model_backend" in vars(Thing):
            del Thing.model_backend
        driver.close()
