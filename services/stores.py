"""Opening the installation's store for the API and the command line (issue 11).

The layers above services hold a store only as an opaque handle (`Store`) that they pass
back to service functions; they call none of its methods (tests/test_layers.py).
"""

from __future__ import annotations

from pathlib import Path

from formdesk.settings import Settings
from formdesk.store import Store, open_store
from formdesk.store.integrity import UsersRule

__all__ = ["Store", "open_configured_store"]


def open_configured_store(settings: Settings, *, users: UsersRule = "any") -> Store:
    """The store `settings` names: PostgreSQL when `settings.database_url` is set, else
    the TinyDB folder `settings.data_dir`.  Raises the store's errors
    (DamagedFileError 503, DatabaseUnavailable 503, SchemaOutOfDate 503…)."""
    return open_store(Path(settings.data_dir), users=users, database_url=settings.database_url)
