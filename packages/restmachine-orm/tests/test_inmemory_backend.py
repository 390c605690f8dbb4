"""``InMemoryBackend``: copies in and out, clear, O(1) lookups, and the ``Backend`` contract."""

from __future__ import annotations

from typing import Any

import pytest
from sample_models import Account, Message, Person, User

from restmachine_orm import (
    CAPABILITIES,
    Backend,
    DuplicateKeyError,
    Field,
    InMemoryBackend,
    Model,
    NotFoundError,
)
from restmachine_orm.query import QuerySpec

# -- copies ----------------------------------------------------------------------------


def _stored_tags(user_id: str = "u1") -> list[str]:
    found = User.get(id=user_id)
    assert found is not None
    return found.tags


def test_mutating_the_created_instance_does_not_change_stored_data() -> None:
    user = User.create(id="u1", email="a@example.com", name="Ann", tags=["x"])
    user.tags.append("y")
    user.name = "changed"
    assert _stored_tags() == ["x"]
    assert User.get(id="u1").name == "Ann"  # type: ignore[union-attr]


def test_mutating_the_input_list_does_not_change_stored_data() -> None:
    tags = ["x"]
    User.create(id="u1", email="a@example.com", name="Ann", tags=tags)
    tags.append("y")
    assert _stored_tags() == ["x"]


def test_mutating_a_loaded_instance_does_not_change_stored_data() -> None:
    User.create(id="u1", email="a@example.com", name="Ann", tags=["x"])
    User.get(id="u1").tags.append("from get")  # type: ignore[union-attr]
    User.all()[0].tags.append("from all")
    next(iter(User.where(id="u1"))).tags.append("from iteration")
    User.where().first().tags.append("from first")  # type: ignore[union-attr]
    User.where().paginate(1).items[0].tags.append("from paginate")
    User.get_many([{"id": "u1"}])[0].tags.append("from get_many")  # type: ignore[union-attr]
    assert _stored_tags() == ["x"]


def test_mutating_a_saved_or_upserted_instance_does_not_change_stored_data() -> None:
    user = User.create(id="u1", email="a@example.com", name="Ann", tags=["x"])
    user.tags.append("y")
    user.save()
    user.tags.append("after save")
    assert _stored_tags() == ["x", "y"]
    upserted = User.upsert(id="u1", email="a@example.com", name="Ann", tags=["z"])
    upserted.tags.append("after upsert")
    assert _stored_tags() == ["z"]


def test_mutating_created_many_instances_does_not_change_stored_data() -> None:
    [user] = User.create_many([{"id": "u1", "email": "a@example.com", "name": "A", "tags": ["x"]}])
    user.tags.append("y")
    assert _stored_tags() == ["x"]


def test_nested_dict_values_are_copied_too() -> None:
    person = Person.create(id="p1", name="Ann", meta={"a": 1})
    person.meta["b"] = 2
    loaded = Person.get(id="p1")
    assert loaded is not None
    assert loaded.meta == {"a": 1}
    loaded.meta["c"] = 3
    assert Person.get(id="p1").meta == {"a": 1}  # type: ignore[union-attr]


def test_rows_handed_out_by_the_backend_are_copies(backend: InMemoryBackend) -> None:
    schema = User.orm_schema()
    User.create(id="u1", email="a@example.com", name="Ann", tags=["x"])
    row = backend.get(schema, ("u1",))
    assert row is not None
    row["tags"].append("y")
    [queried] = backend.query(QuerySpec(schema))
    queried["tags"].append("z")
    assert backend.get(schema, ("u1",))["tags"] == ["x"]  # type: ignore[index]


def test_rows_given_to_the_backend_are_copied(backend: InMemoryBackend) -> None:
    schema = User.orm_schema()
    row = User(id="u1", email="a@example.com", name="Ann", tags=["x"]).model_dump()
    backend.insert(schema, row)
    row["tags"].append("y")
    assert backend.get(schema, ("u1",))["tags"] == ["x"]  # type: ignore[index]


# -- clear -----------------------------------------------------------------------------


@pytest.fixture
def two_models() -> None:
    User.create(id="u1", email="a@example.com", name="Ann")
    Account.create(id="a1", email="a@example.com", handle="ann")


def test_clear_one_model(backend: InMemoryBackend, two_models) -> None:
    backend.clear(Account.orm_schema())
    assert Account.all() == []
    assert [u.id for u in User.all()] == ["u1"]
    # Its unique values are free again; the other model's are not.
    Account.create(id="a2", email="a@example.com", handle="ann")
    with pytest.raises(DuplicateKeyError):
        User.create(id="u2", email="a@example.com", name="Bob")


def test_clear_every_model(backend: InMemoryBackend, two_models) -> None:
    backend.clear()
    assert User.all() == []
    assert Account.all() == []
    assert User.where().count() == 0
    User.create(id="u1", email="a@example.com", name="Ann")
    Account.create(id="a1", email="a@example.com", handle="ann")


def test_clear_of_a_model_never_stored(backend: InMemoryBackend) -> None:
    backend.clear(Message.orm_schema())
    assert Message.all() == []


# -- O(1) lookups ----------------------------------------------------------------------

ROW_COUNT = 10_000


class TouchedRow(dict):
    """A stored row that records, in a shared set, that something read one of its fields."""

    touched: set[str]

    def __init__(self, touched: set[str], **fields: Any) -> None:
        super().__init__(**fields)
        self.touched = touched

    def _mark(self) -> None:
        self.touched.add(dict.__getitem__(self, "id"))

    def __getitem__(self, name: str) -> Any:
        self._mark()
        return super().__getitem__(name)

    def get(self, name: str, default: Any = None) -> Any:
        self._mark()
        return super().get(name, default)

    def __contains__(self, name: object) -> bool:
        self._mark()
        return super().__contains__(name)

    def items(self) -> Any:
        self._mark()
        return super().items()

    def values(self) -> Any:
        self._mark()
        return super().values()


@pytest.fixture
def touched(backend: InMemoryBackend) -> set[str]:
    """Store many flat ``Account`` rows straight in the backend; return who reads them.

    The set starts empty after the rows are stored; a scan of the table would put every
    row's id in it, a lookup by key or unique value only the one row found.
    """
    seen: set[str] = set()
    schema = Account.orm_schema()
    for n in range(ROW_COUNT):
        backend.insert(
            schema,
            TouchedRow(seen, id=f"a{n}", email=f"user{n}@example.com", handle=None, name=""),
        )
    seen.clear()
    return seen


def test_the_probe_sees_a_scan(touched: set[str]) -> None:
    assert Account.where(name="nobody").all() == []
    assert len(touched) == ROW_COUNT


def test_get_by_key_reads_one_row(touched: set[str]) -> None:
    found = Account.get(id="a4321")
    assert found is not None and found.email == "user4321@example.com"
    assert touched <= {"a4321"}


def test_get_of_a_missing_key_reads_no_row(touched: set[str]) -> None:
    assert Account.get(id="missing") is None
    assert touched == set()


def test_where_by_key_reads_one_row(touched: set[str]) -> None:
    assert [a.id for a in Account.where(id="a9999")] == ["a9999"]
    assert Account.where(id="a17").count() == 1
    assert Account.where(id="a17").exists()
    assert touched <= {"a9999", "a17"}


def test_where_by_unique_value_reads_one_row(touched: set[str]) -> None:
    assert [a.id for a in Account.where(email="user777@example.com")] == ["a777"]
    assert Account.where(email="user5@example.com").first().id == "a5"  # type: ignore[union-attr]
    assert Account.where(email="user5@example.com").count() == 1
    assert touched <= {"a777", "a5"}


def test_where_by_unique_value_and_more_reads_one_row(touched: set[str]) -> None:
    assert Account.where(email="user3@example.com", name="x").all() == []
    assert Account.where(email="user3@example.com").and_(name="").count() == 1
    assert touched <= {"a3"}


def test_where_by_a_free_unique_value_reads_no_row(touched: set[str]) -> None:
    assert Account.where(email="nobody@example.com").all() == []
    assert Account.where(email="nobody@example.com").exists() is False
    assert touched == set()


def test_get_many_reads_only_the_rows_asked_for(touched: set[str]) -> None:
    found = Account.get_many([{"id": "a1"}, {"id": "a2"}, {"id": "none"}])
    assert [a.id if a else None for a in found] == ["a1", "a2", None]
    assert touched <= {"a1", "a2"}


def test_lookups_by_composite_key_read_one_row(backend: InMemoryBackend) -> None:
    seen: set[str] = set()
    schema = Message.orm_schema()

    class TouchedMessage(TouchedRow):
        def _mark(self) -> None:
            self.touched.add(f"{dict.__getitem__(self, 'thread')}/{dict.__getitem__(self, 'seq')}")

    for n in range(2_000):
        backend.insert(
            schema,
            TouchedMessage(seen, thread=f"t{n % 10}", seq=n, body="b", author=None),
        )
    seen.clear()
    assert Message.get(thread="t3", seq=13) is not None
    assert [m.seq for m in Message.where(thread="t3", seq=13)] == [13]
    assert seen <= {"t3/13"}


def test_unique_index_follows_changes() -> None:
    account = Account.create(id="a1", email="old@example.com")
    account.email = "new@example.com"
    account.save()
    assert Account.where(email="old@example.com").all() == []
    assert [a.id for a in Account.where(email="new@example.com")] == ["a1"]
    Account.upsert(id="a1", email="newer@example.com")
    assert Account.where(email="new@example.com").all() == []
    assert [a.id for a in Account.where(email="newer@example.com")] == ["a1"]
    Account.get(id="a1").delete()  # type: ignore[union-attr]
    assert Account.where(email="newer@example.com").all() == []


# -- the Backend contract --------------------------------------------------------------


def test_capabilities() -> None:
    assert InMemoryBackend.capabilities == {
        "transactions",
        "order_by_any_field",
        "offset",
        "sort_key_range",
        "conditions",
        "atomic_updates",
        "ttl",
        "faults",
    }
    assert InMemoryBackend.capabilities <= set(CAPABILITIES)
    assert all(isinstance(text, str) and text for text in CAPABILITIES.values())
    assert Backend.capabilities == frozenset()


def test_backend_is_abstract() -> None:
    with pytest.raises(TypeError):
        Backend()
    assert isinstance(InMemoryBackend(), Backend)


def test_backend_methods_directly(backend: InMemoryBackend) -> None:
    schema = Message.orm_schema()
    row = {"thread": "t", "seq": 1, "body": "hi", "author": None}
    backend.insert(schema, row)
    assert backend.get(schema, ("t", 1)) == row
    assert backend.get(schema, ("t", 2)) is None
    with pytest.raises(DuplicateKeyError):
        backend.insert(schema, dict(row))
    updated = backend.update(schema, ("t", 1), {"body": "edited"})
    assert updated == {**row, "body": "edited"}
    replaced = backend.upsert(schema, {"thread": "t", "seq": 1, "body": "new", "author": "a"})
    assert replaced == {"thread": "t", "seq": 1, "body": "new", "author": "a"}
    assert backend.get_many(schema, [("t", 2), ("t", 1)]) == [None, replaced]
    more = [{"thread": "t", "seq": n, "body": "", "author": None} for n in (2, 3)]
    backend.insert_many(schema, more)
    assert backend.count(QuerySpec(schema)) == 3
    assert backend.exists(QuerySpec(schema)) is True
    assert [r["seq"] for r in backend.query(QuerySpec(schema))] == [1, 2, 3]
    backend.delete(schema, ("t", 1))
    with pytest.raises(NotFoundError):
        backend.delete(schema, ("t", 1))
    with pytest.raises(NotFoundError):
        backend.update(schema, ("t", 1), {"body": "x"})
    assert backend.get(schema, ("t", 1)) is None
    assert backend.count(QuerySpec(schema)) == 2


def test_backends_are_independent(backend: InMemoryBackend) -> None:
    other = InMemoryBackend()
    schema = Account.orm_schema()
    other.insert(schema, {"id": "a1", "email": "e", "handle": None, "name": ""})
    assert backend.get(schema, ("a1",)) is None
    assert Account.get(id="a1") is None


def test_assigning_a_backend_on_a_class_rebinds_it_and_its_subclasses(
    monkeypatch: pytest.MonkeyPatch, backend: InMemoryBackend
) -> None:
    class Base(Model):
        id: str = Field(primary_key=True)

    class Child(Base):
        note: str = ""

    own = InMemoryBackend()
    monkeypatch.setattr(Base, "model_backend", own)
    Base.create(id="b1")
    Child.create(id="c1")
    User.create(id="u1", email="a@example.com", name="Ann")
    assert own.get(Base.orm_schema(), ("b1",)) is not None
    assert own.get(Child.orm_schema(), ("c1",)) is not None
    assert backend.get(Base.orm_schema(), ("b1",)) is None
    assert backend.get(User.orm_schema(), ("u1",)) is not None
    assert own.get(User.orm_schema(), ("u1",)) is None
    # Rows of a class are not rows of its subclass.
    assert Base.all() == [Base(id="b1")]
    assert Child.all() == [Child(id="c1")]
