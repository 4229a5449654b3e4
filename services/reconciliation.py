"""Reconciling a station's month and building the monthly summary, with the
installation's own rules: the 三包期 rules file and the fault keywords in its data folder
(`reconcile.rules.RULES_FILE`, `reconcile.faults.KEYWORDS_FILE`), else the shipped ones.
The data folder is passed explicitly (the settings' `data_dir`), never taken from a store."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from pathlib import Path

from formdesk.model.errors import NotFoundError
from formdesk.model.reconciliation import Reconciliation, ReturnedItem
from formdesk.reconcile import engine, monthly, months
from formdesk.reconcile.faults import load_fault_keywords
from formdesk.reconcile.rules import WarrantyRules, load_rules
from formdesk.reconcile.sources import returned_items
from formdesk.store import Store
from formdesk.templates.values.dates import china_today

from .viewers import Viewer


def warranty_rules(data_dir: Path | None) -> WarrantyRules:
    """The installation's 三包期 rules; RulesError (500) names a broken rules file."""
    return load_rules(data_dir)


def reconcile_station(
    store: Store, data_dir: Path | None, station: str, month: str
) -> Reconciliation:
    """One station's month (YYYY-MM, Beijing time) reconciled under the installation's
    rules; LookupError names an unknown station, ValueError a bad month."""
    return engine.reconcile_station(store, station, month, warranty_rules(data_dir))


def monthly_summary(
    store: Store, data_dir: Path | None, month: str, station: str | None = None
) -> monthly.MonthlySummary:
    """The month's summary (every station, or one) with the installation's fault
    keywords; ValueError for a bad month, LookupError for an unknown station."""
    faults = load_fault_keywords(data_dir)
    return monthly.monthly_summary(store, month, station, faults=faults)


def reconcile_stations(
    store: Store, data_dir: Path | None, month: str, station: str | None = None
) -> list[Reconciliation]:
    """The month reconciled for `station`, or for every registered station (in the store's
    order).  The rules file is loaded first, so a broken one (RulesError 500) stops before
    any work; NotFoundError (404) when no station is registered yet or `station` is
    unknown; ValueError for a bad month."""
    rules = warranty_rules(data_dir)
    codes = [station] if station else [s.code for s in store.list_stations()]
    if not codes:
        raise NotFoundError("还没有登记任何维修站,请先导入索赔单(formdesk claims import)")
    # every station's returned parts listed once, not once per station (the 工作台 and
    # 核对 pages reconcile every station on each load)
    by_station: dict[str | None, list[ReturnedItem]] | None = None
    if len(codes) > 1:
        by_station = defaultdict(list)
        for item in returned_items(store):
            by_station[item.station].append(item)
    try:
        return [
            engine.reconcile_station(
                store, code, month, rules, None if by_station is None else by_station[code]
            )
            for code in codes
        ]
    except NotFoundError:
        raise
    except LookupError as exc:
        raise NotFoundError(str(exc).strip("'\"")) from None


def latest_month(store: Store, station: str | None, today: date | None = None) -> str | None:
    """The latest month (YYYY-MM, not after `today`'s, default today in Beijing) with
    claims, returned parts or repair orders of `station` (None: any); None when empty —
    the month the 核对 and 月报 pages open on."""
    return months.latest_month(store, station, today or china_today())


def for_viewer(rec: Reconciliation, who: Viewer) -> Reconciliation:
    """The reconciliation as `who` may see it: a station user sees only the evidence it
    may open (records filed under its station: no link of the page would answer 404) and
    only the differences resting wholly on such evidence — one citing a scan it cannot
    open (a back-office upload naming the station) is left out, and the counts by kind
    with it; a matched claim stays, with the evidence it may open. The month's figures
    (claims, returned parts, manifests) stay whole. Everyone else sees it all."""
    if who.station_filter is None:
        return rec
    shown = []
    for o in rec.outcomes:
        mine = [e for e in o.evidence if who.sees(e.record_station)]
        if len(mine) < len(o.evidence) and o.kind != "matched":
            continue
        shown.append(o.model_copy(update={"evidence": mine}))
    return rec.model_copy(update={"outcomes": shown})
