"""Refused pages as every store keeps them (issue 12, point 3): what a reading of a scan
does to the PageRefusal rows of its pages (`page_outcomes`), and a person's change of one
(`changed_refusal`).  Rows are JSON-shaped dicts (times as text); the stores read and write
them in one transaction."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from formdesk.model.errors import ConflictError, NotFoundError
from formdesk.model.scans import PageRefusal, refusal_id_of
from formdesk.model.time import format_time

SETTLED = ("resolved", "discarded")


def _now() -> str:
    return format_time(datetime.now(UTC))


def page_outcomes(
    stored: Callable[[str], dict[str, Any] | None],
    scan_id: str,
    station: str | None,
    batch_id: str,
    filename: str,
    problems: dict[int, str],
    records: dict[int, list[str]],
) -> list[dict[str, Any]]:
    """The refusal rows to write after reading `scan_id` for `station` (`stored(id)` the
    row stored under an id, or None): each refused page open (new, or again with the new
    reason), unless a person already settled it; a requeued page that now gave records
    resolved with their ids.  Pages neither refused nor requeued are not touched."""
    now = _now()
    out: list[dict[str, Any]] = []
    for page, reason in sorted(problems.items()):
        rid = refusal_id_of(scan_id, page, station)
        old = stored(rid)
        if old is not None and old["state"] in SETTLED:
            continue
        base = old or PageRefusal(
            refusal_id=rid,
            scan_id=scan_id,
            file_page=page,
            filename=filename,
            station=station,
            batch_id=batch_id,
            reason=reason,
        ).model_dump(mode="json")
        out.append({**base, "reason": reason, "state": "open", "batch_id": batch_id,
                    "updated_at": now})  # fmt: skip
    for page, ids in sorted(records.items()):
        if page in problems:
            continue
        rid = refusal_id_of(scan_id, page, station)
        old = stored(rid)
        if old is not None and old["state"] == "requeued":
            out.append({**old, "state": "resolved", "record_ids": ids, "updated_at": now})
    return out


def changed_refusal(
    row: dict[str, Any] | None, refusal_id: str, from_states: list[str], changes: dict[str, Any]
) -> dict[str, Any]:
    """The row with a person's `changes`, updated now; NotFoundError (404) when there is no
    such refusal, ConflictError (409) when its state is not one of `from_states`."""
    if row is None:
        raise NotFoundError(f"找不到这一页(“{refusal_id}”)")
    if row["state"] not in from_states:
        raise ConflictError("这一页已经处理过了,请刷新")
    allowed = {"state", "template", "form_page", "settled_by", "note", "record_ids", "batch_id"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValueError(f"不能修改:{', '.join(sorted(unknown))}")
    new = {**row, **changes, "updated_at": _now()}
    return PageRefusal.model_validate(new).model_dump(mode="json")
