"""Installation settings: where data lives and the key that signs printed pages."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def data_dir() -> Path:
    """FORMDESK_DATA_DIR, or ./data beside where formdesk runs."""
    return Path(os.environ.get("FORMDESK_DATA_DIR", "data"))


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
