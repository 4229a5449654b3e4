"""Scoring a reconciliation against the month samples.synth.month planned: which injected
differences were found, and whether a difference not injected comes from a misread form."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date

from formdesk.model.reconciliation import Outcome, ReturnedItem
from formdesk.reconcile.matching import norm
from formdesk.reconcile.sources import returned_items

from .synth.month import MANIFEST, Injected, MonthPlan

COMPARED = ("claim_no", "vin", "engine_no", "vehicle_model", "mileage_km", "part_no", "quantity")


def planned_items(plan: MonthPlan, station: str) -> list[ReturnedItem]:
    """The returned parts as a perfect reader would see them."""
    items = []
    for d in plan.docs:
        if d.station != station:
            continue
        base = {"record_id": d.document_id, "document_id": d.document_id, "template": d.template}
        if d.template == MANIFEST:
            for n, row in enumerate(d.values["returned_parts"], start=1):
                items.append(
                    ReturnedItem(
                        **base,
                        source="manifest_line",
                        row=n,
                        manifest_no=d.values["manifest_no"],
                        manifest_date=date.fromisoformat(d.values["manifest_date"]),
                        **{k: row.get(k) for k in COMPARED if row.get(k) is not None},
                    )
                )
        else:
            v = d.values
            items.append(
                ReturnedItem(
                    **base,
                    source="tag",
                    repair_date=date.fromisoformat(v["repair_date"]),
                    **{k: v[k] for k in COMPARED if k in v and k != "quantity"},
                )
            )
    return items


def _key(o: Outcome) -> tuple:
    return (o.kind, o.field, norm(o.claim_no))


def score(
    plan: MonthPlan, station: str, outcomes: list[Outcome], misread: set[tuple[str, int | None]]
) -> tuple[Counter, Counter, list[Outcome], list[Outcome], list[Injected]]:
    """(found per injection, injected per injection, explained false, unexplained false,
    injected but not found)."""
    injected = [i for i in plan.injected if i.station == station]
    found, total = Counter(), Counter()
    differences = [o for o in outcomes if o.kind != "matched"]
    used: set[int] = set()
    missed = []
    for inj in injected:
        total[inj.injection] += 1
        hit = None
        for n, o in enumerate(differences):
            if n in used or o.kind != inj.kind:
                continue
            if inj.kind == "unexpected":
                if {e.document_id for e in o.evidence} & set(inj.documents):
                    hit = n
            elif _key(o) == (inj.kind, inj.field, norm(inj.claim_no)):
                hit = n
            if hit is not None:
                break
        if hit is None:
            missed.append(inj)
        else:
            used.add(hit)
            found[inj.injection] += 1
    docs_of_claim: dict[str, set[tuple[str, int | None]]] = defaultdict(set)
    for d in plan.docs:
        if d.template == MANIFEST:
            for n, row in enumerate(d.values["returned_parts"], start=1):
                docs_of_claim[norm(row["claim_no"])].add((d.document_id, n))
        else:
            docs_of_claim[
                norm(d.values.get("claim_no") or d.values["vin"] + d.values["part_no"])
            ].add((d.document_id, None))
            docs_of_claim[norm(d.values["vin"] + d.values["part_no"])].add((d.document_id, None))
    explained, unexplained = [], []
    claims = {norm(c["claim_no"]): c for c in plan.claims}
    for n, o in enumerate(differences):
        if n in used:
            continue
        touched = {(e.document_id, e.line) for e in o.evidence}
        c = claims.get(norm(o.claim_no))
        if c is not None:
            touched |= (
                docs_of_claim[norm(c["claim_no"])] | docs_of_claim[norm(c["vin"] + c["part_no"])]
            )
        (explained if touched & misread else unexplained).append(o)
    return found, total, explained, unexplained, missed


def misread_forms(store, plan: MonthPlan) -> set[tuple[str, int | None]]:
    """(document id, manifest row or None) of every tag or manifest line read differently
    from what was written, in a field the reconciliation uses, or not found at all."""
    read = {(i.document_id, i.row): i for i in returned_items(store)}
    bad: set[tuple[str, int | None]] = set()

    def differs(want: dict, got: ReturnedItem) -> bool:
        return any(
            k in want and norm(want[k]) != norm(getattr(got, k))
            for k in (*COMPARED, "repair_date", "manifest_date")
        )

    for d in plan.docs:
        if d.template == MANIFEST:
            head = {"manifest_date": d.values["manifest_date"]}
            for n, want in enumerate(d.values["returned_parts"], start=1):
                got = read.get((d.document_id, n))
                if got is None or differs(want, got) or differs(head, got):
                    bad.add((d.document_id, n))
        else:
            got = read.get((d.document_id, None))
            if got is None or differs(d.values, got):
                bad.add((d.document_id, None))
    return bad
