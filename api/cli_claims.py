"""`formdesk claims`: import the warranty system's claims file, list the stored claims."""

from __future__ import annotations

import getpass
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from formdesk.templates.values.dates import DateValueError

from .cli_common import fail, open_cli_store

if TYPE_CHECKING:  # the store and the claims reader load when a command runs
    from formdesk.model.claims import ClaimImport

claims_app = typer.Typer(help="三包索赔单:导入、查看", no_args_is_help=True)
out = Console()
SHOWN_PROBLEMS = 50  # a terminal's worth; the rest are counted
# the list's columns; True: never wrapped (codes and numbers)
COLUMNS = [
    ("索赔单号", True),
    ("维修站", False),
    ("车架号", True),
    ("零件名称", False),
    ("数量", False),
    ("维修日期", True),
    ("金额(元)", True),
]


def import_summary(log: ClaimImport) -> str:
    """One line: 新增 N 条,未变 M 条 (替换 …, 新登记维修站 … when there are)."""
    parts = [f"新增 {log.claims - log.replaced} 条"]
    if log.replaced:
        parts.append(f"替换 {log.replaced} 条")
    parts.append(f"未变 {log.unchanged} 条")
    if log.stations_added:
        parts.append(f"新登记维修站 {'、'.join(log.stations_added)}")
    return f"已导入 {log.filename}:" + ",".join(parts)


@claims_app.command("import")
def claims_import(
    file: Annotated[Path, typer.Argument(help="索赔单文件:CSV(UTF-8 或 GBK)或 XLSX")],
    replace: Annotated[
        bool, typer.Option("--replace", help="已导入的索赔单内容不同时,以本文件为准")
    ] = False,
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", help="数据目录(默认 ./data 或 FORMDESK_DATA_DIR)")
    ] = None,
    user: Annotated[str | None, typer.Option("--user", help="导入人(默认当前系统用户)")] = None,
) -> None:
    """导入三包系统导出的索赔单;任何一行有错则全部不导入。"""
    from formdesk.model.claims import ClaimFileError
    from formdesk.model.errors import ConflictError, FormdeskError, StoreError
    from formdesk.services.claims import import_claims_file, read_claims_file

    from .filenames import neutral_filename

    try:
        data = read_claims_file(file)  # before the store is opened
    except FormdeskError as exc:  # too large, not there, unreadable
        raise fail(str(exc)) from None
    store = open_cli_store(data_dir)
    try:
        name = neutral_filename(file.name)  # stored and shown: no bidi or control characters
        log = import_claims_file(store, data, name, user or getpass.getuser(), replace)
    except ClaimFileError as exc:
        if exc.total > 1:  # one problem is said by the summary line itself
            for problem in exc.problems[:SHOWN_PROBLEMS]:
                print(f"  {problem}", file=sys.stderr)
            if exc.total > SHOWN_PROBLEMS:
                print(f"  还有 {exc.total - SHOWN_PROBLEMS} 处", file=sys.stderr)
        raise fail(str(exc)) from None
    except ConflictError as exc:
        raise fail(f"{exc}(命令加 --replace)") from None
    except StoreError as exc:
        raise fail(str(exc)) from None
    print(import_summary(log))


@claims_app.command("list")
def claims_list(
    station: Annotated[str | None, typer.Option("--station", help="维修站代码或名称")] = None,
    month: Annotated[
        str | None, typer.Option("--month", help="维修月份,如 2026-11 或 2026年11月")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON")] = False,
    data_dir: Annotated[Path | None, typer.Option("--data-dir", help="数据目录")] = None,
) -> None:
    """按维修站、维修月份列出已导入的索赔单。"""
    from formdesk.services.claims import claims_of
    from formdesk.templates.values.dates import month_span

    if month:
        try:
            month_span(month)  # before the store is opened
        except DateValueError as exc:
            raise fail(str(exc)) from None
    store = open_cli_store(data_dir, must_exist=True)
    claims = claims_of(store, station=station, month=month)
    if as_json:
        rows = [c.model_dump(mode="json") for c in claims]
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    table = Table()
    for title, fixed in COLUMNS:
        table.add_column(title, no_wrap=fixed, justify="right" if title == "金额(元)" else "left")
    for c in claims:  # the rest (model, part number, mileage, fees) is in --json
        amount = f"{c.amount:.2f}"
        table.add_row(
            c.claim_no, c.station, c.vin, c.part_name, str(c.quantity), str(c.repair_date), amount
        )
    out.print(table)
    total = sum((c.amount for c in claims), start=0)
    out.print(f"共 {len(claims)} 条,金额合计 {total:.2f} 元", markup=False)
