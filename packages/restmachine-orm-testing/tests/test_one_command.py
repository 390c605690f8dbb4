"""One command runs the whole suite on a backend; ``python -m restmachine_orm_testing`` lists them.

Everything here runs as a backend author would, in real subprocesses:
``pytest --pyargs restmachine_orm_testing.suite --orm-backend NAME`` and
``python -m restmachine_orm_testing [--json]``.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import json
import os
import pkgutil
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from test_registry import THIRD_PARTY, break_the_dynamodb_driver, install_distribution

import restmachine_orm_testing
from restmachine_orm_testing import DriverRegistry, InMemoryDriver, MultiBackendTestBase, suite
from restmachine_orm_testing.__main__ import COLUMNS, Listing, Row

PACKAGE = Path(restmachine_orm_testing.__file__).parent
PLUGINS_PAGE = Path(__file__).resolve().parents[3] / "docs" / "testing" / "plugins.md"

SUITE = ("-m", "pytest", "--pyargs", "restmachine_orm_testing.suite")
# Quiet, stopping at the first failure, in the order tests are written (pytest-randomly,
# when installed, would shuffle them and reseed random), leaving no cache behind.
QUIET = (
    "-q",
    "-x",
    "-p",
    "no:cacheprovider",
    *(("-p", "no:randomly") if importlib.util.find_spec("pytest_randomly") else ()),
)


def suite_classes():
    """Every test class the suite's modules define, found by walking them, to its module.

    Independent of ``suite.__all__``, which the one-command module reads: a class the
    suite defines but does not export is counted here, and missed there.
    """
    found = {}
    for info in pkgutil.iter_modules(suite.__path__):
        if info.name == "test_all":
            continue
        module = importlib.import_module(f"{suite.__name__}.{info.name}")
        for name, value in vars(module).items():
            if (
                name.startswith("Test")
                and inspect.isclass(value)
                and issubclass(value, MultiBackendTestBase)
                and value.__module__ == module.__name__
            ):
                found[name] = info.name
    return found


def classic_module(classes, backends):
    """A test module subclassing every suite class the classic way, on ``backends``."""
    modules = sorted(set(classes.values()))
    lines = [f"from restmachine_orm_testing.suite import {', '.join(modules)}", ""]
    for name, module in sorted(classes.items()):
        lines += [f"class {name}({module}.{name}):", f"    ENABLED_BACKENDS = {backends!r}", ""]
    return "\n".join(lines)


def python(*args, cwd, env=None):
    """Run ``python ARGS`` in ``cwd``, its own process, selecting backends only by ``env``."""
    environment = {k: v for k, v in os.environ.items() if k != "RESTMACHINE_ORM_BACKENDS"}
    # Fewer random sequences in the differential tests: a quick run, the same tests.
    environment["RESTMACHINE_ORM_DIFFERENTIAL_EXAMPLES"] = "20"
    return subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        env={**environment, **(env or {})},
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture
def run(subprocess_env):
    """Run ``python ARGS`` in pytester's directory, which is on the path (for its plugins)."""
    return lambda *args, env=None: python(*args, cwd=subprocess_env.path, env=env)


def collected(done):
    """The test ids a ``--collect-only -q`` run printed."""
    assert done.returncode in (0, 5), done.stdout + done.stderr
    return [line for line in done.stdout.splitlines() if "::" in line]


def backend_of(test):
    """The backend a collected test runs on: its first parameter id (the plugin's)."""
    return re.match(r"[^\[]*\[([^\]-]+)", test.rsplit("::", 1)[-1]).group(1)


def outcomes(done):
    """The counts of the last line of a run (``442 passed in 3.1s``), by outcome."""
    last = done.stdout.strip().splitlines()[-1]
    return {word: int(count) for count, word in re.findall(r"(\d+) (\w+)", last) if word != "in"}


@pytest.fixture(scope="session")
def classic_count(tmp_path_factory):
    """How many tests the suite has on one backend, its classes subclassed the classic way."""
    folder = tmp_path_factory.mktemp("classic")
    (folder / "test_classic.py").write_text(classic_module(suite_classes(), ["inmemory"]))
    ids = collected(python("-m", "pytest", "test_classic.py", "--collect-only", *QUIET, cwd=folder))
    assert {backend_of(test) for test in ids} == {"inmemory"}
    return len(ids)


def test_the_whole_suite_runs_on_one_backend_in_one_command_and_passes(
    run, subprocess_env, classic_count
):
    done = run(*SUITE, "--orm-backend", "inmemory", "--orm-report", "matrix.json", *QUIET)
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr
    # Every test of every class, once: on in-memory, which has every capability, all pass.
    assert outcomes(done) == {"passed": classic_count}
    report = json.loads((subprocess_env.path / "matrix.json").read_text())
    assert set(report["backends"]) == {"inmemory"}
    # The row keys are node ids, relative to wherever pytest places the installed suite.
    rows = {key.rsplit("/", 1)[-1] for key in report["classes"]}
    assert rows == {f"test_all.py::{name}" for name in suite_classes()}
    statuses = {o["status"] for tests in report["tests"].values() for o in tests.values()}
    assert statuses == {"passed"}
    assert "test_all.py::TestCrud  |  inmemory: " in done.stdout


def test_the_suites_classes_run_on_the_backends_the_environment_variable_names(
    run, subprocess_env, classic_count
):
    install_distribution(
        subprocess_env, "thirdparty_backend", {"thirdparty": "thirdparty_backend"}, THIRD_PARTY
    )
    by_backend = {}
    for selection in ("thirdparty", "inmemory,thirdparty"):
        ids = collected(
            run(*SUITE, "--collect-only", *QUIET, env={"RESTMACHINE_ORM_BACKENDS": selection})
        )
        by_backend[selection] = Counter(map(backend_of, ids))
    assert by_backend == {
        "thirdparty": {"thirdparty": classic_count},
        "inmemory,thirdparty": {"inmemory": classic_count, "thirdparty": classic_count},
    }


def test_with_no_selection_the_suite_runs_on_every_installed_backend(
    run, subprocess_env, classic_count
):
    install_distribution(
        subprocess_env, "thirdparty_backend", {"thirdparty": "thirdparty_backend"}, THIRD_PARTY
    )
    ids = collected(run(*SUITE, "--collect-only", *QUIET))
    installed = {*DriverRegistry.load().drivers, "thirdparty"}
    backends = Counter(map(backend_of, ids))
    assert backends == dict.fromkeys(installed, classic_count)


@pytest.mark.parametrize(
    ("argument", "collects_it"),
    [
        pytest.param(PACKAGE / "suite", True, id="the-suite-directory"),
        pytest.param(PACKAGE / "suite" / "test_all.py", True, id="the-module"),
        pytest.param(PACKAGE, False, id="the-package-directory"),
        pytest.param(PACKAGE.parent, False, id="src"),
        pytest.param(PACKAGE.parents[1], False, id="the-source-checkout"),
    ],
)
def test_only_a_run_naming_the_suite_collects_its_one_command_module(run, argument, collects_it):
    if argument.name != "suite" and PACKAGE.parent.name != "src":
        pytest.skip("installed from a wheel: no source checkout to run over")
    ids = collected(run("-m", "pytest", str(argument), "--collect-only", *QUIET))
    from_test_all = [test for test in ids if "test_all.py::" in test]
    assert bool(from_test_all) == collects_it
    if collects_it:
        assert any("test_all.py::TestCrud::" in test for test in from_test_all)


@pytest.mark.parametrize("how", ["option", "environment"])
def test_an_unknown_backend_stops_the_run_naming_the_known_ones(run, how):
    if how == "option":
        done = run(*SUITE, "--orm-backend", "nosuchdb", *QUIET)
    else:
        done = run(*SUITE, *QUIET, env={"RESTMACHINE_ORM_BACKENDS": "nosuchdb"})
    assert done.returncode == pytest.ExitCode.USAGE_ERROR
    assert (
        "restmachine-orm-testing: unknown backend 'nosuchdb' selected "
        "(--orm-backend / RESTMACHINE_ORM_BACKENDS); known backends: "
    ) in done.stderr
    assert "inmemory" in done.stderr.rsplit("known backends: ", 1)[1]


def table_rows(text):
    """The rows under the column titles of the listing's table, each split into its cells."""
    lines = text.splitlines()
    header = next(i for i, line in enumerate(lines) if re.split(r" {2,}", line) == list(COLUMNS))
    return [re.split(r" {2,}", line) for line in lines[header + 1 :] if line]


def test_the_listing_shows_each_backend_its_package_version_and_capabilities(run):
    done = run("-m", "restmachine_orm_testing")
    assert (done.returncode, done.stderr) == (0, "")
    title = done.stdout.splitlines()[0]
    assert title == (
        f"restmachine-orm-testing {restmachine_orm_testing.__version__}, "
        f"conformance suite {suite.SUITE_VERSION}"
    )
    rows = {cells[0]: cells[1:] for cells in table_rows(done.stdout)}
    for name, registered in DriverRegistry.load().drivers.items():
        assert rows[name][:2] == [registered.package, registered.version]
    assert rows["inmemory"] == [
        "restmachine-orm-testing",
        restmachine_orm_testing.__version__,
        ", ".join(sorted(InMemoryDriver().capabilities)),
    ]


def test_the_json_listing_has_the_suite_version_and_each_backend(run):
    done = run("-m", "restmachine_orm_testing", "--json")
    assert (done.returncode, done.stderr) == (0, "")
    listing = json.loads(done.stdout)
    assert listing["suite_version"] == suite.SUITE_VERSION
    assert listing["version"] == restmachine_orm_testing.__version__
    assert listing["problems"] == []
    registered = DriverRegistry.load().drivers
    assert set(listing["backends"]) == set(registered)
    for name, shown in listing["backends"].items():
        assert shown["package"] == registered[name].package != ""
        assert shown["version"] == registered[name].version != ""
        assert shown["capabilities"] == sorted(registered[name].factory().capabilities)
    assert listing["backends"]["inmemory"]["package"] == "restmachine-orm-testing"
    assert set(listing["missing"]) == {"inmemory", "dynamodb"} - set(registered)


FAILING_FACTORY = """
from restmachine_orm_testing import hookimpl


def cannot_connect():
    raise ConnectionError("no server\\non port 1")


@hookimpl
def restmachine_orm_testing_drivers():
    return {"offline": cannot_connect}
"""


@pytest.mark.parametrize("as_json", [False, True], ids=["table", "json"])
def test_each_broken_plugin_is_one_line_on_stderr_and_the_exit_status_is_2(
    run, subprocess_env, as_json
):
    break_the_dynamodb_driver(subprocess_env)
    install_distribution(
        subprocess_env, "offline_backend", {"offline": "offline_backend"}, FAILING_FACTORY
    )
    done = run("-m", "restmachine_orm_testing", *(["--json"] if as_json else []))
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "restmachine-orm-testing: plugin 'dynamodb = restmachine_orm_dynamodb.testing' failed "
        "to load: ImportError: simulated broken install",
        "restmachine-orm-testing: backend 'offline' (offline_backend 0.1 (offline_backend)): "
        "cannot create its driver: ConnectionError: no server on port 1",
    ]
    if as_json:
        listing = json.loads(done.stdout)
        assert len(listing["problems"]) == 2
        assert listing["backends"]["offline"]["capabilities"] is None
        assert listing["backends"]["inmemory"]["package"] == "restmachine-orm-testing"
    else:
        rows = table_rows(done.stdout)
        assert ["offline", "offline_backend", "0.1", "(driver failed)"] in rows
        assert ["dynamodb", "-", "-", "not loaded: a plugin failed to load"] in rows


def shown_listing():
    """The output the plugins page shows for ``python -m restmachine_orm_testing``."""
    page = PLUGINS_PAGE.read_text()
    found = re.search(
        r"^```bash\npython -m restmachine_orm_testing\n```\n\n```text\n(.*?)^```$",
        page,
        re.MULTILINE | re.DOTALL,
    )
    assert found is not None, f"{PLUGINS_PAGE} shows no output of python -m restmachine_orm_testing"
    return found.group(1)


@pytest.mark.skipif(not PLUGINS_PAGE.exists(), reason="not a source checkout: no docs")
def test_the_plugins_page_shows_what_the_listing_prints(run):
    shown = shown_listing()
    printed = run("-m", "restmachine_orm_testing").stdout
    versions = re.compile(r"^restmachine-orm-testing \S+, conformance suite \S+$")
    assert versions.match(shown.splitlines()[0])
    assert versions.match(printed.splitlines()[0])
    shown_rows = table_rows(shown)
    # Laid out as the command lays those rows out (the title aside: its versions move on).
    rebuilt = Listing(
        [
            Row(name, package, version, caps.split(", "))
            for name, package, version, caps in shown_rows
        ],
        missing={},
        problems=[],
    ).table()
    assert rebuilt.splitlines()[1:] == shown.splitlines()[1:]
    # Each backend the page shows and this install has, from the same package with the same
    # capabilities (its version aside); in-memory is always both.
    shown_by_name = {name: (package, caps) for name, package, _, caps in shown_rows}
    # A first-party backend this install lacks is a "not installed" row (package "-").
    printed_by_name = {
        name: (package, caps) for name, package, _, caps in table_rows(printed) if package != "-"
    }
    assert "inmemory" in shown_by_name
    for name in shown_by_name.keys() & printed_by_name.keys():
        assert shown_by_name[name] == printed_by_name[name], name
