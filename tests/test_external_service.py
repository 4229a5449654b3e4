"""A layout registered in the service's store (issue 13) is what the service's reader
processes read pages without marks against: a filled page of the layout, uploaded, is
stored as a 外部表单 record to review; its review page's scan is the page aligned on the
variant's reference as the reader aligned it (the field crops cut from it), and once the
variant is removed, the page as uploaded with a Chinese note; on both stores."""

from __future__ import annotations

import time

import cv2
import numpy as np
import pytest
from fastapi.testclient import TestClient

from formdesk.api.app import create_app
from formdesk.extract.align import PX_PER_MM
from formdesk.model.accounts import User
from formdesk.services.layouts import register_layout, remove_layout
from formdesk.services.passwords import hash_password
from samples.external import external_blank, filled_page

from .pg import STORES, store_settings

PASSWORD = "correct horse 7"


@pytest.fixture(params=STORES)
def office(request, tmp_path):
    with store_settings(tmp_path / "data", request.param) as settings:
        app = create_app(settings=settings)
        store = app.state.store
        store.add_user(
            User(username="office", password_hash=hash_password(PASSWORD), role="back_office")
        )
        with TestClient(app) as client:
            res = client.post("/api/login", data={"username": "office", "password": PASSWORD})
            client.headers["X-CSRF-Token"] = res.json()["csrf"]
            yield store, client
        store.close()


def test_an_uploaded_page_of_a_registered_layout_becomes_a_record(office):
    store, client = office
    blank = external_blank("SH-ZH/BD-27")
    register_layout(store, "SH-ZH/BD-27", "印刷厂", blank.pdf.read_bytes(), "pad.pdf", "office")
    image, values = filled_page(blank, np.random.default_rng(21), "scan")
    jpeg = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 88])[1].tobytes()
    up = client.post("/api/uploads", files=[("files", ("标签.jpg", jpeg, "image/jpeg"))])
    assert up.status_code == 202, up.text
    batch_id = up.json()["batch_id"]
    end = time.time() + 120
    while client.get(f"/api/batches/{batch_id}").json()["state"] != "done":
        assert time.time() < end, "not read in 120 s"
        time.sleep(0.2)
    view = client.get(f"/api/batches/{batch_id}/view").json()
    (file,) = view["files"]
    assert file["refusals"] == []
    (summary,) = file["records"]
    record = client.get(f"/api/records/{summary['record_id']}").json()
    form = record["record"]
    assert form["template"] == "SH-ZH/BD-27" and form["identified_by"] == "layout"
    assert any("外部表单(版式“印刷厂”)" in n for n in form["notes"])
    read = {f["key"]: f["value"] for f in form["fields"]}
    assert read["vin"] == values["vin"]

    # -- the review page's scan: aligned on the variant as the reader aligned it ------------------
    rid = summary["record_id"]
    page = client.get(f"/api/records/{rid}/page.png?page=1")
    assert page.status_code == 200, page.text
    assert record["page_note"] is None and form["layout"]["name"] == "印刷厂"
    assert page.headers["content-type"] == "image/png"
    aligned = cv2.imdecode(np.frombuffer(page.content, np.uint8), cv2.IMREAD_COLOR)
    assert aligned.shape[:2] == (round(148 * PX_PER_MM), round(105 * PX_PER_MM))
    vin = next(f for f in form["fields"] if f["key"] == "vin")
    crop = client.get(f"/api/records/{rid}/crop.png", params={"key": "vin"})
    assert crop.status_code == 200, crop.text
    cut = cv2.imdecode(np.frombuffer(crop.content, np.uint8), cv2.IMREAD_GRAYSCALE)
    x, y, w, h = vin["box"]
    assert (
        abs(cut.shape[1] - (w + 2) * PX_PER_MM) <= 2
        and abs(cut.shape[0] - (h + 2) * PX_PER_MM) <= 2
    )
    assert (cut < 128).mean() > 0.01  # the handwritten VIN is in it, not an empty strip

    # -- the variant removed: the page as uploaded, with a note; no crop to cut ------------------
    remove_layout(store, "SH-ZH/BD-27", "印刷厂")
    note = client.get(f"/api/records/{rid}").json()["page_note"]
    assert "版式“印刷厂”" in note and "已删除" in note and "原始扫描页" in note
    page = client.get(f"/api/records/{rid}/page.png?page=1")
    assert page.status_code == 200, page.text
    raw = cv2.imdecode(np.frombuffer(page.content, np.uint8), cv2.IMREAD_COLOR)
    assert raw.shape == image.shape  # the scan as uploaded
    crop = client.get(f"/api/records/{rid}/crop.png", params={"key": "vin"})
    assert crop.status_code == 409 and "无法截取栏目图像" in crop.json()["reason"]
