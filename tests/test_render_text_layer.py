"""Every template renders blank and prefilled; the PDF's text layer has every label and
every prefilled value inside its own box."""

from __future__ import annotations

import pdfplumber
import pypdf
import pytest

from formdesk.render.document import PdfRenderer, plan_pages
from formdesk.templates.layout import (
    cell_options,
    cell_square,
    checkbox_square,
    date_slots,
    label_rect,
    option_layout,
    table_font_size,
    table_grid,
    value_rect,
)
from formdesk.templates.schema import FieldType
from formdesk.templates.values.normalize import display

from .conftest import all_templates, sample_values, template_ids
from .pdfcheck import squash, strokes_in, text_in

TEMPLATES = all_templates()


def render_one(tmp_path, key, template, values):
    out = tmp_path / f"{template.slug}.pdf"
    with PdfRenderer(out, key, gang=False) as r:
        doc = r.add(template, values)
    return out, doc


@pytest.mark.parametrize("template", TEMPLATES, ids=template_ids())
def test_blank_form_has_every_label_in_its_box(tmp_path, key, template):
    out, doc = render_one(tmp_path, key, template, None)
    copies = len(template.copies) or 1
    assert len(pypdf.PdfReader(out).pages) == copies
    with pdfplumber.open(out) as pdf:
        page = pdf.pages[0]
        assert template.code in squash(page.extract_text())
        for f in template.fields:
            if f.type == FieldType.table:
                grid = table_grid(template, f)
                for col, cell in zip(f.columns, grid.header, strict=True):
                    assert squash(col.label) in text_in(page, cell), (f.key, col.key)
            elif label_rect(template, f) is not None:
                assert squash(f.label) in text_in(page, label_rect(template, f)), f.key
        for note in template.notes:
            assert squash(note) in text_in(page, template.notes_rect)


@pytest.mark.parametrize("template", TEMPLATES, ids=template_ids())
def test_prefilled_form_has_every_value_in_its_box(tmp_path, key, template):
    values = sample_values(template)
    out, doc = render_one(tmp_path, key, template, values)
    filled = doc.values
    # the sample record fills every field, so every field is checked below
    missing = [f.key for f in template.fields if f.key not in filled or filled[f.key] in ("", [])]
    assert not missing, f"sample record leaves fields empty: {missing}"
    with pdfplumber.open(out) as pdf:
        page = pdf.pages[0]
        for f in template.fields:
            value = filled[f.key]
            if f.type == FieldType.table:
                check_table_rows(pdf, template, f, value)
            elif f.type in (FieldType.date, FieldType.month, FieldType.datetime, FieldType.time):
                digits = [s for s in squash(display(f, value)) if s.isdigit() or s in "年月日时分"]
                slots = date_slots(template, f)
                got = "".join(text_in(page, s.digits) + s.guide_text for s in slots)
                assert got == "".join(digits), (f.key, got)
            elif f.type in (FieldType.choice, FieldType.circle_choice):
                for opt in option_layout(template, f):
                    marked = bool(strokes_in(page, opt.mark))
                    assert marked == (opt.text == value), (f.key, opt.text)
            elif f.type == FieldType.checkbox:
                assert bool(strokes_in(page, checkbox_square(template, f))) == value, f.key
            else:
                assert squash(display(f, value)) in text_in(page, value_rect(template, f)), f.key


def check_table_rows(pdf, template, table, rows):
    size = table_font_size(template)
    plans = plan_pages(template, {table.key: rows})
    for page_index, plan in enumerate(plans):
        page = pdf.pages[page_index]
        area = table.rect if page_index == 0 else template.continuation_rect(table)
        grid = table_grid(template, table, area)
        for row, cells in zip(plan.rows, grid.rows, strict=False):
            for col, cell in zip(table.columns, cells, strict=True):
                if col.key not in row:
                    continue
                value = row[col.key]
                options = (
                    cell_options(col.options, cell, size) if col.type == FieldType.choice else None
                )
                if col.type == FieldType.checkbox:
                    assert bool(strokes_in(page, cell_square(cell))) == value, (table.key, col.key)
                elif options is not None:
                    for opt in options:
                        assert bool(strokes_in(page, opt.mark)) == (opt.text == value), (
                            col.key,
                            opt.text,
                        )
                else:
                    assert squash(display(col, value)) in text_in(page, cell), (table.key, col.key)
