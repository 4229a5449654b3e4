"""Reconciliation and monthly summary: a station's month as JSON, workbook, printed report
and letter to the station; the month's figures as JSON and workbook, and SH-ZH/BD-24
prefilled from them.

A station user sees only its own station (another's answers 404, as its records do);
auditors read everything but cannot print BD-24, since printing registers a document
(which is also why BD-24 is a POST, with the CSRF token, while the rest are GETs).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from formdesk.model.errors import ValueDoesNotFitError
from formdesk.model.monthly import MONTHLY_REPORT, MonthlySummary
from formdesk.model.reconciliation import KIND_LABELS, Evidence, Reconciliation
from formdesk.services.monthly import station_bd24_pdf
from formdesk.services.reconciliation import (
    for_viewer,
    latest_month,
    monthly_summary,
    reconcile_stations,
)
from formdesk.services.reports import reconciliation_report, station_letter, summary_workbook
from formdesk.services.stores import Store
from formdesk.templates import get_template
from formdesk.templates.values.dates import china_today, month_span
from formdesk.templates.values.normalize import FieldValueError, normalize

from ..deps import current_principal, get_store, not_found, writer
from ..filenames import content_disposition
from ..principal import Principal

PARTS_SALES = "parts_sales_amount"  # SH-ZH/BD-24's field the parts_sales parameter fills

router = APIRouter(prefix="/api", tags=["reconcile"])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MONTH_HELP = "月份,如 2026-11;不填为上个月(北京时间)"


class LatestMonth(BaseModel):
    """The month the 核对 and 月报 pages open on."""

    month: str | None  # the latest month with data (claims, returned parts, repair orders)
    previous_month: str  # the month before today's (Beijing), for when there is no data


class ReconciliationView(Reconciliation):
    """The reconciliation with how many outcomes of each kind, and every kind's label (the
    page shows a chip for each, zero included)."""

    model_config = ConfigDict(populate_by_name=True)

    kind_counts: dict[str, int] = Field(alias="counts")
    kind_labels: dict[str, str] = Field(default_factory=lambda: dict(KIND_LABELS))


def previous_month(today: date | None = None) -> str:
    """The month a reconciliation is usually about: the one before today's, in Beijing."""
    today = today or china_today()
    return f"{today.replace(day=1) - timedelta(days=1):%Y-%m}"


def checked_month(month: str | None) -> str:
    month = (month or "").strip() or previous_month()
    try:
        start, _ = month_span(month)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    return f"{start:%Y-%m}"


def own_station(who: Principal, station: str | None) -> str | None:
    """A station user's own station whatever it asks (another is 404); else as asked."""
    station = (station or "").strip() or None
    if who.role != "station":
        return station
    if who.station is None or station not in (None, who.station):
        raise not_found("这个维修站的数据")
    return who.station


def required_station(who: Principal, station: str | None) -> str:
    code = own_station(who, station)
    if code is None:
        raise HTTPException(422, "请指定维修站(station)")
    return code


def attachment(data: bytes, media_type: str, name: str, fallback: str) -> Response:
    """A download named in Chinese (RFC 5987 filename*) with an ASCII name for old clients."""
    disposition = content_disposition(name, fallback)
    return Response(data, media_type=media_type, headers={"Content-Disposition": disposition})


# -- how many reports at once ---------------------------------------------------------------------

REPORT_SLOTS = 2  # reconciliations and summaries computed at once in one service process
REPORT_WAIT_S = 20.0  # how long a request waits for a slot before it is told to come back


def report_slot(request: Request) -> Iterator[None]:
    """Holds one of the process's report slots for the request: a month of a big network
    takes seconds of CPU, and four at once must not starve every other request. Without a
    free slot within REPORT_WAIT_S: 429 with Retry-After."""
    state = request.app.state
    slots = getattr(state, "report_slots", None)
    if slots is None:
        slots = state.report_slots = threading.BoundedSemaphore(REPORT_SLOTS)
    if not slots.acquire(timeout=REPORT_WAIT_S):
        raise HTTPException(
            429, "正在生成的核对或汇总报表较多,请稍后重试", headers={"Retry-After": "30"}
        )
    try:
        yield
    finally:
        slots.release()


# -- reconciliation ------------------------------------------------------------------------------


def station_month(
    request: Request,
    station: str | None = Query(None, description="维修站代码;维修站用户只能是本站"),
    month: str | None = Query(None, description=MONTH_HELP),
    who: Principal = Depends(current_principal),
    store: Store = Depends(get_store),
    _slot: None = Depends(report_slot),
) -> Reconciliation:
    """The reconciliation asked for, after the access, month and station checks."""
    code = required_station(who, station)
    month = checked_month(month)
    # an unknown station: NotFoundError (404, the API's handler)
    rec = reconcile_stations(store, request.app.state.settings.data_dir, month, code)[0]
    return for_viewer(rec, who)  # a station: only what its scans show


@router.get("/months/latest", response_model=LatestMonth)
def months_latest(
    station: str | None = Query(None, description="维修站代码;不填为全部维修站;维修站用户为本站"),
    who: Principal = Depends(current_principal),
    store: Store = Depends(get_store),
    _slot: None = Depends(report_slot),
) -> LatestMonth:
    """有数据(索赔单、返厂件、维修委托书)的最近月份:核对和月报页面默认打开这个月。"""
    code = own_station(who, station)
    return LatestMonth(month=latest_month(store, code), previous_month=previous_month())


@router.get("/reconcile", response_model=ReconciliationView)
def reconciliation(rec: Reconciliation = Depends(station_month)) -> ReconciliationView:
    """维修站某月的索赔单与返厂件(返厂清单、鉴别/故障标签)核对结果,每项附扫描件证据。"""
    return ReconciliationView(**dict(rec), kind_counts=rec.counts())


def _name(kind: str, rec: Reconciliation, suffix: str) -> str:
    return f"{kind}-{rec.station}-{rec.month}.{suffix}"


def review_url(base: str, evidence: Evidence) -> str:
    """The record's review page, opened at the field (or manifest row) the evidence is."""
    hint = {"field": evidence.field_key, "row": evidence.row, "column": evidence.column}
    query = urlencode({k: v for k, v in hint.items() if v is not None})
    return f"{base}review/{quote(evidence.record_id)}?{query}"


@router.get("/reconcile/report.xlsx", response_class=Response)
def report_xlsx(request: Request, rec: Reconciliation = Depends(station_month)) -> Response:
    """核对报告 XLSX(汇总、差异明细、一致);证据单元格链接到记录的复核页面。"""
    base = str(request.base_url)
    data = reconciliation_report(rec, "xlsx", lambda e: review_url(base, e))
    return attachment(
        data, XLSX, _name("核对报告", rec, "xlsx"), _name("reconcile-report", rec, "xlsx")
    )


@router.get("/reconcile/report.pdf", response_class=Response)
def report_pdf(rec: Reconciliation = Depends(station_month)) -> Response:
    """核对报告 PDF(A4 横向,可打印)。"""
    return attachment(
        reconciliation_report(rec, "pdf"),
        "application/pdf",
        _name("核对报告", rec, "pdf"),
        _name("reconcile-report", rec, "pdf"),
    )


@router.get("/reconcile/letter.pdf", response_class=Response)
def letter_pdf(
    rec: Reconciliation = Depends(station_month), store: Store = Depends(get_store)
) -> Response:
    """致维修站的核对结果通知(只列已确认的差异,待核实的暂不列入;联系人、电话取自“设置”)。"""
    return attachment(
        station_letter(rec, store),
        "application/pdf",
        _name("核对结果通知", rec, "pdf"),
        _name("reconcile-letter", rec, "pdf"),
    )


# -- monthly summary -----------------------------------------------------------------------------


def month_summary(
    request: Request,
    station: str | None = Query(None, description="维修站代码;不填为全部维修站"),
    month: str | None = Query(None, description=MONTH_HELP),
    who: Principal = Depends(current_principal),
    store: Store = Depends(get_store),
    _slot: None = Depends(report_slot),
) -> MonthlySummary:
    code = own_station(who, station)
    month = checked_month(month)
    try:
        return monthly_summary(store, request.app.state.settings.data_dir, month, code)
    except LookupError as exc:
        raise HTTPException(404, str(exc)) from None
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None


def _summary_name(kind: str, summary: MonthlySummary, suffix: str) -> str:
    return f"{kind}-{summary.station or 'ALL'}-{summary.month}.{suffix}"


@router.get("/summary", response_model=MonthlySummary)
def summary_json(summary: MonthlySummary = Depends(month_summary)) -> MonthlySummary:
    """月售后服务汇总:按维修站、车型、零件、故障类别,三包与收费维修、保养分开。"""
    return summary


@router.get("/summary.xlsx", response_class=Response)
def summary_xlsx(summary: MonthlySummary = Depends(month_summary)) -> Response:
    """月售后服务汇总表 XLSX。"""
    return attachment(
        summary_workbook(summary),
        XLSX,
        _summary_name("月售后服务汇总", summary, "xlsx"),
        _summary_name("monthly-summary", summary, "xlsx"),
    )


def _parts_sales(raw: str | None) -> Decimal | None:
    """The typed 配件销售额 as BD-24's own field takes it (`normalize`: full-width digits,
    thousands commas, 2 decimals, 0 up to the form's limit); blank is not given.
    HTTPException 422 naming the field and the rule."""
    if raw is None or not raw.strip():
        return None
    spec = get_template(MONTHLY_REPORT).field(PARTS_SALES)
    try:
        return Decimal(normalize(spec, raw))
    except ValueError as exc:
        raise HTTPException(422, f"{spec.label}(parts_sales):{exc}") from None


@router.post("/summary/bd24.pdf", response_class=Response)
def summary_bd24(
    request: Request,
    station: str | None = Query(None, description="维修站代码(必填;维修站用户为本站)"),
    month: str | None = Query(None, description=MONTH_HELP),
    parts_sales: str | None = Query(
        None, description="配件销售额(元),计入营业总额;如 1200.50、１，２００．５０"
    ),
    who: Principal = Depends(writer),
    store: Store = Depends(get_store),
) -> Response:
    """按月汇总预填的 SH-ZH/BD-24 业务月报表(登记为已打印文档,扫描后可识别)。"""
    code = required_station(who, station)
    sales = _parts_sales(parts_sales)
    summary = month_summary(request, code, month, who, store)
    try:
        data = station_bd24_pdf(
            store, summary, request.app.state.key, who.username, parts_sales_amount=sales
        )
    except (FieldValueError, ValueDoesNotFitError, ValueError) as exc:
        raise HTTPException(422, str(exc)) from None
    name = f"业务月报表-{code}-{summary.month}.pdf"
    return attachment(data, "application/pdf", name, f"bd24-{code}-{summary.month}.pdf")
