"""Exceptions on records (issue 12, point 3): void (作废) a record or every record of an
upload, restore (恢复) it, undo a confirmation (撤销确认), set or correct a record's station
(设置维修站).  Each is kept and audited by the store (store.record_actions: a RecordEvent
with who, when and why); a voided record leaves every list, count, export, reconciliation
and report, and stays in the store.

Who may: voiding, restoring and undoing a confirmation take a writer who sees the record
(a station user: its own station's records); setting a station is the back office's.
"""

from __future__ import annotations

from formdesk.model.errors import ConflictError, NotFoundError
from formdesk.model.stored import RecordSummary
from formdesk.store import Store

from .batches import visible_batch
from .records import not_found, visible_record
from .refusals import NotAllowed, Refused, stated_reason
from .stations import require_station
from .viewers import Viewer


def _reason(reason: str | None) -> str:
    return stated_reason(reason, "请说明作废的原因", "作废原因")


def void_record(store: Store, who: Viewer, record_id: str, reason: str) -> RecordSummary:
    """作废 one record `who` sees, with `reason` (1–200 characters).  NotFoundError (404),
    ConflictError (409: already voided), Refused (422: no reason)."""
    why = _reason(reason)
    visible_record(store, who, record_id)
    return store.void_records([record_id], who.username, why)[0]


def void_batch(store: Store, who: Viewer, batch_id: str, reason: str) -> list[RecordSummary]:
    """作废 every record read from the files of an upload `who` sees (those not voided
    yet, of the stations `who` sees), all or none; the summaries voided.  NotFoundError
    (404: the batch), Refused (422: no reason, or nothing left to void)."""
    why = _reason(reason)
    batch = visible_batch(store, who, batch_id)
    ids: list[str] = []
    for scan_id in dict.fromkeys(batch.scan_ids):
        ids += [s.record_id for s in batch_records(store, who, scan_id) if s.status != "voided"]
    if not ids:
        raise Refused("这个批次没有可以作废的记录")
    return store.void_records(ids, who.username, why)


def batch_records(store: Store, who: Viewer, scan_id: str) -> list[RecordSummary]:
    """Every record read from scan `scan_id` that `who` sees, second scans and voided ones
    included, in the file's page order."""
    out: list[RecordSummary] = []
    for status in (None, "voided"):
        offset = 0
        while True:
            rows, total = store.list_records(
                status=status, duplicates=True, offset=offset, limit=500, scan_ids=[scan_id]
            )
            out += [r for r in rows if who.sees(r.station)]
            offset += len(rows)
            if not rows or offset >= total:
                break
    return sorted(out, key=lambda r: (min(r.file_pages, default=0), r.document_id))


def restore_record(store: Store, who: Viewer, record_id: str) -> RecordSummary:
    """恢复 a voided record `who` sees.  NotFoundError (404), ConflictError (409)."""
    visible_record(store, who, record_id)
    return store.restore_record(record_id, who.username)


def unverify_record(store: Store, who: Viewer, record_id: str) -> RecordSummary:
    """撤销确认 of a record `who` sees.  NotFoundError (404), ConflictError (409: not
    confirmed, voided, or its file is damaged)."""
    visible_record(store, who, record_id)
    return store.unverify_record(record_id, who.username)


def set_station(store: Store, who: Viewer, record_id: str, station: str | None) -> RecordSummary:
    """设置维修站 of a record (back office only: NotAllowed, 403); `station` a registered
    code as typed (`find_station`: hn01 is HN01; NotFoundError, 404, naming it) or None for
    the back office's own — said explicitly: "" or spaces are Refused (422), never taken
    as clearing the station.
    ConflictError (409) when unchanged or voided."""
    if who.role != "back_office":
        raise NotAllowed("只有售后服务部(后台)用户可以设置记录的维修站")
    visible_record(store, who, record_id)
    if station is not None and not station.strip():
        raise Refused("请选择维修站;记录不属于任何维修站时请选择“售后服务部(无维修站)”")
    code = None if station is None else require_station(store, station).code
    try:
        return store.set_record_station(record_id, code, who.username)
    except NotFoundError:
        raise not_found("这条记录") from None


__all__ = [
    "ConflictError",
    "NotAllowed",
    "batch_records",
    "restore_record",
    "set_station",
    "unverify_record",
    "void_batch",
    "void_record",
]
