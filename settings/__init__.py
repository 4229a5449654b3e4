"""Installation settings: one object read once from the FORMDESK_* variables, passed
explicitly to what needs it (`create_app(settings=...)`), plus the key that signs pages.

Every knob a deployment may turn lives here, with its unit in the name and its default
in one place:

    FORMDESK_DATA_DIR            data folder (./data): signing key, print jobs, rules files;
                                 with TinyDB (the default) the whole store too
    FORMDESK_DATABASE_URL        postgresql://user@host:port/db: the store on PostgreSQL
                                 (several processes and machines share it); unset: TinyDB
    FORMDESK_SECRET              HMAC key of printed pages (else <data>/secret.key)
    FORMDESK_SECURE_COOKIES      1 behind HTTPS: the session cookie gets `Secure`
    FORMDESK_SESSION_HOURS       a sign-in lasts this long (12)
    FORMDESK_LOGIN_MAX_FAILURES  wrong passwords per user name before a lock-out (5)
    FORMDESK_LOGIN_IP_MAX_FAILURES  wrong passwords per client address (20)
    FORMDESK_LOGIN_WINDOW_S      the window both count in, and the lock-out (900)
    FORMDESK_LOGIN_CHECKS        password checks (argon2) running at once (cores - 1, ≥ 1)
    FORMDESK_LOGIN_QUEUE         more that may wait for one; beyond, 503 at once (8)
    FORMDESK_READER_MEMORY_MB    address-space limit of a reader process (2048)
    FORMDESK_READER_TIMEOUT_S    wall-clock limit for one file: base (120) ...
    FORMDESK_READER_PAGE_TIMEOUT_S  ... plus this per page (20)
    FORMDESK_READER_ATTEMPTS     a job that failed or died this often is set aside (2)
    FORMDESK_MIN_FREE_MB         /health says degraded below this much free disk (1024)
    FORMDESK_WORKER_STALLED_S    PostgreSQL: a reader process silent this long is taken
                                 for dead and its job handed on (30)
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path


def data_dir() -> Path:
    """FORMDESK_DATA_DIR, or ./data beside where formdesk runs."""
    return Path(os.environ.get("FORMDESK_DATA_DIR", "data"))


def database_url() -> str | None:
    """FORMDESK_DATABASE_URL (postgresql://…), or None: the embedded TinyDB store."""
    return os.environ.get("FORMDESK_DATABASE_URL", "").strip() or None


def default_concurrency() -> int:
    """Password checks at once by default: about the number of cores (every core but one,
    at least one), so a flood of sign-ins leaves a core to everything else."""
    return max(1, (os.cpu_count() or 2) - 1)


def _int(name: str, default: int, minimum: int = 0) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"环境变量 {name} 应为整数,而不是 {raw!r}") from None
    if value < minimum:
        raise ValueError(f"环境变量 {name} 不能小于 {minimum}")
    return value


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class Settings:
    """What one installation is told; `Settings.from_env()` reads the variables once."""

    data_dir: Path = field(default_factory=data_dir)
    database_url: str | None = None  # postgresql://… ; None: TinyDB under data_dir
    secure_cookies: bool = False
    session_hours: int = 12
    login_max_failures: int = 5  # per user name, within login_window_s
    login_ip_max_failures: int = 20  # per client address, within login_window_s
    login_window_s: int = 900
    login_checks: int = field(default_factory=default_concurrency)  # argon2 at once
    login_queue: int = 8  # argon2 work waiting beyond those; more is refused (503)
    trust_forwarded_host: bool = False  # X-Forwarded-Host names this site (behind a proxy)
    reader_memory_mb: int = 2048  # RLIMIT_AS of a reader process
    reader_timeout_s: int = 120  # per file ...
    reader_page_timeout_s: int = 20  # ... plus per page
    reader_attempts: int = 2
    min_free_mb: int = 1024
    worker_stalled_s: int = 30  # a worker with no heartbeat for this long is dead
    max_request_bytes: int = 200 * 1024 * 1024

    @classmethod
    def from_env(cls, data_dir_override: Path | None = None, **overrides: object) -> Settings:
        """The FORMDESK_* variables; ValueError (Chinese) names a variable that is wrong."""
        values: dict[str, object] = {
            "data_dir": Path(data_dir_override) if data_dir_override is not None else data_dir(),
            "database_url": database_url(),
            "secure_cookies": _flag("FORMDESK_SECURE_COOKIES"),
            "session_hours": _int("FORMDESK_SESSION_HOURS", 12, 1),
            "login_max_failures": _int("FORMDESK_LOGIN_MAX_FAILURES", 5, 1),
            "login_ip_max_failures": _int("FORMDESK_LOGIN_IP_MAX_FAILURES", 20, 1),
            "login_window_s": _int("FORMDESK_LOGIN_WINDOW_S", 900, 1),
            "login_checks": _int("FORMDESK_LOGIN_CHECKS", default_concurrency(), 1),
            "login_queue": _int("FORMDESK_LOGIN_QUEUE", 8, 0),
            "reader_memory_mb": _int("FORMDESK_READER_MEMORY_MB", 2048, 256),
            "reader_timeout_s": _int("FORMDESK_READER_TIMEOUT_S", 120, 1),
            "reader_page_timeout_s": _int("FORMDESK_READER_PAGE_TIMEOUT_S", 20, 0),
            "reader_attempts": _int("FORMDESK_READER_ATTEMPTS", 2, 1),
            "min_free_mb": _int("FORMDESK_MIN_FREE_MB", 1024, 0),
            "worker_stalled_s": _int("FORMDESK_WORKER_STALLED_S", 30, 3),
        }
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]

    def reader_timeout(self, pages: int) -> float:
        """Seconds one file of `pages` pages may take to read before its attempt is killed."""
        return float(self.reader_timeout_s + self.reader_page_timeout_s * max(1, pages))


def signing_key(folder: Path | None = None) -> bytes:
    """The HMAC key of this installation: FORMDESK_SECRET, else <data>/secret.key, made once.

    Pages printed with one key are recognised as foreign by an installation with another.
    """
    env = os.environ.get("FORMDESK_SECRET")
    if env:
        return env.encode("utf-8")
    path = (folder or data_dir()) / "secret.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    return path.read_text().strip().encode("utf-8")
