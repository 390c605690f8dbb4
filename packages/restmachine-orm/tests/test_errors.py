"""The error hierarchy, the data errors carry, their messages, and pickling."""

from __future__ import annotations

import pickle

import pydantic
import pytest

from restmachine_orm import (
    AsyncOnlyBackendError,
    BackendError,
    ConditionFailedError,
    DuplicateKeyError,
    ModelDefinitionError,
    NotFoundError,
    OrmError,
    PartialWriteError,
    QueryError,
)
from restmachine_orm import errors as errors_module


@pytest.mark.parametrize(
    ("error", "parents"),
    [
        (ModelDefinitionError, (OrmError, TypeError)),
        (DuplicateKeyError, (OrmError,)),
        (NotFoundError, (OrmError,)),
        (ConditionFailedError, (OrmError,)),
        (QueryError, (OrmError, ValueError)),
        (BackendError, (OrmError,)),
        (AsyncOnlyBackendError, (OrmError, TypeError)),
        (PartialWriteError, (BackendError, OrmError)),
        (OrmError, (Exception,)),
    ],
)
def test_hierarchy(error: type[Exception], parents: tuple[type[Exception], ...]) -> None:
    for parent in parents:
        assert issubclass(error, parent)


def test_validation_error_is_pydantics_and_not_an_orm_error() -> None:
    assert not issubclass(pydantic.ValidationError, OrmError)


def test_siblings_are_unrelated() -> None:
    siblings = [ModelDefinitionError, DuplicateKeyError, NotFoundError, QueryError, BackendError]
    for one in siblings:
        for other in siblings:
            if one is not other:
                assert not issubclass(one, other)


def test_module_docstring_draws_every_error() -> None:
    doc = errors_module.__doc__
    assert doc is not None
    for name in errors_module.__all__:
        assert name in doc


def test_duplicate_key_error_for_a_key() -> None:
    error = DuplicateKeyError("User", ("id",), "u1", unique=False)
    assert error.model == "User"
    assert error.fields == ("id",)
    assert error.field == "id"
    assert error.value == "u1"
    assert error.unique is False
    assert str(error) == "User: a row with id='u1' already exists"


def test_duplicate_key_error_for_a_unique_value() -> None:
    error = DuplicateKeyError("User", ("email",), "a@example.com", unique=True)
    assert error.unique is True
    assert error.field == "email"
    assert str(error) == (
        "User: email='a@example.com' is already taken by another row (unique field)"
    )


def test_duplicate_key_error_for_a_composite_key() -> None:
    error = DuplicateKeyError("Message", ("thread", "seq"), ("t", 1), unique=False)
    assert error.fields == ("thread", "seq")
    assert error.field == "thread"
    assert error.value == ("t", 1)
    assert "Message" in str(error)
    assert "thread, seq" in str(error)
    assert "('t', 1)" in str(error)


def test_not_found_error() -> None:
    key = {"thread": "t", "seq": 2}
    error = NotFoundError("Message", key)
    key["seq"] = 3  # the error keeps its own copy
    assert error.model == "Message"
    assert error.key == {"thread": "t", "seq": 2}
    assert str(error) == "Message: no row with thread='t', seq=2"


def test_condition_failed_error_names_model_key_and_condition_and_pickles() -> None:
    error = ConditionFailedError("Account", {"id": "a1"}, "balance__gte=100")
    assert (error.model, error.key, error.condition) == (
        "Account",
        {"id": "a1"},
        "balance__gte=100",
    )
    assert str(error) == (
        "Account(id='a1'): the condition balance__gte=100 does not hold on the stored row; "
        "nothing was written"
    )
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.model, copy.key, copy.condition, str(copy)) == (
        "Account",
        {"id": "a1"},
        "balance__gte=100",
        str(error),
    )


def test_partial_write_error_keeps_the_failed_rows() -> None:
    failed = [{"id": "a"}, {"id": "b"}]
    error = PartialWriteError("2 rows not stored", failed)
    assert error.failed == failed
    assert str(error) == "2 rows not stored"


def test_backend_error_keeps_its_cause() -> None:
    cause = ConnectionError("storage down")
    with pytest.raises(BackendError) as caught:
        try:
            raise cause
        except ConnectionError as exc:
            raise BackendError("could not store the row") from exc
    assert caught.value.__cause__ is cause


def _roundtrip(error: Exception) -> Exception:
    return pickle.loads(pickle.dumps(error))


def test_duplicate_key_error_pickles() -> None:
    error = DuplicateKeyError("Message", ("thread", "seq"), ("t", 1), unique=False)
    copy = _roundtrip(error)
    assert isinstance(copy, DuplicateKeyError)
    assert (copy.model, copy.fields, copy.value, copy.unique) == (
        "Message",
        ("thread", "seq"),
        ("t", 1),
        False,
    )
    assert str(copy) == str(error)


def test_unique_duplicate_pickles() -> None:
    error = DuplicateKeyError("User", ("email",), "a@example.com", unique=True)
    copy = _roundtrip(error)
    assert isinstance(copy, DuplicateKeyError)
    assert copy.unique is True
    assert str(copy) == str(error)


def test_not_found_error_pickles() -> None:
    error = NotFoundError("User", {"id": "u1"})
    copy = _roundtrip(error)
    assert isinstance(copy, NotFoundError)
    assert (copy.model, copy.key) == ("User", {"id": "u1"})
    assert str(copy) == str(error)


def test_partial_write_error_pickles() -> None:
    error = PartialWriteError("1 row not stored", [{"id": "a"}])
    copy = _roundtrip(error)
    assert isinstance(copy, PartialWriteError)
    assert copy.failed == [{"id": "a"}]
    assert str(copy) == "1 row not stored"


@pytest.mark.parametrize(
    "error",
    [
        OrmError("root"),
        QueryError("bad lookup"),
        ModelDefinitionError("two primary keys"),
        BackendError("storage failed"),
    ],
)
def test_plain_errors_pickle(error: Exception) -> None:
    copy = _roundtrip(error)
    assert type(copy) is type(error)
    assert str(copy) == str(error)
