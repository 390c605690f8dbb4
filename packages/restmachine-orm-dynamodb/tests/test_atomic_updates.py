"""Atomic updates on DynamoDB: one ``UpdateItem`` computing from the stored value.

The suite (``TestAtomicUpdates``) proves the behaviour on every backend, racing increments
included; these tests pin down the requests: an increment or an append is one
``UpdateItem`` whose expression reads the stored attribute (placeholders only), and an
expression on an indexed field, whose index value only the answer tells, is followed by
an update of the index attribute, conditioned on the field still holding that value.
"""

from __future__ import annotations

import threading

import pytest

from restmachine_orm import F, Field, Model


class Tally(Model):
    id: str = Field(primary_key=True)
    hits: int = 0
    log: list[str] = []


class Ranked(Model):
    id: str = Field(primary_key=True)
    score: int = Field(0, index=True)


@pytest.fixture
def models(bind, backend):
    backend.ensure_indexes([Ranked])
    bind(Tally, Ranked)


def test_an_increment_and_an_append_are_one_update_reading_the_stored_values(models, requests):
    tally = Tally.create(id="t1", hits=1, log=["a"])
    requests.reset()
    updated = tally.update(hits=F("hits") + 2, log=F("log") + ["b"])
    assert (updated.hits, updated.log) == (3, ["a", "b"])
    assert requests.operations == ["UpdateItem"]
    sent = requests.sent[0][1]
    expression = sent["UpdateExpression"]
    assert "if_not_exists" in expression and "list_append" in expression
    assert "hits" not in expression and "log" not in expression  # names are placeholders
    assert sent["ReturnValues"] == "ALL_NEW"


def test_update_by_key_sends_one_request(models, requests):
    Tally.create(id="t1")
    requests.reset()
    assert Tally.update_by_key({"id": "t1"}, hits=F("hits") + 1).hits == 1
    assert requests.operations == ["UpdateItem"]


def test_an_expression_on_an_indexed_field_keeps_the_index_in_step(models, requests):
    ranked = Ranked.create(id="r1", score=5)
    requests.reset()
    assert ranked.update(score=F("score") + 2).score == 7
    assert requests.operations == ["UpdateItem", "UpdateItem"]
    assert Ranked.where(score=7).all() == [Ranked(id="r1", score=7)]
    assert Ranked.where(score=5).all() == []


def test_racing_increments_of_an_indexed_field_lose_none(models):
    Ranked.create(id="r1", score=0)

    def bump() -> None:
        for _ in range(5):
            Ranked.update_by_key({"id": "r1"}, score=F("score") + 1)

    threads = [threading.Thread(target=bump) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert Ranked.get(id="r1").score == 10
    assert [r.id for r in Ranked.where(score=10).all()] == ["r1"]
