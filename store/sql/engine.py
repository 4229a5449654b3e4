"""Connecting to PostgreSQL and bringing its schema up to date (Alembic)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, create_engine
from sqlalchemy.exc import OperationalError

from ..interface import StoreError

MIGRATIONS = Path(__file__).with_name("migrations")


class DatabaseUnavailable(StoreError):
    """The database server cannot be reached, or refuses the connection (HTTP 503)."""

    status = 503


def unavailable(exc: OperationalError) -> DatabaseUnavailable:
    """The driver's error as one Chinese line (its first line, which names the cause)."""
    reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
    return DatabaseUnavailable(f"无法连接数据库:{reason}")


def connect(url: str) -> Engine:
    """An engine for `url` (postgresql://user@host:port/db, psycopg 3 as the driver);
    connections are checked before use, so a restarted server is no error."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return create_engine(url, pool_pre_ping=True, future=True)


def upgrade(url: str, revision: str = "head") -> None:
    """Runs the migrations up to `revision` on the database at `url` (`formdesk db
    upgrade`); idempotent. DatabaseUnavailable when the server cannot be reached."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    engine = connect(url)
    cfg.attributes["engine"] = engine
    try:
        command.upgrade(cfg, revision)
    except OperationalError as exc:
        raise unavailable(exc) from None
    finally:
        engine.dispose()
