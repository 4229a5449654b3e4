"""Returned parts as the reader saw them: manifest lines (SH-ZH/BD-31) and part tags
(SH-ZH/BD-27 鉴别标签, SH-ZH/BD-30 故障标签), taken from the stored records."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from datetime import date
from typing import Any

from rapidfuzz import fuzz, process

from formdesk.store import Store
from formdesk.store.models import Station, StoredRecord

from .models import ReturnedItem

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


def _summaries(store: Store, template: str, station: str | None) -> Iterator[Any]:
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


def items_of_record(stored: StoredRecord, station: str | None) -> list[ReturnedItem]:
    """The returned parts one read manifest or tag stands for."""
    rec, summary = stored.record, stored.summary
    fields = {f["key"]: f for f in rec["fields"]}
    base = {
        "record_id": summary.record_id,
        "document_id": summary.document_id,
        "template": summary.template,
        "station": station,
        "record_verified": summary.status == "verified",
    }
    if summary.template in TAGS:
        values, reading = _cells(fields)
        values.pop("quantity", None)
        return [_item(base, values, reading, source="tag")]
    if summary.template != MANIFEST:
        return []
    head = {k: (fields.get(k) or {}).get("value") for k in ("manifest_no", "manifest_date")}
    items = []
    for n, cells in enumerate((fields.get("returned_parts") or {}).get("rows") or [], start=1):
        values, reading = _cells(cells)
        if not any(values.get(k) for k in ("claim_no", "vin", "part_no", "part_name")):
            continue  # an empty ruled line
        items.append(
            _item(
                base,
                values,
                reading,
                source="manifest_line",
                row=n,
                manifest_no=head["manifest_no"],
                manifest_date=_date(head["manifest_date"]),
            )
        )
    return items


def fold(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split()).casefold()


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


def returned_items(store: Store, station: str | None = None) -> list[ReturnedItem]:
    """Every manifest line and tag read so far (of one station, when given).

    A record printed for a station carries that station; one printed without (a blank form)
    is given the station whose name is written on it.
    """
    names = StationNames(store.list_stations())
    items: list[ReturnedItem] = []
    for template in (MANIFEST, *TAGS):
        for summary in _summaries(store, template, None):
            if station is not None and summary.station not in (None, station):
                continue
            stored = store.get_record(summary.record_id)
            if stored is None:
                continue
            code = summary.station
            if code is None:
                written = next(
                    (
                        f.get("value")
                        for f in stored.record["fields"]
                        if f["key"] == STATION_FIELD[template]
                    ),
                    None,
                )
                code = names.code(written)
            if station is not None and code != station:
                continue
            items.extend(items_of_record(stored, code))
    return items
