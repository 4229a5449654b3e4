"""The store stage: printed documents, scans, the reading queue, records, corrections,
users and stations, behind the narrow `Store` interface (TinyDB and plain files today).
What it keeps is typed in `formdesk.model`."""

from __future__ import annotations

from pathlib import Path

from formdesk.model.usernames import InvalidUsernameError, fold_username, normalize_username
from formdesk.settings import data_dir

from .integrity import UsersRule
from .interface import (
    AccountStore,
    ClaimStore,
    ConflictError,
    DamagedFileError,
    DiskFullError,
    DocumentStore,
    HistoryStore,
    InstallationStore,
    LayoutStore,
    NotFoundError,
    PrintJobStore,
    RecordStore,
    ScanStore,
    StationStore,
    StorageError,
    Store,
    StoreError,
)
from .tinydb_store import TinyStore


def default_data_dir() -> Path:
    """FORMDESK_DATA_DIR, else ./data (`formdesk.settings.data_dir`)."""
    return data_dir()


def open_store(
    data_dir: Path | None = None,
    *,
    users: UsersRule = "any",
    database_url: str | None = None,
) -> Store:
    """The installation's store: PostgreSQL when `database_url` (postgresql://…) is given
    (`sql.SqlStore.open`: DatabaseUnavailable, SchemaOutOfDate), else the TinyDB store of
    `data_dir` (else FORMDESK_DATA_DIR or ./data), its data files checked: DamagedFileError
    names a damaged or lost one; `users` as in `TinyStore`."""
    if database_url:
        from .sql.store import SqlStore

        return SqlStore.open(database_url)  # StoreError for a URL of another scheme
    folder = Path(data_dir) if data_dir is not None else default_data_dir()
    return TinyStore(folder, users=users)


__all__ = [
    "AccountStore",
    "ClaimStore",
    "DocumentStore",
    "InstallationStore",
    "HistoryStore",
    "LayoutStore",
    "PrintJobStore",
    "RecordStore",
    "ScanStore",
    "StationStore",
    "ConflictError",
    "InvalidUsernameError",
    "DamagedFileError",
    "DiskFullError",
    "fold_username",
    "NotFoundError",
    "StorageError",
    "Store",
    "StoreError",
    "TinyStore",
    "default_data_dir",
    "normalize_username",
    "open_store",
]
