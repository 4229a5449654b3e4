"""A month of warranty returns for the reconciliation bench and tests: stations, claims,
returned-part manifests (SH-ZH/BD-31) and part tags (SH-ZH/BD-30 or -27), with known
differences injected, every kind the reconciliation reports.

`plan_month` decides the paperwork (values only); `scan_month` writes the filled-in
forms as scanned JPEGs (tags four to a gang sheet, manifests page by page).
"""

from __future__ import annotations

import calendar
import itertools
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np

from formdesk.reconcile.rules import WarrantyRules, add_months, load_rules
from formdesk.templates import get_template

from . import vocab
from .pages import document_id_for

MANIFEST, FAULT_TAG, PART_TAG = "SH-ZH/BD-31", "SH-ZH/BD-30", "SH-ZH/BD-27"
INJECTIONS = (
    "missing",
    "unexpected",
    "quantity",
    "mismatch:vin",
    "mismatch:engine_no",
    "mismatch:vehicle_model",
    "mismatch:mileage_km",
    "duplicate_claim",
    "duplicate_return",
    "outside_warranty",
)


@dataclass
class PlannedDoc:
    template: str
    document_id: str
    station: str
    values: dict[str, Any]


@dataclass
class Injected:
    """A difference put in on purpose: what the reconciliation must report."""

    injection: str  # one of INJECTIONS
    station: str
    kind: str  # the OutcomeKind it must be reported as
    field: str | None
    claim_no: str | None  # the claim it is about (None for an unexpected part)
    documents: tuple[str, ...] = ()  # the documents that show it (unexpected parts)


@dataclass
class MonthPlan:
    month: str
    stations: list[tuple[str, str]]  # (code, name)
    claims: list[dict[str, Any]]  # Claim fields
    docs: list[PlannedDoc] = field(default_factory=list)
    injected: list[Injected] = field(default_factory=list)


def _claim_no(rng, station_ix: int, taken: set[str]) -> str:
    while True:
        no = f"SP{station_ix:02d}{int(rng.integers(10000, 99999))}"
        if no not in taken:
            taken.add(no)
            return no


def _new_claim(rng, code: str, ix: int, first: date, last: date, rules: WarrantyRules, taken):
    model = vocab.vehicle_model(rng)
    term = rules.term_for(model)
    repair = first + timedelta(days=int(rng.integers(0, (last - first).days + 1)))
    earliest = add_months(repair, -term.months) + timedelta(days=20)
    purchase = earliest + timedelta(
        days=int(rng.integers(0, max(1, (repair - earliest).days - 10)))
    )
    return {
        "claim_no": _claim_no(rng, ix, taken),
        "station": code,
        "vin": vocab.vin(rng),
        "engine_no": vocab.engine_no(rng),
        "vehicle_model": model,
        "part_no": vocab.part_no(rng),
        "part_name": vocab.pick(rng, vocab.PARTS),
        "quantity": 2 if vocab.chance(rng, 0.12) else 1,
        "purchase_date": purchase.isoformat(),
        "repair_date": repair.isoformat(),
        "mileage_km": int(rng.integers(300, int(term.km * 0.9))),
        "fault_description": vocab.fault(rng),
        "labor_fee": str(
            Decimal(int(rng.integers(40, 800))) + Decimal("0.50") * int(rng.integers(0, 2))
        ),
        "material_fee": str(Decimal(int(rng.integers(20, 3000)))),
    }


def _tag_values(template: str, claim: dict[str, Any], station_name: str, rng) -> dict[str, Any]:
    common = {
        "vehicle_model": claim["vehicle_model"],
        "purchase_date": claim["purchase_date"],
        "vin": claim["vin"],
        "engine_no": claim["engine_no"],
        "mileage_km": claim["mileage_km"],
        "part_no": claim["part_no"],
        "part_name": claim["part_name"],
        "repair_date": claim["repair_date"],
    }
    if template == FAULT_TAG:
        return {
            **common,
            "claim_no": claim["claim_no"],
            "service_station": station_name,
            "fault_description": claim["fault_description"],
            "repairer": vocab.person(rng),
        }
    return {**common, "sender_unit": station_name, "part_origin": "国产零部件"}


def _row(claim: dict[str, Any], quantity: int | None = None) -> dict[str, Any]:
    return {
        "claim_no": claim["claim_no"],
        "vin": claim["vin"],
        "engine_no": claim["engine_no"],
        "part_no": claim["part_no"],
        "part_name": claim["part_name"],
        "quantity": quantity or claim["quantity"],
        "fault_description": claim["fault_description"],
    }


def plan_month(
    seed: int, stations: int = 20, claims: int = 2000, month: str = "2026-11", per_station: int = 5
) -> MonthPlan:
    """`per_station` differences injected into each station, the kinds taken in turn."""
    rng = np.random.default_rng(seed)
    rules = load_rules()
    year, mon = (int(p) for p in month.split("-"))
    first, last = date(year, mon, 1), date(year, mon, calendar.monthrange(year, mon)[1])
    plan = MonthPlan(month=month, stations=[], claims=[])
    taken: set[str] = set()
    kinds = itertools.cycle(INJECTIONS)
    per = claims // stations
    names: set[str] = set()
    for ix in range(1, stations + 1):
        code = f"ST{ix:02d}"
        name = vocab.station_name(rng)
        while name in names:
            name = vocab.station_name(rng)
        names.add(name)
        plan.stations.append((code, name))
        tag_template = PART_TAG if ix % 4 == 0 else FAULT_TAG
        mine = [_new_claim(rng, code, ix, first, last, rules, taken) for _ in range(per)]
        rows: dict[str, dict[str, Any]] = {c["claim_no"]: _row(c) for c in mine}
        tags: dict[str, list[dict[str, Any]]] = {
            c["claim_no"]: [_tag_values(tag_template, c, name, rng) for _ in range(c["quantity"])]
            for c in mine
        }
        extra_rows: list[tuple[int, dict[str, Any]]] = []  # (manifest 0/1, row)
        singles = [c for c in mine if c["quantity"] == 1]
        chosen = rng.choice(len(singles), per_station, replace=False)
        for c_ix in chosen:
            claim, kind = singles[int(c_ix)], next(kinds)
            no = claim["claim_no"]
            outcome = kind.split(":")[0].replace("_claim", "").replace("_return", "")
            inj = Injected(kind, code, outcome, None, no)
            if kind == "missing":
                rows.pop(no)
                tags.pop(no)
            elif kind == "unexpected":
                stray = _new_claim(rng, code, ix, first, last, rules, taken)
                stray["quantity"] = 1
                extra_rows.append((0 if stray["repair_date"] < f"{month}-16" else 1, _row(stray)))
                tags[stray["claim_no"]] = [_tag_values(tag_template, stray, name, rng)]
                inj.claim_no = stray["claim_no"] if tag_template == FAULT_TAG else None
                inj.documents = (stray["claim_no"],)  # resolved to document ids below
                plan.injected.append(inj)
                inj = None
            elif kind == "quantity":
                claim["quantity"] = 2
                tags[no] = tags[no][:1]
                rows[no]["quantity"] = 1
            elif kind.startswith("mismatch:"):
                f = kind.split(":")[1]
                inj.field = f
                wrong = {
                    "vin": vocab.vin(rng),
                    "engine_no": vocab.engine_no(rng),
                    "vehicle_model": _other_model(rng, claim["vehicle_model"], rules),
                    "mileage_km": claim["mileage_km"] + int(rng.integers(1000, 9000)),
                }[f]
                tags[no][0][f] = wrong
            elif kind == "duplicate_claim":
                again = dict(claim)
                again["claim_no"] = _claim_no(rng, ix, taken)
                day = date.fromisoformat(claim["repair_date"])
                later = min(last, day + timedelta(days=int(rng.integers(1, 15))))
                again["repair_date"] = later.isoformat()
                mine.append(again)
                inj.claim_no = again["claim_no"]
            elif kind == "duplicate_return":
                extra_rows.append((1 if claim["repair_date"] < f"{month}-16" else 0, _row(claim)))
            elif kind == "outside_warranty":
                term = rules.term_for(claim["vehicle_model"])
                repair = date.fromisoformat(claim["repair_date"])
                claim["purchase_date"] = add_months(
                    repair, -(term.months + int(rng.integers(2, 12)))
                ).isoformat()
                for t in tags[no]:
                    t["purchase_date"] = claim["purchase_date"]
            if inj is not None:
                plan.injected.append(inj)
        plan.claims += mine
        _paperwork(plan, code, name, tag_template, mine, rows, tags, extra_rows, month, rng)
    return plan


def _other_model(rng, model: str, rules: WarrantyRules) -> str:
    """Another model under the same warranty term (so only the model differs)."""

    def term(m: str) -> tuple[int, int]:
        t = rules.term_for(m)
        return t.months, t.km

    pool = [
        m for m in vocab.TRUCK_MODELS + vocab.CAR_MODELS if m != model and term(m) == term(model)
    ]
    return vocab.pick(rng, pool)


def _paperwork(plan, code, name, tag_template, claims, rows, tags, extra_rows, month, rng) -> None:
    """Two manifests (parts repaired in the first and the second half of the month) and the
    tags, with document ids as the renderer gives them."""
    year, mon = (int(p) for p in month.split("-"))
    halves: list[list[dict[str, Any]]] = [[], []]
    for c in sorted(claims, key=lambda c: c["repair_date"]):
        if c["claim_no"] in rows:
            halves[0 if c["repair_date"] < f"{month}-16" else 1].append(rows[c["claim_no"]])
    for half, row in extra_rows:
        halves[half].append(row)
    nxt = date(year + mon // 12, mon % 12 + 1, 1)
    dates = [date(year, mon, 17), nxt + timedelta(days=1)]
    stray_docs: dict[str, list[str]] = {}
    for half, (lines, day) in enumerate(zip(halves, dates, strict=True)):
        if not lines:
            continue
        doc_id = document_id_for(rng, day)
        values = {
            "unit_name": name,
            "manifest_no": f"FC{day:%y%m%d}{code[-2:]}{half + 1}",
            "manifest_date": day.isoformat(),
            "packer": vocab.person(rng),
            "box_count": max(1, len(lines) // 12),
            "total_quantity": sum(r["quantity"] for r in lines),
            "prepared_by": vocab.person(rng),
            "supervising_manager": vocab.person(rng),
            "unit_seal": name,
            "returned_parts": lines,
        }
        plan.docs.append(PlannedDoc(MANIFEST, doc_id, code, values))
        for r in lines:
            stray_docs.setdefault(r["claim_no"], []).append(doc_id)
    for no, tag_list in tags.items():
        for values in tag_list:
            doc_id = document_id_for(rng, date.fromisoformat(values["repair_date"]))
            plan.docs.append(PlannedDoc(tag_template, doc_id, code, values))
            stray_docs.setdefault(no, []).append(doc_id)
    for inj in plan.injected:
        if inj.station == code and inj.kind == "unexpected" and inj.documents:
            inj.documents = tuple(d for key in inj.documents for d in stray_docs.get(key, []))


def claims_csv(plan: MonthPlan) -> bytes:
    """The month's claims as a warranty system exports them: CSV, Chinese headers, GBK."""
    import csv
    import io

    names = dict(plan.stations)
    header = {
        "claim_no": "索赔单号",
        "station": "维修站",
        "vin": "车架号",
        "engine_no": "发动机号",
        "vehicle_model": "车型",
        "part_no": "零件编号",
        "part_name": "零件名称",
        "quantity": "数量",
        "purchase_date": "购买日期",
        "repair_date": "维修日期",
        "mileage_km": "行驶里程",
        "fault_description": "故障描述",
        "labor_fee": "工时费",
        "material_fee": "材料费",
    }
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(header.values())
    for c in plan.claims:
        w.writerow([names[c[k]] if k == "station" else c[k] for k in header])
    return buf.getvalue().encode("gb18030")


def scan_month(plan: MonthPlan, out: Path, key: bytes, seed: int, workers: int = 2) -> list[Path]:
    """Writes every manifest page and tag gang sheet as a scanned JPEG; returns the files."""
    from concurrent.futures import ProcessPoolExecutor

    jobs: list[tuple[str, list[PlannedDoc], int]] = []
    for d in plan.docs:
        if d.template == MANIFEST:
            from .pages import _page_count

            pages = _page_count(get_template(MANIFEST), d.values)
            jobs += [(MANIFEST, [d], p) for p in range(1, pages + 1)]
    for template in (FAULT_TAG, PART_TAG):
        by_station: dict[str, list[PlannedDoc]] = {}
        for d in plan.docs:
            if d.template == template:
                by_station.setdefault(d.station, []).append(d)
        for docs in by_station.values():
            jobs += [(template, docs[i : i + 4], 1) for i in range(0, len(docs), 4)]
    out.mkdir(parents=True, exist_ok=True)
    args = [(i, j, out, key, seed) for i, j in enumerate(jobs)]
    with ProcessPoolExecutor(workers) as pool:
        return list(pool.map(_scan_job, args, chunksize=4))


def _scan_job(arg) -> Path:
    from .effects import scan_effects
    from .generate import encode_jpeg
    from .pages import gang_sheet, handwritten_page

    i, (template_code, docs, page), out, key, seed = arg
    rng = np.random.default_rng([seed, i])
    template = get_template(template_code)
    if template_code == MANIFEST:
        d = docs[0]
        img, _ = handwritten_page(template, d.values, rng, key, d.document_id, page=page)
    else:
        img, _ = gang_sheet(
            template, [d.values for d in docs], rng, key, [d.document_id for d in docs]
        )
    img = scan_effects(img, rng, jpeg_quality=0)
    path = out / f"{i:05d}.jpg"
    path.write_bytes(encode_jpeg(img, int(rng.integers(75, 91)), None))
    return path
