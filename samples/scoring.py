"""Comparing what the reader read with the truth a sample was made from: shared by the
tests and bench/read_bench.py so both count the same way."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from formdesk.model.record import FieldReading, FormRecord
from formdesk.templates.schema import Column, FieldType, FormField, Template

MEASURED = frozenset({FieldType.checkbox, FieldType.choice, FieldType.circle_choice})
PRESENCE = frozenset({FieldType.signature, FieldType.seal})


def expected_value(spec: FormField | Column, value: Any) -> Any:
    """What the reader should report for a true value: signatures and seals are read as
    present (True) or absent, not transcribed."""
    if spec.type in PRESENCE:
        return True if value else None
    if spec.type == FieldType.table:
        cols = {c.key: c for c in spec.columns}
        rows = [
            {k: expected_value(cols[k], v) for k, v in row.items() if k in cols}
            for row in value or []
        ]
        return rows or None
    if value in ("", []):
        return None
    return value


def same(a: Any, b: Any) -> bool:
    """Equal, except that spaces inside text (轩逸 1.6L vs 轩逸1.6L) do not count: OCR
    cannot see a typographic space between Chinese and Latin characters."""
    if isinstance(a, str) and isinstance(b, str):
        return a.replace(" ", "") == b.replace(" ", "")
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return a == b


@dataclass(frozen=True)
class Outcome:
    """One field (or table cell) compared with the truth."""

    key: str
    type: FieldType
    correct: bool
    status: str
    read: Any
    truth: Any


def outcomes(record: FormRecord, template: Template, truth: dict[str, Any]) -> list[Outcome]:
    out: list[Outcome] = []
    for f in record.fields:
        spec = template.field(f.key)
        if spec.type != FieldType.table:
            exp = expected_value(spec, truth.get(f.key))
            out.append(Outcome(f.key, spec.type, same(f.value, exp), f.status, f.value, exp))
            continue
        out.extend(_table_outcomes(f, spec, truth.get(f.key) or []))
    return out


def _table_outcomes(f: FieldReading, spec: FormField, rows: list[dict]) -> list[Outcome]:
    cols = {c.key: c for c in spec.columns if c.type != FieldType.serial}
    read_rows = f.rows or []
    out = []
    for i in range(max(len(read_rows), len(rows))):
        got = read_rows[i] if i < len(read_rows) else {}
        want = rows[i] if i < len(rows) else {}
        for key, col in cols.items():
            cell: FieldReading | None = got.get(key)
            exp = expected_value(col, want.get(key))
            value = cell.value if cell else None
            status = cell.status if cell else "empty"
            out.append(
                Outcome(f"{f.key}[{i + 1}].{key}", col.type, same(value, exp), status, value, exp)
            )
    return out
