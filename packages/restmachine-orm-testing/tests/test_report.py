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
