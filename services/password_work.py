"""Argon2 work (checking and hashing passwords) kept from starving the service.

One argon2id verification with argon2-cffi's default parameters (RFC 9106 second choice:
t=3, m=64 MiB, p=4, computed in one thread) costs about 0.2 s of CPU and 64 MiB of memory.
A flood of sign-in attempts from many addresses passes the per-address limits
(services.login_guard) and, run on the request thread pool, used to take every thread and both
cores: /health answered in 15 s. Here the work runs in a pool of its own:

- at most `concurrency` checks run at once (threads of their own, never the request thread
  pool, each at a lower CPU priority, `nice` +`NICE`, so pages and the API stay responsive
  while they run): CPU ≤ `concurrency` cores, memory ≤ `concurrency` × 64 MiB;
- at most `queue` more wait for a thread, in order;
- anything beyond is refused at once with Busy (HTTP 503: the routes answer with a Chinese reason
  and Retry-After: `RETRY_AFTER_S`), never queued without bound (OWASP ASVS 4.0 V11.1.4,
  anti-automation; OWASP Denial of Service Cheat Sheet, "limit the work per request").

The count of pending work is kept on the event loop's side and lowered when a thread
finishes (not when the waiting request goes away), so abandoned requests cannot let more
work in than the pool's threads can do.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from formdesk.model.errors import FormdeskError

from .passwords import hash_password, verify_password

NICE = 10  # how much lower the argon2 threads' CPU priority is than the service's
RETRY_AFTER_S = 2
T = TypeVar("T")


class Busy(FormdeskError):
    """Too many password checks waiting: try again in `retry_after` seconds (HTTP 503 with
    Retry-After; ``同时登录的请求太多,服务器正忙,请 2 秒后再试``)."""

    status = 503
    retry_after = RETRY_AFTER_S

    def __init__(self) -> None:
        super().__init__(f"同时登录的请求太多,服务器正忙,请 {RETRY_AFTER_S} 秒后再试")


def _lower_priority() -> None:
    """In each worker thread: Linux nice values are per thread; elsewhere nothing."""
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), NICE)


class PasswordWork:
    """The bounded pool of one service process (see the module doc). `verify` and `hash`
    are awaited on the event loop; they raise Busy when `concurrency + queue` pieces of
    work are already pending."""

    def __init__(self, concurrency: int, queue: int):
        self.concurrency = concurrency
        self.queue = queue
        self._pool = ThreadPoolExecutor(
            max_workers=concurrency, thread_name_prefix="argon2", initializer=_lower_priority
        )
        self._lock = threading.Lock()
        self._pending = 0

    @property
    def pending(self) -> int:
        """Pieces of work running or waiting now."""
        return self._pending

    def _done(self, _future: object) -> None:
        with self._lock:
            self._pending -= 1

    async def _run(self, fn: Callable[..., T], *args: object) -> T:
        with self._lock:
            if self._pending >= self.concurrency + self.queue:
                raise Busy
            self._pending += 1
        future = self._pool.submit(fn, *args)
        future.add_done_callback(self._done)
        return await asyncio.wrap_future(future)

    async def verify(self, password_hash: str | None, password: str) -> bool:
        """`passwords.verify_password` in the pool (None: an unknown user's dummy check);
        Busy (503) when the pool is full."""
        return await self._run(verify_password, password_hash, password)

    async def hash(self, password: str) -> str:
        """`passwords.hash_password` in the pool: the argon2id hash; Busy (503) when the pool
        is full."""
        return await self._run(hash_password, password)
