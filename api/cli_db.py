"""`formdesk db`: the PostgreSQL server option's schema (issue 11)."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from .cli_common import fail

db_app = typer.Typer(
    help="PostgreSQL 数据库(服务器部署选项):建立、升级表结构", no_args_is_help=True
)


@db_app.command("upgrade")
def db_upgrade(
    url: Annotated[
        str | None,
        typer.Option(
            "--database-url", help="postgresql://用户@主机:端口/库(默认 FORMDESK_DATABASE_URL)"
        ),
    ] = None,
) -> None:
    """把数据库表结构升级到本版本(Alembic 迁移;可重复执行)。"""
    from sqlalchemy.exc import OperationalError

    from formdesk.store.sql import upgrade

    url = url or os.environ.get("FORMDESK_DATABASE_URL", "")
    if not url.startswith("postgresql://"):
        raise fail("请用 --database-url 或 FORMDESK_DATABASE_URL 给出 postgresql://… 数据库地址")
    try:
        upgrade(url)
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise fail(f"无法连接数据库:{reason}") from None
    print("数据库表结构已是最新")
