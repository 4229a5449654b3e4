"""Reading fields the slow way: OCR the whole page, then drop each detected line into the
field whose box holds it.  Kept as the yardstick the field-crop reader is measured against
(bench/read_bench.py); the reader itself uses whole-page OCR only to name a page whose
marks are missing (locate.recognise_unmarked)."""

from __future__ import annotations

from typing import Any

from formdesk.templates.geometry import Rect
from formdesk.templates.layout import table_grid, value_rect
from formdesk.templates.schema import Column, FieldType, FormField, Template
from formdesk.templates.values.normalize import normalize

from .charsets import clean_ocr
from .locate import LocatedForm
from .ocr import DetectedLine

NOT_TEXT = frozenset(
    {
        FieldType.checkbox,
        FieldType.choice,
        FieldType.circle_choice,
        FieldType.signature,
        FieldType.seal,
        FieldType.serial,
    }
)


def _inside(r: Rect, x: float, y: float) -> bool:
    return r.x <= x <= r.right and r.y <= y <= r.bottom


def _value(spec: FormField | Column, texts: list[tuple[float, float, str]]) -> Any:
    if not texts:
        return None
    texts.sort(key=lambda t: (round(t[1] / 3), t[0]))
    try:
        return normalize(spec, clean_ocr(spec.type, "".join(t[2] for t in texts)))
    except ValueError:
        return None


def fields_from_lines(
    form: LocatedForm, lines: list[DetectedLine], page: int = 1
) -> dict[str, Any]:
    """Values of the text fields (and table text cells) of one located form."""
    template: Template = form.template
    placed = []
    for line in lines:
        cx, cy = line.box.mean(axis=0)
        x, y = form.alignment.to_form_mm((float(cx), float(cy)))
        placed.append((x, y, line.text))
    out: dict[str, Any] = {}
    if page == 1:
        for f in template.fields:
            if f.type in NOT_TEXT or f.type == FieldType.table:
                continue
            v = value_rect(template, f)
            out[f.key] = _value(f, [p for p in placed if _inside(v, p[0], p[1])])
    for table in template.table_fields:
        area = table.rect if page == 1 else template.continuation_rect(table)
        rows = []
        for cells in table_grid(template, table, area).rows:
            row = {}
            for col, cell in zip(table.columns, cells, strict=True):
                if col.type in NOT_TEXT:
                    continue
                value = _value(col, [p for p in placed if _inside(cell, p[0], p[1])])
                if value is not None:
                    row[col.key] = value
            if row:
                rows.append(row)
        out[table.key] = rows
    return out


__all__ = ["NOT_TEXT", "fields_from_lines"]
