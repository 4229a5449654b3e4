"""Which month the 核对 and 月报 pages open on: the latest month holding data (claims
repaired in it, returned parts counting in it, repair orders dated in it), never one
after today's (a misread year must not send the pages into the future)."""

from __future__ import annotations

from datetime import date

from formdesk.store import Store

from .parts import item_day
from .repair_orders import repair_orders
from .sources import returned_items


def latest_month(store: Store, station: str | None, today: date) -> str | None:
    """'2026-03' — the latest month up to `today`'s with a claim, a returned part or a
    repair order of `station` (None: any station); None when there is none."""
    days = [c.repair_date for c in store.list_claims(station=station)]
    days += [d for i in returned_items(store, station) if (d := item_day(i)) is not None]
    days += [o.day for o in repair_orders(store, station) if o.day is not None]
    last = today.replace(day=1)
    months = {d.replace(day=1) for d in days if d.replace(day=1) <= last}
    return f"{max(months):%Y-%m}" if months else None
