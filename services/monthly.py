"""The monthly report a station signs (SH-ZH/BD-24), printed from the monthly summary."""

from __future__ import annotations

import tempfile
from datetime import date
from decimal import Decimal
from pathlib import Path

from formdesk.model.claims import Station
from formdesk.model.monthly import MONTHLY_REPORT, MonthlySummary
from formdesk.reconcile.monthly import bd24_values
from formdesk.store import Store
from formdesk.templates import get_template
from formdesk.templates.values.dates import china_today

from .printing import print_documents
from .stations import require_station


def bd24_pdf(
    store: Store,
    summary: MonthlySummary,
    station: Station,
    key: bytes,
    issued_by: str | None,
    *,
    fill_date: date | None = None,
    parts_sales_amount: Decimal | None = None,
) -> bytes:
    """SH-ZH/BD-24 prefilled for one station (both 联) from `summary`, printed and
    registered (`print_documents`) so its scan is recognised; `fill_date` defaults to
    today (Beijing time).  FieldValueError / ValueDoesNotFitError when a value does not
    suit the form."""
    values = bd24_values(summary, station, fill_date or china_today(), parts_sales_amount)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "bd24.pdf"
        print_documents(
            store, key, get_template(MONTHLY_REPORT), [values], out,
            station=station.code, issued_by=issued_by,
        )  # fmt: skip
        return out.read_bytes()


def station_bd24_pdf(
    store: Store,
    summary: MonthlySummary,
    key: bytes,
    issued_by: str | None,
    *,
    parts_sales_amount: Decimal | None = None,
) -> bytes:
    """`bd24_pdf` for the station `summary` is about (`summary.station`); NotFoundError
    (404) when it is not registered; the errors of `bd24_pdf` otherwise."""
    station = require_station(store, summary.station or "")
    return bd24_pdf(store, summary, station, key, issued_by, parts_sales_amount=parts_sales_amount)
