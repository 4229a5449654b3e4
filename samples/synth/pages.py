"""Pages: a blank form rendered with its identity and filled in by hand, a prefilled form,
a gang sheet of tags, and loose tags photographed side by side."""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pypdfium2 as pdfium

from formdesk.render.document import A4, PdfRenderer
from formdesk.render.frame import column_heading
from formdesk.templates.geometry import Rect, gang_slots
from formdesk.templates.layout import (
    cell_options,
    cell_square,
    checkbox_square,
    date_slots,
    option_layout,
    table_font_size,
    table_grid,
    value_rect,
)
from formdesk.templates.schema import Column, FieldType, FormField, Template
from formdesk.templates.values.dates import parse_date, parse_datetime, parse_time
from formdesk.templates.values.normalize import display, normalize_record

from .hand import (
    DPI,
    Hand,
    HandSource,
    InkCanvas,
    circle,
    stamp_seal,
    tick,
    write_signature,
    write_text,
)

NO_WRAP_TYPES = (
    FieldType.vin,
    FieldType.engine_no,
    FieldType.plate,
    FieldType.phone,
    FieldType.integer,
    FieldType.decimal,
    FieldType.money,
)


def document_id_for(rng: np.random.Generator, day: date | None = None) -> str:
    """A document id like the renderer's (date-prefixed), but drawn from `rng`."""
    d = day or date(2024, 1, 1)
    return f"{d:%y%m%d}-{int(rng.integers(0, 1 << 40)):010X}"


def _day_of(values: dict[str, Any], template: Template) -> date | None:
    """The latest date on the form: the document was printed shortly before that."""
    days = []
    for f in template.fields:
        v = values.get(f.key)
        if v and f.type in (FieldType.date, FieldType.datetime):
            days.append(date.fromisoformat(v[:10]))
        elif v and f.type == FieldType.month:
            days.append(date.fromisoformat(v + "-01"))
    return max(days) if days else None


def rasterise(pdf_path: Path, page_index: int = 0, dpi: int = DPI) -> np.ndarray:
    """A PDF page as a BGR uint8 image."""
    pdf = pdfium.PdfDocument(str(pdf_path))
    try:
        img = pdf[page_index].render(scale=dpi / 72).to_numpy()
    finally:
        pdf.close()
    if img.ndim == 2:
        return cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    if img.shape[2] == 4:
        return cv2.cvtColor(img, cv2.COLOR_BGRA2BGR)
    return np.ascontiguousarray(img[:, :, :3])


def _page_index(template: Template, pages: int, page: int, copy: int) -> int:
    return (copy - 1) * pages + (page - 1)


def _render(
    template: Template,
    docs: list[tuple[dict[str, Any] | None, str]],
    key: bytes,
    gang: bool,
    page_index: int,
) -> np.ndarray:
    with tempfile.TemporaryDirectory(prefix="synth-") as tmp:
        out = Path(tmp) / "form.pdf"
        with PdfRenderer(out, key, gang=gang) as r:
            for values, doc_id in docs:
                r.add(template, values, document_id=doc_id)
        return rasterise(out, page_index)


def _form_truth(template, doc_id, page, copy, values, handwritten) -> dict[str, Any]:
    return {
        "template": template.code,
        "document_id": doc_id,
        "page": page,
        "copy": copy,
        "values": values,
        "handwritten": handwritten,
    }


def hand_truth(hand: Hand) -> dict[str, Any]:
    """What the truth says about a hand source's writer (nothing for the development
    hands, so their truth files stay as they were): `hand` (the source's name),
    `hand_fallback` (char -> the face that wrote it instead of the source's first choice,
    when any) and `hand_digits` (the MNIST rows pasted, in writing order, when any)."""
    if hand.source is None or hand.log is None:
        return {}
    out: dict[str, Any] = {"hand": hand.source.name}
    if hand.log.fallback:
        out["hand_fallback"] = dict(sorted(hand.log.fallback.items()))
    if hand.log.mnist_rows:
        out["hand_digits"] = list(hand.log.mnist_rows)
    return out


def _blank_values(template: Template, values: dict[str, Any]) -> dict[str, Any] | None:
    """Empty rows, so the blank form has as many pages as the filled one will."""
    if not template.table_fields:
        return None
    table = template.table_fields[0]
    rows = values.get(table.key) or []
    return {table.key: [{} for _ in rows]} if rows else None


# -- writing a form -----------------------------------------------------------------------------
def _hand_date(spec: Spec, value: str, rng: np.random.Generator) -> str:
    """How a person writes a date/time in a table cell (no printed 年月日 there)."""
    t = spec.type
    if t == FieldType.date:
        d = parse_date(value)
        forms = [
            f"{d.year}年{d.month}月{d.day}日",
            f"{d.year}.{d.month}.{d.day}",
            f"{d.year}-{d.month}-{d.day}",
            f"{d.year}/{d.month}/{d.day}",
        ]
        return forms[int(rng.choice(4, p=[0.4, 0.35, 0.15, 0.1]))]
    if t == FieldType.datetime:
        dt = parse_datetime(value)
        day = [f"{dt.year}.{dt.month}.{dt.day}", f"{dt.year}-{dt.month}-{dt.day}"][
            int(rng.integers(2))
        ]
        return f"{day} {dt.hour}:{dt.minute:02d}"
    if t == FieldType.time:
        tm = parse_time(value)
        return (
            f"{tm.hour}:{tm.minute:02d}" if rng.random() < 0.7 else f"{tm.hour}时{tm.minute:02d}分"
        )
    return display(spec, value)


Spec = FormField | Column


def _hand_text(spec: Spec, value: Any, rng: np.random.Generator) -> str:
    t = spec.type
    text = display(spec, value)
    if t == FieldType.money and text.endswith(".00") and rng.random() < 0.15:
        return text[:-3]  # people often leave off the .00
    return text


def _write_dates(canvas, template, field, value, hand, rng) -> None:
    text = str(value)
    if field.type == FieldType.time:
        parts = text.split(":")
    else:
        date_part, _, time_part = text.partition(" ")
        parts = date_part.split("-") + (time_part.split(":") if time_part else [])
    slots = date_slots(template, field)
    glyph = min(hand.size_frac * slots[0].digits.h, hand.max_glyph_mm)
    for slot, part in zip(slots, parts, strict=False):
        if slot.guide_text == "分" or not part.isdigit():
            digits = part
        elif (
            slot.guide_text in ("月", "日")
            and len(part) == 2
            and part[0] == "0"
            and rng.random() < 0.15
        ):
            digits = part  # some write 03月
        else:
            digits = str(int(part))
        r = slot.digits
        write_text(
            canvas, digits, r, hand, rng, may_wrap=False, align="center", glyph_mm=glyph, tight=True
        )


def write_field(
    canvas: InkCanvas,
    template: Template,
    field: FormField,
    value: Any,
    hand: Hand,
    rng: np.random.Generator,
) -> None:
    t = field.type
    v = value_rect(template, field)
    if t in (FieldType.date, FieldType.month, FieldType.datetime, FieldType.time):
        _write_dates(canvas, template, field, value, hand, rng)
    elif t == FieldType.choice:
        for opt in option_layout(template, field):
            if opt.text == value:
                tick(canvas, opt.mark, v, hand, rng)
    elif t == FieldType.circle_choice:
        for opt in option_layout(template, field):
            if opt.text == value:
                circle(canvas, opt.mark, v, hand, rng)
    elif t == FieldType.checkbox:
        if value:
            tick(canvas, checkbox_square(template, field), v, hand, rng)
    elif t == FieldType.seal:
        stamp_seal(canvas, str(value), v, rng)
    elif t == FieldType.signature:
        write_signature(canvas, str(value), v, hand.signer(rng), rng)
    else:
        write_text(
            canvas,
            _hand_text(field, value, rng),
            v,
            hand,
            rng,
            may_wrap=t not in NO_WRAP_TYPES,
            multiline=t == FieldType.multiline,
        )


def write_cell(
    canvas: InkCanvas,
    template: Template,
    table: FormField,
    col: Column,
    header: Rect,
    cell: Rect,
    value: Any,
    hand: Hand,
    rng: np.random.Generator,
) -> None:
    t = col.type
    size = table_font_size(template)
    if t == FieldType.checkbox:
        if value:
            tick(canvas, cell_square(cell), cell, hand, rng)
        return
    if t == FieldType.choice and cell_options(col.options, cell, size) is not None:
        # the heading stays the label: the options are printed in the cell, tick one
        assert column_heading(table, col, header, size) == col.label
        for opt in cell_options(col.options, cell, size) or []:
            if opt.text == value:
                tick(canvas, opt.mark, cell, hand, rng)
        return
    if t == FieldType.signature:
        write_signature(canvas, str(value), cell, hand.signer(rng), rng)
        return
    if t in (FieldType.date, FieldType.datetime, FieldType.time):
        text = _hand_date(col, value, rng)
    else:
        text = _hand_text(col, value, rng)  # choices too narrow for □: the option as text
    write_text(canvas, text, cell, hand, rng, may_wrap=t not in NO_WRAP_TYPES)


def write_form(
    canvas: InkCanvas,
    template: Template,
    values: dict[str, Any],
    hand: Hand,
    rng: np.random.Generator,
    page: int = 1,
) -> None:
    """Writes every value of `values` on `page` of the form (the canvas origin is the form's)."""
    if page == 1:
        for f in template.fields:
            if f.type != FieldType.table and f.key in values:
                write_field(canvas, template, f, values[f.key], hand, rng)
    for table in template.table_fields:
        rows = values.get(table.key) or []
        first = table_grid(template, table)
        if page == 1:
            grid, start = first, 0
        else:
            grid = table_grid(template, table, template.continuation_rect(table))
            start = len(first.rows) + (page - 2) * len(grid.rows)
        for i, cells in enumerate(grid.rows):
            if start + i >= len(rows):
                break
            row = rows[start + i]
            for col, header, cell in zip(table.columns, grid.header, cells, strict=True):
                if col.type != FieldType.serial and col.key in row:
                    write_cell(canvas, template, table, col, header, cell, row[col.key], hand, rng)


# -- public pages ---------------------------------------------------------------------------------
def handwritten_page(
    template: Template,
    values: dict[str, Any],
    rng: np.random.Generator,
    key: bytes,
    document_id: str | None = None,
    page: int = 1,
    copy: int = 1,
    hand: Hand | None = None,
    source: HandSource | None = None,
) -> tuple[np.ndarray, dict[str, Any]]:
    """A blank form printed with its identity and filled in by hand (BGR, 200 dpi): by
    `hand`, else a writer drawn from `rng` writing with `source` (None: the development
    fonts)."""
    values = normalize_record(template, values)
    doc_id = document_id or document_id_for(rng, _day_of(values, template))
    blank = _blank_values(template, values)
    pages = _page_count(template, values)
    if not 1 <= page <= pages:
        raise ValueError(f"{template.code}: page {page} of {pages}")
    copies = len(template.copies) or 1
    if not 1 <= copy <= copies:
        raise ValueError(f"{template.code}: copy {copy} of {copies}")
    img = _render(template, [(blank, doc_id)], key, False, _page_index(template, pages, page, copy))
    hand = hand or Hand.random(rng, source=source)
    canvas = InkCanvas(img.shape[:2])
    write_form(canvas, template, values, hand, rng, page)
    img = canvas.apply(img, rng)
    form = _form_truth(template, doc_id, page, copy, values, True) | hand_truth(hand)
    truth = {"file": None, "kind": "scan", "forms": [form]}
    return img, truth


def _page_count(template: Template, values: dict[str, Any]) -> int:
    from formdesk.render.document import plan_pages

    return len(plan_pages(template, values))


def printed_page(
    template: Template,
    values: dict[str, Any],
    key: bytes,
    document_id: str | None = None,
    copy: int = 1,
    rng: np.random.Generator | None = None,
) -> tuple[np.ndarray, dict[str, Any]]:
    """The renderer's prefilled page (values printed, not handwritten), BGR at 200 dpi."""
    values = normalize_record(template, values)
    rng = rng or np.random.default_rng(0)
    doc_id = document_id or document_id_for(rng, _day_of(values, template))
    pages = _page_count(template, values)
    img = _render(template, [(values, doc_id)], key, False, _page_index(template, pages, 1, copy))
    truth = {
        "file": None,
        "kind": "printed",
        "forms": [_form_truth(template, doc_id, 1, copy, values, False)],
    }
    return img, truth


def gang_sheet(
    template: Template,
    list_of_values: list[dict[str, Any]],
    rng: np.random.Generator,
    key: bytes,
    document_ids: list[str] | None = None,
    sources: list[HandSource | None] | None = None,
) -> tuple[np.ndarray, dict[str, Any]]:
    """Up to `per_sheet` tags printed on one A4 sheet and filled in by hand before cutting;
    `sources[i]` (when given and not None) writes tag i, each by a writer of its own."""
    if template.per_sheet < 2:
        raise ValueError(f"{template.code} is not printed several to a sheet")
    slots = gang_slots(template.geometry, A4)[: template.per_sheet]
    if not 1 <= len(list_of_values) <= len(slots):
        raise ValueError(f"a gang sheet holds 1 to {len(slots)} {template.code} forms")
    clean = [normalize_record(template, v) for v in list_of_values]
    ids = document_ids or [document_id_for(rng, _day_of(v, template)) for v in clean]
    img = _render(template, [(None, i) for i in ids], key, True, 0)
    hand = Hand.random(rng)
    forms = []
    for i, (slot, values, doc_id) in enumerate(zip(slots, clean, ids, strict=False)):
        if rng.random() < 0.3:
            hand = Hand.random(rng)  # another person filled this one
        source = sources[i] if sources and i < len(sources) else None
        if source is not None:
            hand = Hand.random(rng, source=source)  # its own log for this tag's truth
        canvas = InkCanvas(img.shape[:2], origin=slot)
        write_form(canvas, template, values, hand, rng)
        img = canvas.apply(img, rng)
        forms.append(_form_truth(template, doc_id, 1, 1, values, True) | hand_truth(hand))
    return img, {"file": None, "kind": "gang", "forms": forms}
