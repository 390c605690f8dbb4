"""Runs the documentation's code blocks (pytest-markdown-docs) against real backends."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from restmachine_orm_dynamodb._moto import EmbeddedMoto
from restmachine_orm_testing import InMemoryDriver, OrmClient


@pytest.fixture(scope="session", autouse=True)
def local_dynamodb() -> Iterator[str]:
    """Point boto3 at an embedded DynamoDB for the examples that build their own client."""
    server = EmbeddedMoto()
    endpoint = server.start()
    patch = pytest.MonkeyPatch()
    patch.setenv("AWS_ENDPOINT_URL_DYNAMODB", endpoint)
    patch.setenv("AWS_ACCESS_KEY_ID", "docs")
    patch.setenv("AWS_SECRET_ACCESS_KEY", "docs")
    yield endpoint
    patch.undo()
    server.stop()


def pytest_markdown_docs_globals() -> dict[str, Any]:
    """Names the DSL fragments use, as the ``orm`` fixture would give them."""
    return {"orm_client": OrmClient(InMemoryDriver())}


# The docs' test classes are also collected as tests, so they run on every backend they
# name: each fenced block defining a MultiBackendTestBase subclass (with the blocks it
# continues) becomes a test module under .docs-tests/.
_FENCE = re.compile(r"^```python([^\n]*)\n(.*?)^```", re.MULTILINE | re.DOTALL)
_TEST_CLASS = re.compile(r"^class Test\w*\(MultiBackendTestBase\)", re.MULTILINE)


class MarkdownTestClasses(pytest.File):
    """The test classes written in one Markdown page."""

    def collect(self) -> Iterator[pytest.Module]:
        """Write each test-class block as a module and collect it."""
        folder = self.config.rootpath / ".docs-tests"
        folder.mkdir(exist_ok=True)
        text = self.path.read_text()
        previous = ""
        for match in _FENCE.finditer(text):
            info, code = match.group(1), match.group(2)
            source = (previous + "\n" if "continuation" in info else "") + code
            previous = source
            if _TEST_CLASS.search(code):
                line = text[: match.start()].count("\n") + 1
                stem = re.sub(r"\W", "_", self.path.stem)
                target = folder / f"test_docs_{stem}_line{line}.py"
                target.write_text(source)
                yield pytest.Module.from_parent(self, path=target)


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    """Collect the test classes of Markdown pages that have any."""
    if file_path.suffix == ".md" and _TEST_CLASS.search(file_path.read_text()):
        return MarkdownTestClasses.from_parent(parent, path=file_path)
    return None
