"""``Field(version=True)``: optimistic locking on the in-memory backend, and its declaration."""

from __future__ import annotations

import pickle

import pytest

from restmachine_orm import ConcurrentModificationError, Field, Model, ModelDefinitionError


class Doc(Model):
    id: str = Field(primary_key=True)
    title: str = ""
    version: int = Field(version=True)


def test_the_version_field_needs_no_value_and_starts_at_one() -> None:
    assert Doc(id="d").version == 0
    assert Doc.create(id="d").version == 1
    assert Doc.create_many([{"id": "e", "version": 9}])[0].version == 1


def test_save_raises_the_version_from_the_one_read_not_the_one_assigned() -> None:
    doc = Doc.create(id="d")
    doc.version = 40
    doc.title = "x"
    assert doc.save().version == 2
    stored = Doc.get(id="d")
    assert stored is not None and (stored.title, stored.version) == ("x", 2)


def test_a_stale_save_changes_neither_the_row_nor_the_instance() -> None:
    Doc.create(id="d")
    fresh, stale = Doc.get(id="d"), Doc.get(id="d")
    assert fresh is not None and stale is not None
    fresh.title = "fresh"
    fresh.save()
    stale.title = "stale"
    with pytest.raises(ConcurrentModificationError) as caught:
        stale.save()
    assert (caught.value.expected, caught.value.actual, caught.value.key) == (1, 2, {"id": "d"})
    assert stale.version == 1
    assert Doc.get(id="d") == fresh


def test_upsert_counts_from_the_stored_version() -> None:
    Doc.create(id="d")
    assert Doc.upsert(id="d", title="u", version=0).version == 2
    assert Doc.upsert(id="new").version == 1


def test_delete_of_an_unread_instance_checks_no_version() -> None:
    Doc.create(id="d")
    Doc.upsert(id="d", title="again")
    Doc(id="d").delete()
    assert Doc.get(id="d") is None


def test_the_error_survives_pickling() -> None:
    error = ConcurrentModificationError("Doc", {"id": "d"}, 1, 3)
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.model, copy.key, copy.expected, copy.actual, str(copy)) == (
        "Doc",
        {"id": "d"},
        1,
        3,
        str(error),
    )


@pytest.mark.parametrize(
    ("annotation", "options", "message"),
    [
        (str, {}, "version=True needs a plain int field"),
        (int | None, {}, "version=True needs a plain int field"),
        (int, {"unique": True}, "cannot also be a key, unique"),
    ],
)
def test_a_version_field_must_be_a_plain_int_set_by_the_orm(
    annotation: object, options: dict[str, bool], message: str
) -> None:
    with pytest.raises(ModelDefinitionError, match=rf"Bad\.v: .*{message}"):
        type(
            "Bad",
            (Model,),
            {
                "__annotations__": {"id": str, "v": annotation},
                "id": Field(primary_key=True),
                "v": Field(version=True, **options),
            },
        )


def test_a_model_has_at_most_one_version_field() -> None:
    with pytest.raises(ModelDefinitionError, match="only one field may set version=True"):

        class Twice(Model):
            id: str = Field(primary_key=True)
            a: int = Field(version=True)
            b: int = Field(version=True)
