"""The values a read record is printed again with (`POST /api/records/{id}/reprint.pdf`).

A field is printed with its value as read or corrected. Signatures and seals are left for
a person, and a 大写 amount is derived again from its 小写 figures (`normalize_record`).
A field, or table cell, whose reading is invalid (`status` "invalid": its text could not be
taken as a value of its type, so the record holds no value) is never printed blank in
silence: the reprint is refused naming it, until someone corrects it on the 复核 page.
"""

from __future__ import annotations

from typing import Any

from formdesk.templates.values.normalize import FieldValueError

LEFT_FOR_A_PERSON = ("signature", "seal", "money_words")


def _unread(label: str, key: str, reading: dict[str, Any], row: int | None = None) -> None:
    if reading.get("status") == "invalid" and reading.get("value") in (None, ""):
        why = reading.get("reason") or "识读结果不是有效的值"
        raise FieldValueError(
            key, f"识读结果无效({why}),请先在复核页更正这一栏再重新打印", row=row, label=label
        )


def reprint_values(record: dict[str, Any]) -> dict[str, Any]:
    """Field key -> value of a stored record (its "fields": FieldReading dicts, a table's
    cells under "rows"), without the fields left for a person; `normalize_record` then
    checks them against the template (a key it does not have is refused there, not dropped).
    FieldValueError names the first field (or row and column) whose reading is invalid
    and uncorrected."""
    values: dict[str, Any] = {}
    for field in record.get("fields", []):
        key, kind = field.get("key"), field.get("type")
        if kind in LEFT_FOR_A_PERSON:
            continue
        _unread(field.get("label", key), key, field)
        for n, row in enumerate(field.get("rows") or [], start=1):
            for column, cell in row.items():
                if cell.get("type") not in LEFT_FOR_A_PERSON:
                    _unread(cell.get("label", column), f"{key}.{column}", cell, row=n)
        if field.get("value") not in (None, ""):
            values[key] = field["value"]
    return values
