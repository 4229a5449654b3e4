"""Moving an installation from its TinyDB data folder to PostgreSQL (`formdesk db
migrate-from-tinydb`): the database brought to the head revision, every row copied in one
transaction, then every kind compared through the `Store` protocol (store/sql/migrate.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from formdesk.settings import signing_key
from formdesk.store import TinyStore
from formdesk.store.sql import upgrade
from formdesk.store.sql.migrate import MigrationReport, compare_stores, copy_tinydb
from formdesk.store.sql.store import SqlStore

from .stores import key_fingerprint


def migrate_from_tinydb(
    data_dir: Path,
    database_url: str,
    progress: Callable[[str, int], None] | None = None,
) -> MigrationReport:
    """Copies the store of `data_dir` into the empty database at `database_url` and
    compares the two; `progress(kind, count)` after each kind. Raises the store's errors
    (DamagedFileError for a damaged data file, ConflictError for a database that is not
    empty, DatabaseUnavailable); the TinyDB folder is only read, never changed."""
    tiny = TinyStore(data_dir)
    try:
        upgrade(database_url)
        sql = SqlStore.open(database_url)
        try:
            counts = copy_tinydb(tiny, sql.engine, progress)
            # the folder's key signed every document copied: the database takes it as its own
            sql.signing_key_fingerprint(key_fingerprint(signing_key(data_dir)))
            return MigrationReport(counts=counts, differences=compare_stores(tiny, sql))
        finally:
            sql.close()
    finally:
        tiny.close()
