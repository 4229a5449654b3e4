"""Rasterised at 200 dpi, every printed page shows its four marks and a QR that names its
document, page and copy, signed by this installation."""

from __future__ import annotations

import pytest

from formdesk.render.document import PdfRenderer
from formdesk.templates import get_template
from formdesk.templates.geometry import CORNER_ORDER, marker_id
from formdesk.templates.identity import PageIdentity, decode, encode

from .conftest import all_templates, sample_values, template_ids
from .pdfcheck import marker_ids, qr_texts, rasterise

TEMPLATES = all_templates()


@pytest.mark.slow
@pytest.mark.parametrize("template", TEMPLATES, ids=template_ids())
def test_every_page_has_four_marks_and_its_qr(tmp_path, key, template):
    out = tmp_path / "form.pdf"
    with PdfRenderer(out, key, gang=False) as r:
        doc = r.add(template, sample_values(template))
    page_index = 0
    for copy in range(1, doc.copies + 1):
        for page in range(1, doc.pages + 1):
            gray = rasterise(out, page_index, dpi=200)
            assert marker_ids(gray) == [0, 1, 2, 3]
            [text] = qr_texts(gray)
            decoded = decode(text, key)
            assert decoded.authentic
            assert decoded.identity == PageIdentity(
                template.code, template.version, doc.document_id, page, doc.pages, copy
            )
            page_index += 1


def test_gang_sheet_keeps_each_tags_identity(tmp_path, key):
    tag = get_template("SH-ZH/BD-27")
    out = tmp_path / "tags.pdf"
    with PdfRenderer(out, key) as r:
        docs = [r.add(tag, sample_values(tag)) for _ in range(5)]
    first_sheet = rasterise(out, 0)
    assert marker_ids(first_sheet) == sorted(
        marker_id(slot, c) for slot in range(tag.per_sheet) for c in CORNER_ORDER
    )
    ids = {decode(t, key).identity.document_id for t in qr_texts(first_sheet)}
    assert ids == {d.document_id for d in docs[:4]}
    second = {decode(t, key).identity.document_id for t in qr_texts(rasterise(out, 1))}
    assert second == {docs[4].document_id}


def test_a_page_signed_by_another_installation_is_not_authentic(key):
    ident = PageIdentity("SH-ZH/BD-27", 1, "261127-0000000000", 1, 1)
    assert decode(encode(ident, key), key).authentic
    assert not decode(encode(ident, b"someone-else"), key).authentic
    forged = encode(ident, key).replace("261127-0000000000", "261127-0000000001")
    assert not decode(forged, key).authentic


def test_copies_are_labelled_and_share_the_document(tmp_path, key):
    report = get_template("SH-ZH/BD-24")
    assert report.copies == ["第一联维修单位存", "第二联某某公司售后服务部市场组存"]
    out = tmp_path / "bd24.pdf"
    with PdfRenderer(out, key, gang=False) as r:
        doc = r.add(report, None)
    import pdfplumber

    with pdfplumber.open(out) as pdf:
        assert len(pdf.pages) == 2
        for page, label in zip(pdf.pages, report.copies, strict=True):
            assert label in page.extract_text().replace(" ", "")
    copies = [decode(qr_texts(rasterise(out, i))[0], key).identity for i in range(2)]
    assert [c.copy for c in copies] == [1, 2]
    assert {c.document_id for c in copies} == {doc.document_id}
