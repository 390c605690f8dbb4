"""The spec's "Quick Example", as written."""

from typing import List, Type

from restmachine_orm import Field, Model
from restmachine_orm_testing import MultiBackendTestBase


class User(Model):
    id: str = Field(primary_key=True)
    email: str
    name: str


class TestUserModel(MultiBackendTestBase):
    def get_test_models(self) -> List[Type]:
        return [User]

    def test_create_user(self, orm):
        """This test runs against ALL enabled backends."""
        orm_client, backend_name = orm

        user = orm_client.create_and_verify(
            User,
            id="user-123",
            email="alice@example.com",
            name="Alice"
        )

        assert user.id == "user-123"
        assert user.email == "alice@example.com"
