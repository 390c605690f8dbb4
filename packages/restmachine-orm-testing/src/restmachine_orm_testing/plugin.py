"""The pytest plugin: parametrizes multi-backend tests, isolates them, reports per backend.

Registered through the ``pytest11`` entry point, so installing the package is all it takes.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

from restmachine_orm import CAPABILITIES

from ._blocking import forbid_blocking_io
from ._isolation import AWAITED, BACKEND, guarded, isolate, restore, running_argument
from ._pytest_internals import is_initial_path, own_marks, parametrization
from ._session import STATE, SessionState, selected_backends
from .base import MultiBackendTestBase, runs_on_selection
from .clock import OrmClock
from .driver import DriverInterface
from .dsl import AsyncOrmClient, OrmClient
from .faults import OrmFaults
from .markers import LONG_MARK, MARK_DOCS, ONLY_MARK, REQUIRES_MARK, SKIP_MARK, XFAIL_MARK
from .registry import BackendNotInstalledError, DriverRegistry

__all__ = ["aorm", "orm"]

#: The fixtures a multi-backend test takes: sync tests ``orm``, ``async def`` tests ``aorm``.
_ARGUMENTS = ("orm", "aorm")

#: The conformance suite's one-command module, as the end of its path: collected only when
#: a run names the suite package (``pytest --pyargs restmachine_orm_testing.suite``) or
#: the module, never by a run over a directory above it (a checkout's ``src``).
_ONE_COMMAND_MODULE = ("restmachine_orm_testing", "suite", "test_all.py")


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add ``--orm-backend`` and ``--orm-report``."""
    group = parser.getgroup("restmachine-orm", "RestMachine ORM multi-backend tests")
    group.addoption(
        "--orm-backend",
        action="append",
        dest="orm_backends",
        metavar="NAME",
        help="run multi-backend tests on this backend only (repeatable); "
        "default: each class's ENABLED_BACKENDS, or $RESTMACHINE_ORM_BACKENDS=a,b",
    )
    group.addoption(
        "--orm-report",
        dest="orm_report",
        metavar="PATH",
        help="write the backend x outcome matrix to PATH (.md or .json)",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Register the marks, load the drivers and check the options."""
    for doc in MARK_DOCS.values():
        config.addinivalue_line("markers", doc)
    report = config.getoption("orm_report")
    if report is not None and Path(report).suffix not in (".md", ".json"):
        raise pytest.UsageError(f"--orm-report {report}: the file must end in .md or .json")
    registry = DriverRegistry.load()
    selected = selected_backends(config.getoption("orm_backends"), registry)
    config.stash[STATE] = SessionState(registry, selected)
    config.pluginmanager.register(_RunHooks(config), "restmachine-orm-testing-run")


def pytest_report_header(config: pytest.Config) -> list[str]:
    """Show the installed drivers, and any plugin that failed to load."""
    registry = config.stash[STATE].registry
    lines = ["restmachine-orm-testing drivers: " + ", ".join(sorted(registry.drivers))]
    lines += [f"restmachine-orm-testing: {line}" for line in registry.failure_lines()]
    return lines


@pytest.hookimpl(tryfirst=True)
def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize each test of a ``MultiBackendTestBase`` class over its backends.

    A class's backends are its ``ENABLED_BACKENDS`` but for its ``EXCLUDED_BACKENDS``; the
    run's selection then deselects what it leaves out.

    Run first, so that the backend's id leads the test's ids (``test_a[dynamodb-x]``),
    where the report finds it whatever the backend's name.

    Raises:
        pytest.Collector.CollectError: An installed plugin failed to load (it may provide
            one of the backends, and a broken install must not pass as an absent one), or
            the class or a mark names backends or capabilities wrongly, or the class
            excludes every backend it enables.
    """
    cls = metafunc.cls
    if cls is None or not issubclass(cls, MultiBackendTestBase):
        return
    taken = [name for name in _ARGUMENTS if name in metafunc.fixturenames]
    if not taken:
        return
    argument = _argument_of(metafunc, taken)
    state = metafunc.config.stash[STATE]
    failed = state.registry.load_error()
    if failed is not None:
        raise pytest.Collector.CollectError(str(failed))
    backends = _backends_of(cls, state)
    _check_marks(metafunc, set(state.registry.known_names) | set(cls.ENABLED_BACKENDS))
    params = [
        pytest.param(name, id=name, marks=_marks_for(metafunc, state, cls, name))
        for name in backends
    ]
    metafunc.parametrize(argument, params, indirect=True)


def _backends_of(cls: type[MultiBackendTestBase], state: SessionState) -> list[str]:
    """The backends a class runs on: its ``ENABLED_BACKENDS`` less its ``EXCLUDED_BACKENDS``.

    ``ENABLED_BACKENDS = SELECTED`` enables the run's selection, sorted; with no selection,
    every backend whose driver is installed.

    Raises:
        pytest.Collector.CollectError: Either attribute is not a list of names, or the
            exclusions leave no backend to run on.
    """
    if runs_on_selection(cls):
        chosen = state.registry.drivers if state.selected is None else state.selected
        enabled: list[str] | None = sorted(chosen)
    else:
        enabled = _names_in(cls.ENABLED_BACKENDS)
    if not enabled:
        raise pytest.Collector.CollectError(
            f"{cls.__name__}.ENABLED_BACKENDS must be a non-empty list of backend names, "
            f"not {cls.ENABLED_BACKENDS!r}"
        )
    excluded = _names_in(cls.EXCLUDED_BACKENDS)
    if excluded is None:
        raise pytest.Collector.CollectError(
            f"{cls.__name__}.EXCLUDED_BACKENDS must be a list of backend names, "
            f"not {cls.EXCLUDED_BACKENDS!r}"
        )
    backends = [name for name in enabled if name not in excluded]
    if not backends:
        shown = f"{cls.ENABLED_BACKENDS!r} = {enabled!r}" if runs_on_selection(cls) else enabled
        raise pytest.Collector.CollectError(
            f"{cls.__name__}.EXCLUDED_BACKENDS {excluded!r} excludes every backend of "
            f"ENABLED_BACKENDS {shown}: the class has no backend to run on"
        )
    return backends


def _names_in(value: object) -> list[str] | None:
    """The backend names a class attribute lists, or ``None`` if it lists something else."""
    # A bare string is iterable too: "dynamodb" would pass as eight one-letter names.
    if isinstance(value, str) or not isinstance(value, Iterable):
        return None
    names = list(value)
    return names if all(isinstance(name, str) for name in names) else None


def _argument_of(metafunc: pytest.Metafunc, taken: list[str]) -> str:
    """Which of ``orm`` and ``aorm`` a test takes, checked against how it is defined."""
    where = metafunc.definition.nodeid
    if len(taken) > 1:
        raise pytest.Collector.CollectError(
            f"{where}: a test takes orm (def) or aorm (async def), not both"
        )
    if taken == ["aorm"] and not inspect.iscoroutinefunction(metafunc.function):
        raise pytest.Collector.CollectError(
            f"{where}: aorm's DSL methods are awaited, so it belongs to async def tests; "
            "a plain def test takes orm"
        )
    return taken[0]


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Leave out the suite's one-command module unless the run names the suite package.

    pytest asks this of what it finds under the run's arguments, never of an argument
    itself: ``--pyargs restmachine_orm_testing.suite`` (or the suite's directory) collects
    the module, and so does the module's own path; a run over a directory above the suite
    (``pytest`` in a source checkout of this package) does not.
    """
    if collection_path.parts[-3:] != _ONE_COMMAND_MODULE:
        return None
    session = config.stash[STATE].session
    if session is not None and is_initial_path(session, collection_path.parent):
        return None
    return True


@pytest.hookimpl(wrapper=True)
def pytest_pycollect_makeitem(
    collector: pytest.Module | pytest.Class, name: str, obj: object
) -> Any:
    """Have anyio's plugin run the ``async def`` tests of ``MultiBackendTestBase`` classes.

    They ask for its ``anyio_backend`` fixture, which the base class sets to asyncio: no
    marker or loop setup of the user's. Done before any plugin makes the items, which
    read the fixtures a test asks for as they are made.
    """
    if (
        isinstance(collector, pytest.Class)
        and issubclass(collector.obj, MultiBackendTestBase)
        and inspect.iscoroutinefunction(obj)
    ):
        _asks_for_an_event_loop(obj)
    return (yield)


def _asks_for_an_event_loop(test: Any) -> None:
    # Once: a function inherited by several classes is collected once per class.
    marks = own_marks(test)
    if not any(mark.name == "usefixtures" and "anyio_backend" in mark.args for mark in marks):
        pytest.mark.usefixtures("anyio_backend")(test)


def _check_marks(metafunc: pytest.Metafunc, known: set[str]) -> None:
    where = metafunc.definition.nodeid
    for mark_name in (SKIP_MARK, ONLY_MARK, XFAIL_MARK):
        for mark in metafunc.definition.iter_markers(mark_name):
            unknown = [
                name
                for name in mark.args[: 1 if mark_name == XFAIL_MARK else None]
                if name not in known
            ]
            if unknown:
                raise pytest.Collector.CollectError(
                    f"{where}: {mark_name} names unknown backend {', '.join(map(repr, unknown))}; "
                    f"known backends: {', '.join(sorted(known))}"
                )
    for mark in metafunc.definition.iter_markers(REQUIRES_MARK):
        unknown = [cap for cap in mark.args if cap not in CAPABILITIES]
        if unknown:
            raise pytest.Collector.CollectError(
                f"{where}: requires() names unknown capability {', '.join(map(repr, unknown))}; "
                f"known capabilities: {', '.join(sorted(CAPABILITIES))}"
            )


def _marks_for(
    metafunc: pytest.Metafunc, state: SessionState, cls: type[Any], name: str
) -> list[pytest.MarkDecorator]:
    if state.selected is not None and name not in state.selected:
        return []  # deselected after collection; no driver needed
    definition = metafunc.definition
    for mark in definition.iter_markers(SKIP_MARK):
        if name in mark.args:
            return [pytest.mark.skip(reason=mark.kwargs.get("reason") or f"skipped on {name}")]
    for mark in definition.iter_markers(ONLY_MARK):
        if name not in mark.args:
            return [pytest.mark.skip(reason=f"runs only on {', '.join(mark.args)}")]
    driver = state.driver_or_error(cls, name)
    if isinstance(driver, BackendNotInstalledError):
        return [pytest.mark.skip(reason=str(driver))]
    if isinstance(driver, DriverInterface):
        needed = {cap for mark in definition.iter_markers(REQUIRES_MARK) for cap in mark.args}
        missing = sorted(needed - driver.capabilities)
        if missing:
            return [pytest.mark.skip(reason=f"{name} lacks capability {', '.join(missing)}")]
    marks = []
    for mark in definition.iter_markers(XFAIL_MARK):
        if mark.args[0] == name:
            reason = f"{name}: {mark.kwargs['reason']}"
            marks.append(
                pytest.mark.xfail(strict=True, raises=mark.kwargs["raises"], reason=reason)
            )
    return marks


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect backends outside the run's selection; tag the rest for the report.

    Under pytest-xdist, tests marked ``orm_long_running`` are spread through the run.
    """
    state = config.stash[STATE]
    kept, dropped = [], []
    for item in items:
        found = _backend_and_test(item)
        if found is None:
            kept.append(item)
            continue
        argument, name, test = found
        if state.selected is not None and name not in state.selected:
            dropped.append(item)
            continue
        item.stash[BACKEND] = name
        if argument == "aorm":
            item.stash[AWAITED] = True
        item.user_properties.append(("orm_backend", name))
        item.user_properties.append(("orm_test", test))
        kept.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept
    if hasattr(config, "workerinput"):
        items[:] = _spread_long_tests(items)


def _spread_long_tests(items: list[pytest.Item]) -> list[pytest.Item]:
    """Long tests first and evenly apart, the rest in their order between them.

    In an xdist worker, the collection is the order tests are handed out in, to whichever
    worker asks, a few neighbours at a time. Long tests next to each other end up on one
    worker, the others idle meanwhile; spread out, the next long test comes up while the
    worker that took the last one is still busy with it.
    """
    long: list[pytest.Item] = []
    rest: list[pytest.Item] = []
    for item in items:
        (rest if item.get_closest_marker(LONG_MARK) is None else long).append(item)
    if not long:
        return items
    gap = len(rest) // len(long)
    spread: list[pytest.Item] = []
    for index, item in enumerate(long):
        spread.append(item)
        spread.extend(rest[index * gap : (index + 1) * gap])
    spread.extend(rest[len(long) * gap :])
    return spread


def _backend_and_test(item: pytest.Item) -> tuple[str, str, str] | None:
    """The argument (``orm``, ``aorm``) and backend of a test item, and its id for the report.

    Read from the item's parameters: the backend is the parameter of its argument.
    """
    found = parametrization(item)
    if found is None:
        return None
    params, ids = found
    for argument in _ARGUMENTS:
        backend = params.get(argument)
        if isinstance(backend, str):
            return argument, backend, _test_id(item.nodeid, ids, backend)
    return None


def _test_id(nodeid: str, ids: str, backend: str) -> str:
    """The test's id without its backend's: the same on every backend it runs on.

    ``pytest_generate_tests`` runs first, so the backend's id leads the ids
    (``test_a[dynamodb-local-x]``) and is cut off by its length: splitting on ``-`` would
    break backend names that contain one.
    """
    head = nodeid[: -len(ids) - 2]  # without "[ids]"
    if ids == backend:
        return head
    if ids.startswith(backend + "-"):
        return f"{head}[{ids[len(backend) + 1 :]}]"
    # Another plugin parametrized the test first: keep the whole id, one row per backend.
    return nodeid


class _RunHooks:
    """Hooks that need the run's config, registered on it (pytest passes none to them)."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.state = config.stash[STATE]

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        """Keep the session: it knows the run's arguments (``pytest_ignore_collect``)."""
        self.state.session = session

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Record each outcome (on the xdist controller: from every worker)."""
        self.state.matrix.record(report)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        """Print the backend matrix, and write it when ``--orm-report`` asks."""
        if hasattr(self.config, "workerinput"):
            return
        matrix = self.state.matrix
        if not matrix.outcomes:
            return
        for name in matrix.backends:
            matrix.capabilities[name] = sorted(self._capabilities(name))
        terminalreporter.section("restmachine-orm backends")
        for line in matrix.summary_lines():
            terminalreporter.write_line(line)
        target = self.config.getoption("orm_report")
        if target is not None:
            matrix.write(Path(target))
            terminalreporter.write_line(f"backend matrix written to {target}")

    def _capabilities(self, name: str) -> frozenset[str]:
        made = [d for (_, n), d in self.state.drivers.items() if n == name]
        drivers = [d for d in made if isinstance(d, DriverInterface)]
        if drivers:
            return drivers[0].capabilities
        registered = self.state.registry.drivers.get(name)
        return frozenset() if registered is None else registered.factory().capabilities

    def pytest_sessionfinish(self) -> None:
        """Close the drivers of the run."""
        self.state.close()


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Isolate a multi-backend test: its models emptied and bound, its ``orm`` filled in."""
    isolate(item)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """Run a test of the suite's async classes watching for blocking calls on its loop."""
    if not guarded(item):
        return (yield)
    with forbid_blocking_io():
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Iterator[None]:
    """Once the test's fixtures are torn down, give its models their backends back."""
    try:
        return (yield)
    finally:
        restore(item)


@pytest.fixture
def orm_clock() -> Iterator[OrmClock]:
    """The ORM's clock for this test: an ``OrmClock`` standing at the real time.

    ``orm_clock.now()``, ``set(datetime)`` and ``advance(seconds or timedelta)`` drive
    every stamp and expiry the ORM takes, on every backend; the real clock is back after
    the test. It works beside ``orm`` and ``aorm`` in a ``MultiBackendTestBase`` class, and
    in any other test.
    """
    with OrmClock().running() as test_clock:
        yield test_clock


@pytest.fixture
def orm_faults() -> Iterator[OrmFaults]:
    """Failure as a test input: an ``OrmFaults`` (a ``FaultPlan``) for this test.

    ``throttle``, ``fail``, ``lose_response``, ``unprocessed`` and ``latency`` aim faults
    at the backend's requests (optionally one ``operation`` and one ``model``); ``calls``
    counts the requests it received. Beside ``orm`` or ``aorm`` in a
    ``MultiBackendTestBase`` class it acts on the backend the test runs on (skipped, with
    the reason, on a backend without the ``faults`` capability); in any other test,
    ``orm_faults.attach(backend)`` names the backend. Faults end with the test.
    """
    faults = OrmFaults()
    argument = running_argument()
    if argument is not None:
        client, name = argument
        backend = client.driver.backend
        if "faults" not in backend.capabilities:
            pytest.skip(f"{name} cannot act out injected faults: no 'faults' capability")
        faults.attach(backend)
    try:
        yield faults
    finally:
        faults.detach()


@pytest.fixture
def orm() -> tuple[OrmClient, str]:
    """``(orm_client, backend_name)`` for the backend this test instance runs on.

    The models of ``get_test_models()`` start empty and get their ``model_backend`` back
    afterwards, whether the test passed or not. The plugin's setup hook does that work and
    hands the test this value directly; fixtures that take ``orm`` get it from here.
    """
    argument = running_argument()
    if argument is None:
        pytest.fail(
            "the orm fixture belongs to test methods of MultiBackendTestBase subclasses",
            pytrace=False,
        )
    return argument


@pytest.fixture
async def aorm(anyio_backend: Any) -> AsyncIterator[tuple[AsyncOrmClient, str]]:
    """``(async_orm_client, backend_name)`` for an ``async def`` test, on its event loop.

    The same models, isolation, selection, marks and report as ``orm``; the client's 21
    storage methods are awaited. When the test is over, the driver's ``ateardown`` is awaited
    on the test's loop, before the loop closes.
    """
    loop = anyio_backend if isinstance(anyio_backend, str) else anyio_backend[0]
    if loop != "asyncio":
        pytest.fail(
            f"aorm runs on asyncio, the ORM's async API's event loop, not {loop!r}: "
            "leave anyio_backend as MultiBackendTestBase sets it",
            pytrace=False,
        )
    argument = running_argument()
    if argument is None or not isinstance(argument[0], AsyncOrmClient):
        pytest.fail(
            "the aorm fixture belongs to async def test methods of MultiBackendTestBase subclasses",
            pytrace=False,
        )
    try:
        yield argument
    finally:
        await argument[0].driver.ateardown()
