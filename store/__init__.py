"""The store stage: printed documents, scans, the reading queue, records, corrections,
users and stations, behind the narrow `Store` interface (TinyDB and plain files today)."""

from __future__ import annotations

import os
from pathlib import Path

from .interface import ConflictError, NotFoundError, Store, StoreError
from .models import (
    ApiToken,
    Batch,
    Correction,
    IssuedDoc,
    Job,
    RecordSummary,
    Scan,
    ScanOwner,
    Station,
    StoredRecord,
    User,
    UserSession,
)
from .tinydb_store import TinyStore
from .usernames import InvalidUsernameError, normalize_username


def default_data_dir() -> Path:
    """FORMDESK_DATA_DIR, else ./data (as api.settings.data_dir)."""
    return Path(os.environ.get("FORMDESK_DATA_DIR", "data"))


def open_store(data_dir: Path | None = None) -> Store:
    return TinyStore(Path(data_dir) if data_dir is not None else default_data_dir())


__all__ = [
    "ApiToken",
    "Batch",
    "ConflictError",
    "InvalidUsernameError",
    "Correction",
    "IssuedDoc",
    "Job",
    "NotFoundError",
    "RecordSummary",
    "Scan",
    "ScanOwner",
    "Station",
    "Store",
    "StoreError",
    "StoredRecord",
    "TinyStore",
    "User",
    "UserSession",
    "default_data_dir",
    "normalize_username",
    "open_store",
]
