"""Runs the documentation's code blocks (pytest-markdown-docs) against real backends."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from restmachine_orm_dynamodb._moto import EmbeddedMoto
from restmachine_orm_testing import InMemoryDriver, OrmClient


@pytest.fixture(scope="session", autouse=True)
def local_dynamodb() -> Iterator[str]:
    """Point boto3 at an embedded DynamoDB for the examples that build their own client."""
    server = EmbeddedMoto()
    endpoint = server.start()
    patch = pytest.MonkeyPatch()
    patch.setenv("AWS_ENDPOINT_URL_DYNAMODB", endpoint)
    patch.setenv("AWS_ACCESS_KEY_ID", "docs")
    patch.setenv("AWS_SECRET_ACCESS_KEY", "docs")
    yield endpoint
    patch.undo()
    server.stop()


def pytest_markdown_docs_globals() -> dict[str, Any]:
    """Names the DSL fragments use, as the ``orm`` fixture would give them."""
    return {"orm_client": OrmClient(InMemoryDriver())}
