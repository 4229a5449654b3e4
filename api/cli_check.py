"""`formdesk check [--repair] [--deep]`: the data folder's files checked, one line per
finding and a summary; exit 0 when clean (or everything found was repaired), else 1."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from formdesk import settings

from .cli_common import fail


def check_command(
    repair: Annotated[
        bool, typer.Option("--repair", help="修复能修复的:从 .prev 副本恢复、由记录文件重建索引等")
    ] = False,
    deep: Annotated[bool, typer.Option("--deep", help="逐个核对扫描件的 SHA-256(较慢)")] = False,
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", help="数据目录(默认 ./data 或 FORMDESK_DATA_DIR)")
    ] = None,
) -> None:
    """检查数据目录:数据库文件、记录文件、扫描件和识读队列是否完好、一致。"""
    from formdesk.services.stores import check_data_folder

    if settings.database_url():
        raise fail(
            "formdesk check 检查 TinyDB 数据目录;数据在 PostgreSQL 中(FORMDESK_DATABASE_URL)"
            "时由数据库自身保证完整,请用 PostgreSQL 的备份与检查工具"
        )
    folder = data_dir if data_dir is not None else settings.data_dir()
    if not folder.is_dir():
        raise fail(f"数据目录不存在:{folder}")
    report = check_data_folder(folder, repair=repair, deep=deep)
    for f in report.findings:
        if f.repaired:
            print(f"已修复  {f.path}:{f.problem};{f.repaired}")
        elif f.note:
            print(f"提示    {f.path}:{f.problem}")
        else:
            todo = f"运行 formdesk check --repair 可{f.advice}" if f.fixable else f.advice
            print(f"问题    {f.path}:{f.problem}" + (f";{todo}" if todo else ""))
    checked = f"{report.db_files} 个数据库文件、{report.records} 条记录、{report.scans} 个扫描件"
    fixed = sum(1 for f in report.findings if f.repaired)
    left = len(report.unresolved)
    if left:
        fixable = sum(1 for f in report.unresolved if f.fixable)
        more = f",其中 {fixable} 个可用 --repair 修复" if fixable else ""
        done = f"已修复 {fixed} 个," if fixed else ""
        print(f"检查完毕({checked}):{done}还有 {left} 个问题{more}")
        raise typer.Exit(code=1)
    print(f"检查完毕({checked}):" + (f"已修复 {fixed} 个问题" if fixed else "数据完好"))
