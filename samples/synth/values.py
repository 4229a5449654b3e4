"""Realistic random records for any template of the catalog, in canonical form."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import numpy as np

from formdesk.render.fill import NO_WRAP
from formdesk.render.fit import ValueDoesNotFitError, fit
from formdesk.templates.geometry import Rect
from formdesk.templates.layout import PT_MM, table_grid, value_rect
from formdesk.templates.schema import Column, FieldType, FormField, Template
from formdesk.templates.values.normalize import display, normalize, normalize_record

from . import vocab as V
from .hand import comfortable_fit, text_fits
from .vocab import chance, pick

Spec = FormField | Column
DATE_TYPES = (FieldType.date, FieldType.month, FieldType.datetime, FieldType.time)
TEXTUAL = (FieldType.text, FieldType.multiline, FieldType.signature, FieldType.money_words)


@dataclass
class Context:
    """What one filled-in form is about: its unit, its day, its vehicle, its people."""

    rng: np.random.Generator
    template: Template
    day: date
    org: str
    city: tuple
    people: dict[str, str] = field(default_factory=dict)
    vehicle: dict[str, Any] = field(default_factory=dict)

    def person(self, role: str) -> str:
        if role not in self.people:
            self.people[role] = V.person(self.rng)
        return self.people[role]


def _new_vehicle(ctx: Context) -> dict[str, Any]:
    rng = ctx.rng
    truck = ctx.template.series == "SH-ZH/BD"
    return {
        "model": V.vehicle_model(rng, 0.75 if truck else 0.15),
        "vin": V.vin(rng),
        "engine_no": V.engine_no(rng),
        "plate": V.plate(
            rng,
            ctx.city[1] if chance(rng, 0.8) else None,
            ctx.city[2] if chance(rng, 0.6) else None,
        ),
        "mileage": int(rng.integers(800, 320_000 if truck else 150_000)),
    }


def _role(key: str) -> str:
    if key == "customer_service_staff":
        return "advisor"
    for role in (
        "customer", "advisor", "technician", "inspector", "supervisor", "manager", "keeper",
        "borrower", "packer", "prepared", "reviewed", "filled", "assessor", "analyst",
        "mechanic", "repairer", "responsible", "foreman",
    ):  # fmt: skip
        if role in key:
            return role
    return key


# -- dates ------------------------------------------------------------------------------------
def _date_offset(key: str, rng) -> int:
    if "purchase" in key:
        return -int(rng.integers(45, 1100))
    if key.startswith(("original", "first_")) or "entry" in key or "period_start" in key:
        return -int(rng.integers(5, 60))
    if "period_from" in key:
        return -int(rng.integers(25, 35))
    if "valid_until" in key or "deadline" in key:
        return int(rng.integers(5, 40))
    if any(
        k in key
        for k in (
            "completion",
            "received",
            "sign",
            "recheck",
            "repeat",
            "period_end",
            "period_to",
            "inspection",
            "fill",
            "report",
            "analysis",
            "compiled",
        )
    ):
        return int(rng.integers(0, 6))
    return int(rng.integers(-4, 3))


def _clock(rng, lo: int = 8 * 60, hi: int = 17 * 60 + 30) -> time:
    m = int(rng.integers(lo, hi))
    m -= m % (5 if chance(rng, 0.8) else 1)
    return time(m // 60, m % 60)


def _later_time(key: str) -> bool:
    return any(
        k in key
        for k in (
            "delivery",
            "return",
            "completed",
            "completion",
            "release",
            "recheck",
            "dispatch",
            "confirm",
            "inspection",
        )
    )


def _date_value(spec: Spec, ctx: Context, anchor: date | None = None) -> str:
    rng, key, t = ctx.rng, spec.key, spec.type
    d = (anchor or ctx.day) + timedelta(days=_date_offset(key, rng))
    if t == FieldType.date:
        return d.isoformat()
    if t == FieldType.month:
        return (ctx.day - timedelta(days=int(rng.integers(3, 25)))).isoformat()[:7]
    if t == FieldType.time:
        lo = 10 * 60 if _later_time(key) else 8 * 60
        return _clock(rng, lo).isoformat(timespec="minutes")
    later = _later_time(key)
    clock = _clock(rng, 11 * 60 if later else 8 * 60, 18 * 60 if later else 12 * 60)
    day = anchor or ctx.day
    if later and chance(rng, 0.2):
        day += timedelta(days=1)
    return datetime.combine(day, clock).isoformat(sep=" ", timespec="minutes")


def _as_dt(t: FieldType, v: str) -> datetime:
    if t == FieldType.date:
        return datetime.fromisoformat(v)
    if t == FieldType.month:
        return datetime.fromisoformat(v + "-01")
    if t == FieldType.datetime:
        return datetime.fromisoformat(v)
    return datetime.combine(date(2000, 1, 1), time.fromisoformat(v))


def _from_dt(t: FieldType, d: datetime) -> str:
    if t == FieldType.date:
        return d.date().isoformat()
    if t == FieldType.month:
        return d.date().isoformat()[:7]
    if t == FieldType.datetime:
        return d.isoformat(sep=" ", timespec="minutes")
    return d.time().isoformat(timespec="minutes")


def _moved(t: FieldType, rule: str, bound: FieldType, b: datetime, rng, spread: int) -> datetime:
    """A value of type `t` just inside `bound`'s value `b` (up to `spread` - 1 days in):
    after it for `not_before`, before its end (a month's last day) for `not_after`."""
    if rule == "not_before":
        if t == FieldType.datetime:
            return b + timedelta(minutes=5 * int(rng.integers(2, 60)))
        if t == FieldType.month:
            return (b.replace(day=1) + timedelta(days=32)).replace(day=1)
        return b + timedelta(days=int(rng.integers(0, spread)))
    if bound == FieldType.month:
        b = (b.replace(day=1) + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    return b - timedelta(days=int(rng.integers(0, spread)))


def _shift_row(table: FormField, row: dict[str, Any], delta: timedelta) -> None:
    """Every date and date-time of a table row moved by `delta` (whole days for dates)."""
    for col in table.columns:
        if col.key in row and col.type in (FieldType.date, FieldType.datetime):
            step = delta if col.type == FieldType.datetime else timedelta(days=delta.days)
            row[col.key] = _from_dt(col.type, _as_dt(col.type, row[col.key]) + step)


def _enforce_checks(template: Template, raw: dict[str, Any], rng) -> None:
    """Moves dates forward (or back) until every not_before / not_after check holds, on
    plain fields and row by row (a monthly list's dates inside its month)."""
    for _ in range(8):
        changed = False
        for c in template.checks:
            if c.rule not in ("not_before", "not_after"):
                continue
            f, o = template.spec(c.field), template.spec(c.other or "")
            table, column = c.field.split(".", 1) if "." in c.field else (None, c.field)
            places = [raw] if table is None else raw.get(table) or []
            for place in places:
                bound = (
                    place.get(c.other.split(".", 1)[1])
                    if "." in (c.other or "")
                    else raw.get(c.other or "")
                )
                a = place.get(column)
                if a is None or bound is None or not c.broken(a, bound):
                    continue
                # a row's date stays near its period's bound: the period may be short
                spread = 8 if table is None else 3
                new = _moved(f.type, c.rule, o.type, _as_dt(o.type, bound), rng, spread)
                if table is not None and "." not in (c.other or ""):
                    # a row out of its period moves whole: its own order holds
                    _shift_row(template.field(table), place, new - _as_dt(f.type, a))
                else:
                    place[column] = _from_dt(f.type, new)
                changed = True
        if not changed:
            return


# -- numbers ----------------------------------------------------------------------------------
DECIMAL_RANGES: list[tuple[str, float, float]] = [
    ("compression", 0.95, 3.1),
    ("idle_oil_pressure", 0.1, 0.3),
    ("high_speed_oil_pressure", 0.3, 0.6),
    ("cylinder_bore", 76.0, 112.0),
    ("valve_clearance", 0.15, 0.45),
    ("clearance", 0.01, 0.12),
    ("end_play", 0.05, 0.3),
    ("roundness", 0.003, 0.05),
    ("cylindricity", 0.003, 0.05),
    ("flatness", 0.01, 0.08),
    ("rework_rate", 0.2, 6.0),
    ("repeat_repair_rate", 0.2, 6.0),
    ("rate", 82.0, 99.9),
    ("satisfaction", 85.0, 99.9),
    ("=work_hours", 180.0, 620.0),
    ("hours", 0.2, 4.0),
    ("quantity", 1.0, 6.0),
]
INT_RANGES: list[tuple[str, int, int]] = [
    ("interval_km", 300, 12000),
    ("road_test_km", 2, 30),
    ("idle_speed", 650, 900),
    ("assessment_year", 2024, 2026),
    ("box_count", 1, 6),
    ("quantity", 1, 4),
    ("local_stations", 1, 12),
    ("complaint", 0, 9),
    ("rework", 0, 8),
    ("repeat", 0, 9),
    ("road", 0, 30),
    ("accident", 2, 40),
    ("booked_count", 0, 10),
    ("staff", 8, 90),
    ("technician", 5, 50),
    ("training", 5, 60),
    ("visits", 10, 150),
    ("jobs_count", 80, 400),
    ("quality_fault", 1, 30),
    ("fault_cases", 5, 80),
    ("qty", 2, 120),
    ("first_pass", 40, 180),
    ("inspected", 40, 200),
]


def _range_for(key: str, table: list, lo: float, hi: float):
    for frag, a, b in table:
        if (frag[1:] == key) if frag.startswith("=") else (frag in key):
            return a, b
    return lo, hi


def _integer(spec: Spec, ctx: Context) -> int:
    c, key, rng = spec.constraints, spec.key, ctx.rng
    if "mileage" in key:
        return int(ctx.vehicle.get("mileage") or rng.integers(800, 200_000))
    lo, hi = _range_for(key, INT_RANGES, 20, 600)
    lo = max(lo, c.min if c.min is not None else lo)
    hi = min(hi, c.max if c.max is not None else hi)
    return int(rng.integers(int(lo), int(max(lo, hi)) + 1))


def _decimal(spec: Spec, ctx: Context) -> str:
    c, key, rng = spec.constraints, spec.key, ctx.rng
    places = c.decimals if c.decimals is not None else 2
    if key.endswith("_score") and c.max:
        lo, hi = c.max * 0.6, c.max
    else:
        lo, hi = _range_for(key, DECIMAL_RANGES, 0.0, 100.0)
    lo = max(lo, c.min if c.min is not None else lo)
    hi = min(hi, c.max if c.max is not None else hi)
    v = float(rng.uniform(lo, max(lo, hi)))
    if key.endswith("_score") or "hours" in key:
        v = round(v * 2) / 2
    return f"{v:.{places}f}"


def _money(spec: Spec, ctx: Context) -> str:
    rng, key = ctx.rng, spec.key
    if any(
        k in key
        for k in (
            "income",
            "revenue",
            "stock",
            "sales",
            "paid_",
            "warranty_",
            "maintenance_",
            "claim",
        )
    ):
        v = float(rng.uniform(2_000, 180_000))
    elif "total" in key or key in ("estimated_cost", "original_estimate", "revised_estimate"):
        v = float(rng.uniform(200, 9_000))
    else:
        v = float(rng.uniform(20, 1_800))
    r = float(rng.random())
    if r < 0.55:
        v = round(v / 10) * 10
    elif r < 0.8:
        v = round(v * 2) / 2
    return f"{v:.2f}"


# -- text -------------------------------------------------------------------------------------

# Fields whose value is simply drawn from one of the word lists in vocab.py
PICKED: dict[str, list[str]] = {
    "tool_name": V.TOOLS,
    "purpose": V.PURPOSES,
    "engine_model": V.ENGINE_MODELS,
    "body_color": V.COLORS,
    "quality_warranty_period": V.WARRANTY_PERIODS,
    "service_policy": V.POLICIES,
    "market_feedback": V.MARKET,
    "team": V.TEAMS,
    "original_team": V.TEAMS,
    "responsible_team": V.TEAMS,
    "trade": V.TRADES,
    "skill_level": V.SKILLS,
    "work_bay": V.WORK_BAYS,
    "cause_category": V.CAUSE_CATS,
    "responsibility": V.RESPONSIBILITIES,
}


def _text(spec: Spec, ctx: Context, in_table: bool, attempt: int = 0) -> str:
    rng, key, label = ctx.rng, spec.key, spec.label
    veh = ctx.vehicle
    c = spec.constraints
    if c.pattern:
        alts = re.fullmatch(r"\[?([^\]]*)\]?", c.pattern)
        if "|" in c.pattern and re.fullmatch(r"[\u4e00-\u9fff|]+", c.pattern):
            return pick(rng, c.pattern.split("|"))
        if re.fullmatch(r"\[[\u4e00-\u9fff]+\]", c.pattern) and alts:
            return pick(rng, list(alts.group(1)))
    if key in ("station_name", "service_station", "unit_name", "sender_unit"):
        return ctx.org
    if key == "dealer_name":
        return ctx.org
    if key == "company_name":
        return pick(rng, V.RIVAL_BRANDS) if in_table else pick(rng, V.MAKERS)
    if key in ("customer_name",):
        return V.customer(rng) if in_table else ctx.person("customer")
    if key == "station_address":
        return V.address(rng, ctx.city[0])
    if key == "customer_address":
        return V.address(rng, ctx.city[0] if chance(rng, 0.8) else None)
    if key == "vehicle_model":
        return (attempt < 2 and veh.get("model")) or V.vehicle_model(rng)
    if key == "main_models":
        return "、".join(
            pick(rng, ["J6P", "J7", "T7H", "X3000", "H5", "GTL", "K7"]) for _ in range(2)
        )
    if key == "product_name":
        return pick(rng, V.PRODUCTS)
    if key in ("part_name", "fault_part_name"):
        return pick(rng, V.PARTS)
    if key in ("part_no", "fault_part_no"):
        return V.part_no(rng)
    if key == "part_supplier":
        return pick(rng, V.SUPPLIERS)
    if key in ("claim_no",):
        if attempt < 3:
            return f"SP{ctx.day:%Y%m}{int(rng.integers(1, 9999)):04d}"
        return f"SP{ctx.day:%y%m}{int(rng.integers(1, 999)):03d}"
    if key == "manifest_no":
        return f"FC-{ctx.day:%Y-%m}-{int(rng.integers(1, 20)):02d}"
    if key == "feedback_no":
        return f"FK{ctx.day:%Y}-{int(rng.integers(1, 999)):03d}"
    if key == "station_code":
        return f"{pick(rng, ['HN', 'HB', 'HA', 'JX', 'SC'])}{int(rng.integers(100, 9999)):04d}"
    if key == "record_no":
        return f"FDJ-{ctx.day:%Y}-{int(rng.integers(1, 200)):03d}"
    if key in ("quotation_no",):
        return V.order_no(rng, "BJ", ctx.day)
    if key in ("rework_order_no",):
        return V.order_no(rng, "FX", ctx.day)
    if key in ("repair_order_no",):
        return V.order_no(rng, "BP" if ctx.template.code == "表格16" else "WX", ctx.day)
    if "order_no" in key:
        return V.order_no(rng, "WX", ctx.day)
    if key == "tool_no":
        return f"{pick(rng, ['GJ', 'T', 'ZY'])}-{int(rng.integers(1, 300)):03d}"
    if key in PICKED:  # a field whose value is one of a word list
        return pick(rng, PICKED[key])
    if key == "repair_area":
        n = 1 if chance(rng, 0.6) else 2
        return "、".join(rng.choice(V.AREAS, n, replace=False).tolist())
    if key in ("belongings", "items_in_car"):
        n = int(rng.integers(1, 5))
        return "、".join(rng.choice(V.BELONGINGS, n, replace=False).tolist())
    if key == "exterior_check":
        return ",".join(rng.choice(V.EXTERIOR, int(rng.integers(1, 3)), replace=False).tolist())
    if key.startswith("slot_"):
        r = float(rng.random())
        if r < 0.75:
            return V.plate(rng, ctx.city[1], ctx.city[2])
        return pick(rng, ["休息", "培训", "外出", "保养", "试车"])
    if key == "customer_feedback" and in_table:
        return pick(rng, V.FEEDBACK)
    if key in ("remarks",) and in_table:
        return pick(rng, V.REMARKS)
    if key in (
        "job_description",
        "item",
        "service_items",
        "repair_items",
        "first_repair_items",
        "original_repair_items",
        "item_description",
    ):
        if spec.type == FieldType.multiline:
            return "、".join(rng.choice(V.JOBS, int(rng.integers(2, 5)), replace=False).tolist())
        return pick(rng, V.JOBS)
    if key == "item_name":
        return pick(rng, V.JOBS + V.PARTS)
    if key == "material_name":
        return pick(rng, V.MATERIALS)
    if (
        key
        in (
            "fault_description",
            "fault_symptom",
            "rework_reason",
            "problem",
            "nonconformity",
            "preliminary_finding",
            "inspection_result",
        )
        and spec.type == FieldType.text
    ):
        return V.fault(rng)
    if key in ("cause_analysis",) and spec.type == FieldType.text:
        return pick(rng, V.CAUSE_CLAUSES)[:10]
    if key in (
        "handling_result",
        "handling_measures",
        "corrective_action",
        "rework_status",
        "reason",
    ):
        return pick(rng, V.HANDLING_CLAUSES)[:10]
    if spec.type == FieldType.multiline:
        return _paragraph(key, label, ctx)
    if key in PERSON_KEYS:
        return ctx.person(_role(key)) if not in_table else V.person(rng)
    return V.fault(rng)


PERSON_KEYS = frozenset(
    {
        "found_by", "compiled_by", "tool_keeper", "qc_inspector", "customer_service_staff",
        "staff_name", "technician_name", "original_inspector", "responsible_person",
        "action_owner", "rework_technician", "proposed_by", "original_technician",
        "panel_technician", "paint_technician", "technician", "service_advisor",
    }
)  # fmt: skip


def _paragraph(key: str, label: str, ctx: Context) -> str:
    rng = ctx.rng
    if any(
        k in key
        for k in (
            "symptom",
            "complaint",
            "request",
            "description",
            "defect",
            "fault",
            "main_problems",
        )
    ):
        return V.clauses(rng, V.SYMPTOM_CLAUSES, 1, 3)
    if any(k in key for k in ("cause", "analysis", "findings")):
        return V.clauses(rng, V.CAUSE_CLAUSES, 1, 3)
    if any(k in key for k in ("handling", "rework", "corrective", "replaced")):
        if "replaced" in key:
            return "、".join(rng.choice(V.PARTS, int(rng.integers(2, 5)), replace=False).tolist())
        return V.clauses(rng, V.HANDLING_CLAUSES, 1, 3)
    if any(k in key for k in ("measure", "improvement", "suggestion")):
        return V.clauses(rng, V.MEASURE_CLAUSES, 1, 3)
    if "opinion" in key or "feedback" in key:
        return V.clauses(rng, V.OPINION_CLAUSES, 1, 2)
    if "summary" in key:
        return V.clauses(rng, V.SUMMARY_CLAUSES, 2, 4)
    if "problem" in key or "remarks" in key:
        return V.clauses(rng, V.PROBLEM_CLAUSES, 1, 2)
    return V.clauses(rng, V.OPINION_CLAUSES + V.HANDLING_CLAUSES, 1, 2)


def _shorten(text: str) -> str:
    """One step shorter: drop the last clause, else the last character."""
    text = text.rstrip("。")
    for sep in (",", "、", ";"):
        if sep in text:
            return text.rsplit(sep, 1)[0]
    return text[:-1]


# -- fit --------------------------------------------------------------------------------------
def _printed_fits(spec: Spec, r: Rect, text: str) -> bool:
    t = spec.type
    max_size = min(10.0 if t == FieldType.multiline else 11.0, 0.62 * r.h / PT_MM)
    try:
        fit(
            text,
            r.w - 2.0,
            r.h - 0.6,
            max_size,
            may_wrap=t not in NO_WRAP,
            shrink_first=t != FieldType.multiline,
        )
    except ValueDoesNotFitError:
        return False
    return True


def fits(spec: Spec, r: Rect, value: Any, comfortable: bool = False) -> bool:
    """Whether `value` (canonical) fits the writing area `r` both printed and handwritten."""
    t = spec.type
    if t in DATE_TYPES or t in (
        FieldType.choice,
        FieldType.circle_choice,
        FieldType.checkbox,
        FieldType.seal,
    ):
        return True
    text = display(spec, value)
    if t == FieldType.signature:
        return text_fits(text, r, False) and _printed_fits(spec, r, text)
    if not _printed_fits(spec, r, text):
        return False
    wrap = t not in NO_WRAP and t != FieldType.signature
    ml = t == FieldType.multiline
    if comfortable:
        return comfortable_fit(text, r, wrap, ml)
    return text_fits(text, r, wrap, ml)


def _code(spec: Spec, ctx: Context, attempt: int) -> str:
    """Identifiers: the form's own vehicle first, then fresh ones (shorter ones fit better)."""
    rng, t, veh = ctx.rng, spec.type, ctx.vehicle
    if t == FieldType.vin:
        return veh.get("vin") or V.vin(rng)
    if t == FieldType.engine_no:
        return (attempt == 0 and veh.get("engine_no")) or V.engine_no(rng)
    if t == FieldType.plate:
        return (attempt == 0 and veh.get("plate")) or V.plate(rng, ctx.city[1])
    key = spec.key
    if any(k in key for k in ("station", "booking", "rescue")):
        if "rescue" in key and chance(rng, 0.4):
            return f"400-{int(rng.integers(100, 999))}-{int(rng.integers(1000, 9999))}"
        return V.phone(rng, ctx.city[3])
    return V.phone(rng, ctx.city[3] if chance(rng, 0.2) else None)


def _scalar(spec: Spec, ctx: Context, r: Rect, in_table: bool) -> Any:
    rng, t = ctx.rng, spec.type
    if t == FieldType.integer:
        return _integer(spec, ctx)
    if t == FieldType.decimal:
        return _decimal(spec, ctx)
    if t == FieldType.money:
        return _money(spec, ctx)
    if t in DATE_TYPES:
        return _date_value(spec, ctx)
    if t in (FieldType.choice, FieldType.circle_choice):
        opts = spec.options
        if opts[0] in ("合格", "正常", "无", "正确", "合格可交车") and chance(rng, 0.65):
            return opts[0]
        return pick(rng, opts)
    if t == FieldType.checkbox:
        return chance(rng, 0.7)
    if t == FieldType.seal:
        return ctx.org
    if t == FieldType.signature:
        return ctx.person(_role(spec.key)) if not in_table else V.person(rng)
    # text and codes: a value that fits comfortably, or (now and then) one squeezed in
    candidates = []
    for attempt in range(12):
        if t in (FieldType.vin, FieldType.engine_no, FieldType.plate, FieldType.phone):
            text = _code(spec, ctx, attempt)
        else:
            text = _text(spec, ctx, in_table, attempt)
        try:
            text = normalize(spec, text)
        except ValueError:
            continue
        if fits(spec, r, text, comfortable=True):
            return text
        if (attempt >= 6 or rng.random() < 0.35) and fits(spec, r, text):
            return text
        candidates.append(text)
    for text in sorted(candidates, key=len):
        if fits(spec, r, text):
            return text
    text = min(candidates, key=len) if candidates else V.fault(rng)
    while len(text) > 2 and not fits(spec, r, text) and spec.type in TEXTUAL:
        text = _shorten(text)
    return text


# -- sums -------------------------------------------------------------------------------------
SUMS: list[tuple[str, tuple[str, ...]]] = [
    ("total_fee", ("labor_fee", "material_fee")),
    ("total_amount", ("labor_amount", "parts_amount")),
    ("total_amount", ("labor_total", "material_total")),
    ("total_income", ("labor_income", "parts_income")),
    ("warranty_total", ("warranty_labor_fee", "warranty_material_fee", "warranty_travel_fee")),
    ("paid_total", ("paid_labor_fee", "paid_material_fee", "paid_other_fee")),
    ("maintenance_total", ("maintenance_labor_fee", "maintenance_material_fee")),
    ("revenue_total", ("warranty_total", "paid_total", "maintenance_total")),
    ("subtotal", ("labor_fee", "parts_fee")),
    ("total_score", ("quality_score", "efficiency_score", "satisfaction_score", "discipline_score", "five_s_score")),
]  # fmt: skip
ROW_TOTALS = {
    "labor_total": "labor_fee",
    "material_total": "material_fee",
    "total_quantity": "quantity",
    "estimated_cost": "estimated_amount",
}


def _apply_sums(values: dict[str, Any], keys: set[str]) -> None:
    for target, parts in SUMS:
        if target in keys and target in values and all(p in keys for p in parts):
            present = [values[p] for p in parts if p in values]
            if present and isinstance(values[target], str):
                total = sum(Decimal(str(v)) for v in present)
                places = len(values[target].split(".")[1]) if "." in values[target] else 0
                values[target] = f"{total:.{places}f}"
    if "grade" in keys and "total_score" in values:
        s = float(values["total_score"])
        values["grade"] = "优" if s >= 90 else "良" if s >= 80 else "中" if s >= 70 else "差"


def _consistent(template: Template, raw: dict[str, Any]) -> None:
    """A passed inspection has no defects to describe."""
    if raw.get("inspection_result") == "合格":
        for key in ("defects_and_handling", "rework_order_no"):
            raw.pop(key, None)
    passed = {"nonconformity": "无", "rework_status": "无需返工", "final_result": "合格"}
    for table in template.table_fields:
        cols = {c.key for c in table.columns}
        for row in raw.get(table.key) or []:
            if row.get("inspection_result") == "合格":
                row.update({k: v for k, v in passed.items() if k in cols})


def _row(table: FormField, cells: list[Rect], ctx: Context) -> dict[str, Any]:
    ctx.vehicle = _new_vehicle(ctx)
    anchor = ctx.day - timedelta(days=int(ctx.rng.integers(0, 25)))
    row: dict[str, Any] = {}
    for col, cell in zip(table.columns, cells, strict=True):
        if col.type == FieldType.serial:
            continue
        if col.type in DATE_TYPES:
            row[col.key] = _date_value(col, ctx, anchor)
        else:
            row[col.key] = _scalar(col, ctx, cell, in_table=True)
        if col.type in (FieldType.decimal, FieldType.money, FieldType.integer) and not fits(
            col, cell, row[col.key]
        ):
            row[col.key] = normalize(col, "1")
    if "quantity" in row and "unit_price" in row and "amount" in row:
        row["amount"] = f"{Decimal(str(row['quantity'])) * Decimal(row['unit_price']):.2f}"
    _apply_sums(row, {c.key for c in table.columns})
    return row


def make_values(
    template: Template,
    rng: np.random.Generator,
    p_empty: float = 0.1,
    day: date | None = None,
) -> dict[str, Any]:
    """Random values for every field of `template`, canonical (as normalize_record returns).

    Non-required fields are left out with probability `p_empty`; checkboxes are always
    True or False (an unticked box is a False, not a blank); money_words are derived.
    """
    if day is None:
        day = date(2024, 1, 1) + timedelta(days=int(rng.integers(0, 900)))
    c = V.city(rng)
    org = V.station_name(rng, c[0], dealer=template.series == "表格" and chance(rng, 0.5))
    ctx = Context(rng, template, day, org, c)
    ctx.vehicle = _new_vehicle(ctx)
    raw: dict[str, Any] = {}
    for f in template.fields:
        if f.type == FieldType.money_words:
            continue
        if f.type == FieldType.table:
            grid = table_grid(template, f)
            n = int(rng.integers(2, min(6, len(grid.rows)) + 1))
            vehicle = ctx.vehicle
            raw[f.key] = [_row(f, grid.rows[i], ctx) for i in range(n)]
            ctx.vehicle = vehicle
            continue
        if not f.required and f.type != FieldType.checkbox and rng.random() < p_empty:
            continue
        raw[f.key] = _scalar(f, ctx, value_rect(template, f), in_table=False)
    keys = {f.key for f in template.fields}
    for f in template.table_fields:
        rows = raw.get(f.key) or []
        for target, col in ROW_TOTALS.items():
            if target in keys and target in raw and rows and all(col in r for r in rows):
                total = sum(Decimal(str(r[col])) for r in rows)
                raw[target] = f"{total:.2f}" if isinstance(raw[target], str) else int(total)
    _apply_sums(raw, keys)
    _consistent(template, raw)
    _enforce_checks(template, raw, rng)
    for f in template.fields:  # sums may have grown a figure past its box
        numeric = f.type in (FieldType.money, FieldType.decimal, FieldType.integer)
        if numeric and f.key in raw and not fits(f, value_rect(template, f), raw[f.key]):
            raw[f.key] = _scalar(f, ctx, value_rect(template, f), in_table=False)
    return normalize_record(template, raw)
