"""Reconciling a station's month: every claim and every returned part gets its outcomes.

Claims of the month are those repaired in it. A returned part is judged with the claim it
matches, whenever it came back (parts repaired late in a month travel on the next
month's first manifest); a part matching no claim is reported in the month of its
manifest (or, for a loose tag, of the repair date written on it) — and when no such date
could be read, in the month its scan was uploaded (Beijing time), flagged 日期未识别: never
in every month (issue 10, point 6).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from formdesk.model.claims import Claim, Station
from formdesk.model.reconciliation import COMPARED_FIELDS, Outcome, Reconciliation, ReturnedItem
from formdesk.store import Store
from formdesk.templates.values.dates import month_span

from .matching import ClaimIndex, confusable, norm
from .rules import WarrantyRules, load_rules
from .sources import returned_items

DUPLICATE_WINDOW_DAYS = 30  # the same part of the same vehicle claimed again within this


def month_bounds(month: str) -> tuple[date, date]:
    """'2026-11' → (2026-11-01, 2026-11-30); a ValueError in Chinese otherwise."""
    return month_span(month)


def _claim_head(c: Claim) -> dict[str, str | None]:
    return {"claim_no": c.claim_no, "vin": c.vin, "part_no": c.part_no, "part_name": c.part_name}


def duplicate_claims(claims: list[Claim]) -> dict[str, tuple[Claim, int]]:
    """claim no. → (the earlier claim for the same VIN and part, days between them)."""
    groups: dict[tuple[str, str], list[Claim]] = defaultdict(list)
    for c in claims:
        groups[norm(c.vin), norm(c.part_no)].append(c)
    found = {}
    for group in groups.values():
        group.sort(key=lambda c: (c.repair_date, c.claim_no))
        for earlier, later in zip(group, group[1:], strict=False):
            days = (later.repair_date - earlier.repair_date).days
            if days <= DUPLICATE_WINDOW_DAYS:
                found[later.claim_no] = (earlier, days)
    return found


def _value(item: ReturnedItem | Claim, field: str) -> str:
    v = getattr(item, field)
    return "" if v is None else str(v)


def _same(field: str, a: object, b: object) -> bool:
    if field == "vehicle_model":
        return norm(a).casefold() == norm(b).casefold()
    if field == "engine_no":
        return norm(a).replace("-", "") == norm(b).replace("-", "")
    return norm(a) == norm(b)


def _mismatches(claim: Claim, items: list[ReturnedItem]) -> list[Outcome]:
    out = []
    for field, label in COMPARED_FIELDS.items():
        want = getattr(claim, field)
        if want is None:
            continue
        wrong = [
            i
            for i in items
            if getattr(i, field) is not None and not _same(field, getattr(i, field), want)
        ]
        if not wrong:
            continue
        said = [f"{i.title}:{_value(i, field)}" for i in wrong]
        out.append(
            Outcome(
                kind="mismatch",
                field=field,
                **_claim_head(claim),
                claim_value=str(want),
                returned_values=[_value(i, field) for i in wrong],
                message=f"{label}不符:索赔单为 {want},{';'.join(said)}",
                evidence=[i.evidence(field) for i in wrong],
                doubtful=any(
                    i.doubtful(field) or confusable(getattr(i, field), want) for i in wrong
                ),
            )
        )
    return out


def claim_outcomes(
    claim: Claim,
    items: list[ReturnedItem],
    duplicate_of: tuple[Claim, int] | None,
    rules: WarrantyRules,
) -> list[Outcome]:
    """Everything to say about one claim; [matched] when nothing differs."""
    head = _claim_head(claim)
    out: list[Outcome] = []
    if duplicate_of is not None:
        earlier, days = duplicate_of
        out.append(
            Outcome(
                kind="duplicate",
                **head,
                claim_value=earlier.claim_no,
                message=(
                    f"疑似重复索赔:与索赔单 {earlier.claim_no}({earlier.repair_date})为同一车辆同一零件,"
                    f"相隔 {days} 天"
                ),
            )
        )
    breach = rules.breach(
        claim.vehicle_model, claim.purchase_date, claim.repair_date, claim.mileage_km
    )
    if breach:
        term = rules.term_for(claim.vehicle_model)
        out.append(
            Outcome(
                kind="outside_warranty",
                **head,
                claim_value=f"{claim.purchase_date} 购买,{claim.repair_date} 维修,{claim.mileage_km} km",
                message=f"超出三包期({claim.vehicle_model}:{term.months} 个月或 {term.km} km):{breach}",
                evidence=[i.evidence("mileage_km") for i in items if i.source == "tag"][:1],
            )
        )
    if not items:
        if duplicate_of is None:  # the part of a duplicate claim never comes back twice
            out.append(
                Outcome(
                    kind="missing",
                    **head,
                    claim_value=str(claim.quantity),
                    returned_values=["0"],
                    message=(
                        f"索赔件未返回:{claim.part_name}({claim.part_no})× {claim.quantity},"
                        "返厂清单与零件标签均未见"
                    ),
                )
            )
        return out
    lines = sorted(
        (i for i in items if i.source == "manifest_line"),
        key=lambda i: (i.manifest_date or date.min, i.document_id, i.row or 0),
    )
    tags = [i for i in items if i.source == "tag"]
    if len(lines) > 1:
        out.append(
            Outcome(
                kind="duplicate",
                **head,
                returned_values=[i.title for i in lines],
                message=f"同一索赔件重复列入返厂清单:{'、'.join(i.title for i in lines)}",
                evidence=[i.evidence() for i in lines],
                doubtful=any(i.doubtful("claim_no") for i in lines),
            )
        )
    listed = lines[0].quantity if lines else 0
    if listed != claim.quantity or len(tags) != claim.quantity:
        where = f"返厂清单 {listed} 件" if lines else "未列入返厂清单"
        out.append(
            Outcome(
                kind="quantity",
                **head,
                claim_value=str(claim.quantity),
                returned_values=[str(listed), str(len(tags))],
                message=f"数量不符:索赔 {claim.quantity} 件,{where},零件标签 {len(tags)} 张",
                evidence=[i.evidence("quantity") for i in lines[:1]] + [t.evidence() for t in tags],
                # only the manifest disagrees with claim and tags: first look at its scan
                doubtful=bool(lines)
                and listed != claim.quantity
                and (
                    lines[0].doubtful("quantity")
                    or (len(tags) == claim.quantity and not lines[0].record_verified)
                ),
            )
        )
    out += _mismatches(claim, items)
    if not out:
        via = "、".join(sorted({i.title for i in items}))
        out.append(
            Outcome(
                kind="matched",
                **head,
                claim_value=str(claim.quantity),
                returned_values=[str(listed), str(len(tags))],
                message=f"一致:{via}",
                evidence=[i.evidence() for i in items],
            )
        )
    return out


def returned_part_key(item: ReturnedItem) -> tuple[str, ...]:
    if item.vin and item.part_no:
        return ("vp", norm(item.vin), norm(item.part_no))
    if item.claim_no:
        return ("no", norm(item.claim_no))
    return ("doc", item.document_id, str(item.row))


def unexpected_outcomes(items: list[ReturnedItem]) -> list[Outcome]:
    """One outcome per returned part matching no claim (its manifest line and its tags)."""
    groups: dict[tuple[str, ...], list[ReturnedItem]] = defaultdict(list)
    for item in items:
        groups[returned_part_key(item)].append(item)
    out = []
    for group in groups.values():
        first = next((i for i in group if i.source == "manifest_line"), group[0])
        undated = [i for i in group if i.written_day is None]
        out.append(
            Outcome(
                kind="unexpected",
                claim_no=first.claim_no,
                vin=first.vin,
                part_no=first.part_no,
                part_name=first.part_name,
                returned_values=[i.title for i in group],
                message=(
                    f"返回件无对应索赔单:{first.part_name or ''}({first.part_no or '零件编号未填'}),"
                    f"见{'、'.join(i.title for i in group)}"
                    + "".join(undated_note(i) for i in undated[:1])
                ),
                evidence=[i.evidence() for i in group],
                doubtful=any(i.doubtful(k) for i in group for k in ("claim_no", "vin", "part_no")),
                undated=bool(undated),
            )
        )
    return out


UNDATED = "日期未识别"


def undated_note(item: ReturnedItem) -> str:
    """What a difference says about a part whose form gives no readable date."""
    if item.received_on is None:
        return f"({UNDATED})"
    return f"({UNDATED},按扫描件上传日期 {item.received_on.isoformat()} 计入该月)"


def item_day(item: ReturnedItem) -> date | None:
    """The day a part matching no claim counts on: the date its form gives (item.written_day)
    or, when none could be read, the day its scan was uploaded (Beijing); None only when
    neither is known — then it counts in no month."""
    return item.written_day or item.received_on


def reconcile(
    station: Station,
    month: str,
    claims: list[Claim],
    items: list[ReturnedItem],
    rules: WarrantyRules,
) -> Reconciliation:
    """`claims`: all of the station's claims (any month, to recognise late returns and
    duplicates); `items`: all of its returned parts read so far."""
    start, end = month_bounds(month)
    index = ClaimIndex(claims)
    by_claim: dict[str, list[ReturnedItem]] = defaultdict(list)
    unmatched: list[ReturnedItem] = []
    for item in items:
        claim, _how = index.find(item)
        if claim is None:
            unmatched.append(item)
        else:
            by_claim[claim.claim_no].append(item)
    duplicates = duplicate_claims(claims)
    period = [c for c in index.claims if start <= c.repair_date <= end]
    outcomes: list[Outcome] = []
    considered: list[ReturnedItem] = []
    for claim in period:
        mine = by_claim.get(claim.claim_no, [])
        considered += mine
        outcomes += claim_outcomes(claim, mine, duplicates.get(claim.claim_no), rules)
    strays = [i for i in unmatched if (d := item_day(i)) is not None and start <= d <= end]
    considered += strays
    outcomes += unexpected_outcomes(strays)
    lines = [i for i in considered if i.source == "manifest_line"]
    return Reconciliation(
        station=station.code,
        station_name=station.name,
        month=f"{start:%Y-%m}",
        period_start=start,
        period_end=end,
        claims=len(period),
        claimed_quantity=sum(c.quantity for c in period),
        manifest_lines=len(lines),
        returned_quantity=sum(i.quantity for i in lines),
        tags=sum(1 for i in considered if i.source == "tag"),
        outcomes=outcomes,
    )


def reconcile_station(
    store: Store, station: str, month: str, rules: WarrantyRules | None = None
) -> Reconciliation:
    """Reconciles from what the store holds under `rules` (default: the shipped 三包期
    rules; an installation's own come through services.reconciliation); a LookupError
    names an unknown station."""
    found = store.get_station(station)
    if found is None:
        raise LookupError(f"维修站“{station}”未登记")
    month_bounds(month)
    return reconcile(
        found,
        month,
        store.list_claims(station=station),
        returned_items(store, station),
        rules or load_rules(),
    )
