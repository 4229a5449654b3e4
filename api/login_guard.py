"""Rate limiting and temporary lock-out of password guessing, per user name and per client
address (NIST SP 800-63B §5.2.2 "rate limiting"; OWASP ASVS 4.0 V2.2.1).

Failed password checks are counted in a moving window (`limits`, in memory, per process):
after `max_per_name` failures for one user name, or `max_per_address` from one client
address, within `window_s` seconds, every further attempt for that name or from that
address is refused, the right password included, until the oldest counted failure leaves
the window. Refused attempts are not counted (they check no password), so a lock-out lasts
at most `window_s`. A successful sign-in clears its name's count, never its address's.
"""

from __future__ import annotations

import hashlib
import math
import time

from limits import RateLimitItemPerSecond
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter


class LockedOut(Exception):
    """Too many failures: `wait_s` seconds (> 0) until the next attempt is allowed."""

    def __init__(self, wait_s: float):
        self.wait_s = max(1.0, wait_s)
        super().__init__(locked_message(self.wait_s))

    @property
    def retry_after(self) -> str:
        """The Retry-After header value: whole seconds, rounded up."""
        return str(math.ceil(self.wait_s))


def locked_message(wait_s: float) -> str:
    """The Chinese message with the wait in whole minutes, rounded up (at least 1)."""
    return f"登录失败次数过多,请 {max(1, math.ceil(wait_s / 60))} 分钟后再试"


def _key(value: str) -> str:
    """A fixed-size key, whatever was typed as a name."""
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:32]


class LoginGuard:
    """The counters of one service process. `check` before verifying a password, then
    `failed` or `succeeded`; both raise or return as documented."""

    def __init__(self, max_per_name: int, max_per_address: int, window_s: int):
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._per_name = RateLimitItemPerSecond(max_per_name, window_s, namespace="name")
        self._per_address = RateLimitItemPerSecond(max_per_address, window_s, namespace="addr")

    def check(self, name: str, address: str) -> None:
        """Raises LockedOut if `name` or `address` has used up its failures."""
        waits = [
            self._limiter.get_window_stats(item, key)
            for item, key in ((self._per_name, _key(name)), (self._per_address, _key(address)))
        ]
        locked = [w.reset_time for w in waits if w.remaining <= 0]
        if locked:
            raise LockedOut(max(locked) - time.time())

    def failed(self, name: str, address: str) -> None:
        """Counts one failure; raises LockedOut if it used up the last allowed one."""
        self._limiter.hit(self._per_name, _key(name))
        self._limiter.hit(self._per_address, _key(address))
        self.check(name, address)

    def succeeded(self, name: str) -> None:
        """A right password: the name's failures are forgotten."""
        self._limiter.clear(self._per_name, _key(name))
