"""Where things sit inside a field's box: label, writing area, date slots, option squares,
table cells.  Shared by the renderer (which draws them) and the reader (which crops them),
so it depends on no font file: label widths come from a fixed character-width rule.
"""

from __future__ import annotations

from dataclasses import dataclass

from .geometry import Rect
from .schema import FieldType, FormField, Template
from .station_fields import station_fields

PT_MM = 25.4 / 72
OPTION_SQUARE_MM = 3.2  # the printed □ of choices and checkboxes
PAD_MM = 1.2

# The printed unit characters of date-like fields, and the relative width of each slot
# that precedes them (the digits the writer adds).
DATE_GUIDES: dict[FieldType, tuple[tuple[str, float], ...]] = {
    FieldType.date: (("年", 4), ("月", 2), ("日", 2)),
    FieldType.month: (("年", 4), ("月", 2)),
    FieldType.datetime: (("年", 4), ("月", 2), ("日", 2), ("时", 2), ("分", 2)),
    FieldType.time: (("时", 2), ("分", 2)),
}


def label_font_size(template: Template) -> float:
    """Points; labels are small enough to leave the box to the writer."""
    return 8.0 if template.geometry.is_small else 9.0


def text_width_mm(text: str, size_pt: float) -> float:
    """Width of printed text: CJK characters one em, others ~0.55 em (the font's metrics)."""
    ems = sum(1.0 if ord(ch) > 0x2E7F else 0.55 for ch in text)
    return ems * size_pt * PT_MM


def label_rect(template: Template, field: FormField) -> Rect | None:
    r = field.rect
    size = label_font_size(template)
    if field.label_position == "none":
        return None
    if field.label_position == "top":
        return Rect(r.x, r.y, r.w, size * PT_MM + 2 * PAD_MM)
    return Rect(r.x, r.y, text_width_mm(field.label, size) + 2 * PAD_MM + 0.8, r.h)


def value_rect(template: Template, field: FormField) -> Rect:
    """The writing area: the box minus its label (and minus the printed unit, if any)."""
    r, lab = field.rect, label_rect(template, field)
    if lab is None:
        v = r
    elif field.label_position == "top":
        v = Rect(r.x, lab.bottom, r.w, r.h - lab.h)
    else:
        v = Rect(lab.right, r.y, r.w - lab.w, r.h)
    unit = field.constraints.unit
    if unit:
        v = Rect(v.x, v.y, v.w - unit_width_mm(template, unit), v.h)
    return v


def unit_width_mm(template: Template, unit: str) -> float:
    return text_width_mm(unit, label_font_size(template)) + 2 * PAD_MM


@dataclass(frozen=True)
class Slot:
    """A part of a date-like field: the digits area, then its printed unit character."""

    digits: Rect
    guide: Rect
    guide_text: str


def date_slots(template: Template, field: FormField) -> list[Slot]:
    v = value_rect(template, field)
    guides = DATE_GUIDES[field.type]
    guide_w = text_width_mm("年", label_font_size(template)) + 0.6
    digits_w = v.w - len(guides) * guide_w
    total = sum(weight for _, weight in guides)
    x, out = v.x, []
    for text, weight in guides:
        w = digits_w * weight / total
        out.append(Slot(Rect(x, v.y, w, v.h), Rect(x + w, v.y, guide_w, v.h), text))
        x += w + guide_w
    return out


@dataclass(frozen=True)
class Option:
    """One option of a choice: its printed text, and the square (□ choices) or the area a
    pen circles (circled choices)."""

    text: str
    text_rect: Rect
    mark: Rect


def option_layout(template: Template, field: FormField) -> list[Option]:
    v = value_rect(template, field)
    if field.marks and len(field.marks) == len(field.options):
        return marked_options(v, field)
    return options_in(v, field.options, field.type, label_font_size(template))


def marked_options(v: Rect, field: FormField) -> list[Option]:
    """The options where a registered layout has them printed (`field.marks`): a □ to
    tick, or the option's text, circled over the box's height."""
    out = []
    for text, box in zip(field.options, field.marks, strict=True):
        r = Rect(*box)
        if field.type == FieldType.circle_choice:
            out.append(Option(text, r, Rect(r.x - 2.0, v.y + 0.4, r.w + 4.0, v.h - 0.8)))
        else:
            out.append(Option(text, r, r))
    return out


def options_in(v: Rect, options: list[str], kind: FieldType, size: float) -> list[Option]:
    """Options spread evenly over `v`: a □ before each (choice), or room to circle it."""
    cell_w = v.w / len(options)
    out = []
    for i, text in enumerate(options):
        x0 = v.x + i * cell_w
        tw = text_width_mm(text, size)
        if kind == FieldType.circle_choice:
            tx = x0 + (cell_w - tw) / 2
            text_rect = Rect(tx, v.y, tw, v.h)
            mark = Rect(tx - 2.0, v.y + 0.4, tw + 4.0, v.h - 0.8)
        else:
            sq = min(OPTION_SQUARE_MM, v.h - 1.0)
            mark = Rect(x0 + min(PAD_MM, 0.6 + 0.1 * cell_w), v.y + (v.h - sq) / 2, sq, sq)
            text_rect = Rect(mark.right + 0.6, v.y, tw, v.h)
        out.append(Option(text, text_rect, mark))
    return out


def cell_options(options: list[str], cell: Rect, size: float) -> list[Option] | None:
    """A choice column's options printed in each cell, or None when they do not fit
    (then the cell is written in as text, and the header lists the options)."""
    need = sum(OPTION_SQUARE_MM + 0.6 + text_width_mm(t, size) + 1.2 for t in options)
    if need > cell.w:
        return None
    return options_in(cell, options, FieldType.choice, size)


def cell_square(cell: Rect) -> Rect:
    """The □ of a checkbox column, centred in its cell."""
    sq = min(OPTION_SQUARE_MM, cell.h - 1.0)
    return Rect(cell.x + (cell.w - sq) / 2, cell.y + (cell.h - sq) / 2, sq, sq)


TABLE_FONT_PT = {True: 7.0, False: 8.0}  # small forms, others


def table_font_size(template: Template) -> float:
    return TABLE_FONT_PT[template.geometry.is_small]


def checkbox_square(template: Template, field: FormField) -> Rect:
    if field.marks:  # a registered layout's printed □
        return Rect(*field.marks[0])
    v = value_rect(template, field)
    sq = OPTION_SQUARE_MM
    return Rect(v.x + PAD_MM, v.y + (v.h - sq) / 2, sq, sq)


@dataclass(frozen=True)
class TableGrid:
    """The cells of one page's part of a table."""

    header: list[Rect]  # one per column
    rows: list[list[Rect]]  # rows_on_page x columns
    title: Rect | None


def table_grid(template: Template, table: FormField, area: Rect | None = None) -> TableGrid:
    """Grid of the table in `area` (its own box on the first page, the continuation area later)."""
    area = area or table.rect
    title = None
    y = area.y
    if table.title_height:
        title = Rect(area.x, y, area.w, table.title_height)
        y += table.title_height
    strips = table.column_rects(Rect(area.x, y, area.w, area.bottom - y))
    header = [Rect(s.x, y, s.w, table.header_height) for s in strips]
    y += table.header_height
    n_rows = int((area.bottom - y) // table.row_height + 1e-6)
    rows = [
        [Rect(s.x, y + i * table.row_height, s.w, table.row_height) for s in strips]
        for i in range(n_rows)
    ]
    return TableGrid(header, rows, title)


def _box(r: Rect | None) -> list[float] | None:
    return None if r is None else [round(r.x, 2), round(r.y, 2), round(r.w, 2), round(r.h, 2)]


def describe(template: Template) -> dict:
    """The template with every derived box spelled out (mm), for machines and reviewers."""
    g = template.geometry
    out = template.model_dump(mode="json")
    out["slug"] = template.slug
    out["page"] = {
        "width": g.width,
        "height": g.height,
        "marks": {c.value: _box(g.mark_rect(c)) for c in g.mark_centres()},
        "qr": _box(g.qr_rect),
        "content": _box(template.fields_rect),
        "notes": _box(template.notes_rect) if template.notes else None,
    }
    held = station_fields(template)
    for f, d in zip(template.fields, out["fields"], strict=True):
        d["label_box"] = _box(label_rect(template, f))
        if f.key in held:
            d["station"] = held[f.key]  # the page prefills a station user's own
        if f.type == FieldType.table:
            grid = table_grid(template, f)
            d["header_boxes"] = [_box(r) for r in grid.header]
            d["rows_per_page"] = len(grid.rows)
            d["continuation_box"] = _box(template.continuation_rect(f))
            continue
        d["value_box"] = _box(value_rect(template, f))
        if f.type in DATE_GUIDES:
            d["slots"] = [
                {"unit": s.guide_text, "box": _box(s.digits)} for s in date_slots(template, f)
            ]
        elif f.type in (FieldType.choice, FieldType.circle_choice):
            d["option_boxes"] = {o.text: _box(o.mark) for o in option_layout(template, f)}
        elif f.type == FieldType.checkbox:
            d["square"] = _box(checkbox_square(template, f))
    return out
