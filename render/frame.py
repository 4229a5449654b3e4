"""The static part of a printed form: header, ruled boxes, labels, options, table grid, notes.

It is the same for every copy of a form, so the renderer draws it once per PDF (as a
reusable PDF form object) and only stamps values and the page identity on top.
"""

from __future__ import annotations

from formdesk.templates.geometry import Rect
from formdesk.templates.layout import (
    DATE_GUIDES,
    PT_MM,
    cell_options,
    cell_square,
    checkbox_square,
    date_slots,
    label_font_size,
    label_rect,
    option_layout,
    table_font_size,
    table_grid,
    value_rect,
)
from formdesk.templates.schema import Column, FieldType, FormField, Template

from .fit import ValueDoesNotFitError, fit
from .pen import Pen

FIRST, CONTINUATION = "first", "continuation"


def draw_static(pen: Pen, template: Template, variant: str, copy_label: str | None) -> None:
    _draw_header(pen, template, variant, copy_label)
    if variant == FIRST:
        for field in template.fields:
            draw_field_frame(pen, template, field)
    else:
        table = template.table_fields[0]
        draw_table_frame(pen, template, table, template.continuation_rect(table))
    _draw_notes(pen, template)


def _draw_header(pen: Pen, template: Template, variant: str, copy_label: str | None) -> None:
    g = template.geometry
    h = g.header_rect
    small = g.is_small
    pen.text(h.x, h.y + (3.2 if small else 3.6), template.code, 8 if small else 9)
    title = template.title + ("(续页)" if variant == CONTINUATION else "")
    max_size = 11.0 if small else 16.0
    fitted = fit(title, h.w, 8.0, max_size, may_wrap=False)
    pen.text(h.x + h.w / 2, h.y + (11.5 if small else 13.0), title, fitted.size, "center")
    if copy_label:
        pen.text(
            h.x + h.w / 2, h.y + (16.0 if small else 19.0), copy_label, 7 if small else 9, "center"
        )


def _draw_notes(pen: Pen, template: Template) -> None:
    if not template.notes:
        return
    r = template.notes_rect
    size = 7.0 if template.geometry.is_small else 8.5
    for i, note in enumerate(template.notes):
        line = Rect(r.x, r.y + i * template.note_line_height, r.w, template.note_line_height)
        fitted = fit(note, line.w - 2, line.h, size, may_wrap=False)
        pen.text_centered_in(line, note, fitted.size, pad=0.5)


def draw_field_frame(pen: Pen, template: Template, field: FormField) -> None:
    if field.type == FieldType.table:
        draw_table_frame(pen, template, field, field.rect)
        return
    size = label_font_size(template)
    r = field.rect
    v = value_rect(template, field)
    if field.frame == "box":
        pen.rect(r, width=0.5)
    elif field.frame == "underline":
        pen.line(v.x, v.bottom - 0.8, v.right, v.bottom - 0.8, width=0.4)
    lab = label_rect(template, field)
    if lab is not None:
        if field.label_position == "top" or r.h > 14:
            pen.text(lab.x + 1.2, lab.y + 1.0 + size * PT_MM, field.label, size)
        else:
            pen.text_centered_in(lab, field.label, size)
    if field.constraints.unit:
        unit_box = Rect(v.right, v.y, r.right - v.right, v.h)
        pen.text_centered_in(unit_box, field.constraints.unit, size, align="center", pad=0)
    if field.type in DATE_GUIDES:
        for slot in date_slots(template, field):
            pen.text_centered_in(slot.guide, slot.guide_text, size, pad=0.2)
    elif field.type == FieldType.choice:
        for opt in option_layout(template, field):
            pen.rect(opt.mark, width=0.6)
            pen.text_centered_in(opt.text_rect, opt.text, size, pad=0)
    elif field.type == FieldType.circle_choice:
        for opt in option_layout(template, field):
            pen.text_centered_in(opt.text_rect, opt.text, size, pad=0)
    elif field.type == FieldType.checkbox:
        pen.rect(checkbox_square(template, field), width=0.6)
    if field.hint:
        pen.c.setFillGray(0.45)
        pen.text(v.right - 0.8, v.bottom - 0.8, field.hint, 6, "right")
        pen.c.setFillGray(0)


def draw_table_frame(pen: Pen, template: Template, table: FormField, area: Rect) -> None:
    grid = table_grid(template, table, area)
    size = table_font_size(template)
    if grid.title is not None:
        pen.text_centered_in(grid.title, table.label, label_font_size(template), pad=0.5)
    top = grid.header[0].y
    bottom = grid.rows[-1][0].bottom if grid.rows else grid.header[0].bottom
    pen.rect(Rect(area.x, top, area.w, bottom - top), width=0.6)
    for col, cell in zip(table.columns, grid.header, strict=True):
        _header_cell(pen, column_heading(table, col, cell, size), cell, size)
        if cell.x > area.x + 0.01:
            pen.line(cell.x, top, cell.x, bottom, width=0.4)
    pen.line(area.x, grid.header[0].bottom, area.right, grid.header[0].bottom, width=0.6)
    for row in grid.rows[:-1]:
        pen.line(area.x, row[0].bottom, area.right, row[0].bottom, width=0.3)
    for col_index, col in enumerate(table.columns):
        for row in grid.rows:
            cell = row[col_index]
            if col.type == FieldType.checkbox:
                pen.rect(cell_square(cell), width=0.5)
            elif col.type == FieldType.choice:
                for opt in cell_options(col.options, cell, size) or []:
                    pen.rect(opt.mark, width=0.5)
                    pen.text_centered_in(opt.text_rect, opt.text, size, pad=0)


def column_heading(table: FormField, col: Column, header_cell: Rect, size: float) -> str:
    """A choice column too narrow for its □ options lists them in its heading instead."""
    row_cell = Rect(header_cell.x, header_cell.y, header_cell.w, table.row_height)
    if col.type == FieldType.choice and cell_options(col.options, row_cell, size) is None:
        return f"{col.label}({'/'.join(col.options)})"
    return col.label


def _header_cell(pen: Pen, label: str, cell: Rect, size: float) -> None:
    try:
        fitted = fit(label, cell.w - 1.0, cell.h, size, may_wrap=True)
    except ValueDoesNotFitError as exc:
        raise ValueDoesNotFitError(f"表头“{label}”放不进列宽 {cell.w:.1f} mm") from exc
    line_h = fitted.line_height_mm
    y0 = cell.y + (cell.h - line_h * len(fitted.lines)) / 2 + fitted.size * PT_MM * 0.85
    for i, line in enumerate(fitted.lines):
        pen.text(cell.x + cell.w / 2, y0 + i * line_h, line, fitted.size, "center")
