"""Every input path reads the page people see (issue 10, point 4).

A PDF's text layer is used only when formdesk wrote the PDF (signed /FormdeskIssue entry
for the document on the page) and the text agrees with the page image; every other PDF is
read from its pixels.  /Rotate, a CropBox offset and /UserUnit are applied identically to
pixels and text; a mirrored page is flipped back.  The files under tests/cases/input-paths
are the shared cases (../shared/cases) that failed before; the rest are made here.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import cv2
import numpy as np
import pypdf
import pypdfium2 as pdfium
import pytest
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    FloatObject,
    NameObject,
    NumberObject,
    RectangleObject,
)
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas

from formdesk.extract.ocr import default_engine
from formdesk.extract.reader import FormReader
from formdesk.render.document import PdfRenderer
from formdesk.templates import get_template
from formdesk.templates.identity import sign_issue, verify_issue
from formdesk.templates.layout import value_rect
from samples.scoring import outcomes

from .conftest import TEST_KEY, sample_values

CASES = Path(__file__).resolve().parent / "cases" / "input-paths"
TAG = get_template("SH-ZH/BD-27")


@pytest.fixture(scope="module")
def reader() -> FormReader:
    return FormReader(TEST_KEY, default_engine())


@pytest.fixture(scope="module")
def tag_pdf(tmp_path_factory) -> tuple[bytes, dict]:
    """A prefilled BD-27 tag as formdesk prints it (signed with the test key)."""
    out = tmp_path_factory.mktemp("tag") / "tag.pdf"
    with PdfRenderer(out, TEST_KEY, gang=False) as r:
        doc = r.add(TAG, sample_values(TAG))
    return out.read_bytes(), doc.values


def wrong(record, template, truth) -> list:
    return [o for o in outcomes(record, template, truth) if not o.correct]


def read_one(reader: FormReader, data: bytes, name: str):
    result = reader.read_file(data, name)
    assert not result.problems, result.problems
    [record] = result.records
    return record


def edited(data: bytes, edit, *, keep_mark: bool = True) -> bytes:
    """The PDF with `edit(page, writer)` applied to its first page, saved again (as a PDF
    editor would); without its issue mark when `keep_mark` is false."""
    w = pypdf.PdfWriter(clone_from=io.BytesIO(data))
    edit(w.pages[0], w)
    if not keep_mark:
        w.metadata = {k: v for k, v in (w.metadata or {}).items() if k != "/FormdeskIssue"}
    buf = io.BytesIO()
    w.write(buf)
    return buf.getvalue()


def rotated(turn: int):
    return lambda page, w: page.rotate(turn)


def crop_offset(page, w, dx: float = 60.0, dy: float = 45.0) -> None:
    """The page drawn on a bigger MediaBox, the CropBox where it used to be."""
    width, height = float(page.mediabox.width), float(page.mediabox.height)
    page.add_transformation(pypdf.Transformation().translate(dx, dy))
    page.mediabox = RectangleObject([0, 0, width + 2 * dx, height + 2 * dy])
    page.cropbox = RectangleObject([dx, dy, width + dx, height + dy])


def user_unit(page, w, unit: float = 2.0) -> None:
    """Same physical size in half the units: content scaled by 1/2, /UserUnit 2."""
    width, height = float(page.mediabox.width), float(page.mediabox.height)
    page.add_transformation(pypdf.Transformation().scale(1 / unit, 1 / unit))
    page.mediabox = RectangleObject([0, 0, width / unit, height / unit])
    page.cropbox = page.mediabox
    page[NameObject("/UserUnit")] = FloatObject(unit)


# -- the shared cases ------------------------------------------------------------------


def test_shared_case_rotate180_reads_forwards(reader):
    """A formdesk PDF from another installation with /Rotate 180: read from its pixels
    (its text layer is not this installation's), every value the right way round."""
    truth = json.loads((CASES / "values.json").read_text(encoding="utf-8"))
    record = read_one(reader, (CASES / "rotate180.pdf").read_bytes(), "rotate180.pdf")
    assert record.identified_by == "qr"  # not the text layer
    assert wrong(record, TAG, truth) == []


def test_shared_case_scanner_ocr_layer_is_ignored(reader):
    """A scanned tag with a scanner's invisible OCR layer reads as the image does."""
    truth = json.loads((CASES / "truth-tag.json").read_text(encoding="utf-8"))["forms"][0]
    record = read_one(reader, (CASES / "searchable-tag.pdf").read_bytes(), "searchable.pdf")
    assert record.identified_by == "qr"
    assert record.document_id == truth["document_id"]
    assert wrong(record, TAG, truth["values"]) == []
    assert len([f for f in record.fields if f.value is not None]) == 13


def test_shared_case_mirrored_photo_is_flipped_back(reader):
    truth = json.loads((CASES / "truth-mirrored.json").read_text(encoding="utf-8"))["forms"][0]
    record = read_one(reader, (CASES / "tag-mirrored.jpg").read_bytes(), "mirrored.jpg")
    assert record.document_id == truth["document_id"]
    assert wrong(record, TAG, truth["values"]) == []
    assert any("镜像" in n for n in record.notes)


# -- our own PDFs: text layer trusted, and placed like the pixels -----------------------


def test_own_pdf_is_signed_for_its_documents(tag_pdf):
    data, _ = tag_pdf
    mark = pypdf.PdfReader(io.BytesIO(data)).metadata["/FormdeskIssue"]
    ids = verify_issue(mark, TEST_KEY)
    assert len(ids) == 1
    assert verify_issue(mark, b"another installation") == frozenset()
    forged = mark.replace(next(iter(ids)), "261130-0000000000")
    assert verify_issue(forged, TEST_KEY) == frozenset()
    assert verify_issue(sign_issue(["a", "b"], TEST_KEY), TEST_KEY) == {"a", "b"}


@pytest.mark.parametrize(
    "edit",
    [rotated(90), rotated(180), rotated(270), crop_offset, user_unit],
    ids=["rotate90", "rotate180", "rotate270", "cropbox-offset", "userunit-2"],
)
def test_own_pdf_text_layer_survives_page_geometry(reader, tag_pdf, edit):
    data, values = tag_pdf
    record = read_one(reader, edited(data, edit), "edited.pdf")
    assert record.identified_by == "text_layer"
    assert wrong(record, TAG, values) == []
    assert record.status == "ready"


@pytest.mark.parametrize(
    "edit", [rotated(90), crop_offset], ids=["rotate90-unsigned", "cropbox-offset-unsigned"]
)
def test_unsigned_pdf_is_read_from_pixels_with_the_same_geometry(reader, tag_pdf, edit):
    """The same page without formdesk's mark (re-saved by another program): pixels only."""
    data, values = tag_pdf
    record = read_one(reader, edited(data, edit, keep_mark=False), "resaved.pdf")
    assert record.identified_by == "qr"
    assert not [o for o in wrong(record, TAG, values) if o.status == "ok"]
    assert len(wrong(record, TAG, values)) <= 1


def _overlay(page, w, draw) -> None:
    """Merges a one-page overlay drawn with reportlab (same page size) onto `page`."""
    width, height = float(page.mediabox.width), float(page.mediabox.height)
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=(width, height))
    draw(c, height)
    c.showPage()
    c.save()
    page.merge_page(pypdf.PdfReader(io.BytesIO(buf.getvalue())).pages[0])


def _mm_box(key: str):
    return value_rect(TAG, TAG.field(key))


def test_text_hidden_under_a_white_out_is_not_read(reader, tag_pdf):
    """Someone whited out 行驶里程 in an editor and typed another number over it: the old
    text is still in the layer, invisible; the field is read from what the page shows."""
    data, values = tag_pdf
    box = _mm_box("mileage_km")

    def draw(c, height):
        c.setFillColorRGB(1, 1, 1)
        c.rect(box.x * mm + 2, height - box.bottom * mm + 2, box.w * mm - 4, box.h * mm - 4, 0, 1)
        c.setFillColorRGB(0, 0, 0)
        c.setFont("Helvetica", 12)
        c.drawString(box.x * mm + 6, height - box.bottom * mm + 6, "93715")

    record = read_one(reader, edited(data, lambda p, w: _overlay(p, w, draw)), "whiteout.pdf")
    mileage = record.field("mileage_km")
    assert mileage.value == 93715, mileage
    others = {k: v for k, v in values.items() if k != "mileage_km"}
    assert [o for o in wrong(record, TAG, others) if o.key != "mileage_km"] == []


def test_an_annotation_over_an_empty_field_is_read(reader, tmp_path):
    """A stamp annotation (drawn by PDFium, absent from the text layer) writes a value
    into a field the printed PDF left empty: the field is read from the pixels."""
    values = dict(sample_values(TAG))
    values.pop("mileage_km", None)
    out = tmp_path / "tag.pdf"
    with PdfRenderer(out, TEST_KEY, gang=False) as r:
        r.add(TAG, values)
    box = _mm_box("mileage_km")

    def annotate(page, w):
        height = float(page.mediabox.height)
        x0, y0 = box.x * mm + 3, height - box.bottom * mm + 3
        x1, y1 = box.right * mm - 3, height - box.y * mm - 3
        ap = DecodedStreamObject()
        ap.set_data(b"BT /Helv 13 Tf 0 g 3 4 Td (61528) Tj ET")
        ap.update(
            {
                NameObject("/Type"): NameObject("/XObject"),
                NameObject("/Subtype"): NameObject("/Form"),
                NameObject("/BBox"): RectangleObject([0, 0, x1 - x0, y1 - y0]),
                NameObject("/Resources"): DictionaryObject(
                    {
                        NameObject("/Font"): DictionaryObject(
                            {
                                NameObject("/Helv"): DictionaryObject(
                                    {
                                        NameObject("/Type"): NameObject("/Font"),
                                        NameObject("/Subtype"): NameObject("/Type1"),
                                        NameObject("/BaseFont"): NameObject("/Helvetica"),
                                    }
                                )
                            }
                        )
                    }
                ),
            }
        )
        annot = DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Annot"),
                NameObject("/Subtype"): NameObject("/Stamp"),
                NameObject("/Rect"): RectangleObject([x0, y0, x1, y1]),
                NameObject("/F"): NumberObject(4),
                NameObject("/AP"): DictionaryObject({NameObject("/N"): w._add_object(ap)}),
            }
        )
        page[NameObject("/Annots")] = ArrayObject([w._add_object(annot)])

    record = read_one(reader, edited(out.read_bytes(), annotate), "annotated.pdf")
    assert record.field("mileage_km").value == 61528


def test_a_scan_made_searchable_by_a_scanner_reads_the_image(reader, tag_pdf, tmp_path):
    """Our own printed tag, scanned, wrapped in a PDF with an invisible OCR layer that says
    something else in every field (render mode 3): the values come from the image."""
    data, values = tag_pdf
    doc = pdfium.PdfDocument(data)
    image = doc[0].render(scale=200 / 72).to_pil().convert("RGB")
    width, height = doc.get_page_size(0)
    doc.close()
    out = tmp_path / "searchable.pdf"
    c = Canvas(str(out), pagesize=(width, height))
    c.drawImage(ImageReader(image), 0, 0, width, height)
    text = c.beginText()
    text.setTextRenderMode(3)
    text.setFont("Helvetica", 9)
    for key in ("engine_no", "mileage_km", "vin", "part_no", "vehicle_model"):
        box = _mm_box(key)
        text.setTextOrigin(box.x * mm + 4, height - box.bottom * mm + 5)
        text.textOut("WRONG 000")
    c.drawText(text)
    c.save()
    record = read_one(reader, out.read_bytes(), "searchable.pdf")
    assert record.identified_by == "qr"
    assert not [o for o in wrong(record, TAG, values) if o.status == "ok"]
    assert len(wrong(record, TAG, values)) <= 1


# -- mirrored pages -------------------------------------------------------------------


@pytest.mark.parametrize("flip", [0, 1], ids=["up-down", "left-right"])
def test_mirrored_scans_of_other_forms_are_flipped(reader, tmp_path, flip):
    order = get_template("表格04")
    out = tmp_path / "order.pdf"
    with PdfRenderer(out, TEST_KEY, gang=False) as r:
        doc = r.add(order, sample_values(order))
    pdf = pdfium.PdfDocument(str(out))
    page = cv2.cvtColor(np.asarray(pdf[0].render(scale=200 / 72).to_pil()), cv2.COLOR_RGB2BGR)
    pdf.close()
    ok, jpeg = cv2.imencode(".jpg", cv2.flip(page, flip), [cv2.IMWRITE_JPEG_QUALITY, 88])
    record = read_one(reader, jpeg.tobytes(), "mirrored.jpg")
    assert record.document_id == doc.document_id
    assert any("镜像" in n for n in record.notes)
    assert not [o for o in wrong(record, order, doc.values) if o.status == "ok"]
    assert len(wrong(record, order, doc.values)) <= 1


def test_a_page_without_marks_is_still_refused_when_flipped(reader):
    blank = np.full((1169, 827, 3), 255, np.uint8)
    cv2.putText(blank, "no form here", (100, 400), cv2.FONT_HERSHEY_SIMPLEX, 2, (0, 0, 0), 3)
    ok, png = cv2.imencode(".png", blank)
    result = reader.read_file(png.tobytes(), "blank.png")
    assert result.records == []
    assert "没有找到表单" in result.problems[0].reason
