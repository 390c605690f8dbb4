"""The test driver: per-test isolation on one table, reset only when something was written."""

from __future__ import annotations

from conftest import Requests

from restmachine_orm import Field, Model
from restmachine_orm_dynamodb.testing import DynamoDBDriver


class Thing(Model):
    id: str = Field(primary_key=True)
    n: int = 0


def test_a_reset_empties_the_table_after_writes_and_sends_nothing_after_reads(endpoint):
    driver = DynamoDBDriver(endpoint)
    try:
        backend = driver.backend
        sent = Requests(backend.client)
        driver.reset([Thing])  # first use: whatever an earlier session left goes
        Thing.model_backend = backend
        Thing.create(id="t1")
        Thing.create_many([{"id": f"m{i}"} for i in range(30)])
        sent.reset()
        driver.reset([Thing])
        assert sent.counts()["Scan"] == 1 and sent.counts()["BatchWriteItem"] == 2
        assert Thing.all() == []
        sent.reset()
        driver.reset([Thing])  # the last test only read: nothing to empty
        assert sent.operations == []
        Thing.get(id="t1")
        driver.reset([Thing])
        assert sent.operations == ["GetItem"]  # the read itself, and no reset after it
    finally:
        del Thing.model_backend
        driver.close()
