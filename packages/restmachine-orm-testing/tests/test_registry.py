"""Drivers are found through entry points; a broken plugin fails the run, naming itself.

Only a backend whose package is absent is skipped (with its ``pip install`` line).
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from restmachine_orm_testing import (
    BackendNotInstalledError,
    DriverLoadError,
    DriverRegistry,
    UnknownBackendError,
)

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
    assert ["thirdparty", "thirdparty_backend", "0.1", "(none)"] in [
        line.split() for line in listing.splitlines()
    ]


BROKEN_INSTALL = "raise ImportError('simulated broken install')\n"

TEST_DYNAMODB = """
from restmachine_orm_testing import MultiBackendTestBase

class TestOnDynamoDB(MultiBackendTestBase):
    ENABLED_BACKENDS = ["inmemory", "dynamodb"]

    def test_a(self, orm):
        pass
"""


def break_the_dynamodb_driver(pytester):
    """The ``dynamodb`` entry point installed, its module failing to import.

    A distribution declares the entry point exactly as restmachine-orm-dynamodb does, and a
    package of the same name ahead on the path fails to import: with the real package
    installed or not, every ``dynamodb`` entry point of the inner run fails.
    """
    install_distribution(
        pytester, "broken_dynamodb", {"dynamodb": "restmachine_orm_dynamodb.testing"}
    )
    pytester.mkpydir("restmachine_orm_dynamodb").joinpath("__init__.py").write_text(BROKEN_INSTALL)


def test_a_broken_driver_fails_the_run_naming_its_entry_point_and_error(subprocess_env):
    pytester = subprocess_env
    break_the_dynamodb_driver(pytester)
    pytester.makepyfile(test_dynamodb=TEST_DYNAMODB)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "*plugin 'dynamodb = restmachine_orm_dynamodb.testing' failed to load: "
            "ImportError: simulated broken install*entry-point group 'restmachine_orm_testing'*"
            "repair the package that provides it, or uninstall it*",
        ]
    )
    assert "not installed" not in result.stdout.str()


def test_a_run_without_multi_backend_tests_only_reports_a_broken_driver(subprocess_env):
    pytester = subprocess_env
    break_the_dynamodb_driver(pytester)
    pytester.makepyfile(test_plain="def test_ok():\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        ["restmachine-orm-testing: plugin 'dynamodb = restmachine_orm_dynamodb.testing' failed*"]
    )
    listing = subprocess.run(
        [sys.executable, "-m", "restmachine_orm_testing"],
        capture_output=True,
        text=True,
        cwd=pytester.path,
    )
    assert listing.returncode == 2
    assert listing.stderr.splitlines() == [
        "restmachine-orm-testing: plugin 'dynamodb = restmachine_orm_dynamodb.testing' failed "
        "to load: ImportError: simulated broken install"
    ]
    rows = [line.split() for line in listing.stdout.splitlines()]
    assert ["inmemory", "restmachine-orm-testing"] in [row[:2] for row in rows]
    # The broken plugin may be the one providing dynamodb: never called "not installed".
    assert "not installed" not in listing.stdout
    assert "dynamodb - - not loaded: a plugin failed to load" in " ".join(listing.stdout.split())


def test_a_name_asked_of_a_registry_with_a_broken_plugin_is_a_load_error():
    registry = DriverRegistry(failures={"dynamodb = restmachine_orm_dynamodb.testing": "E: x"})
    with pytest.raises(DriverLoadError, match=r"'dynamodb = restmachine_orm_dynamodb\.testing' "):
        registry.create("dynamodb")


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
