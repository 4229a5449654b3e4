"""`formdesk reconcile`: a station's month of returned parts against its claims."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from formdesk import settings

from .cli_common import fail, open_cli_store

out = Console()
FORMATS = {".xlsx": "核对报告(Excel)", ".pdf": "核对报告(PDF)"}


def reconcile_command(
    month: Annotated[str, typer.Option("--month", help="月份,如 2026-11")],
    station: Annotated[
        str | None, typer.Option("--station", help="维修站代码(不填则逐站列出差异数)")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="写出核对报告:.xlsx 或 .pdf")
    ] = None,
    letter: Annotated[
        Path | None, typer.Option("--letter", help="另写出致维修站的差异通知函(PDF)")
    ] = None,
    data_dir: Annotated[Path | None, typer.Option("--data-dir", help="数据目录")] = None,
) -> None:
    """核对三包索赔件:返厂清单与零件标签对索赔单,列出每一处差异。"""
    from formdesk.services.reconciliation import reconcile_stations
    from formdesk.services.reports import reconciliation_report, station_letter
    from formdesk.templates.values.dates import month_span

    for path in (output, letter):
        if path is not None and path.suffix.lower() not in (
            FORMATS if path is output else {".pdf"}
        ):
            raise fail(f"{path}:只能写出 {'、'.join(FORMATS if path is output else ['.pdf'])} 文件")
    if (output or letter) and station is None:
        raise fail("写出报告或通知函时请用 --station 指定维修站")
    try:
        month_span(month)
    except ValueError as exc:
        raise fail(str(exc)) from None
    store = open_cli_store(data_dir, must_exist=True)
    folder = data_dir if data_dir is not None else settings.data_dir()
    # a broken rules file (RulesError), no station registered or an unknown one
    # (NotFoundError): one line and exit 1 (the CLI's handler)
    results = reconcile_stations(store, folder, month, station)
    if station is None:
        _overview(results)
        return
    rec = results[0]
    _details(rec)
    if output is not None:
        kind = "xlsx" if output.suffix.lower() == ".xlsx" else "pdf"
        _write(output, reconciliation_report(rec, kind))
    if letter is not None:
        _write(letter, station_letter(rec, store))


def _write(path: Path, data: bytes) -> None:
    try:
        path.write_bytes(data)
    except OSError as exc:
        raise fail(f"{path}:无法写入({exc.strerror})") from None
    out.print(f"已写出 {path}", markup=False)


def _overview(results) -> None:
    from formdesk.model.reconciliation import KIND_LABELS

    kinds = [k for k in KIND_LABELS if k != "matched"]
    table = Table(
        "维修站",
        "索赔单",
        "一致",
        *(KIND_LABELS[k] for k in kinds),
        title=f"{results[0].month} 三包索赔件核对",
    )
    for rec in results:
        counts = rec.counts()
        table.add_row(
            f"{rec.station} {rec.station_name}",
            str(rec.claims),
            str(counts["matched"]),
            *(str(counts[k]) for k in kinds),
        )
    out.print(table)


def _details(rec) -> None:
    counts = rec.counts()
    out.print(
        f"{rec.station} {rec.station_name} {rec.month}:索赔单 {rec.claims} 张({rec.claimed_quantity} 件),"
        f"返厂件 {rec.returned_parts} 件(返厂清单 {rec.manifest_lines} 行 {rec.returned_quantity} 件,"
        f"零件标签 {rec.tags} 张);"
        f"一致 {counts['matched']},差异 {len(rec.differences)}",
        markup=False,
    )
    if not rec.differences:
        return
    table = Table("差异", "索赔单号", "零件", "说明", "待核实")
    for o in rec.differences:
        table.add_row(
            o.label,
            o.claim_no or "",
            f"{o.part_name or ''} {o.part_no or ''}".strip(),
            o.message,
            "是" if o.doubtful else "",
        )
    out.print(table)
