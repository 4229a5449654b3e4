"""Rate limiting and temporary lock-out of password guessing, per user name and per client
address (NIST SP 800-63B §5.2.2 "rate limiting"; OWASP ASVS 4.0 V2.2.1).

Every password check is counted *before* it is made (`LoginGuard.reserve`), in a moving
window of `window_s` seconds, in memory, per process: at most `max_per_name` checks for one
user name, and `max_per_address` from one client address, are counted at any time. When the
counted checks that already failed fill a limit, an attempt is refused at once (LockedOut),
the right password included, until the oldest counted attempt leaves the window; refused
attempts check no password and are not counted, so a lock-out lasts at most `window_s`.
When the limit is filled only because checks are still running (twenty scripts signing in
as one user at the same moment), the attempt waits (`Wait`) for them to settle instead of
being locked out. Because the count comes first, attempts sent at the same moment can never
check more passwords than the limits allow (OWASP ASVS 4.0 V11.1.6: business logic free of
time-of-check/time-of-use races).

What happens after the check: a right password clears its name's count and takes back its
own count from the address (a success is no failure); a wrong one stays counted; an attempt
whose password was never checked (the service was too busy) is taken back from both.

Names are counted as given: the caller passes them case-folded (model.usernames), so
`Admin` and `admin` share one count.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from formdesk.model.errors import FormdeskError


class LockedOut(FormdeskError):
    """Too many failures: `wait_s` seconds (>= 1) until the next attempt is allowed.
    HTTP 429 with Retry-After `retry_after`; the message is `locked_message`
    (``登录失败次数过多,请 N 分钟后再试``)."""

    status = 429

    def __init__(self, wait_s: float):
        self.wait_s = max(1.0, wait_s)
        super().__init__(locked_message(self.wait_s))

    @property
    def retry_after(self) -> str:
        """The Retry-After header value: whole seconds, rounded up."""
        return str(math.ceil(self.wait_s))


class Wait(Exception):
    """The limit is full of checks still running: try again in a moment (not a lock-out)."""


def locked_message(wait_s: float) -> str:
    """The Chinese message with the wait (seconds) in whole minutes, rounded up (at least
    1): ``登录失败次数过多,请 N 分钟后再试``."""
    return f"登录失败次数过多,请 {max(1, math.ceil(wait_s / 60))} 分钟后再试"


def _key(value: str) -> str:
    """A fixed-size key, whatever was typed as a name."""
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:32]


@dataclass(frozen=True)
class Attempt:
    """One reserved password check: its keys and when it was counted (monotonic s).
    `last` is true when it used up the last check its name or address had; `wait_s` is
    then how long the next attempt will have to wait (seconds)."""

    name_key: str
    address_key: str
    at: float
    last: bool
    wait_s: float


class LoginGuard:
    """The counters of one service process: `reserve` before verifying a password, then
    `succeeded`, `failed` or `released`. Thread-safe (one lock around every count)."""

    def __init__(
        self,
        max_per_name: int,
        max_per_address: int,
        window_s: int,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.max_per_name = max_per_name
        self.max_per_address = max_per_address
        self.window_s = window_s
        self._clock = clock
        self._lock = threading.Lock()
        self._names: dict[str, deque[float]] = {}
        self._addresses: dict[str, deque[float]] = {}
        self._running: dict[str, int] = {}  # key -> reserved checks not yet settled
        self._swept = clock()

    def _live(self, table: dict[str, deque[float]], key: str, now: float) -> deque[float]:
        """The key's counted attempts still inside the window (oldest first)."""
        times = table.setdefault(key, deque())
        while times and times[0] <= now - self.window_s:
            times.popleft()
        return times

    def _sweep(self, now: float) -> None:
        """Forgets keys with nothing left in the window (at most once per window)."""
        if now - self._swept < self.window_s:
            return
        self._swept = now
        for table in (self._names, self._addresses):
            for key in [k for k, t in table.items() if not t or t[-1] <= now - self.window_s]:
                del table[key]

    def reserve(self, name: str, address: str) -> Attempt:
        """Counts one password check for `name` (already case-folded) from `address`.

        Raises LockedOut (with the wait) when either has no check left in the window for
        failures already made, Wait when what fills the window is checks still running;
        nothing is counted then. Otherwise returns the Attempt to settle afterwards."""
        name_key, address_key = _key(name), _key(address)
        with self._lock:
            now = self._clock()
            self._sweep(now)
            names = self._live(self._names, name_key, now)
            addresses = self._live(self._addresses, address_key, now)
            tables = (
                (names, name_key, self.max_per_name),
                (addresses, address_key, self.max_per_address),
            )
            locked = [
                times[0] + self.window_s - now
                for times, key, limit in tables
                if len(times) - self._running.get(key, 0) >= limit
            ]
            if locked:
                raise LockedOut(max(locked))
            if any(len(times) >= limit for times, _, limit in tables):
                raise Wait
            names.append(now)
            addresses.append(now)
            for key in (name_key, address_key):
                self._running[key] = self._running.get(key, 0) + 1
            used_up = [
                times[0] + self.window_s - now for times, _, limit in tables if len(times) >= limit
            ]
            return Attempt(name_key, address_key, now, bool(used_up), max(used_up, default=0.0))

    def _settle(self, attempt: Attempt) -> None:
        """The attempt's check is over (inside the lock)."""
        for key in (attempt.name_key, attempt.address_key):
            left = self._running.get(key, 0) - 1
            if left > 0:
                self._running[key] = left
            else:
                self._running.pop(key, None)

    def failed(self, attempt: Attempt) -> None:
        """A wrong password: the attempt stays counted. Raises LockedOut when it was the
        last one its name or address had."""
        with self._lock:
            self._settle(attempt)
        if attempt.last:
            raise LockedOut(attempt.wait_s)

    def succeeded(self, attempt: Attempt) -> None:
        """A right password: the name's count is cleared, the address's own count of this
        attempt taken back (a success is no failure)."""
        with self._lock:
            self._settle(attempt)
            times = self._names.get(attempt.name_key)
            if times is not None:  # failures forgotten; checks still running stay counted
                running = self._running.get(attempt.name_key, 0)
                while len(times) > running:
                    times.popleft()
            self._take_back(self._addresses, attempt.address_key, attempt.at)

    def released(self, attempt: Attempt) -> None:
        """The password was never checked (the service was busy): taken back from both."""
        with self._lock:
            self._settle(attempt)
            self._take_back(self._names, attempt.name_key, attempt.at)
            self._take_back(self._addresses, attempt.address_key, attempt.at)

    @staticmethod
    def _take_back(table: dict[str, deque[float]], key: str, at: float) -> None:
        times = table.get(key)
        if times is not None and at in times:
            times.remove(at)

    def counted(self, name: str, address: str) -> tuple[int, int]:
        """(checks counted for `name`, for `address`) in the window now; for tests and
        diagnostics."""
        with self._lock:
            now = self._clock()
            return (
                len(self._live(self._names, _key(name), now)),
                len(self._live(self._addresses, _key(address), now)),
            )
