"""Opening the installation's store for the API and the command line (issue 11).

The layers above services hold a store only as an opaque handle (`Store`) that they pass
back to service functions; they call none of its methods (tests/test_layers.py).
"""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

from formdesk.model.errors import StoreError
from formdesk.settings import Settings
from formdesk.store import Store, open_store
from formdesk.store.fsck import Report as CheckReport
from formdesk.store.fsck import check_folder
from formdesk.store.integrity import UsersRule

__all__ = [
    "CheckReport",
    "SigningKeyMismatch",
    "check_signing_key",
    "key_fingerprint",
    "Store",
    "UsersRule",
    "check_data_folder",
    "check_reader_machine",
    "open_configured_store",
    "open_store_at",
]


def open_configured_store(settings: Settings, *, users: UsersRule = "any") -> Store:
    """The store `settings` names: PostgreSQL when `settings.database_url` is set, else
    the TinyDB folder `settings.data_dir`.  Raises the store's errors
    (DamagedFileError 503, DatabaseUnavailable 503, SchemaOutOfDate 503…)."""
    return open_store(Path(settings.data_dir), users=users, database_url=settings.database_url)


def open_store_at(data_dir: Path, *, database_url: str | None, users: UsersRule = "any") -> Store:
    """The store of a command: PostgreSQL at `database_url` when given, else the TinyDB
    folder `data_dir` (created when missing; the caller refuses a missing one first where
    it only reads).  `users` as in `TinyStore`; the store's errors as in
    `open_configured_store`."""
    return open_store(Path(data_dir), users=users, database_url=database_url)


def check_data_folder(folder: Path, *, repair: bool = False, deep: bool = False) -> CheckReport:
    """`formdesk check`: every data file, record file, scan and the reading queue of the
    TinyDB folder `folder` checked (and, with `repair`, repaired where a good copy or the
    record files allow; `deep` re-hashes every scan, SHA-256).  See `store.fsck`."""
    return check_folder(folder, repair=repair, deep=deep)


class SigningKeyMismatch(StoreError):
    """This machine's signing key is not the one the installation's database recorded
    (HTTP 503): it would print forms no other machine can verify and read every form as
    foreign, so the process does not start."""

    status = 503


def key_fingerprint(key: bytes) -> str:
    """A fingerprint of the HMAC signing key that does not give the key away: the first
    32 hex digits of HMAC-SHA256(key, "formdesk signing key fingerprint")."""
    mac = hmac.new(key, b"formdesk signing key fingerprint", hashlib.sha256)
    return mac.hexdigest()[:32]


def check_signing_key(store: Store, key: bytes) -> None:
    """Refuses a process whose signing key differs from the installation's: the first
    process to start on a database records its key's fingerprint; `serve` and `worker`
    on any other machine must hold the same key (the first server's data/secret.key, or
    the same FORMDESK_SECRET).  SigningKeyMismatch (503) otherwise; on TinyDB the key file
    lives in the data folder and there is nothing to compare."""
    mine = key_fingerprint(key)
    if store.signing_key_fingerprint(mine) != mine:
        raise SigningKeyMismatch(
            "本机的签名密钥与数据库中登记的不同:请把第一台服务器数据目录中的 secret.key"
            "复制到本机的数据目录(或设置相同的 FORMDESK_SECRET)后再启动;"
            "否则本机打印的表单无法被核验,识读的表单也都会被当作外来表单"
        )


def check_reader_machine(settings: Settings) -> None:
    """What `formdesk worker` checks before it starts its processes: the database of
    `settings` reachable and at this version's schema (the store's errors, 503) and this
    machine's signing key the installation's (SigningKeyMismatch, 503)."""
    from formdesk.settings import signing_key

    store = open_configured_store(settings)
    try:
        check_signing_key(store, signing_key(settings.data_dir))
    finally:
        store.close()
