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
from formdesk.model.reconciliation import (
    COMPARED_FIELDS,
    ManifestCount,
    Outcome,
    Reconciliation,
    ReturnedItem,
)
from formdesk.store import Store
from formdesk.templates.values.dates import month_span

from .matching import confusable, norm
from .parts import MonthParts, ReturnedPart, item_day, month_parts, part_key  # noqa: F401
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


def distinct_titles(items: list[ReturnedItem]) -> list[str]:
    """How a difference names each of `items`: its title (返厂清单 FC-1 第3行, 故障标签 …),
    with the manifest's document id when two manifests bear one number, and the scan it
    was read from (file, page, upload day) when titles alone would repeat."""
    titles = [i.title for i in items]
    if len(set(titles)) < len(titles):
        titles = [
            f"返厂清单 {i.manifest_no or ''}(文档 {i.document_id})第{i.row}行"
            if i.source == "manifest_line"
            else i.title
            for i in items
        ]
    if len(set(titles)) < len(titles) or any(i.scan_text for i in items):
        titles = [
            f"{t}({i.scan_text})" if i.scan_text else t for t, i in zip(titles, items, strict=True)
        ]
    return titles


def _seen_on(part: ReturnedPart) -> str:
    """Where a part was seen: 见返厂清单 FC-1 第3行、故障标签 … ('' when nowhere)."""
    shown = part.lines[:1] + part.tags
    return f",见{'、'.join(i.title for i in shown)}" if shown else ",返厂清单与零件标签均未见"


def _tags_text(part: ReturnedPart) -> str:
    if part.part_tags and part.fault_tags:
        return (
            f"挂标签零件 {part.tagged} 件(鉴别标签 {part.part_tags} 张、"
            f"故障标签 {part.fault_tags} 张)"
        )
    return f"零件标签 {part.tagged} 张"


def claim_outcomes(
    claim: Claim,
    part: ReturnedPart,
    duplicate_of: tuple[Claim, int] | None,
    rules: WarrantyRules,
) -> list[Outcome]:
    """Everything to say about one claim and its returned part (`part.items` empty when
    nothing came back); [matched] when nothing differs."""
    head = _claim_head(claim)
    items, lines, tags = part.items, part.lines, part.tags
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
                returned_values=[i.title for i in lines[:1] + tags],
                message=(
                    f"超出三包期({claim.vehicle_model}:{term.months} 个月或 {term.km} km):{breach}"
                    + _seen_on(part)
                ),
                # the part's manifest line and its tags (their mileage): where it was seen
                evidence=[i.evidence() for i in lines[:1]]
                + [t.evidence("mileage_km") for t in tags],
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
    if len(lines) > 1:
        named = distinct_titles(lines)
        out.append(
            Outcome(
                kind="duplicate",
                **head,
                returned_values=named,
                message=f"同一索赔件重复列入返厂清单 {len(lines)} 次:{';'.join(named)}",
                evidence=[i.evidence() for i in lines],
                doubtful=any(i.doubtful("claim_no") for i in lines),
            )
        )
    listed = part.listed
    if listed != claim.quantity or part.tagged != claim.quantity:
        where = f"返厂清单 {listed} 件" if lines else "未列入返厂清单"
        out.append(
            Outcome(
                kind="quantity",
                **head,
                claim_value=str(claim.quantity),
                returned_values=[str(listed), str(part.tagged)],
                message=f"数量不符:索赔 {claim.quantity} 件,{where},{_tags_text(part)}",
                evidence=[i.evidence("quantity") for i in lines[:1]] + [t.evidence() for t in tags],
                # only the manifest disagrees with claim and tags: first look at its scan
                doubtful=bool(lines)
                and listed != claim.quantity
                and (
                    lines[0].doubtful("quantity")
                    or (part.tagged == claim.quantity and not lines[0].record_verified)
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
                returned_values=[str(listed), str(part.tagged)],
                message=f"一致:{via}",
                evidence=[i.evidence() for i in items],
            )
        )
    return out


def unexpected_outcomes(parts: list[ReturnedPart]) -> list[Outcome]:
    """One outcome per returned part matching no claim (its manifest lines and its tags)."""
    out = []
    for part in parts:
        group = part.lines + part.tags
        first = group[0]
        named = (
            distinct_titles(group)
            if len({i.title for i in group}) < len(group)
            else [i.title for i in group]
        )
        undated = [i for i in group if i.written_day is None]
        out.append(
            Outcome(
                kind="unexpected",
                claim_no=first.claim_no,
                vin=first.vin,
                part_no=first.part_no,
                part_name=first.part_name,
                claim_value=None,
                returned_values=named,
                message=(
                    f"返回件无对应索赔单:{first.part_name or ''}({first.part_no or '零件编号未填'}),"
                    f"见{'、'.join(named)}" + "".join(undated_note(i) for i in undated[:1])
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


def manifest_counts(parts: MonthParts) -> list[ManifestCount]:
    """Each manifest with lines counted in the month: its written 合计 beside its lines."""
    counted: dict[str, int] = defaultdict(int)
    every: dict[str, dict[int | None, ReturnedItem]] = defaultdict(dict)
    for item in parts.items:
        if item.source == "manifest_line":
            counted[item.document_id] += 1
    for item in parts.all_lines:
        if item.document_id in counted:
            every[item.document_id].setdefault(item.row, item)  # a photocopy: once
    out = []
    for doc, lines in every.items():
        first = next(iter(lines.values()))
        out.append(
            ManifestCount(
                document_id=doc,
                manifest_no=first.manifest_no,
                manifest_date=first.manifest_date,
                written_total=first.manifest_total,
                lines=len(lines),
                listed_quantity=sum(i.quantity for i in lines.values()),
                counted_lines=counted[doc],
            )
        )
    return sorted(
        out, key=lambda m: (m.manifest_date or date.min, m.manifest_no or "", m.document_id)
    )


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
    parts = month_parts(claims, items, start, end)
    duplicates = duplicate_claims(claims)
    outcomes: list[Outcome] = []
    for part in parts.claimed:
        assert part.claim is not None
        outcomes += claim_outcomes(part.claim, part, duplicates.get(part.claim.claim_no), rules)
    outcomes += unexpected_outcomes(parts.unclaimed)
    considered = parts.items
    lines = [i for i in considered if i.source == "manifest_line"]
    return Reconciliation(
        station=station.code,
        station_name=station.name,
        month=f"{start:%Y-%m}",
        period_start=start,
        period_end=end,
        claims=len(parts.claimed),
        claimed_quantity=sum(p.claim.quantity for p in parts.claimed if p.claim),
        manifest_lines=len(lines),
        returned_quantity=sum(i.quantity for i in lines),
        tags=sum(1 for i in considered if i.source == "tag"),
        returned_parts=parts.quantity,
        manifests=manifest_counts(parts),
        outcomes=outcomes,
    )


def reconcile_station(
    store: Store,
    station: str,
    month: str,
    rules: WarrantyRules | None = None,
    items: list[ReturnedItem] | None = None,
) -> Reconciliation:
    """Reconciles from what the store holds under `rules` (default: the shipped 三包期
    rules; an installation's own come through services.reconciliation); a LookupError
    names an unknown station.  `items`: the station's returned items when the caller has
    listed every station's at once (`returned_items(store)`, partitioned by station) —
    else they are listed for this station."""
    found = store.get_station(station)
    if found is None:
        raise LookupError(f"维修站“{station}”未登记")
    month_bounds(month)
    return reconcile(
        found,
        month,
        store.list_claims(station=station),
        returned_items(store, station) if items is None else items,
        rules or load_rules(),
    )
