"""Bulk confirmation of the review queue (issue 12, point 4): records whose every field is
ok by the reader (no field to check) and whose only reasons to be in the queue are ones
the clerk accepts — e.g. 签名不符 on the sample scans, signed with another installation's
key — are confirmed together, after the clerk has seen how many.  Only reasons about
where a form came from (BULKABLE) qualify; a record with any other problem is opened.

The candidates are found again when confirming; if the queue changed in between (another
clerk, a new upload), nothing is confirmed and the clerk is told the new count.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from pydantic import BaseModel, Field

from formdesk.model.errors import ConflictError
from formdesk.model.stored import RecordSummary
from formdesk.store import Store
from formdesk.store.summary import DUPLICATE_SCAN, OCR_ID, SIGNATURE_MISMATCH

from .refusals import Refused
from .viewers import Viewer

PAGE = 500  # summaries fetched per listing call
# the reasons a clerk may accept for many records at once: facts about where a form came
# from, not doubts about what it says (a missing page, a photocopy, a form classified by
# hand need each record opened)
BULKABLE = frozenset({SIGNATURE_MISMATCH, OCR_ID, DUPLICATE_SCAN})


class ReasonCount(BaseModel):
    """One reason met among the candidates and on how many of them."""

    reason: str
    records: int


class ReasonGroup(BaseModel):
    """Candidates that share one set of reasons (sorted), and how many they are."""

    reasons: list[str]
    records: int


class BulkCandidates(BaseModel):
    """What bulk confirmation could take in one queue (station, form): `records` in all
    (every field ok by the reader), `reasons` met on them with counts (most common
    first), `groups` of records by their whole set of reasons (so a page can count what
    a choice of reasons takes), and `without_reason`: those with no reason at all."""

    records: int = 0
    reasons: list[ReasonCount] = Field(default_factory=list)
    groups: list[ReasonGroup] = Field(default_factory=list)
    without_reason: int = 0


def _queue(
    store: Store, who: Viewer, station: str | None, template: str | None
) -> Iterator[RecordSummary]:
    """Every record waiting for review in the queue `who` sees (a station user: its own)."""
    station = who.station_filter or station
    offset = 0
    while True:
        rows, total = store.list_records(
            template=template or None,
            station=station or None,
            status="needs_review",
            order="newest",
            offset=offset,
            limit=PAGE,
        )
        yield from rows
        offset += len(rows)
        if not rows or offset >= total:
            return


def _all_ok(summary: RecordSummary) -> bool:
    """Every field ok by the reader, and only reasons bulk confirmation may take."""
    return summary.fields_to_check == 0 and set(summary.reasons) <= BULKABLE


def bulk_candidates(
    store: Store, who: Viewer, station: str | None = None, template: str | None = None
) -> BulkCandidates:
    """The records of the queue whose fields are all ok by the reader, by reason."""
    reasons: Counter[str] = Counter()
    groups: Counter[tuple[str, ...]] = Counter()
    out = BulkCandidates()
    for s in _queue(store, who, station, template):
        if not _all_ok(s):
            continue
        out.records += 1
        if not s.reasons:
            out.without_reason += 1
        reasons.update(dict.fromkeys(s.reasons, 1))
        groups[tuple(sorted(set(s.reasons)))] += 1
    out.reasons = [ReasonCount(reason=r, records=n) for r, n in reasons.most_common()]
    out.groups = [ReasonGroup(reasons=list(k), records=n) for k, n in groups.most_common()]
    return out


def chosen(summary: RecordSummary, accept: set[str]) -> bool:
    """Whether bulk confirmation takes this record: every field ok by the reader and every
    reason one the clerk accepts."""
    return _all_ok(summary) and set(summary.reasons) <= accept


def bulk_verify(
    store: Store,
    who: Viewer,
    accept: list[str],
    expected: int,
    *,
    station: str | None = None,
    template: str | None = None,
) -> list[str]:
    """Confirms (复核完成, by `who.username`) every record of the queue that `chosen`
    takes for the reasons `accept`; returns their ids.  Refused (422) when no reason is
    accepted or nothing matches; ConflictError (409, with the new count) when the number
    found is not `expected`, the count the clerk was shown — then nothing is confirmed."""
    if not accept:
        raise Refused("请至少选择一个可以接受的复核原因")
    wanted = set(accept)
    ids = [s.record_id for s in _queue(store, who, station, template) if chosen(s, wanted)]
    if not ids:
        raise Refused("没有符合条件的记录可以批量确认")
    if len(ids) != expected:
        raise ConflictError(
            f"复核队列已有变化:现在符合条件的是 {len(ids)} 条(确认时显示的是 {expected} 条),"
            "请刷新后再确认"
        )
    for rid in ids:
        store.verify_record(rid, who.username)
    return ids
