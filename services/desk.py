"""工作台 (issue 12, point 1): what waits for the user, each item with the link to the
filtered list that shows it — records to review by station and form, pages the reader
refused, files it could not read, stations with no returned-part manifest (BD-31) in the
month, and claims of the month with no returned part (索赔件未返回).  What a user is
shown is what they may see: a station user its own station's."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime
from pathlib import Path
from urllib.parse import urlencode

from pydantic import BaseModel, Field

from formdesk.model.reconciliation import Reconciliation
from formdesk.store import Store
from formdesk.templates import load_catalog
from formdesk.templates.values.dates import CHINA_TIME

from .reconciliation import for_viewer, latest_month, reconcile_stations
from .viewers import Viewer

MANIFEST = "SH-ZH/BD-31"  # 三包索赔件返厂清单
PAGE = 500
MAX_SCANNED = 20_000  # records looked at for the review counts (the rest: "and more")
RECENT_BATCHES = 200  # uploads looked at for files that could not be read


class DeskItem(BaseModel):
    """One line of a card: what (Chinese), how many, and where to see them."""

    label: str
    count: int
    href: str


class DeskCard(BaseModel):
    """One card of the 工作台: its title, the total, its lines (most first), and the page
    that lists them all."""

    key: str
    title: str
    total: int
    items: list[DeskItem] = Field(default_factory=list)
    href: str
    note: str | None = None


class Desk(BaseModel):
    """The 工作台 of one user: the month it speaks of (YYYY-MM, Beijing time) and its cards."""

    month: str
    cards: list[DeskCard]


def _link(path: str, **params: str | None) -> str:
    q = {k: v for k, v in params.items() if v}
    return path + ("?" + urlencode(q) if q else "")


def _names() -> dict[str, str]:
    return {t.code: t.title for t in load_catalog().values()}


def waiting_review(store: Store, who: Viewer) -> DeskCard:
    """待复核 by station and form (links to the review queue filtered so)."""
    names = _names()
    counts: Counter[tuple[str | None, str]] = Counter()
    offset = total = 0
    while offset < MAX_SCANNED:
        rows, total = store.list_records(
            station=who.station_filter, status="needs_review", offset=offset, limit=PAGE
        )
        counts.update((r.station, r.template) for r in rows)
        offset += len(rows)
        if not rows or offset >= total:
            break
    items = [
        DeskItem(
            label=f"{station or '售后服务部'} · {template} {names.get(template, '')}".strip(),
            count=n,
            href=_link("/review", station=station, template=template),
        )
        for (station, template), n in counts.most_common()
    ]
    return DeskCard(key="review", title="待复核", total=total, items=items, href="/review")


def refused_pages(store: Store, who: Viewer) -> DeskCard:
    """Pages the reader refused that no one settled yet, by upload."""
    open_ = [r for r in store.list_page_refusals(states=["open"]) if who.sees(r.station)]
    by_batch = Counter(r.batch_id for r in open_)
    items = [
        DeskItem(label=f"批次 {b}", count=n, href=f"/batches/{b}")
        for b, n in by_batch.most_common()
    ]
    return DeskCard(
        key="refusals", title="未能识读的页面", total=len(open_), items=items, href="/refusals"
    )


def failed_files(store: Store, who: Viewer) -> DeskCard:
    """Files whose reading failed (识读失败) as a whole, in the latest uploads; a file
    failed only for some refused pages is on the refused pages' card instead."""
    items: list[DeskItem] = []
    refused = {(r.scan_id, r.station) for r in store.list_page_refusals()}
    for batch in store.list_batches(station=who.station_filter)[:RECENT_BATCHES]:
        if not batch.errors:  # a failed job always leaves its error on the batch
            continue
        failed = [
            j
            for j in store.list_jobs(batch.batch_id)
            if j.state == "failed" and (j.scan_id, batch.station) not in refused
        ]
        if failed:
            items.append(
                DeskItem(
                    label=f"批次 {batch.batch_id}",
                    count=len(failed),
                    href=f"/batches/{batch.batch_id}",
                )
            )
    return DeskCard(
        key="failed",
        title="识读失败的文件",
        total=sum(i.count for i in items),
        items=items,
        href="/upload",
    )


def month_bounds(month: str) -> tuple[date, date]:
    """The first and last day of `month` (YYYY-MM)."""
    first = date.fromisoformat(f"{month}-01")
    nxt = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
    return first, date.fromordinal(nxt.toordinal() - 1)


def reconciled(
    store: Store, who: Viewer, data_dir: Path | None, month: str
) -> list[Reconciliation]:
    """The month's reconciliation of every station `who` sees (a station user: its own, as
    `for_viewer` shows it), as the 核对 page computes it — the two reconciliation cards
    are read from it, so the 工作台 and 核对 never disagree on a month's manifests or
    missing parts."""
    own = who.station_filter
    if own is not None and store.get_station(own) is None:
        return []
    return [for_viewer(r, who) for r in reconcile_stations(store, data_dir, month, own)]


def stations_without_manifest(recs: list[Reconciliation], month: str) -> DeskCard:
    """Stations none of whose returned-part manifests (BD-31) counts in `month`'s
    reconciliation (a manifest belongs to the month of its lines' parts, as on 核对)."""
    items = [
        DeskItem(
            label=f"{r.station} {r.station_name}",
            count=0,
            href=_link("/reconcile", station=r.station, month=month),
        )
        for r in recs
        if not r.manifests
    ]
    return DeskCard(
        key="no_manifest",
        title=f"{month} 未收到返厂清单的维修站",
        total=len(items),
        items=items,
        href=_link("/records", template=MANIFEST),
        note="按核对的月份统计 SH-ZH/BD-31 三包索赔件返厂清单(与“核对”页一致)",
    )


def claims_without_part(recs: list[Reconciliation], month: str) -> DeskCard:
    """Claims of `month` whose part was neither on a manifest nor tagged (索赔件未返回), by
    station, from the month's reconciliation."""
    items = []
    for rec in recs:
        n = sum(1 for o in rec.outcomes if o.kind == "missing")
        if n:
            items.append(
                DeskItem(
                    label=f"{rec.station} {rec.station_name}",
                    count=n,
                    href=_link("/reconcile", station=rec.station, month=month),
                )
            )
    return DeskCard(
        key="missing_parts",
        title=f"{month} 索赔件未返回",
        total=sum(i.count for i in items),
        items=items,
        href=_link("/reconcile", month=month),
    )


def desk_month(store: Store, who: Viewer, today: date | None = None) -> str:
    """The month the 工作台 speaks of: the month the 核对 and 月报 pages open on for `who`
    (`latest_month`: the latest month, not after today's in Beijing time, with claims,
    returned parts or repair orders of the user's station, any for the others), else this
    month."""
    today = today or datetime.now(CHINA_TIME).date()
    return latest_month(store, who.station_filter, today) or today.strftime("%Y-%m")


def desk(store: Store, who: Viewer, data_dir: Path | None, today: date | None = None) -> Desk:
    """The user's 工作台 (see the module)."""
    month = desk_month(store, who, today)
    cards = [waiting_review(store, who), refused_pages(store, who), failed_files(store, who)]
    if store.list_stations():
        recs = reconciled(store, who, data_dir, month)
        cards.append(stations_without_manifest(recs, month))
        cards.append(claims_without_part(recs, month))
    return Desk(month=month, cards=cards)
