"""A person's actions on a whole record (issue 12, point 3) — 作废 (void), 恢复 (restore),
撤销确认 (unverify), 设置维修站 (set station) — as every store applies them: the record's
new summary row and the RecordEvent that audits it.  The stores only read the row (and
the record body where the action needs it) and write both back in one transaction.

A voided record keeps everything it had; its status is "voided", which every listing,
count, export and reconciliation leaves out unless asked for (store.interface), and a
new reading or a correction of it never brings it back (`kept_state`): only 恢复 does.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from formdesk.model.errors import ConflictError
from formdesk.model.stored import RecordAction
from formdesk.model.time import format_time

from .summary import reader_status, search_text

VOIDED = "这条记录已作废,请先恢复"
MAX_REASON = 200  # characters of a void reason


def kept_state(row: dict[str, Any], old: dict[str, Any] | None) -> dict[str, Any]:
    """`row` (a freshly summarised row) with the old row's voided status kept: a record a
    person voided stays voided whatever a new reading or a correction says."""
    if old is not None and old.get("status") == "voided":
        return {**row, "status": "voided"}
    return row


def act(
    row: dict[str, Any],
    record: dict[str, Any] | None,
    action: RecordAction,
    user: str,
    now: datetime,
    *,
    reason: str | None = None,
    station: str | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the record's new summary row, the event as a dict without its id) for `action` by
    `user` at `now` on the record whose row (JSON-shaped, times as text) is `row`;
    `record` is its body, needed for unverify and set_station (None: damaged).

    ConflictError (409, Chinese) for an action that does not apply: voiding a voided
    record, restoring one that is not voided, undoing a confirmation that was not made,
    any action but restore on a voided record, unverify or set_station on a damaged one;
    ValueError (Chinese) for a void without a reason or with one over 200 characters."""
    status = row["status"]
    at = format_time(now)
    event: dict[str, Any] = {
        "record_id": row["record_id"],
        "action": action,
        "user": user,
        "at": at,
        "reason": None,
        "old": None,
        "new": None,
    }
    new = {**row, "updated_at": at}
    if action == "restore":
        if status != "voided":
            raise ConflictError("这条记录没有作废,无需恢复")
        # back to what it was: confirmed if a person had confirmed it, else as read
        new["status"] = "verified" if row.get("verified_by") else _read_status(row, record)
        return new, event
    if status == "voided":
        raise ConflictError(VOIDED)
    if action == "void":
        why = (reason or "").strip()
        if not why:
            raise ValueError("请说明作废的原因")
        if len(why) > MAX_REASON:
            raise ValueError(f"作废原因不能超过 {MAX_REASON} 个字")
        new["status"] = "voided"
        event.update(reason=why, old=status)
        return new, event
    if record is None or not record:
        raise ConflictError("这条记录的识读结果无法读取,不能这样操作")
    if action == "unverify":
        if status != "verified":
            raise ConflictError("这条记录尚未确认,无需撤销")
        new.update(status=reader_status(record), verified_by=None, verified_at=None)
        event.update(old=row.get("verified_by"))
        return new, event
    if action == "set_station":
        if station == row.get("station"):
            raise ConflictError("维修站没有变化")
        new["station"] = station
        new["search_text"] = search_text(record, station)
        event.update(old=row.get("station"), new=station)
        return new, event
    raise ValueError(f"未知的操作:{action}")


def _read_status(row: dict[str, Any], record: dict[str, Any] | None) -> str:
    """ready / needs_review as the reader left it: from the body when there is one, else
    from the row's own figures (nothing to check: ready)."""
    if record:
        return reader_status(record)
    return "needs_review" if row.get("fields_to_check") or row.get("reasons") else "ready"
