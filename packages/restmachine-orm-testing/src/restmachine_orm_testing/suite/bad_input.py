"""Bad input, a table row per case: the error, a message naming what was wrong, no write.

Refused input must raise its error type, with a message naming model, field and problem,
and leave storage exactly as it was; awkward but valid input must be stored exactly. Every
case runs against a baseline of stored rows, which must read back unchanged after a refused
call, so a backend that writes half of a refused row, or anything at all, fails.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from pydantic import ValidationError

from restmachine_orm import Model, OrmError, QueryError
from restmachine_orm.storable import MAX_KEY_BYTES, MAX_SORT_KEY_BYTES

from ._base import SuiteBase, since
from .models import SUITE_MODELS, Awkward, Event, Member, Sample

__all__ = ["ACCEPTED", "REFUSED", "Accepted", "Refused", "TestBadInput"]

Orm = tuple[Any, str]

NAN, INF = float("nan"), float("inf")
NAIVE = dt.datetime(2026, 1, 2, 3, 4, 5)
AWARE = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
INJECTION = ') OR attribute_exists(pk) OR (#n0 = :v0 "; DROP TABLE members; --'


@dataclass(frozen=True)
class Refused:
    """A call that must fail: its error type and fragments its message must contain."""

    id: str
    call: Callable[[], Any]
    error: type[BaseException]
    says: tuple[str, ...]


@dataclass(frozen=True)
class Accepted:
    """Awkward but valid data that must be stored and read back exactly, and be found."""

    id: str
    model: type[Model]
    data: dict[str, Any]
    filters: dict[str, Any]


def member(**extra: Any) -> dict[str, Any]:
    """A valid member that is not in the baseline, with overrides."""
    return {"id": "new", "email": "new@example.com", "name": "New"} | extra


def sample(**extra: Any) -> dict[str, Any]:
    """A valid sample that is not in the baseline, with overrides."""
    return {"id": "new"} | extra


def _stored_member() -> Member:
    found = Member.get(id="m1")
    assert found is not None, "the baseline member is missing"
    return found


def _save_after(change: Callable[[Member], None]) -> Callable[[], Any]:
    def call() -> Any:
        instance = _stored_member()
        change(instance)
        return instance.save()

    return call


def _assign(name: str, value: Any) -> Callable[[], Any]:
    return lambda: setattr(_stored_member(), name, value)


def _set_key(instance: Member) -> None:
    instance.id = "moved"


def _set_huge_age(instance: Member) -> None:
    instance.age = 10**40


REFUSED: list[Refused] = [
    # Unknown names.
    Refused(
        "create-unknown-field",
        lambda: Member.create(**member(emial="x")),
        ValidationError,
        ("Member", "emial", "Extra inputs are not permitted"),
    ),
    Refused(
        "upsert-unknown-field",
        lambda: Member.upsert(**member(nick="x")),
        ValidationError,
        ("Member", "nick", "Extra inputs are not permitted"),
    ),
    Refused(
        "get-non-key-field",
        lambda: Member.get(id="m1", email="ann@example.com"),
        QueryError,
        ("Member.get()", "'email' is not a key field"),
    ),
    Refused(
        "get-unknown-field",
        lambda: Member.get(ident="m1"),
        QueryError,
        ("Member.get()", "'ident' is not a key field"),
    ),
    Refused(
        "filter-unknown-field",
        lambda: Member.where(emial="x"),
        QueryError,
        ("Member has no field 'emial'", "its fields are: id, email"),
    ),
    Refused(
        "unknown-lookup",
        lambda: Member.where(age__near=3),
        QueryError,
        ("Member.age", "unknown lookup 'near'", "allowed lookups: eq, ne"),
    ),
    Refused(
        "lookup-for-another-kind",
        lambda: Member.where(age__startswith="3"),
        QueryError,
        ("Member.age", "'startswith' does not apply to a number field"),
    ),
    Refused(
        "order-by-unknown-field",
        lambda: Member.where().order_by("agee").all(),
        QueryError,
        ("Member", "agee"),
    ),
    # Values of the wrong type or shape in filters.
    Refused(
        "lookup-value-of-wrong-type",
        lambda: Member.where(age__gte="old"),
        QueryError,
        ("Member.age", "'old' is not a valid value for age__gte"),
    ),
    Refused(
        "contains-element-of-wrong-type",
        lambda: Member.where(tags__contains=5),
        QueryError,
        ("Member.tags", "5 is not a valid element for tags__contains"),
    ),
    Refused(
        "in-without-a-collection",
        lambda: Member.where(age__in=5),
        QueryError,
        ("Member.age", "age__in takes a list, tuple or set"),
    ),
    Refused(
        "between-without-a-pair",
        lambda: Member.where(age__between=(1,)),
        QueryError,
        ("Member.age", "age__between takes a (low, high) pair"),
    ),
    Refused(
        "isnull-without-a-bool",
        lambda: Member.where(nickname__isnull="yes"),
        QueryError,
        ("Member.nickname", "takes True or False"),
    ),
    Refused(
        "range-against-none",
        lambda: Member.where(age__gt=None),
        QueryError,
        ("Member.age", "cannot compare with None", "age__isnull=True"),
    ),
    Refused(
        "none-for-a-field-never-none",
        lambda: Member.where(name=None),
        QueryError,
        ("Member.name", "the field is never None"),
    ),
    Refused(
        "naive-and-aware-in-one-range",
        lambda: Sample.where(moment__between=(NAIVE, AWARE)),
        QueryError,
        ("Sample.moment", "two naive or two timezone-aware datetimes"),
    ),
    Refused(
        "filter-number-beyond-38-digits",
        lambda: Member.where(age__gt=10**40),
        QueryError,
        ("Member.age", "has 41 digits; stored numbers have at most 38"),
    ),
    Refused(
        "filter-key-longer-than-any-key",
        lambda: Member.where(id="k" * (MAX_KEY_BYTES + 1)),
        QueryError,
        ("Member.id", f"takes {MAX_KEY_BYTES + 1} bytes in UTF-8"),
    ),
    # Keys.
    Refused(
        "create-without-the-key",
        lambda: Member.create(email="k@example.com", name="K"),
        ValidationError,
        ("Member", "id", "Field required"),
    ),
    Refused(
        "create-with-none-as-key",
        lambda: Member.create(**member(id=None)),
        ValidationError,
        ("Member", "id", "Input should be a valid string"),
    ),
    Refused(
        "create-with-an-empty-key",
        lambda: Member.create(**member(id="")),
        ValidationError,
        ("Member", "id", "a key field must not be an empty string"),
    ),
    Refused(
        "create-with-an-empty-partition-key",
        lambda: Event.create(stream="", seq=1),
        ValidationError,
        ("Event", "stream", "a key field must not be an empty string"),
    ),
    Refused(
        "get-without-the-sort-key",
        lambda: Event.get(stream="s1"),
        QueryError,
        ("Event.get()", "(stream, seq)", "missing 'seq'"),
    ),
    Refused(
        "get-with-none-as-key",
        lambda: Member.get(id=None),
        QueryError,
        ("Member.id", "None is not a valid value for key id=..."),
    ),
    Refused(
        "get-with-a-key-of-wrong-type",
        lambda: Event.get(stream="s1", seq="first"),
        QueryError,
        ("Event.seq", "'first' is not a valid value"),
    ),
    Refused(
        "key-too-long",
        lambda: Member.create(**member(id="€" * 400)),
        ValidationError,
        ("Member", "id", "takes 1200 bytes in UTF-8", f"at most {MAX_KEY_BYTES}"),
    ),
    Refused(
        "sort-key-too-long",
        lambda: Awkward.create(key="k", order="o" * (MAX_SORT_KEY_BYTES + 1)),
        ValidationError,
        ("Awkward", "order", f"at most {MAX_SORT_KEY_BYTES}"),
    ),
    Refused(
        "unique-value-too-long",
        lambda: Member.create(**member(email="e" * 2_000)),
        ValidationError,
        ("Member", "email", "takes 2000 bytes in UTF-8"),
    ),
    Refused(
        "changed-key-on-save",
        _save_after(_set_key),
        OrmError,
        ("Member", "key fields are immutable", "'m1'", "'moved'"),
    ),
    # Values no backend can store.
    Refused(
        "item-over-400-kb",
        lambda: Sample.create(**sample(text="x" * 450_000)),
        ValidationError,
        ("Sample", "text", "the row takes 450", "more than the 393216 a row may take"),
    ),
    Refused(
        "nan",
        lambda: Sample.create(**sample(real=NAN)),
        ValidationError,
        ("Sample", "real", "finite number"),
    ),
    Refused(
        "infinity",
        lambda: Sample.create(**sample(real=-INF)),
        ValidationError,
        ("Sample", "real", "finite number"),
    ),
    Refused(
        "decimal-nan",
        lambda: Sample.create(**sample(exact=decimal.Decimal("NaN"))),
        ValidationError,
        ("Sample", "exact", "finite number"),
    ),
    Refused(
        "nan-nested-in-a-dict",
        lambda: Sample.create(**sample(mapping={"a": [1.0, NAN]})),
        ValidationError,
        ("Sample", "mapping.a.1", "nan is not a finite number"),
    ),
    Refused(
        "int-beyond-38-digits",
        lambda: Sample.create(**sample(integer=10**38)),
        ValidationError,
        ("Sample", "integer", "has 39 digits; stored numbers have at most 38"),
    ),
    Refused(
        "int-beyond-38-digits-in-a-list",
        lambda: Sample.create(**sample(items=[1, -(10**45)])),
        ValidationError,
        ("Sample", "items.1", "has 46 digits"),
    ),
    Refused(
        "decimal-of-39-significant-digits",
        lambda: Sample.create(**sample(exact=decimal.Decimal("1." + "2" * 38))),
        ValidationError,
        ("Sample", "exact", "39 significant digits"),
    ),
    Refused(
        "number-below-the-storable-range",
        lambda: Sample.create(**sample(real=1e-200)),
        ValidationError,
        ("Sample", "real", "out of the storable range"),
    ),
    Refused(
        "value-of-no-storable-type",
        lambda: Sample.create(**sample(mapping={"when": object()})),
        ValidationError,
        ("Sample", "mapping.when", "values of type object cannot be stored"),
    ),
    Refused(
        "mapping-with-a-non-string-key",
        lambda: Sample.create(**sample(mapping={1: "one"})),
        ValidationError,
        ("Sample", "mapping.1.[key]", "Input should be a valid string"),
    ),
    Refused(
        "mapping-with-an-empty-key",
        lambda: Sample.create(**sample(mapping={"ok": {"": 1}})),
        ValidationError,
        ("Sample", "mapping.ok", "mapping keys must not be empty strings"),
    ),
    # Values that do not fit the model.
    Refused(
        "wrong-field-type",
        lambda: Member.create(**member(age="old")),
        ValidationError,
        ("Member", "age", "Input should be a valid integer"),
    ),
    Refused(
        "field-constraint",
        lambda: Member.create(**member(age=-1)),
        ValidationError,
        ("Member", "age", "greater than or equal to 0"),
    ),
    Refused(
        "datetime-that-is-no-datetime",
        lambda: Sample.create(**sample(moment="next tuesday")),
        ValidationError,
        ("Sample", "moment", "valid datetime"),
    ),
    Refused(
        "assignment-of-wrong-type",
        _assign("age", "old"),
        ValidationError,
        ("Member", "age", "Input should be a valid integer"),
    ),
    Refused(
        "save-of-an-unstorable-number",
        _save_after(_set_huge_age),
        ValidationError,
        ("Member", "age", "has 41 digits"),
    ),
    Refused(
        "create-many-with-one-bad-row",
        lambda: Member.create_many([member(id="b1", email="b1@x.io"), member(id="b2", age=-5)]),
        ValidationError,
        ("Member", "age", "greater than or equal to 0"),
    ),
]


ACCEPTED: list[Accepted] = [
    Accepted(
        "reserved-words-as-field-names",
        Awkward,
        {"key": "k1", "order": "by", "name": "name", "count": 3, "status": "size"},
        {"name": "name", "count": 3, "status": "size"},
    ),
    Accepted(
        "unicode-field-name-and-values",
        Awkward,
        {"key": "ключ-🔑", "order": "順序", "name": "名前 ✓", "größe": 7},
        {"größe": 7, "name": "名前 ✓"},
    ),
    Accepted(
        "mapping-keys-with-hash-colon-dot-space-unicode",
        Awkward,
        {
            "key": "k2",
            "order": "#unique",
            "data": {
                "#pk": 1,
                ":v0": "x",
                "a.b": {"c d": [1, {"#": ":"}]},
                "with space": None,
                "ü": "ok",
                "name": "reserved",
            },
        },
        {"key": "k2", "order": "#unique"},
    ),
    Accepted(
        "expression-injection-in-values",
        Awkward,
        {"key": INJECTION[:40], "order": INJECTION, "name": INJECTION, "status": "#n0 = :v0"},
        {"name": INJECTION, "status": "#n0 = :v0"},
    ),
    Accepted(
        "key-shaped-like-a-sentinel",
        Member,
        {"id": "email#ann@example.com", "email": "ann2@example.com", "name": "#unique"},
        {"id": "email#ann@example.com"},
    ),
    Accepted(
        "empty-strings-outside-keys",
        Member,
        {"id": "e1", "email": "", "name": "", "nickname": "", "tags": [""]},
        {"nickname": "", "name": ""},
    ),
    Accepted(
        "naive-datetime-stays-naive",
        Sample,
        {"id": "naive", "moment": NAIVE},
        {"moment": NAIVE},
    ),
    Accepted(
        "aware-datetime-stays-aware",
        Sample,
        {"id": "aware", "moment": AWARE.astimezone(dt.timezone(dt.timedelta(hours=5)))},
        {"moment__gte": AWARE},
    ),
    Accepted(
        "largest-numbers",
        Sample,
        {
            "id": "big",
            "integer": 10**38 - 1,
            "exact": decimal.Decimal("-9." + "9" * 37 + "E+125"),
            "real": 1e-130,
            "items": [-(10**38) + 1],
        },
        {"integer": 10**38 - 1},
    ),
    Accepted(
        "longest-keys",
        Awkward,
        {"key": "ß" * (MAX_KEY_BYTES // 2), "order": "€" * (MAX_SORT_KEY_BYTES // 3)},
        {"key": "ß" * (MAX_KEY_BYTES // 2)},
    ),
    Accepted(
        "row-near-the-size-limit",
        Sample,
        {"id": "large", "text": "€" * 120_000, "items": list(range(1_000))},
        {"id": "large"},
    ),
]


def _snapshot() -> dict[str, list[dict[str, Any]]]:
    return {
        model.__name__: sorted(
            (row.model_dump() for row in model.all()),
            key=lambda row: repr([row[name] for name in model.orm_schema().key_fields]),
        )
        for model in SUITE_MODELS
    }


def _baseline(client: Any) -> None:
    client.create_and_verify(Member, id="m1", email="ann@example.com", name="Ann", age=30)
    client.create_and_verify(Event, stream="s1", seq=1)
    client.create_and_verify(Sample, id="s1", integer=5, mapping={"a": [1]})
    client.create_and_verify(Awkward, key="a1", order="1", name="a", data={"x.y": 1})


class TestBadInput(SuiteBase):
    """Every refused input names model, field and problem, and leaves storage unchanged."""

    @since("1.1")
    @pytest.mark.parametrize("case", REFUSED, ids=[case.id for case in REFUSED])
    def test_refused(self, orm: Orm, case: Refused) -> None:
        client, backend = orm
        _baseline(client)
        before = _snapshot()
        with pytest.raises(case.error) as caught:
            case.call()
        message = str(caught.value)
        missing = [part for part in case.says if part not in message]
        assert not missing, f"[{backend}] {case.id}: {missing} not in the message: {message}"
        assert _snapshot() == before, f"[{backend}] {case.id}: storage changed"

    @since("1.1")
    @pytest.mark.parametrize("case", ACCEPTED, ids=[case.id for case in ACCEPTED])
    def test_accepted(self, orm: Orm, case: Accepted) -> None:
        client, _ = orm
        _baseline(client)
        before = _snapshot()
        stored = client.create_and_verify(case.model, **case.data)
        found = case.model.where(**case.filters).all()
        assert found == [stored]
        assert case.model.where(**case.filters).count() == 1
        after = _snapshot()
        after[case.model.__name__].remove(stored.model_dump())
        assert after == before
