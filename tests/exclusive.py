"""Tests that time something run alone, even when the suite runs on several workers
(pytest-xdist, `-n 2`): a test marked `exclusive` (a latency bound, a refusal that must come
within seconds) holds an exclusive lock while it is set up, run and torn down; every other
test holds the same lock shared. The locks are flock(2) locks on files named by the run's
id, with a turnstile so that a waiting exclusive test is not starved by the other worker
taking shared locks one test after another. Without xdist nothing is locked.

The longest test files are collected first (`HEAVY_FIRST`): with a file per worker, a long
file started last would leave the other worker idle at the end of the run.
"""

from __future__ import annotations

import fcntl
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


def _run_id(config: pytest.Config) -> str | None:
    worker = getattr(config, "workerinput", None)
    return None if worker is None else str(worker.get("testrunuid"))


@contextmanager
def _locked(path: Path, mode: int) -> Iterator[None]:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, mode)
        yield
    finally:
        os.close(fd)  # closing releases the lock


@contextmanager
def holding(config: pytest.Config, exclusive: bool) -> Iterator[None]:
    """The run's lock, exclusive or shared, for as long as the block runs."""
    run = _run_id(config)
    if run is None:
        yield
        return
    base = Path(tempfile.gettempdir()) / f"formdesk-tests-{run}"
    turnstile, room = base.with_suffix(".turnstile"), base.with_suffix(".room")
    fd = os.open(room, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        with _locked(turnstile, fcntl.LOCK_EX):  # a waiting exclusive test holds this
            fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        yield
    finally:
        os.close(fd)


# the files whose tests take longest (a clean-clone run's --durations), longest first
HEAVY_FIRST = (
    "tests/test_service.py",
    "tests/test_ui_desk.py",
    "tests/hostile/test_uploads_and_load.py",
    "tests/test_ui.py",
    "tests/test_queue_workers.py",
    "tests/hostile/test_reader.py",
    "tests/test_reconcile_month.py",
    "tests/hostile/test_every_route.py",
    "tests/hostile/test_data_files.py",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The HEAVY_FIRST files' tests first (in that order), the rest as collected."""
    rank = {path: n for n, path in enumerate(HEAVY_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(rank)))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "exclusive: times something; runs with no other test running beside it"
    )
    if _run_id(config) is not None:
        # one core per worker: the OCR engine's own threads would only fight the other worker
        os.environ.setdefault("FORMDESK_OCR_THREADS", "1")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None):
    with holding(item.config, item.get_closest_marker("exclusive") is not None):
        return (yield)
