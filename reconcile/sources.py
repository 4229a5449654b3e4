"""Returned parts as the reader saw them: manifest lines (SH-ZH/BD-31) and part tags
(SH-ZH/BD-27 鉴别标签, SH-ZH/BD-30 故障标签), taken from the stored records."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator
from datetime import date
from functools import cache
from typing import Any

from rapidfuzz import fuzz, process

from formdesk.model.claims import Station
from formdesk.model.reconciliation import ReturnedItem
from formdesk.model.scans import Scan
from formdesk.model.stored import StoredRecord
from formdesk.store import Store
from formdesk.templates import get_template
from formdesk.templates.layout import table_grid
from formdesk.templates.values.dates import CHINA_TIME
from formdesk.templates.values.normalize import fold

log = logging.getLogger(__name__)

MANIFEST = "SH-ZH/BD-31"
PART_TAG = "SH-ZH/BD-27"
FAULT_TAG = "SH-ZH/BD-30"
TAGS = (PART_TAG, FAULT_TAG)
ITEM_FIELDS = (
    "claim_no",
    "vin",
    "engine_no",
    "vehicle_model",
    "mileage_km",
    "part_no",
    "part_name",
    "quantity",
    "repair_date",
)
# the field naming the sending station on each form, for records printed without one
STATION_FIELD = {MANIFEST: "unit_name", PART_TAG: "sender_unit", FAULT_TAG: "service_station"}


def record_summaries(store: Store, template: str, station: str | None) -> Iterator[Any]:
    offset, page = 0, 1000
    while True:
        rows, total = store.list_records(
            template=template, station=station, offset=offset, limit=page
        )
        yield from rows
        offset += page
        if offset >= total:
            return


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None and value != "" else None
    except (TypeError, ValueError):
        return None


def _cells(cells: dict[str, dict[str, Any]]) -> tuple[dict[str, Any], dict[str, tuple[float, str]]]:
    values = {k: c.get("value") for k, c in cells.items()}
    reading = {
        k: (float(c.get("confidence", 0.0)), c.get("status", "ok")) for k, c in cells.items()
    }
    return values, reading


def _item(base: dict[str, Any], values: dict[str, Any], reading, **extra: Any) -> ReturnedItem:
    data = {k: values.get(k) for k in ITEM_FIELDS if k in values}
    data["mileage_km"] = _int(data.get("mileage_km"))
    data["repair_date"] = _date(data.get("repair_date"))
    if "quantity" in data:
        data["quantity"] = _int(data["quantity"]) or 1
    for k in ("claim_no", "vin", "engine_no", "vehicle_model", "part_no", "part_name"):
        if data.get(k) is not None:
            data[k] = str(data[k])
    return ReturnedItem(
        **base, **{k: v for k, v in data.items() if v is not None}, reading=reading, **extra
    )


@cache
def rows_per_page(template_code: str, table_key: str) -> tuple[int, int]:
    """Ruled rows of a table on its first page and on each continuation page."""
    template = get_template(template_code)
    table = next(f for f in template.fields if f.key == table_key)
    first = table_grid(template, table)
    later = table_grid(template, table, template.continuation_rect(table))
    return len(first.rows), len(later.rows)


HEAD_FIELDS = ("manifest_no", "manifest_date", "total_quantity")


def _manifest_head(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: (fields.get(k) or {}).get("value") for k in HEAD_FIELDS}


def scan_name(scan: Scan | None, station: str | None) -> str | None:
    """The file name `station` uploaded the scan as (its first upload when it made none)."""
    if scan is None:
        return None
    mine = scan.owner(station)
    return mine.filename if mine else scan.filename


def _file_page(record: dict[str, Any], form_page: int = 1) -> int | None:
    """The 1-based page of the uploaded file that holds `form_page` of the record."""
    pages = record.get("pages") or []
    for p in pages:
        if int(p.get("form_page", 1)) == form_page:
            return int(p["file_page"]) + 1
    return int(pages[0]["file_page"]) + 1 if pages else None


def received_on(scan: Scan | None, station: str | None) -> date | None:
    """The day (Beijing time) `station` uploaded the scan — its first upload when that
    station made none (a back-office upload filed under the printing station)."""
    if scan is None:
        return None
    mine = scan.owner(station)
    moment = mine.uploaded_at if mine else min(o.uploaded_at for o in scan.all_owners())
    return moment.astimezone(CHINA_TIME).date()


def items_of_record(
    stored: StoredRecord,
    station: str | None,
    head: dict[str, Any] | None = None,
    received: date | None = None,
    scan_file: str | None = None,
) -> list[ReturnedItem]:
    """The returned parts one read manifest or tag stands for. A manifest page scanned on
    its own carries no header: `head` gives the manifest's number, date and 合计 from page
    1; `received` is the day its scan was uploaded (the month of a part without a date),
    `scan_file` the name it was uploaded as."""
    rec, summary = stored.record, stored.summary
    fields = {f["key"]: f for f in rec["fields"]}
    base = {
        "record_id": summary.record_id,
        "document_id": summary.document_id,
        "template": summary.template,
        "station": station,
        "record_verified": summary.status == "verified",
        "received_on": received,
        "record_station": summary.station,
        "scan_file": scan_file,
    }
    if summary.template in TAGS:
        values, reading = _cells(fields)
        values.pop("quantity", None)
        return [_item(base, values, reading, source="tag", scan_page=_file_page(rec))]
    if summary.template != MANIFEST:
        return []
    own = _manifest_head(fields)
    head = {k: own[k] or (head or {}).get(k) for k in own}
    first, later = rows_per_page(MANIFEST, "returned_parts")
    items, on_page = [], Counter()
    for n, cells in enumerate((fields.get("returned_parts") or {}).get("rows") or [], start=1):
        page = max((int(c.get("page", 1)) for c in cells.values()), default=1)
        on_page[page] += 1
        values, reading = _cells(cells)
        if not any(values.get(k) for k in ("claim_no", "vin", "part_no", "part_name")):
            continue  # an empty ruled line
        items.append(
            _item(
                base,
                values,
                reading,
                source="manifest_line",
                row=on_page[page] + (0 if page == 1 else first + (page - 2) * later),
                record_row=n,
                manifest_no=head["manifest_no"],
                manifest_date=_date(head["manifest_date"]),
                manifest_total=_int(head["total_quantity"]),
                scan_page=_file_page(rec, page),
            )
        )
    return items


class StationNames:
    """Resolves the station written on a form (OCR'd, maybe slightly off) to its code."""

    def __init__(self, stations: list[Station]):
        self._by_name = {fold(s.name): s.code for s in stations}
        self._by_name.update({fold(s.code): s.code for s in stations})

    def code(self, written: Any) -> str | None:
        if not written:
            return None
        key = fold(str(written))
        if key in self._by_name:
            return self._by_name[key]
        hit = process.extractOne(key, list(self._by_name), scorer=fuzz.ratio, score_cutoff=85)
        return self._by_name[hit[0]] if hit else None


def stations_set_by_hand(store: Store) -> set[str]:
    """The records whose station a person set (设置维修站, a `set_station` record event),
    in one query: a record the back office filed as its own (no station) is then not given
    the station written on it."""
    return store.records_with_event("set_station")


def returned_items(store: Store, station: str | None = None) -> list[ReturnedItem]:
    """Every manifest line and tag read so far (of one station, when given).

    A record printed for a station carries that station; one printed without (a blank form)
    is given the station whose name is written on it, unless a person filed it under none
    (`stations_set_by_hand`). Pages of one manifest scanned apart
    are put together; a tag or manifest line read from two scans counts once (the newest;
    a second scan linked as 重复扫描 is not even listed). A form flagged 疑似复印件 (the same
    document id on other paper, store/rescans.py) is a physical form of its own: its items
    are kept by (record, row), so each photocopy counts. Each item carries the day its scan
    was uploaded (Beijing), the month it counts in when its form gives no readable date.
    """
    names = StationNames(store.list_stations())
    records: list[tuple[StoredRecord, str | None]] = []
    by_hand: set[str] | None = None  # asked once, when a record without a station needs it
    for template in (MANIFEST, *TAGS):
        for summary in record_summaries(store, template, None):  # newest first
            if station is not None and summary.station not in (None, station):
                continue
            stored = store.get_record(summary.record_id)
            if stored is None:
                continue
            if stored.damaged:  # its file cannot be read: left out, said in the log
                log.warning("记录 %s 无法读取,未计入:%s", summary.record_id, stored.damaged)
                continue
            code = summary.station
            if code is None and by_hand is None:
                by_hand = stations_set_by_hand(store)
            if code is None and summary.record_id not in (by_hand or set()):
                fields = {f["key"]: f for f in stored.record["fields"]}
                code = names.code((fields.get(STATION_FIELD[template]) or {}).get("value"))
            if station is not None and code != station:
                continue
            records.append((stored, code))
    heads: dict[str, dict[str, Any]] = {}
    for stored, _ in records:
        if stored.summary.template == MANIFEST:
            head = _manifest_head({f["key"]: f for f in stored.record["fields"]})
            if any(head.values()):
                heads.setdefault(stored.summary.document_id, head)
    scans: dict[str, Scan | None] = {}
    items: dict[tuple[str, str, int | None], ReturnedItem] = {}
    for stored, code in records:
        summary = stored.summary
        if summary.scan_id not in scans:
            scans[summary.scan_id] = store.get_scan(summary.scan_id)
        scan = scans[summary.scan_id]
        received = received_on(scan, summary.station)
        name = scan_name(scan, summary.station)
        paper = summary.record_id if (stored.record.get("filing") or {}).get("photocopy_of") else ""
        head = heads.get(summary.document_id)
        for item in items_of_record(stored, code, head, received, name):
            items.setdefault((item.document_id, paper, item.row), item)
    return list(items.values())
