"""Stamping a record's values into their boxes on top of the static form."""

from __future__ import annotations

from typing import Any

from formdesk.templates.geometry import Rect
from formdesk.templates.layout import (
    PT_MM,
    cell_options,
    cell_square,
    checkbox_square,
    date_slots,
    option_layout,
    value_rect,
)
from formdesk.templates.schema import Column, FieldType, FormField, Template
from formdesk.templates.values.normalize import display

from .fit import ValueDoesNotFitError, fit
from .pen import Pen

# Codes and numbers are never wrapped: a VIN split over two lines is a VIN misread.
NO_WRAP = frozenset(
    {
        FieldType.vin,
        FieldType.engine_no,
        FieldType.plate,
        FieldType.phone,
        FieldType.integer,
        FieldType.decimal,
        FieldType.money,
        FieldType.serial,
    }
)
SEAL_RED = (0.85, 0.1, 0.1)


class FieldDoesNotFitError(ValueDoesNotFitError):
    def __init__(self, key: str, label: str, reason: str, row: int | None = None):
        self.key, self.label, self.row = key, label, row
        where = f"第{row}行 " if row else ""
        super().__init__(f"{where}{label}({key}):{reason}")


def stamp_field(pen: Pen, template: Template, field: FormField, value: Any) -> None:
    t = field.type
    if t in (FieldType.date, FieldType.month, FieldType.datetime, FieldType.time):
        _stamp_date_slots(pen, template, field, value)
    elif t == FieldType.choice:
        for opt in option_layout(template, field):
            if opt.text == value:
                pen.tick(opt.mark)
    elif t == FieldType.circle_choice:
        for opt in option_layout(template, field):
            if opt.text == value:
                pen.ellipse(opt.mark)
    elif t == FieldType.checkbox:
        if value:
            pen.tick(checkbox_square(template, field))
    elif t == FieldType.seal:
        _stamp_seal(pen, value_rect(template, field), str(value), field)
    else:
        try:
            _stamp_text(pen, value_rect(template, field), display(field, value), t)
        except ValueDoesNotFitError as exc:
            raise FieldDoesNotFitError(field.key, field.label, str(exc)) from None


def stamp_cell(pen: Pen, column: Column, cell: Rect, value: Any, row: int, size: float) -> None:
    """A table cell: ticks for checkbox and □-choice columns, text for the rest."""
    if column.type == FieldType.checkbox:
        if value:
            pen.tick(cell_square(cell))
        return
    if column.type == FieldType.choice:
        options = cell_options(column.options, cell, size)
        if options is not None:
            for opt in options:
                if opt.text == value:
                    pen.tick(opt.mark)
            return
    text = display(column, value)
    try:
        _stamp_text(pen, cell, text, column.type, centre=column.type == FieldType.serial)
    except ValueDoesNotFitError as exc:
        raise FieldDoesNotFitError(column.key, column.label, str(exc), row=row) from None


def _stamp_text(pen: Pen, r: Rect, text: str, t: FieldType, centre: bool = False) -> None:
    if not text:
        return
    inner_w, inner_h = r.w - 2.0, r.h - 0.6
    max_size = (
        min(11.0, 0.62 * r.h / PT_MM) if t != FieldType.multiline else min(10.0, 0.62 * r.h / PT_MM)
    )
    fitted = fit(
        text,
        inner_w,
        inner_h,
        max_size,
        may_wrap=t not in NO_WRAP,
        shrink_first=t != FieldType.multiline,
    )
    line_h = fitted.line_height_mm
    if t == FieldType.multiline and len(fitted.lines) > 1:
        y0 = r.y + 0.6 + fitted.size * PT_MM * 0.9
    else:
        y0 = r.y + (r.h - line_h * len(fitted.lines)) / 2 + fitted.size * PT_MM * 0.88
    for i, line in enumerate(fitted.lines):
        if centre:
            pen.text(r.x + r.w / 2, y0 + i * line_h, line, fitted.size, "center")
        else:
            pen.text(r.x + 1.0, y0 + i * line_h, line, fitted.size)


def _stamp_date_slots(pen: Pen, template: Template, field: FormField, value: Any) -> None:
    """Writes the digits before each printed 年/月/日/时/分, as a person would."""
    text = str(value)
    if field.type == FieldType.time:
        parts = text.split(":")
    else:
        date_part, _, time_part = text.partition(" ")
        parts = date_part.split("-") + (time_part.split(":") if time_part else [])
    for slot, part in zip(date_slots(template, field), parts, strict=False):
        # minutes keep their two digits (9时05分); other parts drop leading zeros (3月)
        digits = part if slot.guide_text == "分" or not part.isdigit() else str(int(part))
        try:
            _stamp_text(pen, slot.digits, digits, FieldType.integer, centre=True)
        except ValueDoesNotFitError as exc:
            raise FieldDoesNotFitError(field.key, field.label, str(exc)) from None


def _stamp_seal(pen: Pen, v: Rect, name: str, field: FormField) -> None:
    """A red round stamp with the unit's name, sized to the box."""
    d = min(v.w - 1, v.h - 1, 38.0)
    circle = Rect(v.x + (v.w - d) / 2, v.y + (v.h - d) / 2, d, d)
    c = pen.c
    c.saveState()
    c.setStrokeColorRGB(*SEAL_RED)
    c.setFillColorRGB(*SEAL_RED)
    pen.ellipse(circle, width=max(0.6, d / 25))
    try:
        fitted = fit(name, d * 0.78, d * 0.6, min(10.0, d * 0.3 / PT_MM), may_wrap=True)
    except ValueDoesNotFitError as exc:
        c.restoreState()
        raise FieldDoesNotFitError(field.key, field.label, str(exc)) from None
    line_h = fitted.line_height_mm
    y0 = circle.y + (d - line_h * len(fitted.lines)) / 2 + fitted.size * PT_MM * 0.88
    for i, line in enumerate(fitted.lines):
        pen.text(circle.x + d / 2, y0 + i * line_h, line, fitted.size, "center")
    c.restoreState()
