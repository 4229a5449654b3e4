"""Values that are too long shrink or wrap inside their box, or are refused with a reason;
tables longer than a page continue on numbered pages with their header repeated."""

from __future__ import annotations

import pdfplumber
import pytest

from formdesk.render.document import PdfRenderer
from formdesk.render.fit import ValueDoesNotFitError
from formdesk.templates import get_template
from formdesk.templates.layout import table_grid, value_rect
from formdesk.templates.values.vin import with_check_digit

from .conftest import sample_values
from .pdfcheck import marker_ids, qr_texts, rasterise, text_in


def test_long_text_shrinks_and_wraps_inside_its_box(tmp_path, key):
    tag = get_template("SH-ZH/BD-27")
    text = "机油压力低,怠速时泵体异响,拆检发现齿轮磨损严重,需更换总成"
    out = tmp_path / "t.pdf"
    with PdfRenderer(out, key, gang=False) as r:
        r.add(tag, {"inspection_result": text})
    with pdfplumber.open(out) as pdf:
        inside = text_in(pdf.pages[0], value_rect(tag, tag.field("inspection_result")))
    assert inside == text.replace(" ", "")


def test_a_value_that_cannot_fit_is_refused_and_no_pdf_is_left(tmp_path, key):
    tag = get_template("SH-ZH/BD-27")
    out = tmp_path / "t.pdf"
    with (
        pytest.raises(ValueDoesNotFitError, match="零部件名称"),
        PdfRenderer(out, key, gang=False) as r,
    ):
        r.add(tag, {"part_name": "机油泵总成" * 40})
    assert list(tmp_path.iterdir()) == []


def manifest_rows(n: int) -> list[dict]:
    return [
        {
            "claim_no": f"SP2611{i:05d}",
            "vin": with_check_digit(f"LGAX2A130S{i:07d}"),  # model year 2025 (S)
            "part_no": f"1011010-E{i % 90 + 10:02d}",
            "part_name": "机油泵总成",
            "quantity": 1 + i % 3,
        }
        for i in range(n)
    ]


def test_a_long_manifest_continues_with_its_header_repeated(tmp_path, key):
    manifest = get_template("SH-ZH/BD-31")
    table = manifest.table_fields[0]
    first = table.rows_per_page
    cont = len(table_grid(manifest, table, manifest.continuation_rect(table)).rows)
    rows = manifest_rows(first + cont + 3)  # three pages
    values = sample_values(manifest) | {table.key: rows}
    out = tmp_path / "m.pdf"
    with PdfRenderer(out, key, gang=False) as r:
        doc = r.add(manifest, values)
    assert doc.pages == 3
    with pdfplumber.open(out) as pdf:
        assert len(pdf.pages) == 3
        for i, page in enumerate(pdf.pages):
            area = table.rect if i == 0 else manifest.continuation_rect(table)
            grid = table_grid(manifest, table, area)
            for col, cell in zip(table.columns, grid.header, strict=True):
                assert col.label.replace(" ", "") in text_in(page, cell)
            assert f"第{i + 1}页/共3页" in page.extract_text().replace(" ", "")
        last = pdf.pages[2].extract_text()
        assert rows[-1]["claim_no"] in last and rows[first + cont]["claim_no"] in last
        assert rows[-1]["claim_no"] not in pdf.pages[1].extract_text()
    gray = rasterise(out, 2)
    assert marker_ids(gray) == [0, 1, 2, 3]
    assert "|3/3|" in qr_texts(gray)[0]
