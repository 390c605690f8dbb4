"""Plugin tests run inner pytest sessions with ``pytester``."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "spec"


@pytest.fixture(autouse=True)
def no_outer_selection(monkeypatch):
    """Inner runs choose their own backends, whatever selection the outer run was given."""
    monkeypatch.delenv("RESTMACHINE_ORM_BACKENDS", raising=False)


@pytest.fixture
def example():
    """The text of one of the spec's examples kept in examples/spec."""
    return lambda name: (EXAMPLES / name).read_text()


@pytest.fixture
def subprocess_env(pytester, monkeypatch):
    """Let inner runs in subprocesses import what the outer run imports, plus pytester's dir."""
    paths = [str(pytester.path), *(p for p in sys.path if p)]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(paths))
    return pytester
