"""Prefilled values are verified against how formdesk printed them, not read again
(issue 10, point 3): a match is ok with evidence `printed`; ink added or missing means
someone wrote over the value — then OCR, and 打印值被改写."""

from __future__ import annotations

import json
import time

import cv2
import pytest

from formdesk.extract.ocr import default_engine
from formdesk.extract.reader import FormReader
from formdesk.templates import get_template
from formdesk.templates.layout import value_rect
from samples.scoring import outcomes

from .conftest import TEST_KEY, sample_values
from .test_read import as_jpeg, render_pages, scanned

TAG = get_template("SH-ZH/BD-27")
PX_PER_MM = 200 / 25.4


@pytest.fixture(scope="module")
def engine():
    return default_engine()


@pytest.fixture(scope="module")
def tag(tmp_path_factory):
    pages, doc, _ = render_pages(tmp_path_factory.mktemp("tag"), TEST_KEY, TAG, sample_values(TAG))
    registry = {doc.document_id: json.loads(json.dumps(doc.values, default=str))}
    return pages[0], doc, registry


def filled_cells(record):
    for f in record.fields:
        for row in f.rows or [{"": f}]:
            for c in row.values():
                if c.value is not None and c.type not in ("circle_choice", "choice", "checkbox"):
                    yield c


def px(r):
    return (
        slice(round(r.y * PX_PER_MM), round(r.bottom * PX_PER_MM)),
        slice(round(r.x * PX_PER_MM), round(r.right * PX_PER_MM)),
    )


def test_a_prefilled_tag_is_verified_not_read(engine, tag):
    page, doc, registry = tag
    data = as_jpeg(scanned(page, 0.7))
    t0 = time.perf_counter()
    [record] = FormReader(TEST_KEY, engine, printed=registry.get).read_file(data, "t.jpg").records
    verified = time.perf_counter() - t0
    cells = list(filled_cells(record))
    assert cells and all(c.evidence == ["printed"] for c in cells), [
        (c.key, c.evidence) for c in cells
    ]
    assert [o for o in outcomes(record, TAG, doc.values) if not o.correct] == []
    assert record.status == "ready"
    t0 = time.perf_counter()
    [by_ocr] = FormReader(TEST_KEY, engine).read_file(data, "t.jpg").records
    assert verified < time.perf_counter() - t0  # no OCR at all is faster than OCR
    assert all(c.evidence[0].startswith("ocr") for c in filled_cells(by_ocr))


def test_ink_written_over_a_printed_value_is_flagged(engine, tag):
    page, doc, registry = tag
    img = scanned(page, 0.0, blur=False)
    box = value_rect(TAG, TAG.field("mileage_km"))
    x, y = round((box.right - 6) * PX_PER_MM), round((box.bottom - 1.5) * PX_PER_MM)
    cv2.putText(img, "9", (x, y), cv2.FONT_HERSHEY_SIMPLEX, 1.0, (60, 40, 30), 3)
    [record] = (
        FormReader(TEST_KEY, engine, printed=registry.get).read_file(as_jpeg(img), "t.jpg").records
    )
    mileage = record.field("mileage_km")
    assert mileage.status == "check" and "打印值被改写" in mileage.reason
    assert "48260" in mileage.reason or str(doc.values["mileage_km"]) in mileage.reason
    others = [c for c in filled_cells(record) if c.key != "mileage_km"]
    assert all(c.evidence == ["printed"] for c in others)
    assert record.status == "needs_review"


def test_a_printed_value_whited_out_is_flagged(engine, tag):
    page, _, registry = tag
    img = scanned(page, 0.0, blur=False)
    box = value_rect(TAG, TAG.field("engine_no"))
    ys, xs = px(box.inset(0.8))
    img[ys, xs] = 235  # correction fluid over the printed engine number
    [record] = (
        FormReader(TEST_KEY, engine, printed=registry.get).read_file(as_jpeg(img), "t.jpg").records
    )
    engine_no = record.field("engine_no")
    assert engine_no.status != "ok"
    assert engine_no.value != sample_values(TAG)["engine_no"]


def test_unknown_or_foreign_documents_are_read_by_ocr(engine, tag, tmp_path):
    page, _, registry = tag
    data = as_jpeg(scanned(page, 0.4))
    [record] = (
        FormReader(TEST_KEY, engine, printed=lambda _id: None).read_file(data, "t.jpg").records
    )
    assert all(c.evidence[0].startswith("ocr") for c in filled_cells(record))
    # a tag printed by another installation is never matched with this registry
    foreign_pages, foreign, _ = render_pages(tmp_path, b"another key", TAG, sample_values(TAG))
    lookup = {foreign.document_id: registry[next(iter(registry))]}.get
    [other] = (
        FormReader(TEST_KEY, engine, printed=lookup)
        .read_file(as_jpeg(scanned(foreign_pages[0], 0.4)), "f.jpg")
        .records
    )
    assert other.authentic is False
    assert not any(c.evidence == ["printed"] for c in filled_cells(other))


def test_prefilled_manifest_rows_are_verified(engine, tmp_path):
    manifest = get_template("SH-ZH/BD-31")
    pages, doc, _ = render_pages(tmp_path, TEST_KEY, manifest, sample_values(manifest))
    registry = {doc.document_id: json.loads(json.dumps(doc.values, default=str))}
    [record] = (
        FormReader(TEST_KEY, engine, printed=registry.get)
        .read_file(as_jpeg(scanned(pages[0], 0.5)), "m.jpg")
        .records
    )
    table = next(f for f in record.fields if f.rows)
    cells = [c for row in table.rows for c in row.values() if c.value is not None]
    assert len(cells) >= 10
    # verified, not read (the manifest's 合计数量 check adds its own evidence to quantities)
    assert all(c.evidence[0] == "printed" and "ocr" not in str(c.evidence) for c in cells), [
        (c.key, c.evidence) for c in cells
    ]
    wrong = [o for o in outcomes(record, manifest, doc.values) if not o.correct]
    assert [o for o in wrong if o.key.startswith(table.key)] == []
