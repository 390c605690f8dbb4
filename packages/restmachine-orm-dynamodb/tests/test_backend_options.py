"""Where the backend's client comes from: given, made from a boto3 session, or made by boto3."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from restmachine_orm import Field, Model
from restmachine_orm_dynamodb import DynamoDBBackend
from restmachine_orm_dynamodb._flow import HttpRequest, HttpResponse


class Note(Model):
    id: str = Field(primary_key=True)


class Signed:
    """Sends on through the backend's own sender, keeping the headers each request had."""

    def __init__(self, sender: Any) -> None:
        self.sender, self.headers = sender, []

    def send(self, request: HttpRequest) -> HttpResponse:
        self.headers.append(dict(request.headers))
        answer: HttpResponse = self.sender.send(request)
        return answer

    def close(self) -> None:
        self.sender.close()


@pytest.mark.parametrize("access_key", ["sessionkey1", "sessionkey2"])
def test_a_session_makes_the_client_and_signs_the_requests(endpoint, backend, access_key):
    session = boto3.session.Session(
        aws_access_key_id=access_key, aws_secret_access_key="secret", region_name="eu-west-3"
    )
    made = DynamoDBBackend(
        f"{backend.table_name}-{access_key}", session=session, endpoint_url=endpoint
    )
    assert made.client.meta.region_name == "eu-west-3"
    assert made.client.meta.endpoint_url == endpoint
    made.create_table()  # local servers keep the tables of each key and region apart
    try:
        signed = Signed(made._sender)
        made._sender = signed  # type: ignore[assignment]
        Note.model_backend = made
        Note.create(id="n1")
        assert Note.get(id="n1") == Note(id="n1")
        assert len(signed.headers) == 2
        for headers in signed.headers:
            assert f"Credential={access_key}/" in headers["Authorization"]
            assert "/eu-west-3/dynamodb/aws4_request" in headers["Authorization"]
    finally:
        del Note.model_backend
        made.client.delete_table(TableName=made.table_name)
        made.close()


def test_a_given_client_wins_over_the_options_for_making_one(endpoint, backend):
    made = DynamoDBBackend(
        backend.table_name, client=backend.client, region_name="ap-south-1", endpoint_url="x"
    )
    assert made.client is backend.client
    assert made.get(Note.orm_schema(), ("nobody",)) is None  # sent to the client's endpoint
    made.close()
