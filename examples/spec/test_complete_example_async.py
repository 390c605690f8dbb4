"""The spec's "Complete Example", written async: ``aorm``, every DSL step awaited."""

from typing import List, Type
from datetime import datetime
from restmachine_orm import Model, Field
from restmachine_orm.backends.base import DuplicateKeyError, NotFoundError
from restmachine_orm_testing import MultiBackendTestBase

class User(Model):
    id: str = Field(primary_key=True)
    email: str = Field(unique=True)
    name: str
    age: int = Field(ge=0, default=0)
    created_at: datetime | None = Field(None, auto_now_add=True)

class TestUserModel(MultiBackendTestBase):
    ENABLED_BACKENDS = ['inmemory', 'dynamodb']

    def get_test_models(self) -> List[Type]:
        return [User]

    async def test_create_user(self, aorm):
        """Test creating a user."""
        orm_client, backend_name = aorm

        user = await orm_client.create_and_verify(
            User,
            id="user-123",
            email="alice@example.com",
            name="Alice",
            age=30
        )

        assert user.id == "user-123"
        assert user.email == "alice@example.com"
        assert user.created_at is not None

    async def test_create_duplicate_fails(self, aorm):
        """Test duplicate creation fails."""
        orm_client, backend_name = aorm

        await orm_client.create_and_verify(
            User,
            id="user-123",
            email="test@example.com",
            name="Test"
        )

        await orm_client.expect_create_failure(
            User,
            DuplicateKeyError,
            id="user-123",
            email="different@example.com",
            name="Different"
        )

    async def test_get_user(self, aorm):
        """Test retrieving a user."""
        orm_client, backend_name = aorm

        # Create user
        await orm_client.create_and_verify(
            User,
            id="user-123",
            email="alice@example.com",
            name="Alice"
        )

        # Get user
        user = await orm_client.get_and_verify_exists(User, id="user-123")
        assert user.email == "alice@example.com"

        # Verify nonexistent
        await orm_client.get_and_verify_not_exists(User, id="nonexistent")

    async def test_update_user(self, aorm):
        """Test updating a user."""
        orm_client, backend_name = aorm

        user = await orm_client.create_and_verify(
            User,
            id="user-123",
            email="alice@example.com",
            name="Alice",
            age=30
        )

        updated = await orm_client.update_and_verify(
            user,
            age=31,
            name="Alice Smith"
        )

        assert updated.age == 31
        assert updated.name == "Alice Smith"

    async def test_delete_user(self, aorm):
        """Test deleting a user."""
        orm_client, backend_name = aorm

        user = await orm_client.create_and_verify(
            User,
            id="user-123",
            email="alice@example.com",
            name="Alice"
        )

        await orm_client.delete_and_verify(user)
        await orm_client.get_and_verify_not_exists(User, id="user-123")

    async def test_upsert_user(self, aorm):
        """Test upserting a user."""
        orm_client, backend_name = aorm

        # Initial upsert (creates)
        user1 = await orm_client.upsert_and_verify(
            User,
            id="user-123",
            email="alice@example.com",
            name="Alice",
            age=30
        )
        assert user1.age == 30

        # Second upsert (updates)
        user2 = await orm_client.upsert_and_verify(
            User,
            id="user-123",
            email="alice.new@example.com",
            name="Alice Jones",
            age=31
        )
        assert user2.age == 31
        assert user2.email == "alice.new@example.com"

    async def test_query_users(self, aorm):
        """Test querying users."""
        orm_client, backend_name = aorm

        # Create test data
        await orm_client.create_and_verify(User, id="user-1", email="a@example.com", name="Alice", age=30)
        await orm_client.create_and_verify(User, id="user-2", email="b@example.com", name="Bob", age=25)
        await orm_client.create_and_verify(User, id="user-3", email="c@example.com", name="Carol", age=35)

        # Query with filters
        users = await orm_client.query_and_verify_count(
            User,
            expected_count=2,
            filters={"age__gte": 30}
        )

        ages = [u.age for u in users]
        assert 30 in ages
        assert 35 in ages

    async def test_count_and_exists(self, aorm):
        """Test counting and existence checks."""
        orm_client, backend_name = aorm

        # Create users
        await orm_client.create_and_verify(User, id="user-1", email="a@example.com", name="Alice", age=30)
        await orm_client.create_and_verify(User, id="user-2", email="b@example.com", name="Bob", age=25)

        # Count
        count = await orm_client.count_models(User, age__gte=30)
        assert count == 1

        # Exists
        exists = await orm_client.model_exists(User, email="a@example.com")
        assert exists

        not_exists = await orm_client.model_exists(User, email="nonexistent@example.com")
        assert not not_exists
