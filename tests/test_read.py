"""Reading printed forms back: every template's prefilled sample, rasterised like a scan,
reads back to its record with the real OCR engine; identity, alignment and the refusals."""

from __future__ import annotations

import io

import cv2
import numpy as np
import pypdfium2 as pdfium
import pytest
from PIL import Image

from formdesk.extract.evidence import rule_for
from formdesk.extract.fields import judged_as
from formdesk.extract.ocr import default_engine
from formdesk.extract.reader import FormReader
from formdesk.render.document import PdfRenderer
from formdesk.templates import get_template
from samples.scoring import outcomes

from .conftest import all_templates, sample_values, template_ids

TEMPLATES = all_templates()


@pytest.fixture(scope="module")
def reader() -> FormReader:
    from .conftest import TEST_KEY

    return FormReader(TEST_KEY, default_engine())


def render_pages(
    tmp_path, key, template, values, gang=False
) -> tuple[list[np.ndarray], object, bytes]:
    out = tmp_path / f"{template.slug}.pdf"
    with PdfRenderer(out, key, gang=gang) as r:
        doc = r.add(template, values)
    pdf = pdfium.PdfDocument(str(out))
    pages = [
        cv2.cvtColor(
            np.asarray(p.render(scale=200 / 72).to_pil().convert("RGB")), cv2.COLOR_RGB2BGR
        )
        for p in pdf
    ]
    pdf.close()
    return pages, doc, out.read_bytes()


def as_jpeg(img: np.ndarray, quality: int = 85) -> bytes:
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return buf.tobytes()


def scanned(img: np.ndarray, angle: float = 0.0, rot90: int = 0, blur: bool = True) -> np.ndarray:
    """A flat-bed scan of the printout: a little skew, blur, grey paper."""
    h, w = img.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    out = cv2.warpAffine(img, m, (w, h), borderValue=(235, 235, 235))
    if blur:
        out = cv2.GaussianBlur(out, (3, 3), 0.8)
    out = (out.astype(np.float32) * 0.93 + 8).astype(np.uint8)
    return np.ascontiguousarray(np.rot90(out, rot90)) if rot90 else out


def assert_reads_back(record, template, truth, flagged_allowed: int = 0, min_ok: float = 0.8):
    """Every value reads back; the rare character OCR gets wrong must at least be flagged
    for review (never a wrong value marked ok).  A right value may still be sent to review
    when its evidence is thin (extract/evidence.py), but most of a clean scan is ok."""
    results = outcomes(record, template, truth)
    wrong = [o for o in results if not o.correct]
    assert not [w for w in wrong if w.status == "ok"], wrong
    assert len(wrong) <= flagged_allowed, wrong
    filled = [o for o in results if o.truth not in (None, "", False, [])]
    # a type for which no rule held on the calibration hands (plates, a plate written in a
    # text field too: calibration.yaml min_score > 1) is ok only on other evidence (a sum);
    # of the rest, most of a clean scan is ok
    rest = [o for o in filled if rule_for(judged_as(o.type, o.truth)).min_score <= 1.0]
    ok = [o for o in rest if o.status == "ok"]
    assert len(ok) >= min_ok * len(rest), [(o.key, o.status) for o in rest if o.status != "ok"]


@pytest.mark.slow
@pytest.mark.parametrize("template", TEMPLATES, ids=template_ids())
def test_every_template_reads_back_from_a_scan(tmp_path, key, reader, template):
    pages, doc, _ = render_pages(tmp_path, key, template, sample_values(template))
    angle = [-1.2, 0.8, 0.0][len(template.code) % 3]
    result = reader.read_file(as_jpeg(scanned(pages[0], angle)), "scan.jpg")
    assert not result.problems
    [record] = result.records
    assert (record.template, record.document_id, record.identified_by) == (
        template.code,
        doc.document_id,
        "qr",
    )
    assert record.authentic and record.residual_mm < 0.5
    assert_reads_back(record, template, doc.values, flagged_allowed=1)


def test_upside_down_and_sideways_scans(tmp_path, key, reader):
    tag = get_template("SH-ZH/BD-27")
    pages, doc, _ = render_pages(tmp_path, key, tag, sample_values(tag))
    for turns in (1, 2):
        [record] = reader.read_file(as_jpeg(scanned(pages[0], 0.5, rot90=turns)), "x.jpg").records
        assert_reads_back(record, tag, doc.values)


def test_a_digital_pdf_is_read_from_its_text_layer(tmp_path, key, reader):
    order = get_template("表格04")
    _, doc, pdf_bytes = render_pages(tmp_path, key, order, sample_values(order))
    [record] = reader.read_file(pdf_bytes, "filled.pdf").records
    assert record.identified_by == "text_layer"
    assert_reads_back(record, order, doc.values)


def test_a_three_page_manifest_becomes_one_record(tmp_path, key, reader):
    from .test_render_fit import manifest_rows

    manifest = get_template("SH-ZH/BD-31")
    table = manifest.table_fields[0]
    values = sample_values(manifest) | {table.key: manifest_rows(40)}
    pages, doc, _ = render_pages(tmp_path, key, manifest, values)
    assert len(pages) == 3
    buf = io.BytesIO()  # an image-only PDF, as a scanner makes
    images = [Image.fromarray(cv2.cvtColor(scanned(p, 0.4), cv2.COLOR_BGR2RGB)) for p in pages]
    images[0].save(buf, "PDF", save_all=True, append_images=images[1:], resolution=200)
    result = reader.read_file(buf.getvalue(), "manifest.pdf")
    [record] = result.records
    assert [p.form_page for p in record.pages] == [1, 2, 3]
    assert_reads_back(record, manifest, doc.values)
    # a page gone missing is reported, not ignored
    images[0].save(
        buf := io.BytesIO(), "PDF", save_all=True, append_images=[images[2]], resolution=200
    )
    [partial] = reader.read_file(buf.getvalue(), "manifest.pdf").records
    assert partial.problems == ["缺少第 2 页(共 3 页)"] and partial.status == "needs_review"


def test_a_gang_sheet_gives_one_record_per_tag(tmp_path, key, reader):
    tag = get_template("SH-ZH/BD-27")
    out = tmp_path / "tags.pdf"
    base = sample_values(tag)
    with PdfRenderer(out, key) as r:
        docs = [r.add(tag, base | {"mileage_km": 1000 + i}) for i in range(4)]
    pdf = pdfium.PdfDocument(str(out))
    sheet = cv2.cvtColor(
        np.asarray(pdf[0].render(scale=200 / 72).to_pil().convert("RGB")), cv2.COLOR_RGB2BGR
    )
    records = reader.read_file(as_jpeg(scanned(sheet, -0.7)), "sheet.jpg").records
    assert sorted((r.document_id, r.values()["mileage_km"]) for r in records) == sorted(
        (d.document_id, d.values["mileage_km"]) for d in docs
    )


def test_without_the_qr_the_form_is_identified_by_its_printed_code(tmp_path, key, reader):
    tag = get_template("SH-ZH/BD-27")
    pages, doc, _ = render_pages(tmp_path, key, tag, sample_values(tag))
    img = pages[0].copy()
    g = tag.geometry
    px = 200 / 25.4
    q = g.qr_rect
    img[int(q.y * px) : int(q.bottom * px), int(q.x * px) : int(q.right * px)] = 255  # QR torn off
    [record] = reader.read_file(as_jpeg(scanned(img)), "x.jpg").records
    assert record.identified_by == "ocr" and record.document_id == doc.document_id
    assert record.authentic is None
    assert_reads_back(record, tag, doc.values)


def test_one_mark_missing_still_aligns(tmp_path, key, reader):
    tag = get_template("SH-ZH/BD-27")
    pages, doc, _ = render_pages(tmp_path, key, tag, sample_values(tag))
    img = pages[0].copy()
    m = tag.geometry.mark_rect(tag.geometry.mark_centres().__iter__().__next__())
    px = 200 / 25.4
    img[int(m.y * px) - 5 : int(m.bottom * px) + 5, int(m.x * px) - 5 : int(m.right * px) + 5] = 255
    [record] = reader.read_file(as_jpeg(scanned(img, 1.0)), "x.jpg").records
    assert record.residual_mm < 0.5
    assert_reads_back(record, tag, doc.values)


def test_a_tag_from_another_installation_needs_review(tmp_path, reader):
    tag = get_template("SH-ZH/BD-27")
    pages, _, _ = render_pages(tmp_path, b"another-installation", tag, sample_values(tag))
    [record] = reader.read_file(as_jpeg(pages[0]), "x.jpg").records
    assert record.authentic is False and record.status == "needs_review"


def test_pages_without_a_known_form_are_reported(tmp_path, key, reader):
    photo = np.full((1200, 900, 3), 90, np.uint8)
    cv2.putText(photo, "no form here", (100, 600), cv2.FONT_HERSHEY_SIMPLEX, 2, (255, 255, 255), 3)
    result = reader.read_file(as_jpeg(photo), "photo.jpg")
    assert not result.records and "没有找到表单" in result.problems[0].reason
    # marks and a QR of a form this catalog does not have
    from formdesk.templates.identity import PageIdentity, encode

    tag = get_template("SH-ZH/BD-27")
    pages, _, _ = render_pages(tmp_path, key, tag, None)
    img = pages[0].copy()
    foreign = encode(PageIdentity("SH-ZH/BD-99", 1, "261127-0000000000", 1, 1), key)
    from formdesk.render.marks import qr_modules

    bits = qr_modules(foreign)
    q = tag.geometry.qr_rect
    px = 200 / 25.4
    n = bits.shape[0] + 4
    cell = q.w * px / n
    img[int(q.y * px) : int(q.bottom * px), int(q.x * px) : int(q.right * px)] = 255
    for (r, c), dark in np.ndenumerate(bits):
        if dark:
            y, x = q.y * px + (r + 2) * cell, q.x * px + (c + 2) * cell
            img[int(y) : int(y + cell + 1), int(x) : int(x + cell + 1)] = 0
    result = reader.read_file(as_jpeg(img), "x.jpg")
    assert not result.records
    assert (
        "未识别的表单" in result.problems[0].reason and "SH-ZH/BD-99" in result.problems[0].reason
    )


def test_tags_from_different_sheets_photographed_side_by_side(tmp_path, key, reader):
    """Both tags carry marker ids 0-3; each QR picks its own marks."""
    tag = get_template("SH-ZH/BD-30")
    base = sample_values(tag)
    docs, images = [], []
    for i in range(3):
        pages, doc, _ = render_pages(tmp_path, key, tag, base | {"mileage_km": 5000 + i})
        docs.append(doc)
        images.append(scanned(pages[0], angle=[-3.0, 2.0, 4.0][i]))
    h = max(im.shape[0] for im in images)
    canvas = np.full((h + 200, sum(im.shape[1] for im in images) + 400, 3), 60, np.uint8)
    x = 100
    for im in images:
        canvas[100 : 100 + im.shape[0], x : x + im.shape[1]] = im
        x += im.shape[1] + 100
    records = reader.read_file(as_jpeg(canvas), "photo.jpg").records
    got = sorted((r.document_id, r.values()["mileage_km"]) for r in records)
    assert got == sorted((d.document_id, d.values["mileage_km"]) for d in docs)


def test_a_known_form_without_marks_is_named_but_not_forced(tmp_path, key, reader):
    tag = get_template("SH-ZH/BD-27")
    pages, _, _ = render_pages(tmp_path, key, tag, sample_values(tag))
    img = pages[0].copy()
    px = 200 / 25.4
    for corner in tag.geometry.mark_centres():  # a photocopy that lost its corners
        m = tag.geometry.mark_rect(corner).inset(-2)
        img[int(m.y * px) : int(m.bottom * px), int(m.x * px) : int(m.right * px)] = 255
    result = reader.read_file(as_jpeg(img), "copy.jpg")
    assert not result.records
    assert "SH-ZH/BD-27" in result.problems[0].reason and "定位标记" in result.problems[0].reason


def test_one_engine_serves_several_threads(tmp_path, key, reader):
    from concurrent.futures import ThreadPoolExecutor

    tag = get_template("SH-ZH/BD-27")
    files = []
    for i in range(4):
        pages, doc, _ = render_pages(
            tmp_path, key, tag, sample_values(tag) | {"mileage_km": 700 + i}
        )
        files.append((as_jpeg(scanned(pages[0], 0.3 * i)), doc))
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda f: reader.read_file(f[0], "x.jpg"), files))
    for result, (_, doc) in zip(results, files, strict=True):
        [record] = result.records
        assert record.document_id == doc.document_id
        assert_reads_back(record, tag, doc.values)


def test_a_half_erased_date_is_never_silently_wrong(tmp_path, key, reader):
    from formdesk.templates.layout import date_slots

    tag = get_template("SH-ZH/BD-27")
    pages, doc, _ = render_pages(tmp_path, key, tag, sample_values(tag))
    px = 200 / 25.4
    for slot_index in (1, 2):  # month, then day: the top half of the digits rubbed out
        img = pages[0].copy()
        s = date_slots(tag, tag.field("repair_date"))[slot_index].digits
        img[int(s.y * px) : int((s.y + s.h / 2) * px), int(s.x * px) : int(s.right * px)] = 255
        [record] = reader.read_file(as_jpeg(img), "x.jpg").records
        f = record.field("repair_date")
        assert f.value == doc.values["repair_date"] or f.status != "ok", (f.value, f.status, f.raw)
