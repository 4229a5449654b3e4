"""What a record's summary says, derived from the reader's FormRecord dict (`summarise`),
and how a reviewer's correction changes that dict — the same rules in every store."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ValidationError

from formdesk.model.record import FieldReading, FormRecord
from formdesk.model.stored import RecordSummary
from formdesk.model.time import format_time

# what filing says about a record's identity (issue 10, point 5); the reasons list shows them
SIGNATURE_MISMATCH = "签名不符"  # the QR is not signed with this installation's key
OCR_ID = "文档号由OCR识别"
OCR_ID_UNMATCHED = OCR_ID + ",无法与已登记的文档唯一对应"  # a problem: needs review
DUPLICATE_SCAN = "重复扫描"
PHOTOCOPY = "疑似复印件:同一文档号出现在内容不同的表单上"  # a problem: needs review
RESCAN_UNSURE = "同一文档号已有另一份扫描,内容部分不同,请核对是重复扫描还是复印件"  # a problem


def ocr_id_matched(document_id: str) -> str:
    """The note on a record whose OCR'd id the registry confirmed (no review forced)."""
    return f"{OCR_ID},已与登记的文档 {document_id} 对应"


def parse_record(record: dict[str, Any] | BaseModel) -> dict[str, Any]:
    """The record as the reader's FormRecord dumps it; a Chinese ValueError if it is not one."""
    try:
        form = record if isinstance(record, FormRecord) else FormRecord.model_validate(dict(record))
    except (ValidationError, TypeError) as exc:
        raise ValueError(f"识读结果格式不对:{exc}") from None
    return form.model_dump(mode="json")


def reader_status(record: dict[str, Any]) -> str:
    """ready / needs_review of a stored record dict: `FormRecord.status`."""
    return FormRecord.model_validate(record).status


def record_reasons(record: dict[str, Any]) -> list[str]:
    """Why a record may need a look, short Chinese lines for the 复核 queue and the record
    page, in this order: 签名不符 (authentic is False), 文档号由OCR识别 (identified_by ocr; the
    longer problem when the registry could not confirm it), 重复扫描 (filing.duplicate_of),
    the record's problems as the reader and filing wrote them (缺少第 n 页, 疑似复印件 …), and
    "n 栏需核对" (fields_to_check). [] for a clean record."""
    out: list[str] = []
    problems = [str(p) for p in record.get("problems") or []]
    if record.get("authentic") is False:
        out.append(SIGNATURE_MISMATCH)
    if record.get("identified_by") == "ocr" and not any(p.startswith(OCR_ID) for p in problems):
        out.append(OCR_ID)
    if (record.get("filing") or {}).get("duplicate_of"):
        out.append(DUPLICATE_SCAN)
    out += problems
    n = fields_to_check(record)
    if n:
        out.append(f"{n} 栏需核对")
    return out


def fields_to_check(record: dict[str, Any]) -> int:
    """Fields a reviewer should look at: `FormRecord.fields_to_check` of a stored dict."""
    return FormRecord.model_validate(record).fields_to_check()


def min_confidence(record: dict[str, Any]) -> float:
    """The least confidence over the fields that were read (empty boxes say nothing); a
    field the reader could not accept counts as 0, one it doubts as at most 0.5, so the
    review queue puts them first whatever the OCR score was."""
    cap = {"invalid": 0.0, "check": 0.5}
    return min(
        (
            min(float(f.get("confidence", 0.0)), cap.get(f.get("status"), 1.0))
            for f in record.get("fields", [])
            if f.get("status") != "empty"
        ),
        default=1.0,
    )


def _texts(value: Any) -> list[str]:
    if isinstance(value, bool) or value is None:
        return []
    if isinstance(value, str):
        return [value] if value.strip() else []
    if isinstance(value, int | float):
        return [str(value)]
    if isinstance(value, list):
        return [t for v in value for t in _texts(v)]
    if isinstance(value, dict):
        return [t for v in value.values() for t in _texts(v)]
    return []


def search_text(record: dict[str, Any], station: str | None) -> str:
    parts = [record.get("template", ""), record.get("document_id", ""), station or ""]
    for f in record.get("fields", []):
        parts.extend(_texts(f.get("value")))
    return " ".join(p for p in parts if p)


# the listed values (RecordSummary.key_values): list key → the form fields that hold it
KEY_VALUES = {
    "vin": ("vin",),
    "plate": ("plate_no", "plate"),
    "claim_no": ("claim_no",),
    "repair_date": ("repair_date", "entry_date"),
    "part_no": ("part_no",),
    "month": ("report_month", "record_month"),
}


def key_values(record: dict[str, Any]) -> dict[str, Any]:
    """The values that tell a record apart in a list (KEY_VALUES), those read."""
    by_key = {f.get("key"): f.get("value") for f in record.get("fields", [])}
    out = {}
    for name, keys in KEY_VALUES.items():
        value = next((by_key[k] for k in keys if by_key.get(k) not in (None, "")), None)
        if value is not None and not isinstance(value, list | dict):
            out[name] = value
    return out


def file_pages(record: dict[str, Any]) -> list[int]:
    return list(dict.fromkeys(int(p["file_page"]) for p in record.get("pages", [])))


# -- corrections ---------------------------------------------------------------------------------


def same_value(old: Any, new: Any) -> bool:
    """Whether a reviewer's value is the one already there (a confirmation, not a change):
    equal, or both empty (None / blank text)."""

    def norm(v: Any) -> Any:
        return None if v is None or (isinstance(v, str) and not v.strip()) else v

    return norm(old) == norm(new)


def _set_value(
    reading: dict[str, Any], value: Any, user: str | None = None, at: str | None = None
) -> None:
    """A person's value: certain; the raw OCR text stays for the audit.  Marked
    `reviewed` "confirmed" when it is the value already there (人工确认原值), else
    "corrected" (已更正), with who and when (issue 12, point 4)."""
    empty = value is None or (isinstance(value, str) and not value.strip())
    kept = same_value(reading.get("value"), value)
    reading["value"] = None if empty else value
    reading["status"] = "empty" if empty else "ok"
    reading["confidence"] = 1.0
    reading["reason"] = None
    # a person set it (see extract/evidence.py)
    reading["evidence"] = ["confirmed" if kept else "corrected"]
    reading["reviewed"] = "confirmed" if kept else "corrected"
    reading["reviewed_by"] = user
    reading["reviewed_at"] = at


def summarise_table_cells(field: dict[str, Any]) -> None:
    """The table field dict again from its cells, in place (`FieldReading.summarise_rows`)."""
    typed = FieldReading.model_validate(field)
    typed.summarise_rows()
    fresh = typed.model_dump(mode="json", include={"status", "value", "confidence", "reason"})
    field.update(fresh)


def apply_correction(
    record: dict[str, Any],
    field_key: str,
    new_value: Any,
    row: int | None = None,
    column: str | None = None,
    user: str | None = None,
    at: datetime | str | None = None,
) -> Any:
    """Sets one field (or one table cell) in `record`, in place, marked reviewed by `user`
    at `at` (`_set_value`); returns the old value.  ValueError (Chinese) for a field, row
    or column the record has not.

    `row` is the table row number as printed and as the reader's messages say it (第n行):
    1 is the first row.
    """
    # one spelling of the time, whether it comes as a datetime (a correction being made)
    # or as stored text (corrections applied again to a new reading)
    when = format_time(datetime.fromisoformat(at) if isinstance(at, str) else at) if at else None
    field = next((f for f in record.get("fields", []) if f.get("key") == field_key), None)
    if field is None:
        raise ValueError(f"记录里没有栏目“{field_key}”")
    label = field.get("label") or field_key
    if row is None:
        if column is not None:
            raise ValueError("更正表格单元格需同时指定行和列")
        if field.get("rows") is not None:
            raise ValueError(f"“{label}”是表格,请逐格更正(指定行和列)")
        old = field.get("value")
        _set_value(field, new_value, user, when)
        return old
    rows = field.get("rows")
    if rows is None:
        raise ValueError(f"“{label}”不是表格,不能按行更正")
    if not 1 <= row <= len(rows):
        raise ValueError(f"表格“{label}”没有第{row}行")
    cell = rows[row - 1].get(column) if column is not None else None
    if cell is None:
        raise ValueError(f"表格“{label}”没有“{column}”这一列")
    old = cell.get("value")
    _set_value(cell, new_value, user, when)
    summarise_table_cells(field)
    return old


# -- the summary row -----------------------------------------------------------------------------


def summarise(
    record_id: str,
    scan_id: str,
    station: str | None,
    record: dict[str, Any],
    created_at: datetime | str,
    updated_at: datetime | str,
) -> RecordSummary:
    """The listable summary of a stored record dict (corrections applied), as every store
    keeps it: the reader's status (never verified: a new reading or a correction clears a
    verification), the review figures, the search text and the reasons to look."""
    return RecordSummary(
        record_id=record_id,
        template=record["template"],
        template_version=record["template_version"],
        document_id=record["document_id"],
        copy_index=record.get("copy_index", 1),
        station=station,
        status=reader_status(record),
        min_confidence=min_confidence(record),
        fields_to_check=fields_to_check(record),
        scan_id=scan_id,
        file_pages=file_pages(record),
        created_at=created_at,
        updated_at=updated_at,
        search_text=search_text(record, station),
        duplicate_of=(record.get("filing") or {}).get("duplicate_of") or None,
        reasons=record_reasons(record),
        key_values=key_values(record),
    )


def interrupted(filename: str, attempts: int) -> str:
    """A job's reason when the reading of `filename` was cut off `attempts` times (a crash,
    a worker killed) and is not tried again."""
    return (
        f"{filename}:识读失败:服务在识读这个文件时中断(已尝试 {attempts} 次),"
        "不再重试;如文件无误,请重新上传"
    )
