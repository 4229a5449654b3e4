"""CPU-heavy or risky work in child processes that cannot take the service down with them.

A `LimitedPool` is a pebble `ProcessPool` of spawned workers, each with an address-space
limit (RLIMIT_AS) and a lower priority; every task has a wall-clock limit. A task that runs
out of memory, out of time, or kills its worker is reported as `TaskFailed` with a Chinese
reason, and pebble starts a fresh worker: one bad file costs one attempt, never the service
(issue 9: "a file that slips through kills only its own attempt").

Three pools serve the API: reading scans (services/reading.py), inspecting uploads (page counts)
and rendering PDFs; none runs on the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import resource
import threading
from collections.abc import Callable
from concurrent.futures import Future, wait
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from pebble import ProcessExpired, ProcessPool

log = logging.getLogger("formdesk.pools")
T = TypeVar("T")
MB = 1024 * 1024


class TaskFailed(Exception):
    """A task that ran out of memory or time, or whose process died; `reason` is Chinese."""

    def __init__(self, reason: str, kind: str):
        super().__init__(reason)
        self.reason = reason
        self.kind = kind  # "memory", "timeout", "died" or "error"


def _limit_worker(memory_mb: int, nice: int) -> None:
    """Runs first in every worker: the address-space limit and a lower CPU priority."""
    limit = memory_mb * MB
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    if nice:
        with contextlib.suppress(OSError):
            os.nice(nice)


class LimitedPool:
    """`workers` spawned processes, each limited to `memory_mb` MB of address space.

    Started on first use; `close()` stops the workers. Thread-safe. A worker's memory
    limit covers what it imports too (an OCR engine takes ~0.9 GB of address space)."""

    def __init__(self, name: str, workers: int, memory_mb: int, *, nice: int = 0):
        self.name = name
        self.workers = workers
        self.memory_mb = memory_mb
        self.nice = nice
        self._pool: ProcessPool | None = None
        self._lock = threading.Lock()
        self._closed = False

    def _get(self) -> ProcessPool:
        with self._lock:
            if self._closed:
                raise RuntimeError(f"pool {self.name} is closed")
            if self._pool is None:
                # glibc gives each thread a 64 MB arena; under RLIMIT_AS that address space
                # is better left for the work (the children inherit the environment)
                os.environ.setdefault("MALLOC_ARENA_MAX", "2")
                self._pool = ProcessPool(
                    max_workers=self.workers,
                    initializer=_limit_worker,
                    initargs=(self.memory_mb, self.nice),
                    context=multiprocessing.get_context("spawn"),
                )
            return self._pool

    def submit(self, fn: Callable[..., T], *args: Any, timeout: float) -> Future:
        """Schedules `fn(*args)` (a module-level function; arguments and result pickled).
        A pool that pebble reports broken is replaced by a fresh one."""
        pool = self._get()
        try:
            return pool.schedule(fn, args=args, timeout=timeout)
        except RuntimeError:  # "Unexpected error within the Pool": broken for good
            self._discard(pool)
            return self._get().schedule(fn, args=args, timeout=timeout)

    def _discard(self, pool: ProcessPool) -> None:
        """Drops a broken pool (the next task starts a new one) and stops it aside."""
        with self._lock:
            if self._pool is pool:
                self._pool = None
        log.error("%s pool broken; starting a new one", self.name)
        threading.Thread(target=_stop, args=(pool,), daemon=True).start()

    def _retire(self, pool: ProcessPool) -> None:
        """New tasks go to a fresh pool; `pool` finishes what was queued in it, then ends
        (pebble's close: no task is cancelled)."""
        with self._lock:
            if self._pool is pool:
                self._pool = None
        log.warning("%s worker ran out of memory; new tasks get a fresh one", self.name)

        def finish() -> None:
            try:
                pool.close()
                pool.join()
            except Exception:
                log.warning("retiring a pool", exc_info=True)

        threading.Thread(target=finish, daemon=True).start()

    def call(self, fn: Callable[..., T], *args: Any, timeout: float, queue_s: float = 300) -> T:
        """Runs `fn(*args)` in a worker and waits. Raises TaskFailed for memory, time and a
        dead worker, and when the task has not ended `queue_s` seconds after its own
        `timeout` (queued behind others, or a pool that stopped answering); other
        exceptions raised by `fn` (IngestError …) come through as they are."""
        future = self.submit(fn, *args, timeout=timeout)
        done, _ = wait([future], timeout=timeout + queue_s)
        if not done:
            self._stuck(future, timeout + queue_s)
        return self.outcome(future, timeout)

    async def run(
        self, fn: Callable[..., T], *args: Any, timeout: float, queue_s: float = 300
    ) -> T:
        """`call` for async code: the event loop waits without blocking a thread."""
        future = self.submit(fn, *args, timeout=timeout)
        try:
            await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(future)), timeout + queue_s)
        except asyncio.CancelledError:  # the client went away: so does the task
            future.cancel()
            raise
        except TimeoutError:
            self._stuck(future, timeout + queue_s)
        except Exception:
            pass  # the outcome says what happened
        return self.outcome(future, timeout)

    def _stuck(self, future: Future, waited: float) -> None:
        future.cancel()
        log.error("%s: a task got no answer within %.0f s", self.name, waited)
        raise TaskFailed(f"等待处理超过 {waited:.0f} 秒仍无结果,已取消;请稍后重试", "timeout")

    def outcome(self, future: Future, timeout: float) -> Any:
        """The future's result, or TaskFailed naming why there is none."""
        try:
            return future.result()
        except FutureTimeout:
            raise TaskFailed(f"处理超过 {timeout:.0f} 秒仍未完成,已中止", "timeout") from None
        except ProcessExpired as exc:
            log.warning("%s worker died: %s (exit code %s)", self.name, exc, exc.exitcode)
            raise TaskFailed(
                f"处理进程意外退出(可能超出 {self.memory_mb} MB 的内存限制)", "died"
            ) from None
        except MemoryError:
            # the worker lives on with its address space used up and its heap in pieces:
            # the next task (a small file, say) gets a fresh process instead
            pool = self._pool
            if pool is not None:
                self._retire(pool)
            raise TaskFailed(f"处理时超出 {self.memory_mb} MB 的内存限制", "memory") from None
        except BrokenProcessPool:  # a worker died before pebble could tell which task it ran
            pool = self._pool
            if pool is not None:
                self._discard(pool)
            raise TaskFailed(
                f"处理进程意外退出(可能超出 {self.memory_mb} MB 的内存限制)", "died"
            ) from None

    def close(self) -> None:
        with self._lock:
            self._closed = True
            pool, self._pool = self._pool, None
        if pool is not None:
            _stop(pool)


def _stop(pool: ProcessPool) -> None:
    try:
        pool.stop()
        pool.join(timeout=10)
    except Exception:  # a broken pool may not stop cleanly; its workers are daemons
        log.warning("stopping a pool", exc_info=True)
