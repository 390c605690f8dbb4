"""The conformance suite under pytest-xdist: two workers must finish sooner than one process.

Each run is a fresh ``pytest`` process on the repository's conformance suite
(``packages/restmachine-orm-testing/conformance``), on one backend at a time; the DynamoDB
runs use the embedded moto server, one per worker. Runs alternate between ``-n 0`` and
``-n 2``, and every run must pass whole: a faster run that fails means nothing.

Python caches compiled modules by default, and the timed runs use that cache (a run first
fills it). A machine that turns caching off (``PYTHONDONTWRITEBYTECODE``) compiles every
module in every process, which costs xdist, with three processes, more than one; the
in-memory suite is also timed that way, against an empty cache.
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _harness import Row, Table

SUITE = Path(__file__).parent.parent / "packages" / "restmachine-orm-testing" / "conformance"


def _run(backend: str, workers: int, quick: bool, no_cache: str | None = None) -> tuple[float, str]:
    """One timed run; ``no_cache`` names an empty folder to look for compiled modules in."""
    unset = ("RESTMACHINE_ORM_DYNAMODB_ENDPOINT", "PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX")
    env = {k: v for k, v in os.environ.items() if k not in unset}
    env |= {"RESTMACHINE_ORM_BACKENDS": backend, "CI": "true"}
    if no_cache is not None:
        env |= {"PYTHONDONTWRITEBYTECODE": "1", "PYTHONPYCACHEPREFIX": no_cache}
    if quick:
        env["RESTMACHINE_ORM_DIFFERENTIAL_EXAMPLES"] = "20"
    argv = [sys.executable, "-m", "pytest", str(SUITE), "-q", "-n", str(workers)]
    started = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    summary = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr
    if done.returncode != 0 or re.search(r"failed|error", summary):
        raise AssertionError(f"{backend} -n {workers} did not pass: {summary}")
    return elapsed, summary


def _compare(
    label: str, backend: str, repeats: int, quick: bool, no_cache: str | None = None
) -> Row:
    walls: dict[int, list[float]] = {0: [], 2: []}
    summary = ""
    for repeat in range(repeats):
        for workers in (0, 2) if repeat % 2 == 0 else (2, 0):
            elapsed, summary = _run(backend, workers, quick, no_cache)
            walls[workers].append(elapsed)
    return Row(
        f"{label} ({summary.strip('= ')})",
        statistics.median(walls[2]),
        statistics.median(walls[0]),
        goal=1.0,
        unit="ms",
    )


def run(quick: bool) -> list[Table]:
    repeats = 1 if quick else 3
    table = Table(
        "Conformance suite wall time, pytest-xdist -n 2 vs -n 0 (every run passing)",
        "-n 2",
        "-n 0",
    )
    _run("inmemory", 0, quick)  # fills the cache of compiled modules
    for backend in ("inmemory", "dynamodb"):
        table.rows.append(_compare(backend, backend, repeats, quick))
    with tempfile.TemporaryDirectory() as empty:
        label = "inmemory, no compiled-module cache"
        table.rows.append(_compare(label, "inmemory", repeats, quick, no_cache=empty))
    return [table]
