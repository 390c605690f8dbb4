"""The backend matrix: summarised at the end, written whole with --orm-report."""

from __future__ import annotations

import json

TESTS = """
import pytest
from restmachine_orm import NotFoundError
from restmachine_orm_testing import MultiBackendTestBase, skip_backend, xfail_backend

class TestMatrix(MultiBackendTestBase):
    def test_passes(self, orm):
        pass

    def test_fails(self, orm):
        assert False

    @skip_backend("inmemory", reason="why not")
    def test_skipped(self, orm):
        pass

    @xfail_backend("inmemory", reason="known gap", raises=NotFoundError)
    def test_xfails(self, orm):
        raise NotFoundError("M", {"id": 1})
"""


def test_terminal_summary_counts_per_class_and_backend(pytester):
    pytester.makepyfile(test_matrix=TESTS)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.stdout.fnmatch_lines(
        [
            "*restmachine-orm backends*",
            "test_matrix.py::TestMatrix  |  inmemory: 1 passed, 1 failed, 1 skipped, 1 xfailed",
        ]
    )


def test_json_report_has_outcomes_reasons_and_capabilities(pytester):
    pytester.makepyfile(test_matrix=TESTS)
    pytester.runpytest("--orm-report", "out.json", "-p", "no:cacheprovider")
    report = json.loads((pytester.path / "out.json").read_text())
    tests = report["tests"]
    assert tests["test_matrix.py::TestMatrix::test_passes"]["inmemory"]["status"] == "passed"
    assert tests["test_matrix.py::TestMatrix::test_fails"]["inmemory"]["status"] == "failed"
    assert tests["test_matrix.py::TestMatrix::test_skipped"]["inmemory"] == {
        "status": "skipped",
        "reason": "why not",
    }
    assert tests["test_matrix.py::TestMatrix::test_xfails"]["inmemory"]["status"] == "xfailed"
    assert "known gap" in tests["test_matrix.py::TestMatrix::test_xfails"]["inmemory"]["reason"]
    inmemory = report["backends"]["inmemory"]
    assert "transactions" in inmemory["capabilities"]
    assert inmemory["totals"] == {"passed": 1, "failed": 1, "skipped": 1, "xfailed": 1}


def test_markdown_report(pytester):
    pytester.makepyfile(test_matrix=TESTS)
    pytester.runpytest("--orm-report", "out.md", "-p", "no:cacheprovider")
    text = (pytester.path / "out.md").read_text()
    assert "| `test_matrix.py::TestMatrix::test_skipped` | skipped: why not |" in text
    assert "| transactions | yes |" in text


TWO_CLASSES = """
import pytest
from restmachine_orm_testing import InMemoryDriver, MultiBackendTestBase


class LocalDriver(InMemoryDriver):
    def get_backend_name(self):
        return "in-memory-local"


class TestDefault(MultiBackendTestBase):
    def test_a(self, orm):
        pass


class TestTwo(MultiBackendTestBase):
    ENABLED_BACKENDS = ["inmemory", "in-memory-local"]

    @classmethod
    def create_driver(cls, backend_name):
        return LocalDriver() if backend_name == "in-memory-local" else InMemoryDriver()

    @pytest.mark.parametrize("kind", ["in-memory", "local-x", "plain"])
    def test_b(self, orm, shard, kind):
        assert kind != "plain" or orm[1] == "inmemory"
"""

# A conftest's own parametrization (run before pytest's marks, after the plugin's).
SHARDS = """
def pytest_generate_tests(metafunc):
    if "shard" in metafunc.fixturenames:
        metafunc.parametrize("shard", ["s-1"])
"""


def make_two_classes(pytester):
    pytester.makeconftest(SHARDS)
    pytester.makepyfile(test_two=TWO_CLASSES)


KINDS = [("in-memory", "passed"), ("local-x", "passed"), ("plain", "failed")]

TWO_CLASSES_SUMMARY = [
    "test_two.py::TestDefault  |  inmemory: 1 passed",
    "test_two.py::TestTwo  |  in-memory-local: 2 passed, 1 failed  |  inmemory: 3 passed",
]


def test_a_class_shows_only_its_backends_with_or_without_xdist(pytester):
    make_two_classes(pytester)
    for workers in ([], ["-p", "xdist", "-n", "2"]):
        result = pytester.runpytest("-p", "no:cacheprovider", *workers)
        result.assert_outcomes(passed=6, failed=1)
        lines = result.outlines
        start = lines.index(next(line for line in lines if "restmachine-orm backends" in line))
        assert lines[start + 1 : start + 3] == TWO_CLASSES_SUMMARY, workers


def test_backend_names_and_ids_with_dashes_keep_one_row_per_test(pytester):
    make_two_classes(pytester)
    pytester.runpytest("--orm-report", "out.json", "-p", "no:cacheprovider")
    report = json.loads((pytester.path / "out.json").read_text())
    assert report["tests"] == {
        "test_two.py::TestDefault::test_a": {"inmemory": {"status": "passed", "reason": ""}},
        **{
            f"test_two.py::TestTwo::test_b[s-1-{kind}]": {
                "in-memory-local": {"status": status, "reason": ""},
                "inmemory": {"status": "passed", "reason": ""},
            }
            for kind, status in KINDS
        },
    }
    assert report["classes"] == {
        "test_two.py::TestDefault": {"inmemory": {"passed": 1}},
        "test_two.py::TestTwo": {
            "in-memory-local": {"passed": 2, "failed": 1},
            "inmemory": {"passed": 3},
        },
    }
    assert report["backends"]["in-memory-local"]["totals"] == {"passed": 2, "failed": 1}


def test_markdown_has_a_table_per_class_with_the_backends_it_ran_on(pytester):
    make_two_classes(pytester)
    pytester.runpytest("--orm-report", "out.md", "-p", "no:cacheprovider")
    text = (pytester.path / "out.md").read_text()
    outcomes = text[text.index("## Outcomes") :].splitlines()
    assert outcomes == [
        "## Outcomes",
        "",
        "### `test_two.py::TestDefault`",
        "",
        "| test | inmemory |",
        "|---|---|",
        "| `test_two.py::TestDefault::test_a` | passed |",
        "",
        "### `test_two.py::TestTwo`",
        "",
        "| test | in-memory-local | inmemory |",
        "|---|---|---|",
        "| `test_two.py::TestTwo::test_b[s-1-in-memory]` | passed | passed |",
        "| `test_two.py::TestTwo::test_b[s-1-local-x]` | passed | passed |",
        "| `test_two.py::TestTwo::test_b[s-1-plain]` | failed | passed |",
    ]
