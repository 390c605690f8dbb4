"""Drivers are found through entry points; a broken plugin is reported, never fatal."""

from __future__ import annotations

import subprocess
import sys

import pytest

from restmachine_orm_testing import BackendNotInstalledError, DriverRegistry, UnknownBackendError

THIRD_PARTY = """
from restmachine_orm import InMemoryBackend
from restmachine_orm_testing import DriverInterface, hookimpl


class PlainBackend(InMemoryBackend):
    capabilities = frozenset()


class ThirdPartyDriver(DriverInterface):
    def __init__(self):
        self.backend = PlainBackend()

    def get_backend_name(self):
        return "thirdparty"


@hookimpl
def restmachine_orm_testing_drivers():
    return {"thirdparty": ThirdPartyDriver}
"""


def install_distribution(pytester, name, entry_points, module=None):
    """Make an installed distribution: a dist-info folder on the path, as pip leaves it."""
    if module is not None:
        pytester.makepyfile(**{name: module})
    info = pytester.path / f"{name}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    lines = "\n".join(f"{key} = {value}" for key, value in entry_points.items())
    (info / "entry_points.txt").write_text(f"[restmachine_orm_testing]\n{lines}\n")


TEST_BOTH = """
from restmachine_orm import Field, Model
from restmachine_orm_testing import MultiBackendTestBase, requires

class Item(Model):
    id: str = Field(primary_key=True)

class TestBoth(MultiBackendTestBase):
    ENABLED_BACKENDS = ["inmemory", "thirdparty"]

    def get_test_models(self):
        return [Item]

    def test_create(self, orm):
        orm_client, name = orm
        orm_client.create_and_verify(Item, id="i1")

    @requires("transactions")
    def test_needs_transactions(self, orm):
        pass
"""


def test_a_third_party_driver_registered_by_entry_point_alone_is_used(subprocess_env):
    pytester = subprocess_env
    install_distribution(
        pytester, "thirdparty_backend", {"thirdparty": "thirdparty_backend"}, THIRD_PARTY
    )
    pytester.makepyfile(test_both=TEST_BOTH)
    result = pytester.runpytest_subprocess("-v", "-rs", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=3, skipped=1)
    result.stdout.fnmatch_lines(
        [
            "*test_create[[]inmemory[]] PASSED*",
            "*test_create[[]thirdparty[]] PASSED*",
            "*thirdparty lacks capability transactions*",
        ]
    )
    listing = subprocess.run(
        [sys.executable, "-m", "restmachine_orm_testing"],
        capture_output=True,
        text=True,
        cwd=pytester.path,
        check=True,
    ).stdout
    assert "thirdparty" in listing
    assert "thirdparty_backend 0.1 (thirdparty_backend)" in listing


def test_a_plugin_that_fails_to_import_is_reported_by_name(subprocess_env):
    pytester = subprocess_env
    install_distribution(pytester, "broken_backend", {"broken": "module_that_does_not_exist"})
    pytester.makepyfile(test_plain="def test_ok():\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*plugin 'broken' failed: ModuleNotFoundError*"])
    listing = subprocess.run(
        [sys.executable, "-m", "restmachine_orm_testing"],
        capture_output=True,
        text=True,
        cwd=pytester.path,
    )
    assert listing.returncode == 1
    assert "plugin 'broken' failed to load" in listing.stdout
    assert "inmemory" in listing.stdout


def test_the_inmemory_driver_comes_from_an_entry_point_too():
    registry = DriverRegistry.load()
    assert "restmachine-orm-testing" in registry.drivers["inmemory"].source
    assert registry.create("inmemory").get_backend_name() == "inmemory"


def test_unknown_and_missing_backends_raise_clear_errors():
    registry = DriverRegistry()
    with pytest.raises(BackendNotInstalledError, match=r'pip install "restmachine-orm\[dynamodb'):
        registry.create("dynamodb")
    with pytest.raises(UnknownBackendError, match="known backends: dynamodb, inmemory"):
        registry.create("nosuch")
