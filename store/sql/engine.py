"""Connecting to PostgreSQL and bringing its schema up to date (Alembic)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, create_engine

MIGRATIONS = Path(__file__).with_name("migrations")


def connect(url: str) -> Engine:
    """An engine for `url` (postgresql://user@host:port/db, psycopg 3 as the driver);
    connections are checked before use, so a restarted server is no error."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return create_engine(url, pool_pre_ping=True, future=True)


def upgrade(url: str, revision: str = "head") -> None:
    """Runs the migrations up to `revision` on the database at `url` (`formdesk db
    upgrade`); idempotent."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = connect(url)
    command.upgrade(cfg, revision)
