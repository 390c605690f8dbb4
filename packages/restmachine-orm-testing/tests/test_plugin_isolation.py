"""Each test starts empty and leaves every model's backend as it found it."""

from __future__ import annotations

TESTS = """
import pytest
from restmachine_orm import Field, InMemoryBackend, Model
from restmachine_orm_testing import MultiBackendTestBase

SENTINEL = InMemoryBackend()


class Item(Model):
    id: str = Field(primary_key=True)


Item.model_backend = SENTINEL


class TestIsolation(MultiBackendTestBase):
    def get_test_models(self):
        return [Item]

    def test_1_fails_after_writing(self, orm):
        orm_client, _ = orm
        orm_client.create_and_verify(Item, id="left-behind")
        assert Item.model_backend is not SENTINEL
        raise RuntimeError("boom")

    def test_2_starts_empty(self, orm):
        orm_client, _ = orm
        assert orm_client.all_models(Item) == []


def test_3_backend_restored():
    assert Item.model_backend is SENTINEL


def test_plain_function_is_not_parametrized(request):
    assert "[" not in request.node.name


class TestPlainClass:
    def test_plain_method(self):
        pass
"""


def test_isolation_after_a_failing_test_and_mixing_with_plain_tests(pytester):
    pytester.makepyfile(test_iso=TESTS)
    result = pytester.runpytest("-v", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=4, failed=1)
    result.stdout.fnmatch_lines(["*test_1_fails_after_writing[[]inmemory[]] FAILED*"])


def test_one_test_runs_by_node_id(pytester):
    pytester.makepyfile(test_iso=TESTS)
    result = pytester.runpytest(
        "test_iso.py::TestIsolation::test_2_starts_empty[inmemory]", "-p", "no:cacheprovider"
    )
    result.assert_outcomes(passed=1)


def test_runs_under_xdist(pytester):
    pytester.makepyfile(test_iso=TESTS.replace('raise RuntimeError("boom")', "pass"))
    result = pytester.runpytest("-p", "xdist", "-n", "2", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=5)
    result.stdout.fnmatch_lines(
        ["*restmachine-orm backends*", "*TestIsolation*inmemory: 2 passed*"]
    )


FIXTURES = """
import pytest
from restmachine_orm import Field, Model
from restmachine_orm_testing import MultiBackendTestBase


class Item(Model):
    id: str = Field(primary_key=True)


@pytest.fixture
def seeded(orm):
    orm_client, backend = orm
    # Isolation is done before any fixture that takes orm: the model is bound and empty.
    assert orm_client.all_models(Item) == []
    orm_client.create_and_verify(Item, id="seed")
    return orm


class TestFixtures(MultiBackendTestBase):
    def get_test_models(self):
        return [Item]

    def test_a_fixture_gets_the_same_orm(self, seeded, orm):
        assert seeded is orm
        assert [item.id for item in orm[0].all_models(Item)] == ["seed"]

    def test_the_next_test_starts_empty(self, orm):
        assert orm[0].all_models(Item) == []


def test_outside_a_multi_backend_class(orm):
    pass
"""


def test_fixtures_that_take_orm_and_a_test_outside_the_base_class(pytester):
    pytester.makepyfile(test_fixtures=FIXTURES)
    result = pytester.runpytest("-v", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*test_outside_a_multi_backend_class ERROR*",
            "*the orm fixture belongs to test methods of MultiBackendTestBase subclasses*",
        ]
    )


SKIPPED = """
import pytest
from restmachine_orm_testing import InMemoryDriver, MultiBackendTestBase

RESETS = []


class CountingDriver(InMemoryDriver):
    def reset(self, models):
        RESETS.append(models)
        super().reset(models)


class TestSkipped(MultiBackendTestBase):
    @classmethod
    def create_driver(cls, backend_name):
        return CountingDriver()

    @pytest.mark.skip(reason="not today")
    def test_skipped(self, orm):
        pass

    @pytest.mark.skipif(True, reason="never")
    def test_skipped_if(self, orm):
        pass

    def test_runs(self, orm):
        assert len(RESETS) == 1
"""


def test_a_skipped_test_does_not_reach_its_driver(pytester):
    pytester.makepyfile(test_skipped=SKIPPED)
    result = pytester.runpytest("-p", "no:cacheprovider", "-p", "no:randomly")
    result.assert_outcomes(passed=1, skipped=2)
