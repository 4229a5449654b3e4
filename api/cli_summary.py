"""`formdesk summary`: the month's after-sales summary as a table, a workbook, or the
station's SH-ZH/BD-24 业务月报表 prefilled."""

from __future__ import annotations

import getpass
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from formdesk import settings

from .cli_common import fail, open_cli_store

if TYPE_CHECKING:  # the store and the summary load when the command runs
    from formdesk.model.monthly import Figures, MonthlySummary
    from formdesk.services.stores import Store

out = Console()
OUTPUTS = {".xlsx": "汇总表", ".pdf": "业务月报表"}
# the terminal table, narrow enough for 80 columns: (heading, attribute of a row, money)
SHOWN: list[tuple[str, str, bool]] = [
    ("三包\n台次", "warranty_visits", False),
    ("三包\n金额", "warranty_total", True),
    ("收费\n台次", "paid_repairs", False),
    ("收费\n金额", "paid_total", True),
    ("保养\n台次", "maintenance", False),
    ("保养\n金额", "maintenance_total", True),
    ("索赔\n件数", "claimed_qty", False),
    ("返厂\n件数", "returned_qty", False),
]


def summary_command(
    month: Annotated[str, typer.Option("--month", help="月份,如 2026-11")],
    station: Annotated[
        str | None, typer.Option("--station", help="维修站代码(不填为全部维修站)")
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "-o",
            "--output",
            help="写入 .xlsx(汇总表)或 .pdf(SH-ZH/BD-24 业务月报表,须指定 --station)",
        ),
    ] = None,
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", help="数据目录(默认 ./data 或 FORMDESK_DATA_DIR)")
    ] = None,
) -> None:
    """月售后服务汇总:三包、收费维修、保养与返厂件,按维修站、车型、零件、故障类别。"""
    from formdesk.services.reconciliation import monthly_summary

    suffix = output.suffix.lower() if output is not None else None
    if output is not None:
        if suffix not in OUTPUTS:
            raise fail(f"输出文件应为 .xlsx(汇总表)或 .pdf(业务月报表),而不是 {output.name}")
        if suffix == ".pdf" and not station:
            raise fail("业务月报表(PDF)是一个维修站的,请用 --station 指定维修站")
        if not output.parent.exists():
            raise fail(f"输出目录不存在:{output.parent}")
    store = open_cli_store(data_dir, must_exist=True)
    folder = data_dir if data_dir is not None else settings.data_dir()
    try:
        summary = monthly_summary(store, folder, month, station)
    except (ValueError, LookupError) as exc:
        raise fail(str(exc)) from None
    if output is None:
        _print(summary)
        return
    if suffix == ".xlsx":
        from formdesk.services.reports import summary_workbook

        data = summary_workbook(summary)
    else:
        data = _bd24(store, summary, folder)
    output.write_bytes(data)
    print(f"已生成{OUTPUTS[suffix]} {output}", file=sys.stderr)


def _bd24(store: Store, summary: MonthlySummary, folder: Path) -> bytes:
    from formdesk.model.errors import ValueDoesNotFitError
    from formdesk.services.monthly import station_bd24_pdf
    from formdesk.templates.values.normalize import FieldValueError

    try:
        return station_bd24_pdf(
            store, summary, settings.signing_key(folder), f"cli:{getpass.getuser()}"
        )
    except (FieldValueError, ValueDoesNotFitError, ValueError) as exc:
        raise fail(f"业务月报表:{exc}") from None


def _print(summary: MonthlySummary) -> None:
    scope = f"{summary.station_name}({summary.station})" if summary.station else "全部维修站"
    out.print(f"{summary.month} 月售后服务汇总 — {scope}", markup=False)
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("维修站")
    for heading, _, _ in SHOWN:
        table.add_column(heading, justify="right", no_wrap=True)
    for row in summary.stations:
        table.add_row(Text(row.label), *_cells(row))
    table.add_row("合计", *_cells(summary.totals), style="bold")
    out.print(table)
    if summary.orders_to_check:
        out.print(
            f"另有 {summary.orders_to_check} 份维修委托书待复核,金额以复核后为准", markup=False
        )
    if summary.orders_undated:
        out.print(f"{summary.orders_undated} 份维修委托书未读出日期,未计入", markup=False)


def _cells(row: Figures) -> list[str]:
    return [f"{getattr(row, a):,.2f}" if money else str(getattr(row, a)) for _, a, money in SHOWN]
