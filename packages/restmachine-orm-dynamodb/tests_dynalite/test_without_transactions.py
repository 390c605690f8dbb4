"""On a server without TransactWriteItems (dynalite), unique fields and create_many fail
loudly, never silently.

Run by ``nox -s tests-dynalite``, which starts dynalite and sets the endpoint variable.
"""

from __future__ import annotations

import os

import boto3
import pytest

from restmachine_orm import BackendError, Field, Model
from restmachine_orm_dynamodb import DynamoDBBackend, TransactionsUnsupportedError
from restmachine_orm_dynamodb.testing import ENV_ENDPOINT


class Member(Model):
    id: str = Field(primary_key=True)
    email: str = Field(unique=True)


class Plain(Model):
    id: str = Field(primary_key=True)
    n: int = 0


@pytest.fixture
def backend():
    endpoint = os.environ[ENV_ENDPOINT]  # set by the nox session; a KeyError says it is not
    client = boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="dynalite",
        aws_secret_access_key="dynalite",
    )
    backend = DynamoDBBackend("restmachine-orm-dynalite", client=client)
    backend.create_table()
    backend.clear()
    Member.model_backend = Plain.model_backend = backend
    yield backend
    del Member.model_backend, Plain.model_backend


def test_unique_fields_raise_a_backend_error_that_says_why(backend):
    with pytest.raises(TransactionsUnsupportedError) as failure:
        Member.create(id="m1", email="m@example.com")
    assert isinstance(failure.value, BackendError)
    assert "TransactWriteItems" in str(failure.value)
    assert "restmachine-orm-dynalite" in str(failure.value)
    assert Member.get(id="m1") is None  # nothing was written without its claim
    with pytest.raises(TransactionsUnsupportedError):
        Member.create_many([{"id": "m2", "email": "n@example.com"}])
    assert Member.get(id="m2") is None


def test_create_many_needs_transactions_even_without_unique_fields(backend):
    # Its rows go in conditional transactions, so that it never overwrites a row created
    # concurrently: without them it refuses, rather than write unconditionally.
    with pytest.raises(TransactionsUnsupportedError) as failure:
        Plain.create_many([{"id": "p1"}, {"id": "p2"}])
    assert "create_many" in str(failure.value)
    assert Plain.get_many([{"id": "p1"}, {"id": "p2"}]) == [None, None]


def test_models_without_unique_fields_work_fully_one_row_at_a_time(backend):
    row = Plain.create(id="p1", n=1)
    row.n = 2
    row.save()
    assert Plain.get(id="p1").n == 2
    assert Plain.where(n__gte=2).count() == 1
    row.delete()
    assert Plain.get(id="p1") is None
