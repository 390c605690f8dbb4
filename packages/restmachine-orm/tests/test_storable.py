"""Values no backend could store are refused before any write, and in filters."""

from __future__ import annotations

import decimal
from typing import Any

import pydantic
import pytest
from conftest import UntouchableBackend

from restmachine_orm import Field, Model, QueryError
from restmachine_orm.storable import number_problem


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
