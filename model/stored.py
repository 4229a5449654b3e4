"""A read record as the store keeps it: its listable summary, its fields, and the
reviewers' corrections (appended, never edited)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from .time import Timestamp, utcnow

# voided (作废): kept and audited, out of every list, count, export and reconciliation
# unless asked for by this status (issue 12, point 3)
SummaryStatus = Literal["ready", "needs_review", "verified", "voided"]


class RecordSummary(BaseModel):
    """The small, listable part of a record; the fields themselves live in its own file."""

    record_id: str
    template: str
    template_version: int
    document_id: str
    copy_index: int = 1
    station: str | None = None
    status: SummaryStatus
    min_confidence: float  # over the fields that were read (empty ones excluded)
    fields_to_check: int  # fields (table cells counted one by one) a reviewer should look at
    scan_id: str
    file_pages: list[int] = Field(default_factory=list)  # 0-based pages of the scan
    created_at: Timestamp
    updated_at: Timestamp
    verified_by: str | None = None
    verified_at: Timestamp | None = None
    search_text: str = ""  # template, document id, station and the text values
    duplicate_of: str | None = None  # 重复扫描: the record of the first scan of this document
    reasons: list[str] = Field(default_factory=list)  # why it needs a look (summary.record_reasons)
    # the values a list shows to tell records apart (store.summary.KEY_VALUES): vin, plate,
    # claim_no, repair_date, part_no, month — those the form has and were read
    key_values: dict[str, Any] = Field(default_factory=dict)


class StoredRecord(BaseModel):
    summary: RecordSummary
    record: dict[str, Any]  # FormRecord.model_dump(mode="json"), corrections applied
    damaged: str | None = None  # why the record's file cannot be read (Chinese); record is {}


class Correction(BaseModel):
    """One reviewer's change of one value: appended, never edited or deleted."""

    correction_id: str
    record_id: str
    field_key: str
    row: int | None = None  # table row number, 1 = the first row (第1行), as printed
    column: str | None = None  # the column key within that row
    old_value: Any = None
    new_value: Any = None
    user: str
    at: Timestamp = Field(default_factory=utcnow)


RecordAction = Literal["void", "restore", "unverify", "set_station"]
RECORD_ACTION_LABELS = {
    "void": "作废",
    "restore": "恢复",
    "unverify": "撤销确认",
    "set_station": "设置维修站",
}


class RecordEvent(BaseModel):
    """One person's action on a whole record (issue 12, point 3), appended, never edited:
    作废 (void, with the reason), 恢复 (restore), 撤销确认 (unverify), 设置维修站
    (set_station: `old` and `new` station codes, None for the back office's)."""

    event_id: str
    record_id: str
    action: RecordAction
    user: str
    at: Timestamp = Field(default_factory=utcnow)
    reason: str | None = None  # why (作废: required)
    old: str | None = None
    new: str | None = None
