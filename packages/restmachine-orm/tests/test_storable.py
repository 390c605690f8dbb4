"""Values no backend could store are refused before any write, and in filters."""

from __future__ import annotations

import decimal
from typing import Any

import pydantic
import pytest
from conftest import UntouchableBackend

from restmachine_orm import Field, Model, QueryError
from restmachine_orm.storable import (
    MAX_KEY_BYTES,
    MAX_ROW_BYTES,
    MAX_SORT_KEY_BYTES,
    number_problem,
    stored_size,
)


class Reading(Model):
    id: str = Field(primary_key=True)
    count: int = 0
    level: float = 0.0
    exact: decimal.Decimal = decimal.Decimal(0)
    extra: dict[str, Any] = {}
    anything: Any = None


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (10**38, "has 39 digits"),
        (-(10**38), "has 39 digits"),
        (decimal.Decimal("1." + "1" * 38), "39 significant digits"),
        (decimal.Decimal("NaN"), "is not a finite number"),
        (float("inf"), "is not a finite number"),
        (1e-131, "out of the storable range"),
        (decimal.Decimal("1E+126"), "out of the storable range"),
    ],
)
def test_numbers_beyond_what_dynamodb_holds_are_named(value: Any, problem: str) -> None:
    assert problem in str(number_problem(value))


@pytest.mark.parametrize(
    "value",
    [0, 10**38 - 1, -(10**38) + 1, 0.0, 1e-130, 9.99e125, decimal.Decimal("1E+38"), 1.5],
)
def test_numbers_within_the_limits_pass(value: Any) -> None:
    assert number_problem(value) is None


@pytest.mark.parametrize(
    ("data", "loc", "message"),
    [
        ({"count": 10**38}, ("count",), "has 39 digits"),
        ({"level": 1e200}, ("level",), "out of the storable range"),
        ({"exact": decimal.Decimal("1E-200")}, ("exact",), "out of the storable range"),
        ({"extra": {"a": [1, 10**40]}}, ("extra", "a", 1), "has 41 digits"),
        ({"extra": {"a": float("nan")}}, ("extra", "a"), "is not a finite number"),
        ({"extra": {"a": object()}}, ("extra", "a"), "values of type object cannot be stored"),
        ({"anything": {1: "x"}}, ("anything",), "mapping keys must be strings, not int"),
    ],
)
def test_an_unstorable_value_is_a_validation_error_before_any_write(
    backend: Any,
    monkeypatch: pytest.MonkeyPatch,
    data: dict[str, Any],
    loc: tuple[Any, ...],
    message: str,
) -> None:
    untouchable = UntouchableBackend()
    monkeypatch.setattr(Model, "model_backend", untouchable)
    for write in (lambda: Reading.create(id="r", **data), lambda: Reading.upsert(id="r", **data)):
        with pytest.raises(pydantic.ValidationError) as caught:
            write()
        (error,) = caught.value.errors()
        assert caught.value.title == "Reading"
        assert (error["loc"], error["type"]) == (loc, "unstorable")
        assert message in error["msg"]
    assert untouchable.calls == []


def test_save_refuses_an_unstorable_change_and_keeps_the_row() -> None:
    reading = Reading.create(id="r", count=1)
    reading.count = 10**40
    with pytest.raises(pydantic.ValidationError, match="count"):
        reading.save()
    stored = Reading.get(id="r")
    assert stored is not None and stored.count == 1


def test_nan_and_infinity_are_refused_by_validation() -> None:
    with pytest.raises(pydantic.ValidationError, match="finite number"):
        Reading(id="r", level=float("nan"))
    with pytest.raises(pydantic.ValidationError, match="finite number"):
        Reading(id="r", exact=decimal.Decimal("-Infinity"))


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        ({"count__gt": 10**40}, r"Reading\.count: count__gt: 1000.* has 41 digits"),
        ({"level__in": [1.0, 1e300]}, r"Reading\.level: level__in: 1e\+300 is out of"),
        ({"exact__between": (0, decimal.Decimal("1E+200"))}, r"Reading\.exact: exact__between"),
    ],
)
def test_a_filter_on_an_unstorable_number_is_a_query_error(
    filters: dict[str, Any], message: str
) -> None:
    with pytest.raises(QueryError, match=message):
        Reading.where(**filters)


class Document(Model):
    id: str = Field(primary_key=True)
    slug: str = Field(unique=True)
    body: str = ""
    parts: list[str] = []


class Entry(Model):
    stream: str = Field(partition_key=True)
    name: str = Field(sort_key=True)


@pytest.mark.parametrize(
    ("value", "size"),
    [
        ("", 0),
        ("é", 2),
        (12345, 4),
        (decimal.Decimal("1.50"), 2),
        (None, 1),
        (True, 1),
        (b"abc", 3),
        (["ab", 7], 3 + (2 + 1) + (2 + 1)),
        ({"k": "v"}, 3 + 1 + 1 + 1),
    ],
)
def test_stored_size_follows_dynamodb_measure(value: Any, size: int) -> None:
    assert stored_size(value) == size


@pytest.mark.parametrize(
    ("data", "loc", "message"),
    [
        ({"body": "é" * 200_000}, ("body",), "the row takes 400047 bytes stored, more than"),
        ({"parts": ["x" * 1_000] * 400}, ("parts",), "its largest field is 'parts'"),
        ({"slug": "s" * 1_025}, ("slug",), "takes 1025 bytes in UTF-8; key, unique and"),
        ({"id": "€" * 342}, ("id",), "takes 1026 bytes in UTF-8"),
    ],
)
def test_a_row_or_key_too_big_to_store_is_refused_before_any_write(
    untouchable: UntouchableBackend, data: dict[str, Any], loc: tuple[Any, ...], message: str
) -> None:
    row = {"id": "d1", "slug": "s"} | data
    for write in (lambda: Document.create(**row), lambda: Document.upsert(**row)):
        with pytest.raises(pydantic.ValidationError) as caught:
            write()
        (error,) = caught.value.errors()
        assert caught.value.title == "Document"
        assert error["loc"] == loc
        assert message in error["msg"]
    assert untouchable.calls == []


def test_the_largest_row_allowed_is_stored() -> None:
    # Names and values: id "d1", slug "s", parts [] (3 bytes), the body's name; and the key
    # again, as a backend copies it into its own key: its value, the model's name, 16 bytes.
    others = len("id") + 2 + len("slug") + 1 + len("parts") + 3 + len("body")
    others += 2 + len("Document") + 16
    body = "b" * (MAX_ROW_BYTES - others)
    Document.create(id="d1", slug="s", body=body)
    with pytest.raises(pydantic.ValidationError, match="393217 bytes stored"):
        Document.create(id="d2", slug="t", body=body + "b")
    assert [d.id for d in Document.all()] == ["d1"]


def test_a_composite_sort_key_has_half_the_room_of_a_partition_key() -> None:
    Entry.create(stream="s" * MAX_KEY_BYTES, name="n" * MAX_SORT_KEY_BYTES)
    with pytest.raises(pydantic.ValidationError, match="at most 512"):
        Entry.create(stream="s", name="n" * (MAX_SORT_KEY_BYTES + 1))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: Document.get(id="x" * 1_025), r"Document\.id: key id=\.\.\.: the value takes"),
        (lambda: Document.where(slug="x" * 2_000), r"Document\.slug: slug: the value takes 2000"),
        (lambda: Document.where(id__in=["a", "b" * 1_100]), r"Document\.id: id__in: .* 1100"),
    ],
)
def test_a_key_lookup_longer_than_any_stored_key_is_a_query_error(
    untouchable: UntouchableBackend, call: Any, message: str
) -> None:
    with pytest.raises(QueryError, match=message):
        call()
    assert untouchable.calls == []


def test_only_lookups_a_backend_answers_by_key_are_bounded_by_the_key_limit() -> None:
    long = "x" * (MAX_KEY_BYTES + 1)
    for filters in ({"id__gt": long}, {"slug__ne": long}, {"id__startswith": long}):
        assert Document.where(**filters).all() == []
    for filters in ({"id": long}, {"slug__in": [long]}):
        with pytest.raises(QueryError, match="key, unique and indexed values take at most"):
            Document.where(**filters)


class Catalogue(Model):
    id: str = Field(primary_key=True)
    body: str = ""
    tag0: str = Field("", index=True)
    tag1: str = Field("", index=True)


def test_indexed_values_count_twice_in_a_rows_size() -> None:
    # Backends copy key and indexed values into their keys and indexes.
    tags = {"tag0": "t" * 1_000, "tag1": "u" * 1_000}
    plain = MAX_ROW_BYTES - (len("id") + 1 + len("body") + len("tag0") * 2 + 2_000)
    copies = (1 + len("Catalogue") + 16) + 2 * (1_000 + len("Catalogue") + 16)
    Catalogue.create(id="a", body="b" * (plain - copies), **tags)
    with pytest.raises(pydantic.ValidationError, match="more than the 393216"):
        Catalogue.create(id="c", body="b" * (plain - copies + 1), **tags)


def test_a_large_row_holding_a_lone_surrogate_is_measured_not_crashed_on() -> None:
    with pytest.raises(pydantic.ValidationError, match="more than the 393216"):
        Document.create(id="d1", slug="s", body="\ud800" * 140_000)
