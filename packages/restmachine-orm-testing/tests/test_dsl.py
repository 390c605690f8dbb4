"""The DSL's 13 methods, and what their failures say."""

from __future__ import annotations

import pytest

from restmachine_orm import DuplicateKeyError, Field, InMemoryBackend, Model, NotFoundError
from restmachine_orm_testing import InMemoryDriver, OrmClient, VerificationError


class User(Model):
    id: str = Field(primary_key=True)
    email: str = Field(unique=True)
    name: str
    age: int = Field(ge=0, default=0)


class ForgetfulBackend(InMemoryBackend):
    """Stores every row with its name dropped to 'lost': storage that lies."""

    def insert(self, schema, row):
        super().insert(schema, {**row, "name": "lost"})


class ForgetfulDriver(InMemoryDriver):
    def __init__(self):
        self.backend = ForgetfulBackend()

    def get_backend_name(self):
        return "forgetful"


@pytest.fixture
def client():
    before = User.__dict__.get("model_backend")
    yield OrmClient(InMemoryDriver())
    if before is None:
        User.__dict__.get("model_backend") and delattr(User, "model_backend")


def test_the_thirteen_methods(client):
    ann = client.create_and_verify(User, id="u1", email="a@x.io", name="Ann", age=30)
    client.create_and_verify(User, id="u2", email="b@x.io", name="Bob", age=25)
    client.create_and_verify(User, id="u3", email="c@x.io", name="Cy", age=60)
    client.expect_create_failure(User, DuplicateKeyError, id="u1", email="z@x.io", name="Z")
    assert client.get_and_verify_exists(User, id="u1") == ann
    client.get_and_verify_not_exists(User, id="nobody")
    updated = client.update_and_verify(ann, age=31, name="Ann Smith")
    assert (updated.age, updated.name) == (31, "Ann Smith")
    client.expect_update_failure(User(id="zz", email="z@x.io", name="Z"), NotFoundError, age=2)
    upserted = client.upsert_and_verify(User, id="u4", email="d@x.io", name="Di")
    client.delete_and_verify(upserted)
    result = client.query_models(
        User, filters={"age__gte": 25, "age__lte": 50}, order_by=["age"], limit=10
    )
    assert result.success
    assert [u.id for u in result.data] == ["u2", "u1"]
    found = client.query_and_verify_count(User, expected_count=2, filters={"age__gte": 30})
    assert sorted(u.id for u in found) == ["u1", "u3"]
    assert client.count_models(User, age__gte=30) == 2
    assert client.model_exists(User, email="a@x.io")
    assert not client.model_exists(User, email="nobody@x.io")
    assert sorted(u.id for u in client.all_models(User)) == ["u1", "u2", "u3"]


def test_a_failed_query_keeps_its_error(client):
    result = client.query_models(User, filters={"agee": 1})
    assert not result.success
    assert "agee" in str(result.error)


def test_verification_names_backend_model_and_differing_field():
    client = OrmClient(ForgetfulDriver())
    with pytest.raises(VerificationError) as caught:
        client.create_and_verify(User, id="u1", email="a@x.io", name="Ann")
    message = str(caught.value)
    assert message.startswith("[forgetful] User:")
    assert "name: expected 'Ann', stored 'lost'" in message
    assert "email" not in message


def test_expect_failure_says_what_it_saw(client):
    with pytest.raises(
        VerificationError, match="expected create to raise DuplicateKeyError, but it succeeded"
    ):
        client.expect_create_failure(User, DuplicateKeyError, id="u1", email="a@x.io", name="A")
    with pytest.raises(VerificationError, match=r"got ValidationError"):
        client.expect_create_failure(User, DuplicateKeyError, id="u2", email="b@x.io", age=-1)
    with pytest.raises(VerificationError, match=r"\[inmemory\] User: expected a row with id='x'"):
        client.get_and_verify_exists(User, id="x")
    with pytest.raises(VerificationError, match="returned 1 rows, expected 5"):
        client.query_and_verify_count(User, 5)
    with pytest.raises(VerificationError, match="create failed with DuplicateKeyError"):
        client.create_and_verify(User, id="u1", email="c@x.io", name="C")
