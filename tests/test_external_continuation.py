"""A station's manifest of more lines than its Word form holds, written on two sheets and
scanned into one PDF (issue 13): each page was a record of its own, the second with the
first's header or none, so the month counted two manifests.  A page read as the same
registered variant right after a page whose table is full, with a blank header or the
first page's, continues it (reader.join_continuations): one record of both pages' rows.
A second page whose header differs is another manifest.  Real OCR on pages made by
samples.external."""

from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from PIL import Image

from formdesk.extract.ocr import default_engine
from formdesk.extract.reader import FormReader
from formdesk.extract.variants import RegisteredLayout, line_match, variant_template
from formdesk.extract.views import variant_form
from formdesk.templates import get_template
from samples.external import external_blank, filled_page, registered, shoot, truth_variant
from samples.synth import make_values

CODE = "SH-ZH/BD-31"
KEY = b"k" * 32


@pytest.fixture(scope="module")
def engine():
    return default_engine()


@pytest.fixture(scope="module")
def layout(engine) -> RegisteredLayout:
    scan = shoot(external_blank(CODE).page(), "scan", np.random.default_rng(100))
    layout, p = registered(scan, CODE, engine)
    assert p.table is not None and p.table.rows == 11
    return layout


def _pdf(pages: list[np.ndarray]) -> bytes:
    ims = [Image.fromarray(cv2.cvtColor(p, cv2.COLOR_BGR2RGB)) for p in pages]
    buf = io.BytesIO()
    ims[0].save(buf, "PDF", save_all=True, append_images=ims[1:], resolution=200)
    return buf.getvalue()


def _manifest(seed: int, second_header: dict | None = None) -> tuple[bytes, dict, list[dict]]:
    """Two scanned sheets of one manifest: 11 lines (the form full), then 3 more under the
    same header (`second_header` changes fields of the second sheet's); the PDF, the header
    and the 14 lines written."""
    blank = external_blank(CODE)
    form = variant_template(get_template(CODE), truth_variant(blank))
    rng = np.random.default_rng(seed)
    rows: list[dict] = []
    while len(rows) < 14:
        rows += make_values(form, rng)["returned_parts"]
    rows = [r | {"serial": i + 1} for i, r in enumerate(rows[:14])]
    head = make_values(form, rng)
    head.pop("returned_parts")
    one, _ = filled_page(blank, rng, "scan", head | {"returned_parts": rows[:11]})
    two, _ = filled_page(
        blank, rng, "scan", head | (second_header or {}) | {"returned_parts": rows[11:]}
    )
    return _pdf([one, two]), head, rows


def _reader(engine, layout) -> FormReader:
    return FormReader(KEY, engine, layouts=lambda c: [layout] if c == CODE else [])


def test_a_second_sheet_continuing_a_full_one_is_one_record(engine, layout):
    data, _head, rows = _manifest(5)
    result = _reader(engine, layout).read_file(data, "manifest.pdf")
    assert result.problems == []
    (record,) = result.records
    assert [(p.file_page, p.form_page) for p in record.pages] == [(0, 1), (1, 2)]
    assert record.document_id.endswith("-P1")
    assert any("外部表单续页" in n for n in record.notes), record.notes
    table = next(f for f in record.fields if f.key == "returned_parts")
    assert len(table.rows) == len(rows) == 14
    assert {c.page for row in table.rows[11:] for c in row.values()} == {2}
    claims = [str(row["claim_no"].value) for row in table.rows]
    right = sum(c == r["claim_no"] for c, r in zip(claims, rows, strict=True))
    assert right >= 12, (claims, [r["claim_no"] for r in rows])
    # the review page shows the second sheet aligned on the variant, as read
    flat = variant_form(data, "manifest.pdf", 1, CODE, layout, key=KEY, engine=engine)
    assert line_match(layout.reference, cv2.cvtColor(flat, cv2.COLOR_BGR2GRAY)) >= 0.8


def test_a_second_sheet_of_another_manifest_stays_apart(engine, layout):
    data, _head, _rows = _manifest(6, {"manifest_no": "FC-2026-09-77"})
    result = _reader(engine, layout).read_file(data, "two.pdf")
    assert len(result.records) == 2
    assert all(len(r.pages) == 1 for r in result.records)
    assert not any("外部表单续页" in n for r in result.records for n in r.notes)


def test_a_second_sheet_with_a_blank_header_continues(engine, layout):
    """The second sheet's header left blank (the station wrote only the lines): it
    continues the full first sheet."""
    blank_header = {f.key: None for f in get_template(CODE).fields if f.type.value != "table"}
    data, _head, rows = _manifest(7, blank_header)
    result = _reader(engine, layout).read_file(data, "manifest.pdf")
    (record,) = result.records
    assert len(record.pages) == 2
    table = next(f for f in record.fields if f.key == "returned_parts")
    assert len(table.rows) == len(rows)
