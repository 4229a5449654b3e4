"""Where a read record is filed: under the station its form was printed for, with its
identity checked against the registry and the records already stored."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from formdesk.model.record import FormRecord

from .corroborate import corroborate
from .interface import Store
from .ocr_identity import resolve_ocr_id
from .rescans import flag_photocopies, link_record


def save_read_records(
    store: Store,
    scan_id: str,
    records: Sequence[FormRecord | dict[str, Any]],
    uploader_station: str | None,
) -> list[FormRecord]:
    """Stores what reading one scan produced (FormRecords; a dict, as a reader process
    hands it over, is validated first: ValueError) and returns them as filed.

    Readings doubted for their OCR alone are ok where a claim or the station list says
    the same (corroborate); an id read by OCR is replaced by the registry's or flagged (ocr_identity); a record
    belongs to the station its document was printed for (the registry knows), a form
    printed without one to the uploader's; a second scan of a stored document is linked
    to the first, another paper with the same id flagged with it (rescans)."""
    typed = [r if isinstance(r, FormRecord) else FormRecord.model_validate(r) for r in records]
    by_station: dict[str | None, list[FormRecord]] = {}
    corroborate(store, typed)
    for record in typed:
        resolve_ocr_id(store, record)
        issued = store.get_document(record.document_id)
        station = issued.station if issued and issued.station else uploader_station
        by_station.setdefault(station, []).append(record)
    for station, mine in by_station.items():
        links = [link_record(store, r, station, scan_id) for r in mine]
        saved = {
            (s.document_id, s.copy_index): s.record_id
            for s in store.save_records(scan_id, mine, station)
        }
        for record, linked in zip(mine, links, strict=True):
            new_id = saved.get((record.document_id, record.copy_index))
            if new_id is not None:
                flag_photocopies(store, linked, new_id)
    return typed
