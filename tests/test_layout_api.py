"""The 表单版式 API (issue 13) on both stores: a scan of an independently typeset BD-27
blank uploaded → a draft with the proposed boxes (made in the layout pool), its reference
image, bad boxes and names refused with Chinese reasons, saved with one box moved, listed,
exported, removed and imported again; bad files refused; only the back office may."""

from __future__ import annotations

import base64
import hashlib
import json
import struct
import zlib

import cv2
import numpy as np
import pytest
from fastapi.testclient import TestClient

from formdesk.api.app import create_app
from formdesk.model.accounts import User
from formdesk.model.claims import Station
from formdesk.services import layouts as layouts_service
from formdesk.services.passwords import hash_password
from samples.external import external_blank, shoot, truth_variant

from .pg import STORES, store_settings

PASSWORD = "correct horse 7"
BD27 = "sh-zh-bd-27"


def _client(app, username: str) -> TestClient:
    client = TestClient(app)
    res = client.post("/api/login", data={"username": username, "password": PASSWORD})
    assert res.status_code == 200, res.text
    client.headers["X-CSRF-Token"] = res.json()["csrf"]
    return client


@pytest.fixture(scope="module", params=STORES)
def served(request, tmp_path_factory):
    """The app on each store with a back-office user, a station user and an auditor;
    its lifespan (pools) running."""
    with store_settings(tmp_path_factory.mktemp("layout-api"), request.param) as settings:
        app = create_app(settings=settings, start_worker=False)
        store = app.state.store
        store.add_station(Station(code="HN01", name="长沙顺达汽车维修站"))
        for username, role, station in (
            ("office", "back_office", None),
            ("s1", "station", "HN01"),
            ("audit", "auditor", None),
        ):
            store.add_user(
                User(
                    username=username,
                    password_hash=hash_password(PASSWORD),
                    role=role,
                    station=station,
                )
            )
        with TestClient(app):  # the lifespan: pools closed at the end
            yield app
        store.close()


def _scan(code: str, seed: int) -> bytes:
    scan = shoot(external_blank(code).page(), "scan", np.random.default_rng(seed))
    return cv2.imencode(".jpg", scan, [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes()


def test_register_a_layout_from_a_scan_through_the_api(served):
    office = _client(served, "office")
    up = office.post(
        "/api/layout-drafts",
        data={"template": "SH-ZH/BD-27"},
        files={"file": ("空白标签.jpg", _scan("SH-ZH/BD-27", 27), "image/jpeg")},
    )
    assert up.status_code == 201, up.text
    draft = up.json()
    assert draft["template"] == "SH-ZH/BD-27" and draft["paper_mm"] == [105.0, 148.0]
    assert draft["px_per_mm"] == pytest.approx(200 / 25.4)
    boxes = {f["key"]: f["box"] for f in draft["fields"]}
    assert len(boxes) == 13 and draft["missing"] == []
    labels = {f["key"]: f["label"] for f in draft["fields"]}
    assert labels["vin"] == "车架号码"
    # the proposed VIN box lies where the typeset blank has it (its measured truth, ±3 mm)
    true_vin = external_blank("SH-ZH/BD-27").truth["fields"]["vin"]
    assert all(abs(a - b) < 3 for a, b in zip(boxes["vin"], true_vin, strict=True))

    ref = office.get(draft["reference_url"])
    assert ref.status_code == 200 and ref.headers["content-type"] == "image/png"
    image = cv2.imdecode(np.frombuffer(ref.content, np.uint8), cv2.IMREAD_GRAYSCALE)
    assert image.shape == (round(148 * 200 / 25.4), round(105 * 200 / 25.4))
    assert office.get(f"/api/layout-drafts/{draft['draft_id']}").json() == draft

    save = f"/api/layout-drafts/{draft['draft_id']}/save"
    for body, status, reason in (
        (
            {"name": "印刷厂", "boxes": boxes | {"nonsense": [1, 1, 5, 5]}},
            422,
            "没有栏目“nonsense”",
        ),
        (
            {"name": "印刷厂", "boxes": boxes | {"vin": [90, 10, 30, 8]}},
            422,
            "不在 105 × 148 mm 的页面内",
        ),
        ({"name": "印刷厂", "boxes": boxes | {"vin": [10, 10, 0, 8]}}, 422, "框太小"),
        ({"name": "印/刷", "boxes": boxes}, 422, "版式名称“印/刷”不合适"),
        ({"name": "印刷厂", "boxes": {}}, 422, "没有任何栏目的框"),
        ({"name": "印刷厂", "boxes": {"vin": [1, 2]}}, 422, ""),
    ):
        res = office.post(save, json=body)
        assert res.status_code == status, res.text
        assert reason in res.json()["reason"]
        assert any("\u4e00" <= c <= "\u9fff" for c in res.json()["reason"])

    moved = [boxes["vin"][0] + 1.5, boxes["vin"][1] - 1.0, boxes["vin"][2] - 2.0, boxes["vin"][3]]
    res = office.post(save, json={"name": "印刷厂", "boxes": boxes | {"vin": moved}})
    assert res.status_code == 201, res.text
    variant = res.json()
    by_key = {f["key"]: f for f in variant["fields"]}
    assert by_key["vin"]["box"] == pytest.approx([round(v, 1) for v in moved])
    assert by_key["vin"]["source"] == "manual"
    assert by_key["sender_unit"]["source"] == "label"  # unmoved: kept as found
    assert by_key["part_origin"]["source"] == "options"
    # the draft is gone once saved
    assert office.get(f"/api/layout-drafts/{draft['draft_id']}").status_code == 404

    listed = office.get("/api/layouts").json()
    assert [(v["template"], v["name"]) for v in listed] == [("SH-ZH/BD-27", "印刷厂")]
    assert office.get(f"/api/layouts/{BD27}/印刷厂").json()["fields"] == variant["fields"]
    preview = office.get(variant["preview_url"])
    assert preview.status_code == 200 and preview.content[:4] == b"\x89PNG"
    exported = office.get(variant["export_url"])
    assert exported.status_code == 200
    assert "attachment" in exported.headers["content-disposition"]

    # export, remove, import under another name: the same boxes
    assert office.delete(f"/api/layouts/{BD27}/印刷厂").status_code == 204
    assert office.delete(f"/api/layouts/{BD27}/印刷厂").status_code == 404
    res = office.post(
        "/api/layouts/import",
        data={"name": "印刷厂2"},
        files={"file": ("layout.json", exported.content, "application/json")},
    )
    assert res.status_code == 201, res.text
    assert res.json()["fields"] == variant["fields"] and res.json()["name"] == "印刷厂2"
    bad = office.post("/api/layouts/import", files={"file": ("x.json", b"{}", "application/json")})
    assert bad.status_code == 422 and "不是 formdesk 导出的版式文件" in bad.json()["reason"]
    assert office.delete(f"/api/layouts/{BD27}/印刷厂2").status_code == 204


def test_bad_scans_are_refused_with_a_reason(served):
    office = _client(served, "office")
    for template, file, status, reason in (
        ("SH-ZH/BD-27", ("空.jpg", b"", "image/jpeg"), 422, "文件为空"),
        ("SH-ZH/BD-27", ("a.txt", b"hello, not a scan", "text/plain"), 422, "不是 PDF、JPEG"),
        ("BD-99", ("a.jpg", _scan("SH-ZH/BD-27", 1), "image/jpeg"), 404, "没有模板"),
        # a scan of another form's blank: too few of BD-27's fields
        ("SH-ZH/BD-27", ("表格04.jpg", _scan("表格04", 4), "image/jpeg"), 422, "不像是该表单"),
    ):
        res = office.post("/api/layout-drafts", data={"template": template}, files={"file": file})
        assert res.status_code == status, res.text
        assert reason in res.json()["reason"], res.text
    assert office.get("/api/layout-drafts/0123456789abcdef").status_code == 404
    assert office.get("/api/layout-drafts/..%2f..%2fsecret").status_code == 404


def test_only_the_back_office_manages_layouts(served):
    for username in ("s1", "audit"):
        client = _client(served, username)
        for method, url in (
            ("GET", "/api/layouts"),
            ("POST", "/api/layout-drafts"),
            ("DELETE", f"/api/layouts/{BD27}/x"),
            ("POST", "/api/layouts/import"),
        ):
            res = client.request(method, url)
            assert res.status_code == 403, (username, url, res.text)
            assert "后台" in res.json()["reason"] or "审计员" in res.json()["reason"]
        assert client.get("/layouts").status_code == 403
    office = _client(served, "office")
    page = office.get("/layouts")
    assert page.status_code == 200 and "表单版式" in page.text
    assert 'href="/layouts"' in office.get("/").text  # in the back office's navigation
    assert 'href="/layouts"' not in _client(served, "s1").get("/").text


def _layout_file(png: bytes) -> bytes:
    """An exported BD-27 layout file (the typeset blank's true boxes) with `png` as its
    reference image."""
    variant = truth_variant(external_blank("SH-ZH/BD-27"), "外来")
    variant = variant.model_copy(update={"reference_sha256": hashlib.sha256(png).hexdigest()})
    body = {
        "format": "formdesk-layout/1",
        "variant": variant.model_dump(mode="json"),
        "reference_png": base64.b64encode(png).decode("ascii"),
    }
    return json.dumps(body, ensure_ascii=False).encode("utf-8")


def _png_declaring(width: int, height: int) -> bytes:
    """A PNG whose header declares width × height grey pixels (8 bit), followed by a
    few rows of zeros compressed: what a decompression bomb starts as."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )  # fmt: skip

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    rows = zlib.compress(b"\0" * (width + 1) * 4)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")


def test_an_imported_layout_file_is_checked_in_the_layout_pool(served, monkeypatch):
    """Importing a layout file decodes its reference image in the layout pool, never in
    the web process (OpenCV's decoder made to fail here, the import still succeeds); a
    reference declaring 30,000 × 30,000 px (a decompression bomb: 900 MB once decoded) is
    refused by its header's size, naming it, before a pixel is decoded."""
    office = _client(served, "office")
    w, h = round(105 * 200 / 25.4), round(148 * 200 / 25.4)
    good = cv2.imencode(".png", np.full((h, w), 245, np.uint8))[1].tobytes()
    good_file, bomb_file = _layout_file(good), _layout_file(_png_declaring(30000, 30000))

    def no_decoding_here(*args, **kwargs):
        raise AssertionError("a layout file's image decoded in the web process")

    monkeypatch.setattr(layouts_service.cv2, "imdecode", no_decoding_here)
    res = office.post(
        "/api/layouts/import",
        data={"name": "导入的"},
        files={"file": ("layout.json", good_file, "application/json")},
    )
    assert res.status_code == 201, res.text
    assert res.json()["name"] == "导入的"

    res = office.post(
        "/api/layouts/import", files={"file": ("bomb.json", bomb_file, "application/json")}
    )
    assert res.status_code == 422, res.text
    reason = res.json()["reason"]
    assert "30000 × 30000 像素" in reason and "不是 SH-ZH/BD-27 的纸张大小" in reason
    assert [v["name"] for v in office.get("/api/layouts").json()] == ["导入的"]
    assert office.delete(f"/api/layouts/{BD27}/导入的").status_code == 204
