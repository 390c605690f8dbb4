"""Per-test cost of the ``orm`` fixture, against plain pytest tests in the same run.

The cost is what setup and teardown take (the isolation: picking the driver, emptying the
models' storage, binding and restoring them), for tests that do nothing and for tests that
create a row, whose storage must then be emptied for the next one. The kinds of test run
in alternating blocks, so none of them has the session's early or late tests to itself.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from _harness import Row, Table

TESTS = """
import pytest
from restmachine_orm import Field, Model
from restmachine_orm_testing import MultiBackendTestBase


class Thing(Model):
    id: str = Field(primary_key=True)


class TestOrm(MultiBackendTestBase):
    ENABLED_BACKENDS = {backends!r}

    def get_test_models(self):
        return [Thing]

    @pytest.mark.parametrize("i", range({count}))
    def test_orm(self, orm, i):
        pass

    @pytest.mark.parametrize("i", range({count}))
    def test_writes(self, orm, i):
        Thing.create(id=f"t{{i}}")


@pytest.mark.parametrize("i", range({count}))
def test_plain(i):
    pass
"""

TIMER = """
import json

DURATIONS = {}


def pytest_collection_modifyitems(items):
    # Blocks of 25 tests of each kind, the kinds shuffled anew in each block (seeded): every
    # kind runs early and late in the session, after each of the others (a test after a
    # DynamoDB write shares the process with the moto server's thread, for one), while tests
    # of one class stay together (switching classes costs the test that does it).
    import random

    def kind(item):
        return item.originalname + str(item.callspec.params.get("orm", ""))

    kinds = sorted({kind(item) for item in items})
    orders = {}

    def order(item):
        block = item.callspec.params["i"] // 25
        if block not in orders:
            shuffled = random.Random(block).sample(kinds, len(kinds))
            orders[block] = {name: place for place, name in enumerate(shuffled)}
        return block, orders[block][kind(item)], item.callspec.params["i"]

    items.sort(key=order)


def pytest_runtest_logreport(report):
    # Setup and teardown only: what the fixture costs, not what the test itself does.
    if report.when != "call":
        DURATIONS[report.nodeid] = DURATIONS.get(report.nodeid, 0.0) + report.duration


def pytest_sessionfinish(session):
    with open("durations.json", "w") as out:
        json.dump(DURATIONS, out)
"""


def _durations(backends: list[str], count: int) -> dict[str, list[float]]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder)
        (path / "test_overhead.py").write_text(TESTS.format(backends=backends, count=count))
        (path / "conftest.py").write_text(TIMER)
        env = {**os.environ, "RESTMACHINE_ORM_BACKENDS": ""}
        subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly"],
            cwd=path,
            env=env,
            check=True,
            capture_output=True,
        )
        measured = json.loads((path / "durations.json").read_text())
    groups: dict[str, list[float]] = {"plain": []}
    for nodeid, seconds in measured.items():
        if "test_plain" in nodeid:
            groups["plain"].append(seconds)
        else:
            name = nodeid.rsplit("[", 1)[1].split("-")[0]
            kind = "writes" if "test_writes" in nodeid else "reads"
            groups.setdefault(f"{name}, {kind}", []).append(seconds)
    return groups


def run(quick: bool) -> list[Table]:
    count = 60 if quick else 200
    groups = _durations(["inmemory", "dynamodb"], count)
    plain = statistics.median(groups["plain"])
    table = Table(
        f"Per-test cost of the orm fixture ({count} tests each; medians of setup + teardown)",
        "orm test",
        "plain test",
    )
    goals = {"inmemory": 0.05e-3, "dynamodb": 3e-3}
    for name, goal in goals.items():
        for kind, what in (("reads", "does nothing"), ("writes", "creates a row")):
            seconds = statistics.median(groups[f"{name}, {kind}"])
            label = f"{name}, a test that {what}"
            table.rows.append(Row(label, seconds, plain, goal=goal, unit="ms", added=True))
    return [table]
