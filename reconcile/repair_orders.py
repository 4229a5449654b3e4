"""Repair orders (表格18 维修委托书) as the reader saw them: the paid repairs and the
maintenance of the monthly summary, taken from the stored records."""

from __future__ import annotations

import logging
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel

from formdesk.model.stored import StoredRecord
from formdesk.store import Store
from formdesk.templates.values.dates import DateValueError, parse_date, parse_datetime
from formdesk.templates.values.money import MoneyValueError, parse_amount

from .sources import record_summaries

log = logging.getLogger(__name__)

REPAIR_ORDER = "表格18"
# repair_category → how the summary counts it; 保修索赔 orders are already claims, so they
# count as a visit only, never again as money
ORDER_KINDS: dict[str, Literal["paid", "maintenance", "warranty"]] = {
    "一般维修": "paid",
    "事故维修": "paid",
    "保养": "maintenance",
    "保修索赔": "warranty",
}
# words on a maintenance order telling 首保 from 定保; one naming neither stays unsorted
MAINTENANCE_WORDS: dict[Literal["first", "periodic"], tuple[str, ...]] = {
    "first": ("首保", "首次保养", "强制保养", "强保"),
    "periodic": ("定保", "定期保养", "例行保养", "常规保养"),
}

OrderKind = Literal["paid", "maintenance", "warranty"]


class RepairOrder(BaseModel):
    """One read 维修委托书, reduced to what the summary counts."""

    record_id: str
    document_id: str
    station: str | None = None
    day: date | None = None  # 进厂时间, else 签字日期
    kind: OrderKind | None = None  # None: 维修类别 not read
    maintenance: Literal["first", "periodic"] | None = None
    vin: str | None = None
    vehicle_model: str | None = None
    labor: Decimal = Decimal("0")
    material: Decimal = Decimal("0")
    total: Decimal = Decimal("0")  # 总计, else 工时费合计 + 材料费合计
    work: str = ""  # the repair items and materials, for the fault category
    description: str = ""  # 客户描述(故障现象)
    needs_review: bool = False  # read values not yet checked by a person


def _amount(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return parse_amount(value)
    except MoneyValueError:
        return None


def _day(values: dict[str, Any]) -> date | None:
    for key, parse in (("entry_time", parse_datetime), ("sign_date", parse_date)):
        raw = values.get(key)
        if not raw:
            continue
        try:
            found = parse(str(raw))
        except DateValueError:
            continue
        return found.date() if isinstance(found, datetime) else found
    return None


def _maintenance(text: str) -> Literal["first", "periodic"] | None:
    for kind, words in MAINTENANCE_WORDS.items():
        if any(w in text for w in words):
            return kind
    return None


def order_of_record(stored: StoredRecord) -> RepairOrder:
    """The repair order one read 表格18 stands for."""
    summary = stored.summary
    values = {f["key"]: f.get("value") for f in stored.record["fields"]}
    rows = values.get("repair_items") if isinstance(values.get("repair_items"), list) else []
    work = " ".join(
        str(row.get(k) or "")
        for row in rows
        if isinstance(row, dict)
        for k in ("item", "material_name")
    ).strip()
    description = str(values.get("customer_description") or "")
    labor, material = _amount(values.get("labor_total")), _amount(values.get("material_total"))
    total = _amount(values.get("total_amount"))
    if total is None:
        total = (labor or Decimal("0")) + (material or Decimal("0"))
    kind = ORDER_KINDS.get(str(values.get("repair_category") or "").strip())
    return RepairOrder(
        record_id=summary.record_id,
        document_id=summary.document_id,
        station=summary.station,
        day=_day(values),
        kind=kind,
        maintenance=_maintenance(f"{work} {description}") if kind == "maintenance" else None,
        vin=str(values["vin"]) if values.get("vin") else None,
        vehicle_model=str(values["vehicle_model"]) if values.get("vehicle_model") else None,
        labor=labor or Decimal("0"),
        material=material or Decimal("0"),
        total=total,
        work=work,
        description=description,
        needs_review=summary.status == "needs_review",
    )


def repair_orders(store: Store, station: str | None = None) -> list[RepairOrder]:
    """Every read 维修委托书 (of one station, when given), one per printed document: a
    document read again (a second scan) counts once, as most recently read."""
    seen: set[str] = set()
    orders = []
    for summary in record_summaries(store, REPAIR_ORDER, station):  # newest first
        if summary.document_id in seen:
            continue
        stored = store.get_record(summary.record_id)
        if stored is None:
            continue
        if stored.damaged:  # its file cannot be read: left out, said in the log
            log.warning("记录 %s 无法读取,未计入:%s", summary.record_id, stored.damaged)
            continue
        seen.add(summary.document_id)
        orders.append(order_of_record(stored))
    return orders
