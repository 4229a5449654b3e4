"""The files the back office hands on (issue 11: `reports/` behind a service): a station's
reconciliation as a workbook or a printable PDF, the letter to the station, and the
monthly summary workbook.  Each returns the file's bytes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from formdesk.model.monthly import MonthlySummary
from formdesk.model.reconciliation import Evidence, Reconciliation

from .installation import letter_details
from .stores import Store


def reconciliation_report(
    rec: Reconciliation,
    kind: Literal["xlsx", "pdf"],
    evidence_url: Callable[[Evidence], str] | None = None,
) -> bytes:
    """核对报告: XLSX (sheets 汇总, 差异明细, 一致; with `evidence_url` each 证据 cell links
    to the record's review page) or PDF (A4 landscape, to print)."""
    if kind == "xlsx":
        from formdesk.reports.reconcile_xlsx import reconciliation_xlsx

        return reconciliation_xlsx(rec, evidence_url)
    from formdesk.reports.reconcile_pdf import reconciliation_pdf

    return reconciliation_pdf(rec)


def station_letter(rec: Reconciliation, store: Store | None = None) -> bytes:
    """核对结果通知: an A4 PDF letter to the station listing its confirmed differences
    (those awaiting verification are left out), grouped by kind; the center's name, the
    contact and the phone from the installation's 设置 in `store` (`letter_details`)."""
    from formdesk.reports.station_letter import station_letter_pdf

    details = letter_details(store) if store is not None else {}
    return station_letter_pdf(rec, **details)


def summary_workbook(summary: MonthlySummary) -> bytes:
    """月售后服务汇总表 XLSX: 汇总 (with a chart of claims per station), 按维修站, 按车型,
    按零件, 按故障类别; money as numbers formatted 元 with two decimals."""
    from formdesk.reports.summary_xlsx import monthly_summary_xlsx

    return monthly_summary_xlsx(summary)
