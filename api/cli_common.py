"""What every `formdesk` command shares: the one-line failure and opening the store."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from formdesk import settings

if TYPE_CHECKING:  # the store loads when a command runs, not when the CLI starts
    from formdesk.services.stores import Store, UsersRule


def fail(message: str) -> typer.Exit:
    """One line on stderr and a non-zero exit: what a user needs, no traceback."""
    print(f"错误:{message}", file=sys.stderr)
    return typer.Exit(code=1)


def open_cli_store(
    data_dir: Path | None, *, must_exist: bool = False, users: UsersRule = "any"
) -> Store:
    """The store: PostgreSQL when FORMDESK_DATABASE_URL is set, else the TinyDB store
    under --data-dir (else FORMDESK_DATA_DIR or ./data). Commands that only
    read refuse a folder that is not there rather than create an empty one; a damaged data
    file is one line naming it and the way to restore it (`users` as in `TinyStore`)."""
    from formdesk.model.errors import StoreError
    from formdesk.services.stores import open_store_at

    url = settings.database_url()
    folder = data_dir if data_dir is not None else settings.data_dir()
    if must_exist and url is None and not folder.is_dir():
        raise fail(f"数据目录不存在:{folder}")
    try:
        return open_store_at(folder, users=users, database_url=url)
    except StoreError as exc:  # a damaged data file, an unreachable database
        raise fail(str(exc)) from None
