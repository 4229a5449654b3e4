"""One writer at a time: a thread lock inside the process, an flock across processes
(the server and a `formdesk user add` on the same data folder never interleave)."""

from __future__ import annotations

import fcntl
import os
import threading
from pathlib import Path


class WriteLock:
    """Re-entrant for the thread holding it; the flock is taken on the outermost entry."""

    def __init__(self, path: Path):
        self.path = path
        self._thread_lock = threading.RLock()
        self._fd: int | None = None
        self._pid = os.getpid()
        self._depth = 0

    def __enter__(self) -> WriteLock:
        self._thread_lock.acquire()
        try:
            if self._depth == 0:
                if self._pid != os.getpid():  # forked: an inherited descriptor shares the
                    if self._fd is not None:  # parent's lock instead of excluding it
                        os.close(self._fd)
                    self._fd, self._pid = None, os.getpid()
                if self._fd is None:
                    self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
                fcntl.flock(self._fd, fcntl.LOCK_EX)
            self._depth += 1
        except BaseException:
            self._thread_lock.release()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self._depth -= 1
            if self._depth == 0 and self._fd is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._thread_lock.release()

    def close(self) -> None:
        with self._thread_lock:
            if self._fd is not None and self._depth == 0:
                os.close(self._fd)
                self._fd = None
