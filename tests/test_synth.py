"""The sample-scan generator (samples/synth): canonical values that fit, pages whose marks and
QR survive a scan, truth files that describe their images, the same output for a seed."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import cv2
import numpy as np
import pytest
import zxingcpp

from formdesk.render.document import PdfRenderer
from formdesk.templates import get_template, load_catalog
from formdesk.templates.geometry import ARUCO_DICTIONARY
from formdesk.templates.identity import decode
from formdesk.templates.layout import table_grid, value_rect
from formdesk.templates.schema import FieldType
from formdesk.templates.values.normalize import normalize_record
from samples.synth import (
    Job,
    gang_sheet,
    handwritten_page,
    make_sample,
    make_values,
    printed_page,
    scan_effects,
    write_sample,
)
from samples.synth import hand as hand_mod
from samples.synth.cli import main as cli_main
from samples.synth.pages import write_form

from .conftest import ROOT, TEST_KEY

SCANS = ROOT / "samples" / "scans"


def _marker_ids(img: np.ndarray) -> list[int]:
    gray = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    dictionary = cv2.aruco.getPredefinedDictionary(getattr(cv2.aruco, ARUCO_DICTIONARY))
    detector = cv2.aruco.ArucoDetector(dictionary, cv2.aruco.DetectorParameters())
    _, ids, _ = detector.detectMarkers(gray)
    return sorted(ids.ravel().tolist()) if ids is not None else []


def _qr_texts(img: np.ndarray) -> list[str]:
    return [r.text for r in zxingcpp.read_barcodes(img) if r.text.startswith("FD1|")]


def _as_dt(t: FieldType, v: str) -> datetime:
    if t == FieldType.month:
        v += "-01"
    if t == FieldType.time:
        return datetime.fromisoformat("2000-01-01 " + v)
    return datetime.fromisoformat(v)


def test_make_values_is_canonical_complete_and_printable(tmp_path):
    catalog = load_catalog()
    with PdfRenderer(tmp_path / "all.pdf", TEST_KEY, gang=False) as r:
        for seed in range(2):
            for t in catalog.values():
                rng = np.random.default_rng(seed)
                values = make_values(t, rng)
                assert normalize_record(t, values) == values, t.code
                for f in t.fields:
                    if f.required and f.type != FieldType.table:
                        assert f.key in values, (t.code, f.key)
                    if f.type == FieldType.checkbox:
                        assert isinstance(values[f.key], bool)
                for table in t.table_fields:
                    rows = values[table.key]
                    assert 2 <= len(rows) <= 6
                    wanted = {c.key for c in table.columns if c.type != FieldType.serial}
                    assert all(set(row) == wanted for row in rows), t.code
                for c in t.checks:
                    if c.rule == "not_before" and c.field in values and c.other in values:
                        a = _as_dt(t.field(c.field).type, values[c.field])
                        b = _as_dt(t.field(c.other).type, values[c.other])
                        assert a >= b, (t.code, c.field, c.other)
                if seed == 0:
                    r.add(t, values)  # raises ValueDoesNotFitError if a value cannot be printed


def test_p_empty_leaves_out_only_optional_fields():
    t = get_template("SH-ZH/BD-21")
    values = make_values(t, np.random.default_rng(3), p_empty=1.0)
    assert all(t.field(k).required or t.field(k).type == FieldType.checkbox for k in values)
    assert {f.key for f in t.fields if f.required} <= set(values)


@pytest.mark.parametrize("code", ["SH-ZH/BD-27", "表格04"])
def test_handwritten_page_keeps_marks_and_qr_readable_after_a_scan(code):
    t = get_template(code)
    rng = np.random.default_rng(11)
    img, truth = handwritten_page(t, make_values(t, rng), rng, TEST_KEY)
    assert img.dtype == np.uint8 and img.ndim == 3
    g = t.geometry
    assert abs(img.shape[1] - g.width / 25.4 * 200) < 2  # 200 dpi
    scanned = scan_effects(img, rng)
    assert _marker_ids(scanned) == [0, 1, 2, 3]
    texts = _qr_texts(scanned)
    assert len(texts) == 1
    ident = decode(texts[0], TEST_KEY)
    assert ident.authentic
    form = truth["forms"][0]
    assert ident.identity.document_id == form["document_id"]
    assert ident.identity.form_code == code and form["handwritten"] is True


def test_ink_stays_inside_the_writing_areas():
    t = get_template("SH-ZH/BD-21")  # text, dates, choices, signatures and a seal
    rng = np.random.default_rng(5)
    values = make_values(t, rng, p_empty=0.0)
    px = hand_mod.PX_PER_MM
    shape = (int(t.geometry.height * px) + 1, int(t.geometry.width * px) + 1)
    canvas = hand_mod.InkCanvas(shape)
    write_form(canvas, t, values, hand_mod.Hand.random(rng), rng)
    allowed = np.zeros(shape, bool)
    for f in t.fields:
        v = value_rect(t, f)
        allowed[int(v.y * px) : int(v.bottom * px) + 1, int(v.x * px) : int(v.right * px) + 1] = (
            True
        )
    ink = np.zeros(shape, bool)
    for cov in canvas.cov.values():
        ink |= cov > 0
    for mask, x, y, _ in canvas.seals:
        sub = ink[max(0, y) : y + mask.shape[0], max(0, x) : x + mask.shape[1]]
        sub |= (
            mask[max(0, -y) : max(0, -y) + sub.shape[0], max(0, -x) : max(0, -x) + sub.shape[1]] > 0
        )
    assert ink.any()
    assert not (ink & ~allowed).any()


def test_gang_sheet_writes_each_tag_in_its_slot():
    t = get_template("SH-ZH/BD-30")
    rng = np.random.default_rng(2)
    img, truth = gang_sheet(t, [make_values(t, rng) for _ in range(3)], rng, TEST_KEY)
    assert truth["kind"] == "gang" and len(truth["forms"]) == 3
    assert len({f["document_id"] for f in truth["forms"]}) == 3
    assert _marker_ids(img) == list(range(12))
    ids = {decode(s, TEST_KEY).identity.document_id for s in _qr_texts(img)}
    assert ids == {f["document_id"] for f in truth["forms"]}


def test_printed_page_is_not_handwritten():
    t = get_template("表格15")
    img, truth = printed_page(t, make_values(t, np.random.default_rng(1)), TEST_KEY)
    assert truth["kind"] == "printed" and truth["forms"][0]["handwritten"] is False
    assert _marker_ids(img) == [0, 1, 2, 3]


def _check_truth(truth: dict, image: Path) -> None:
    assert set(truth) == {"file", "kind", "forms"}
    assert truth["file"] == image.name
    assert truth["kind"] in ("scan", "photo", "gang", "printed")
    assert truth["forms"]
    for form in truth["forms"]:
        assert set(form) == {"template", "document_id", "page", "copy", "values", "handwritten"}
        t = get_template(form["template"])
        assert t.code == form["template"]
        assert form["page"] == 1 and 1 <= form["copy"] <= max(1, len(t.copies))
        assert normalize_record(t, form["values"]) == form["values"]
        assert isinstance(form["handwritten"], bool)
    img = cv2.imread(str(image))
    assert img is not None and img.ndim == 3


@pytest.mark.parametrize("kind,code", [("gang", "SH-ZH/BD-27"), ("tags", "SH-ZH/BD-30")])
def test_truth_json_is_well_formed(tmp_path, kind, code):
    truth = write_sample(Job(3, 9, kind, code, (), ()), TEST_KEY, tmp_path)
    on_disk = json.loads((tmp_path / "0003.json").read_text(encoding="utf-8"))
    assert on_disk == truth
    _check_truth(on_disk, tmp_path / "0003.jpg")
    assert len(on_disk["forms"]) >= 2


def test_same_seed_same_sample():
    job = Job(4, 21, None, None, ("scan", "photo", "gang", "printed"), ())
    a_img, a_truth = make_sample(job, TEST_KEY)
    b_img, b_truth = make_sample(job, TEST_KEY)
    assert a_truth == b_truth
    assert np.array_equal(a_img, b_img)
    other = make_sample(Job(4, 22, None, None, job.kinds, ()), TEST_KEY)[1]
    assert other != a_truth


def test_cli_writes_images_and_truth(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("FORMDESK_SECRET", raising=False)
    argv = ["--out", str(tmp_path), "--count", "2", "--seed", "5", "--jobs", "1"]
    assert cli_main(argv + ["--kinds", "scan,printed", "--templates", "BD-30,表格09"]) == 0
    assert "formdesk-synth" in capsys.readouterr().out
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["0000.jpg", "0000.json", "0001.jpg", "0001.json"]
    for j in tmp_path.glob("*.json"):
        truth = json.loads(j.read_text(encoding="utf-8"))
        _check_truth(truth, tmp_path / truth["file"])
        assert truth["kind"] in ("scan", "printed")
        assert {f["template"] for f in truth["forms"]} <= {"SH-ZH/BD-30", "表格09"}


def test_a_missing_font_names_its_debian_package(monkeypatch):
    monkeypatch.setitem(
        hand_mod.HAND_FONTS, "ukai", ("/nonexistent/ukai.ttc", 0, "fonts-arphic-ukai")
    )
    hand_mod.font_file.cache_clear()
    try:
        with pytest.raises(hand_mod.FontMissingError, match="fonts-arphic-ukai"):
            hand_mod.font_file("ukai")
    finally:
        hand_mod.font_file.cache_clear()


def test_committed_scans_match_their_truth():
    truths = sorted(SCANS.glob("*.json"))
    assert 10 <= len(truths) <= 16
    kinds: dict[str, int] = {}
    for path in truths:
        truth = json.loads(path.read_text(encoding="utf-8"))
        image = SCANS / truth["file"]
        assert image.exists() and image.stem == path.stem
        assert image.stat().st_size < 600 * 1024
        _check_truth(truth, image)
        kinds[truth["kind"]] = kinds.get(truth["kind"], 0) + 1
    assert set(kinds) == {"scan", "photo", "gang", "printed"}


def test_committed_scans_readable_marks():
    """Every committed single-form scan still shows its four marks and its QR."""
    for path in sorted(SCANS.glob("*.json")):
        truth = json.loads(path.read_text(encoding="utf-8"))
        if truth["kind"] != "scan":
            continue
        img = cv2.imread(str(SCANS / truth["file"]))
        assert _marker_ids(img) == [0, 1, 2, 3], path.name
        (text,) = _qr_texts(img)
        assert (
            decode(text, b"formdesk-synth").identity.document_id == truth["forms"][0]["document_id"]
        )


def test_table_rows_fit_the_first_page():
    for t in load_catalog().values():
        for table in t.table_fields:
            assert len(table_grid(t, table).rows) >= 6  # make_values writes at most 6 rows
