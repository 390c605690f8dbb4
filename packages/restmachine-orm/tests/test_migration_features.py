"""What users of the earlier restmachine-python bring: hooks by decorator, mixins, the
backend class keyword, ``is_stored``, ``find_by``, ``last``, text lookups, ``Q``, ``values``.

The conformance suite (1.7) runs these features on every backend; these tests pin the
core's own rules: orders, errors and messages, and the async twins.
"""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from pydantic import BaseModel, PrivateAttr

from restmachine_orm import (
    F,
    Field,
    InMemoryBackend,
    Model,
    ModelDefinitionError,
    OrmError,
    Q,
    QueryError,
    after_load,
    after_save,
    before_save,
    clock,
    transaction,
)
from restmachine_orm.mixins import ExpirationMixin, TimestampMixin
from restmachine_orm.query import And, Condition, Not, Or


class Tracked(BaseModel):
    __slots__ = ()
    log: list[str] = []

    @before_save
    def first(self) -> None:
        self.log = [*self.log, "mixin"]


class Doc(Tracked, Model):
    id: str = Field(primary_key=True)
    title: str = ""
    hits: int = 0
    _seen: list[str] = PrivateAttr(default_factory=list)

    @before_save
    def second(self) -> None:
        self.log = [*self.log, "own"]

    @after_save
    def done(self) -> None:
        self._seen.append("saved")

    @after_load
    def read(self) -> None:
        self._seen.append("loaded")

    # Last: in the class body, the method's name hides the decorator below it.
    def before_save(self) -> None:
        self.log = [*self.log, "method"]


class Override(Doc):
    def second(self) -> None:  # no decorator: no longer a hook
        self.log = [*self.log, "never"]

    @before_save
    def third(self) -> None:
        self.log = [*self.log, "third"]


def test_hooks_run_base_first_with_the_overridable_method_first() -> None:
    doc = Doc.create(id="d1")
    assert doc.log == ["method", "mixin", "own"]
    assert Doc.__orm_before_save__ == ("before_save", "first", "second")


def test_a_subclass_redefining_a_hook_without_the_decorator_drops_it() -> None:
    assert Override.__orm_before_save__ == ("before_save", "first", "third")
    assert Override.create(id="o1").log == ["method", "mixin", "third"]


def test_update_runs_hooks_on_a_copy_and_writes_what_they_change() -> None:
    doc = Doc.create(id="d1")
    doc._seen.clear()
    updated = doc.update(hits=F("hits") + 1)
    # The overridden before_save() method keeps to create, upsert and save, as it always did.
    assert updated.log == ["method", "mixin", "own", "mixin", "own"]
    assert Doc.get(id="d1").log == updated.log  # type: ignore[union-attr]
    assert doc._seen == ["saved"]


def test_a_hook_assigning_a_field_the_update_computes_is_refused() -> None:
    class Counter(Model):
        id: str = Field(primary_key=True)
        hits: int = 0

        @before_save
        def reset(self) -> None:
            self.hits = 0

    Counter.create(id="c1", hits=5)  # the hook stores 0
    with pytest.raises(
        OrmError, match=r"Counter.update_by_key\(\): a before_save hook assigned hits"
    ):
        Counter.update_by_key({"id": "c1"}, hits=F("hits") + 1)
    assert Counter.get(id="c1").hits == 0  # type: ignore[union-attr]


@pytest.mark.parametrize("write", ["create", "update", "update_by_key", "transaction"])
def test_a_hook_moving_the_key_writes_nothing(write: str) -> None:
    class Moving(Model):
        id: str = Field(primary_key=True)
        title: str = ""

        @before_save
        def move(self) -> None:
            if self.title == "move":
                self.id = "elsewhere"

    if write != "create":
        Moving.create(id="m1")
    stored = Moving.get(id="m1")
    attempts = {
        "create": lambda: Moving.create(id="m1", title="move"),
        "update": lambda: stored.update(title="move"),  # type: ignore[union-attr]
        "update_by_key": lambda: Moving.update_by_key({"id": "m1"}, title="move"),
        "transaction": lambda: _in_transaction(stored),
    }
    with pytest.raises(OrmError, match=r"Moving.move\(\): key fields are immutable"):
        attempts[write]()
    assert [(m.id, m.title) for m in Moving.all()] == ([] if write == "create" else [("m1", "")])


def _in_transaction(instance: Model | None) -> None:
    with transaction() as tx:
        tx.update(instance, title="move")  # type: ignore[arg-type]


def test_the_key_check_of_hooks_is_what_refuses_the_move(monkeypatch: pytest.MonkeyPatch) -> None:
    # Proof that the test above can fail: without the check, the moved row is written.
    monkeypatch.setattr(
        Model,
        "_orm_before_save",
        lambda self, schema: [getattr(self, n)() for n in self.__orm_before_save__],
    )
    with pytest.raises((AssertionError, pytest.fail.Exception)):
        test_a_hook_moving_the_key_writes_nothing("create")


def test_after_load_runs_on_reads_and_not_on_writes() -> None:
    created = Doc.create(id="d1")
    assert created._seen == ["saved"]
    assert Doc.get(id="d1")._seen == ["loaded"]  # type: ignore[union-attr]
    assert [d._seen for d in Doc.get_many([{"id": "d1"}])] == [["loaded"]]  # type: ignore[union-attr]
    assert Doc.where().values("id") == [{"id": "d1"}]  # no instance, no hook


def test_the_class_keyword_binds_a_backend() -> None:
    own = InMemoryBackend()

    class Bound(Model, model_backend=own):
        id: str = Field(primary_key=True)

    class Child(Bound):
        pass

    assert Bound.model_backend is own and Child.model_backend is own
    Bound.create(id="b1")
    assert own.count(Bound.where().spec) == 1


def test_is_stored_is_read_only() -> None:
    doc = Doc.create(id="d1")
    with pytest.raises(AttributeError):
        doc.is_stored = False  # type: ignore[misc]


def test_mixins_combine_in_either_order() -> None:
    class Early(TimestampMixin, Model):
        id: str = Field(primary_key=True)

    class Late(Model, TimestampMixin, ExpirationMixin):
        id: str = Field(primary_key=True)

    moment = dt.datetime(2030, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
    with clock.using(lambda: moment):
        assert Early.create(id="e").created_at == moment
        late = Late.create(id="l", expires_at=moment + dt.timedelta(seconds=1))
    assert (late.updated_at, late.is_expired()) == (moment, False)
    assert Late.orm_schema().ttl_field == "expires_at"


def test_an_expiration_mixin_beside_another_ttl_field_is_refused() -> None:
    with pytest.raises(ModelDefinitionError, match="ttl"):

        class Twice(ExpirationMixin, Model):
            id: str = Field(primary_key=True)
            until: dt.datetime | None = Field(None, ttl=True)

        Twice.orm_schema()


def test_q_objects_resolve_to_filter_trees() -> None:
    class Person(Model):
        id: str = Field(primary_key=True)
        name: str = ""
        age: int = 0

    schema = Person.orm_schema()
    tree = (Q(age__gte=30) | Q(name="Bo")) & ~Q(name__iexact="al")
    assert tree.resolve(schema) == And(
        (
            Or((Condition("age", "gte", 30), Condition("name", "eq", "Bo"))),
            Not(Condition("name", "iexact", "al")),
        )
    )
    assert repr(tree) == "(Q(age__gte=30) | Q(name='Bo')) & ~Q(name__iexact='al')"
    assert (Q(a=1) | Q(b=2)) | Q(c=3) == Q(a=1) | Q(b=2) | Q(c=3)
    assert Q().resolve(schema) is None and (Q() & Q()).resolve(schema) is None
    with pytest.raises(QueryError, match=r"Person: ~Q\(\) negates an empty Q\(\)"):
        (~Q()).resolve(schema)
    with pytest.raises(TypeError):
        Q(a=1) | {"b": 2}  # type: ignore[operator]


def test_text_lookups_casefold_and_refuse_non_text() -> None:
    class Person(Model):
        id: str = Field(primary_key=True)
        name: str | None = None
        age: int = 0

    Person.create(id="p1", name="Straße")
    Person.create(id="p2")
    assert [p.id for p in Person.where(name__iexact="STRASSE")] == ["p1"]
    assert [p.id for p in Person.where(name__iendswith="SSE")] == ["p1"]
    with pytest.raises(QueryError, match=r"Person.name: name__iexact takes a string"):
        Person.where(name__iexact=3)
    with pytest.raises(QueryError, match=r"lookup 'endswith' does not apply to a number"):
        Person.where(age__endswith="1")


def test_last_and_values_refuse_bad_requests_before_reading() -> None:
    with pytest.raises(QueryError, match=r"Doc: last\(\) needs an order"):
        Doc.where().last()
    with pytest.raises(QueryError, match=r"Doc has no field 'nope' \(in values\('nope'\)\)"):
        Doc.where().values("nope")


def test_include_expired_reaches_the_backend_in_the_spec() -> None:
    assert Doc.where().include_expired().spec.include_expired
    assert not Doc.where().spec.include_expired


def test_async_twins_give_what_the_sync_calls_give() -> None:
    for n, title in enumerate(["b", "a", "c"]):
        Doc.create(id=f"d{n}", title=title)

    async def twins() -> tuple[object, ...]:
        found = await Doc.afind_by(Q(title="a") | Q(title="zz"))
        last = await Doc.where().order_by("title").alast()
        values = await Doc.where().order_by("title").avalues("title")
        return found.id, last.id, values  # type: ignore[union-attr]

    ordered = Doc.where().order_by("title")
    assert asyncio.run(twins()) == (
        Doc.find_by(title="a").id,  # type: ignore[union-attr]
        ordered.last().id,  # type: ignore[union-attr]
        ordered.values("title"),
    )


def test_transaction_actions_take_q_conditions() -> None:
    from restmachine_orm import TransactionError

    Doc.create(id="d1", hits=1)
    Doc.create(id="d2", hits=5)
    with transaction() as tx:
        tx.update(Doc.get(id="d1"), condition=Q(hits__gte=1) | Q(title="x"), hits=F("hits") - 1)
        tx.update(Doc.get(id="d2"), condition=~Q(hits=0), hits=F("hits") + 1)
    assert [d.hits for d in Doc.where().order_by("id")] == [0, 6]
    with pytest.raises(TransactionError), transaction() as tx:
        tx.update(Doc.get(id="d1"), condition=Q(hits__gte=1), hits=F("hits") - 1)
    with pytest.raises(QueryError, match="cannot use the 'icontains' lookup"), transaction() as tx:
        tx.delete(Doc.get(id="d2"), condition=Q(title__icontains="x"))
    assert [d.hits for d in Doc.where().order_by("id")] == [0, 6]


def test_a_query_refuses_truth_and_length_tests_naming_what_to_call() -> None:
    Doc.create(id="d1")
    query = Doc.where(id="d1")
    with pytest.raises(TypeError, match=r"Doc query has no truth value.*query.exists\(\)"):
        bool(query)
    with pytest.raises(TypeError, match=r"Doc query has no length.*query.count\(\)"):
        len(query)
    assert [d.id for d in list(query)] == ["d1"]  # iteration needs neither


class Titled(Model):
    id: str = Field(primary_key=True)
    title: str
    views: int = 0
    _notes: list[str] = PrivateAttr(default_factory=list)

    @before_save
    def tidy(self) -> None:
        self.title = self.title.strip()
        self._notes.append(self.title)


def test_an_update_sends_only_what_a_hook_changed_so_no_stale_value_returns() -> None:
    stale = Titled.create(id="t1", title="Hello")
    Titled.get(id="t1").update(title="Changed")  # type: ignore[union-attr]
    stale.update(views=F("views") + 1)  # the hook rewrites stale.title to itself: not sent
    assert Titled.get(id="t1").title == "Changed"  # type: ignore[union-attr]
    assert stale._notes == ["Hello", "Hello"]  # a declared private attribute is shared


def test_update_by_key_refuses_a_hook_reading_what_it_does_not_hold() -> None:
    Titled.create(id="t1", title="Hello", views=1)
    with pytest.raises(OrmError, match=r"Titled.update_by_key\(\): a before_save hook read a"):
        Titled.update_by_key({"id": "t1"}, views=F("views") + 1)
    assert Titled.update_by_key({"id": "t1"}, title=" Hi ").title == "Hi"
    assert Titled.get(id="t1").views == 1  # type: ignore[union-attr]


def test_async_hooks_are_refused() -> None:
    with pytest.raises(TypeError, match="async def"):

        class Hooked(Model):
            id: str = Field(primary_key=True)

            @before_save
            async def tidy(self) -> None:
                pass


def test_or_and_not_with_filters_matching_every_row() -> None:
    for n in range(3):
        Doc.create(id=f"d{n}", hits=n)
    some = Doc.where(hits__gte=2)
    assert [d.id for d in some.or_(Q() | Q(hits=0)).order_by("id")] == ["d0", "d1", "d2"]
    assert [d.id for d in some.or_().order_by("id")] == ["d2"]  # nothing given: unchanged
    with pytest.raises(QueryError, match=r"Doc: not_\(Q\(\) \| Q\(hits=0\)\) negates"):
        some.not_(Q() | Q(hits=0))
    assert repr(~(Q(a=1) | Q(b=2))) == "~(Q(a=1) | Q(b=2))"


def test_a_transaction_check_takes_q_objects() -> None:
    from restmachine_orm import TransactionError

    Doc.create(id="d1", hits=3)
    with transaction() as tx:
        tx.check(Doc, {"id": "d1"}, Q(hits=3) | Q(hits=4), title="")
    with pytest.raises(TransactionError), transaction() as tx:
        tx.check(Doc, {"id": "d1"}, ~Q(hits=3))
