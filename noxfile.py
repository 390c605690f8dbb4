"""Every task of the repository, as nox sessions.

Sessions install the packages from this checkout themselves; nothing relies on what the
machine already has. ``nox`` runs every session CI runs; ``nox -s example-suite`` runs the
spec's examples on every built-in backend.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import nox

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_existing_virtualenvs = False
nox.options.sessions = [
    "tests-inmemory",
    "tests-dynamodb",
    "tests-dynamodb-local",
    "tests-dynalite",
    "conformance",
    "examples",
    "example-suite",
    "docs",
    "lint",
    "typecheck",
    "build",
]

ROOT = Path(__file__).parent
PYTHONS = ["3.10", "3.11", "3.12", "3.13"]
DEFAULT_PYTHON = "3.11"
CORE = "packages/restmachine-orm"
TESTING = "packages/restmachine-orm-testing"
DYNAMODB = "packages/restmachine-orm-dynamodb"
SQLITE_EXAMPLE = "examples/restmachine-orm-sqlite"
ENDPOINT_VAR = "RESTMACHINE_ORM_DYNAMODB_ENDPOINT"
# Local DynamoDB servers come from npm, installed once into this folder.
SERVERS = ROOT / ".nox" / "_servers"
SERVER_PACKAGES = ["amplify-dynamodb-simulator@2", "dynalite@3"]
PACKAGES = sorted(
    str(path.parent.relative_to(ROOT)) for path in ROOT.glob("packages/*/pyproject.toml")
)
# The OpenTelemetry SDK's in-memory exporter records the DynamoDB backend's spans in tests.
TEST_TOOLS = ["pytest>=8", "pytest-xdist>=3.5", "hypothesis>=6.100", "opentelemetry-sdk>=1.20"]


def install_packages(session: nox.Session, *packages: str) -> None:
    """Install packages of this checkout (editable); siblings never come from an index.

    With all three packages, the core is installed with its ``dynamodb`` and ``testing``
    extras, as a user would, and the extras' sibling wheels resolve to these checkouts. The
    DynamoDB package always comes with its ``async`` extra (its async HTTP client) and its
    ``otel`` extra (OpenTelemetry's API, for its spans).
    """
    args: list[str] = []
    for package in packages:
        extras = "[dynamodb,testing]" if package == CORE and set(PACKAGES) <= set(packages) else ""
        extras = "[async,otel]" if package == DYNAMODB else extras
        args += ["-e", f"{package}{extras}"]
    session.install(*args)


def run_tests(
    session: nox.Session,
    packages: list[str],
    paths: list[str],
    *pytest_args: str,
    env: dict[str, str] | None = None,
) -> None:
    """Install the packages and the test tools, then run pytest once per path.

    One run per package keeps each package's tests standalone (and their module names
    from colliding).
    """
    install_packages(session, *packages)
    session.install(*TEST_TOOLS)
    for path in paths:
        session.run("pytest", path, *pytest_args, *session.posargs, env=env or {})


@nox.session(name="tests-inmemory", python=PYTHONS)
def tests_inmemory(session: nox.Session) -> None:
    """Core and testing-framework tests, and the spec's examples, on the in-memory backend."""
    run_tests(
        session,
        [CORE, TESTING],
        [f"{CORE}/tests", f"{TESTING}/tests", "examples/spec"],
        env={"RESTMACHINE_ORM_BACKENDS": "inmemory"},
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _npm_servers(session: nox.Session) -> Path:
    """Install the npm packages holding DynamoDB Local and dynalite (once per checkout)."""
    modules = SERVERS / "node_modules"
    if not all((modules / name.rsplit("@", 1)[0]).is_dir() for name in SERVER_PACKAGES):
        SERVERS.mkdir(parents=True, exist_ok=True)
        session.run(
            "npm",
            "install",
            "--no-audit",
            "--no-fund",
            "--prefix",
            str(SERVERS),
            *SERVER_PACKAGES,
            external=True,
        )
    return modules


def _dynamodb_local(emulator: Path) -> list[str]:
    """The command running AWS's DynamoDB Local from the npm package's jar."""
    return [
        "java",
        f"-Djava.library.path={emulator / 'DynamoDBLocal_lib'}",
        "-jar",
        str(emulator / "DynamoDBLocal.jar"),
        "-inMemory",
        "-disableTelemetry",
        "-port",
        "{port}",
    ]


@contextlib.contextmanager
def local_server(session: nox.Session, command: list[str]) -> Iterator[str]:
    """Run a local DynamoDB-compatible server on a free port; yield its endpoint."""
    port = _free_port()
    argv = [part.replace("{port}", str(port)) for part in command]
    session.log(f"starting {' '.join(argv)}")
    # Run from the servers' folder: DynamoDB Local writes a metadata file into its cwd.
    server = subprocess.Popen(
        argv, cwd=SERVERS, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            if server.poll() is not None or time.monotonic() > deadline:
                session.error(f"the server did not start: {' '.join(argv)}")
            time.sleep(0.2)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=30)


@nox.session(name="tests-dynamodb", python=PYTHONS)
def tests_dynamodb(session: nox.Session) -> None:
    """DynamoDB backend tests and the spec's examples, on an embedded moto server."""
    env = {ENDPOINT_VAR: ""}
    # Two workers, each with its own embedded server: the fault tests spend most of their
    # time in botocore's backoff, which the other worker fills.
    run_tests(session, PACKAGES, [f"{DYNAMODB}/tests", "examples/spec"], "-n", "2", env=env)


@nox.session(name="tests-dynamodb-local", python=DEFAULT_PYTHON)
def tests_dynamodb_local(session: nox.Session) -> None:
    """The same tests on AWS's DynamoDB Local (the most faithful emulator), run with Java."""
    emulator = _npm_servers(session) / "amplify-dynamodb-simulator" / "emulator"
    with local_server(session, _dynamodb_local(emulator)) as endpoint:
        env = {ENDPOINT_VAR: endpoint}  # each xdist worker uses a table of its own
        run_tests(session, PACKAGES, [f"{DYNAMODB}/tests", "examples/spec"], "-n", "2", env=env)


@nox.session(name="tests-dynalite", python=DEFAULT_PYTHON)
def tests_dynalite(session: nox.Session) -> None:
    """On dynalite, which has no transactions: unique fields must fail loudly."""
    binary = _npm_servers(session) / ".bin" / "dynalite"
    with local_server(session, [str(binary), "--port", "{port}"]) as endpoint:
        env = {ENDPOINT_VAR: endpoint}
        run_tests(session, PACKAGES, [f"{DYNAMODB}/tests_dynalite"], env=env)


@nox.session(python=DEFAULT_PYTHON)
def conformance(session: nox.Session) -> None:
    """The conformance suite and differential tests: inmemory, moto, then DynamoDB Local."""
    suite = [f"{TESTING}/conformance"]
    workers = ("-n", "2")
    run_tests(session, PACKAGES, suite, *workers, env={ENDPOINT_VAR: ""})
    emulator = _npm_servers(session) / "amplify-dynamodb-simulator" / "emulator"
    with local_server(session, _dynamodb_local(emulator)) as endpoint:
        env = {ENDPOINT_VAR: endpoint, "RESTMACHINE_ORM_BACKENDS": "dynamodb"}
        run_tests(session, PACKAGES, suite, *workers, env=env)


@nox.session(python=DEFAULT_PYTHON)
def examples(session: nox.Session) -> None:
    """The third-party SQLite backend, installed as an outsider would, passes the suite.

    As its README shows: the whole suite from the installed wheel in one command, then the
    package's own tests (the suite's classes subclassed, and its file-database tests).
    """
    session.install(CORE, TESTING, f"{SQLITE_EXAMPLE}[test]", "pytest-xdist>=3.5")
    one_command = ("--pyargs", "restmachine_orm_testing.suite", "--orm-backend", "sqlite")
    session.run("pytest", *one_command, "-p", "no:cacheprovider", *session.posargs)
    session.run("pytest", f"{SQLITE_EXAMPLE}/tests", "-p", "no:cacheprovider", *session.posargs)


@nox.session(name="example-suite", python=DEFAULT_PYTHON)
def example_suite(session: nox.Session) -> None:
    """The main job: the spec's examples on every built-in backend, zero configuration."""
    run_tests(session, PACKAGES, ["examples/spec"], "-rs")


@nox.session(python=DEFAULT_PYTHON)
def docs(session: nox.Session) -> None:
    """Build the site with mkdocs --strict and run every Python block of the docs and README."""
    install_packages(session, *PACKAGES)
    session.install(
        "mkdocs-material>=9.5",
        "mkdocstrings[python]>=0.26",
        "pytest-markdown-docs>=0.9",
        *TEST_TOOLS,
    )
    session.run("mkdocs", "build", "--strict", "--site-dir", str(ROOT / "site"))
    session.run("pytest", "--markdown-docs", "README.md", "docs", *session.posargs)


@nox.session(python=DEFAULT_PYTHON)
def lint(session: nox.Session) -> None:
    """Ruff (lint rules and formatting) and import-linter (import contracts)."""
    session.install("ruff>=0.6", "import-linter>=2.1")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    # The import contracts of pyproject.toml: no cycles, the core's layers, the packages'
    # dependency direction. Reading the sources is enough: nothing is installed.
    sources = ":".join(str(ROOT / package / "src") for package in PACKAGES)
    session.run("lint-imports", "--no-cache", env={"PYTHONPATH": sources})


@nox.session(python=DEFAULT_PYTHON)
def typecheck(session: nox.Session) -> None:
    """Mypy --strict over the source of every package."""
    install_packages(session, *PACKAGES)
    session.install("mypy>=1.10", "pytest>=8")
    session.run("mypy", *(f"{package}/src" for package in PACKAGES))


@nox.session(python=DEFAULT_PYTHON)
def build(session: nox.Session) -> None:
    """Build every wheel and sdist into dist/, check them, install them in a fresh venv."""
    session.install("build>=1.2", "twine>=5")
    dist = ROOT / "dist"
    shutil.rmtree(dist, ignore_errors=True)
    for package in PACKAGES:
        session.run("python", "-m", "build", "--outdir", str(dist), package)
    session.run("twine", "check", "--strict", *(str(p) for p in sorted(dist.iterdir())))
    with tempfile.TemporaryDirectory() as scratch:
        # Install as a user would, the siblings found only in dist/, and run the spec's
        # Complete Example, sync and async, outside the checkout: 8 tests each on each of the
        # two backends.
        venv = Path(scratch) / "venv"
        session.run("python", "-m", "venv", str(venv))
        python = str(venv / "bin" / "python")
        session.run(
            python,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--find-links",
            str(dist),
            "restmachine-orm[dynamodb,testing]",
            external=True,
        )
        imports = [Path(package).name.replace("-", "_") for package in PACKAGES]
        check = "; ".join(
            f"import {name}; print({name}.__name__, {name}.__version__)" for name in imports
        )
        examples = ["test_complete_example.py", "test_complete_example_async.py"]
        for name in examples:
            shutil.copy(ROOT / "examples" / "spec" / name, Path(scratch) / name)
        with session.chdir(scratch):
            session.run(python, "-c", check, external=True)
            output = session.run(
                python,
                "-m",
                "pytest",
                "-p",
                "no:cacheprovider",
                *examples,
                external=True,
                silent=True,
            )
        session.log(str(output).strip().splitlines()[-1])
        if "32 passed" not in str(output):
            session.error(f"the spec's Complete Examples did not pass 32 tests:\n{output}")


# 3.12: the oldest Python dynamoxy, one of the peers, runs on.
@nox.session(python="3.12", default=False)
def benchmarks(session: nox.Session) -> None:
    """Side-by-side ratio benchmarks and the soak test (not part of the test run).

    ``nox -s benchmarks -- --quick`` is a smoke run (fewer rounds and rows, about 2 minutes);
    ``nox -s benchmarks -- --markdown benchmarks/RESULTS.md --chart
    docs/assets/benchmark-ratios.png --page docs/performance.md`` writes the published results.
    """
    install_packages(session, *PACKAGES)
    session.install(*TEST_TOOLS, "-r", "benchmarks/requirements.txt")
    servers = _npm_servers(session)
    dynalite = [str(servers / ".bin" / "dynalite"), "--port", "{port}"]
    local = _dynamodb_local(servers / "amplify-dynamodb-simulator" / "emulator")
    # dynalite is the fastest server, so client overhead shows; the soak and the batch
    # create need transactions, which dynalite lacks.
    with local_server(session, dynalite) as fast, local_server(session, local) as faithful:
        env = {
            "RESTMACHINE_ORM_BENCH_ENDPOINT": fast,
            "RESTMACHINE_ORM_BENCH_TRANSACTIONAL_ENDPOINT": faithful,
        }
        session.run("python", "benchmarks/run.py", *session.posargs, env=env)
