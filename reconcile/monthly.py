"""The monthly summary (月售后服务汇总表): a month's warranty repairs, paid repairs and
maintenance, claimed and returned parts, per station, vehicle model, part and fault
category — and from it the station's SH-ZH/BD-24 业务月报表, prefilled.

Warranty repairs are the claims repaired in the month; paid repairs and maintenance are
the read 维修委托书 (表格18) of the month (保修索赔 orders are claims already, so they count
as a visit, not again as money). Returned parts are counted as the reconciliation counts
them (reconcile/parts.py: one part, on a manifest and carrying a BD-27 and a BD-30 tag,
counts once), in the month of the claim they match, a part matching no claim in the
month of its manifest (or a loose tag's repair date; without a readable date, of its
upload).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from formdesk.model.claims import Claim, Station
from formdesk.model.monthly import (  # noqa: F401  (re-exported)
    CENT,
    MONTHLY_REPORT,
    Figures,
    Money,
    MonthlySummary,
    SummaryRow,
)
from formdesk.model.reconciliation import ReturnedItem
from formdesk.store import Store
from formdesk.templates import get_template
from formdesk.templates.values.money import amount_in_words
from formdesk.templates.values.normalize import normalize_record

from .engine import month_bounds
from .faults import FaultKeywords, load_fault_keywords
from .matching import norm
from .parts import month_parts
from .repair_orders import RepairOrder, repair_orders
from .sources import returned_items

NO_STATION = "未注明维修站"
NO_MODEL = "未填车型"
NO_PART = "未填零件编号"

# -- tallying --------------------------------------------------------------------------------


@dataclass
class _Tally:
    """Figures being added up; visits are sets so one vehicle's day counts once."""

    label: str = ""
    visits: set[tuple[str, date]] = field(default_factory=set)
    warranty_visits: set[tuple[str, date]] = field(default_factory=set)
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    money: dict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))

    def claim(self, c: Claim) -> None:
        visit = (norm(c.vin), c.repair_date)
        self.visits.add(visit)
        self.warranty_visits.add(visit)
        self.counts["warranty_claims"] += 1
        self.counts["claimed_qty"] += c.quantity
        self.money["warranty_labor"] += c.labor_fee
        self.money["warranty_material"] += c.material_fee

    def order(self, o: RepairOrder) -> None:
        if o.day is not None:  # always so: undated orders are never counted
            self.visits.add((norm(o.vin) or f"doc:{o.document_id}", o.day))
        if o.kind == "paid":
            self.counts["paid_repairs"] += 1
            self.money["paid_labor"] += o.labor
            self.money["paid_material"] += o.material
            self.money["paid_total"] += o.total
        elif o.kind == "maintenance":
            self.counts["maintenance"] += 1
            if o.maintenance:
                self.counts[f"maintenance_{o.maintenance}"] += 1
            self.money["maintenance_labor"] += o.labor
            self.money["maintenance_material"] += o.material
            self.money["maintenance_total"] += o.total

    def returned(self, quantity: int, claimed: bool) -> None:
        self.counts["returned_qty"] += quantity
        if not claimed:
            self.counts["returned_unclaimed_qty"] += quantity

    def figures(self) -> dict[str, Any]:
        return {
            "vehicles": len(self.visits),
            "warranty_visits": len(self.warranty_visits),
            **self.counts,
            **self.money,
        }


@dataclass
class _Slices:
    """The month's tallies: in all, and per station, model, part and category."""

    stations: dict[str, _Tally] = field(default_factory=lambda: defaultdict(_Tally))
    models: dict[str, _Tally] = field(default_factory=lambda: defaultdict(_Tally))
    parts: dict[str, _Tally] = field(default_factory=lambda: defaultdict(_Tally))
    categories: dict[str, _Tally] = field(default_factory=lambda: defaultdict(_Tally))
    total: _Tally = field(default_factory=_Tally)

    def at(
        self,
        station: str | None,
        model: str | None,
        part: tuple[str, str] | None,
        category: str | None,
    ) -> list[_Tally]:
        """The tallies one event adds to (part None: not about a part; category None: not
        about a fault, as maintenance)."""
        out = [self.total, self.stations[station or ""]]
        if category is not None:
            out.append(self.categories[category])
        model_key = norm(model).casefold()
        by_model = self.models[model_key]
        by_model.label = by_model.label or (str(model).strip() if model_key else NO_MODEL)
        out.append(by_model)
        if part is not None:
            part_no, part_name = part
            by_part = self.parts[norm(part_no)]
            by_part.label = by_part.label or part_name or ""
            out.append(by_part)
        return out


def _count_returned(
    slices: _Slices,
    claims: list[Claim],
    items: list[ReturnedItem],
    start: date,
    end: date,
    faults: FaultKeywords,
) -> None:
    """The month's returned parts (reconcile/parts.py: the reconciliation's own count),
    each under its claim's station, model, part and category, or its own when unclaimed."""
    parts = month_parts(claims, items, start, end)
    for part in parts.claimed:
        c = part.claim
        if c is None or not part.items:
            continue
        category = faults.category(c.part_name, c.fault_description)
        for t in slices.at(c.station, c.vehicle_model, (c.part_no, c.part_name), category):
            t.returned(part.quantity, claimed=True)
    for part in parts.unclaimed:
        first = (part.lines + part.tags)[0]
        names = (first.part_no or "", first.part_name or "")
        category = faults.category(first.part_name)
        for t in slices.at(first.station, first.vehicle_model, names, category):
            t.returned(part.quantity, claimed=False)


def _rows(tallies: dict[str, _Tally], labels: dict[str, str] | None = None) -> list[SummaryRow]:
    return [
        SummaryRow(key=key, label=(labels or {}).get(key) or t.label, **t.figures())
        for key, t in tallies.items()
    ]


def _busiest(rows: Iterable[SummaryRow]) -> list[SummaryRow]:
    return sorted(
        rows,
        key=lambda r: (-r.warranty_claims, -r.claimed_qty, -r.paid_repairs, -r.maintenance, r.key),
    )


def monthly_summary(
    store: Store, month: str, station: str | None = None, *, faults: FaultKeywords | None = None
) -> MonthlySummary:
    """The month from what the store holds, parts grouped by `faults` (default: the shipped
    keywords; an installation's own come through services.reconciliation). ValueError
    (Chinese) for a bad month, LookupError for an unknown station."""
    start, end = month_bounds(month)
    stations = {s.code: s for s in store.list_stations()}
    if station is not None and station not in stations:
        raise LookupError(f"维修站“{station}”未登记")
    faults = faults or load_fault_keywords()
    slices = _Slices()
    for code in [station] if station else stations:  # every station shows, idle ones too
        slices.stations[code].label = stations[code].name
    for category in faults.categories:
        slices.categories[category].label = category

    all_claims = store.list_claims(station=station)
    for c in all_claims:
        if start <= c.repair_date <= end:
            category = faults.category(c.part_name, c.fault_description)
            for t in slices.at(c.station, c.vehicle_model, (c.part_no, c.part_name), category):
                t.claim(c)
    _count_returned(slices, all_claims, returned_items(store, station), start, end, faults)

    to_check = undated = 0
    for o in repair_orders(store, station):
        if o.day is None:
            undated += 1
            continue
        if not start <= o.day <= end:
            continue
        to_check += int(o.needs_review)
        category = faults.category(o.work, o.description) if o.kind == "paid" else None
        for t in slices.at(o.station, o.vehicle_model, None, category):
            t.order(o)

    station_rows = sorted(_rows(slices.stations), key=lambda r: (r.key == "", r.key))
    for row in station_rows:
        known = stations.get(row.key)
        row.label = row.label or (known.name if known else row.key or NO_STATION)
    return MonthlySummary(
        month=f"{start:%Y-%m}",
        period_start=start,
        period_end=end,
        station=station,
        station_name=stations[station].name if station else None,
        totals=Figures(**slices.total.figures()),
        stations=station_rows,
        models=_busiest(_rows(slices.models)),
        parts=_busiest(_rows(slices.parts, {"": NO_PART})),
        categories=_rows(slices.categories),
        orders_to_check=to_check,
        orders_undated=undated,
    )


# -- SH-ZH/BD-24 业务月报表 ------------------------------------------------------------------


def _money(d: Decimal) -> str:
    return format(d.quantize(CENT), "f")


def bd24_values(
    summary: MonthlySummary,
    station: Station,
    fill_date: date,
    parts_sales_amount: Decimal | None = None,
) -> dict[str, Any]:
    """The values SH-ZH/BD-24 is prefilled with for one station, checked against the form.

    Only what the month's records give: 外出费, 其它收费 (unless the orders' totals exceed
    labour and material), 已兑换件, 投诉, 回访, 人员 and the signatures stay for a person
    to write. 首保/定保 are filled only when every maintenance order says which it was.
    营业总额 = 三包合计 + 收费合计 + 保养合计 + 配件销售额 (`parts_sales_amount`, when known).
    """
    if fill_date < summary.period_start:
        raise ValueError(f"填报日期 {fill_date} 不能早于报表月份 {summary.month}")
    row = summary.station_row(station.code)
    revenue = row.total + (parts_sales_amount or Decimal("0"))
    values: dict[str, Any] = {
        "station_name": station.name,
        "station_code": station.code,
        "report_month": summary.month,
        "fill_date": fill_date.isoformat(),
        "warranty_repair_count": row.warranty_visits,
        "warranty_labor_fee": _money(row.warranty_labor),
        "warranty_material_fee": _money(row.warranty_material),
        "warranty_total": _money(row.warranty_total),
        "paid_repair_count": row.paid_repairs,
        "paid_labor_fee": _money(row.paid_labor),
        "paid_material_fee": _money(row.paid_material),
        "paid_total": _money(row.paid_total),
        "maintenance_labor_fee": _money(row.maintenance_labor),
        "maintenance_material_fee": _money(row.maintenance_material),
        "maintenance_total": _money(row.maintenance_total),
        "parts_claimed_qty": row.claimed_qty,
        "parts_claimed_amount": _money(row.warranty_material),
        "parts_returned_qty": row.returned_qty,
        "vehicles_total": row.vehicles,
        "revenue_total": _money(revenue),
        "revenue_total_words": amount_in_words(revenue.quantize(CENT)),
    }
    other = row.paid_total - row.paid_labor - row.paid_material
    if other > 0:
        values["paid_other_fee"] = _money(other)
    if row.maintenance_first + row.maintenance_periodic == row.maintenance:
        values["first_maintenance_count"] = row.maintenance_first
        values["periodic_maintenance_count"] = row.maintenance_periodic
    if parts_sales_amount is not None:
        values["parts_sales_amount"] = _money(parts_sales_amount)
    return normalize_record(get_template(MONTHLY_REPORT), values)
