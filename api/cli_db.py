"""`formdesk db`: the PostgreSQL server option's schema (issue 11)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from .cli_common import fail

db_app = typer.Typer(
    help="PostgreSQL 数据库(服务器部署选项):建立、升级表结构", no_args_is_help=True
)


def _database_url(given: str | None) -> str:
    from formdesk.services.database import check_database_url

    url = given or os.environ.get("FORMDESK_DATABASE_URL", "")
    if not url:
        raise fail("请用 --database-url 或 FORMDESK_DATABASE_URL 给出 postgresql://… 数据库地址")
    return check_database_url(url)  # StoreError: one line and exit 1 (the CLI's handler)


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
    from formdesk.services.database import upgrade_schema

    done = upgrade_schema(_database_url(url))  # store errors: one line, exit 1 (CLI handler)
    if not done.changed:
        print("数据库表结构已是最新")
    else:
        print(f"数据库表结构已从版本 {done.before or '(空)'} 升级到版本 {done.after}")


@db_app.command("migrate-from-tinydb")
def db_migrate_from_tinydb(
    data_dir: Annotated[Path, typer.Argument(help="现有安装的数据目录(TinyDB)")],
    url: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            help="空的 PostgreSQL 数据库 postgresql://…(默认 FORMDESK_DATABASE_URL)",
        ),
    ] = None,
) -> None:
    """把现有安装(TinyDB 数据目录)的全部数据搬到一个空的 PostgreSQL 数据库,并逐条核对。"""
    from formdesk.services.migration import migrate_from_tinydb

    url = _database_url(url)
    if not (data_dir / "db").is_dir():
        raise fail(f"{data_dir} 不是 formdesk 的数据目录(没有 db/ 文件夹)")
    report = migrate_from_tinydb(data_dir, url, progress=lambda k, n: print(f"  {k}: {n}"))
    if report.differences:
        for line in report.differences[:20]:
            print(f"  不一致:{line}", file=sys.stderr)
        raise fail(f"迁移后核对发现 {len(report.differences)} 处不一致;数据库中的数据不可用")
    total = sum(report.counts.values())
    print(f"已迁移并逐条核对 {total} 条数据,全部一致。")
    print("今后运行服务时设置 FORMDESK_DATABASE_URL 为该数据库地址。")
