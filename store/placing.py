"""Where a read record is filed: under the station its form was printed for."""

from __future__ import annotations

from typing import Any

from .interface import Store


def save_read_records(
    store: Store, scan_id: str, records: list[dict[str, Any]], uploader_station: str | None
) -> None:
    """Stores what reading one scan produced. A record belongs to the station its document
    was printed for (the registry knows); a form printed without one, to the uploader's."""
    by_station: dict[str | None, list[dict[str, Any]]] = {}
    for record in records:
        issued = store.get_document(record["document_id"])
        station = issued.station if issued and issued.station else uploader_station
        by_station.setdefault(station, []).append(record)
    for station, mine in by_station.items():
        store.save_records(scan_id, mine, station)
