"""Pages the reader refused, settled by a person (issue 12, points 2 and 3), with the real
reader: a tag whose QR was torn off and whose printed form code is illegible is refused
(marks found, form unknown); the clerk sees it on its upload's page with a thumbnail,
says which form it is, and the reader reads it again as that form (identified by hand,
sent to review).  A blank page can only be discarded, with a reason; choosing a form for
it reads it again and says why it still cannot be read.  Both stores."""

from __future__ import annotations

import time

import cv2
import numpy as np
import pytest
from fastapi.testclient import TestClient

from formdesk.api.app import create_app
from formdesk.extract.ocr import default_engine
from formdesk.extract.reader import MANUAL_PROBLEM, FormReader
from formdesk.model.accounts import User
from formdesk.model.claims import Station
from formdesk.services.passwords import hash_password
from formdesk.templates import get_template
from samples.synth.effects import scan_effects
from samples.synth.pages import handwritten_page

from .conftest import TEST_KEY, sample_values
from .pg import STORES, store_settings

TAG = get_template("SH-ZH/BD-30")
PX = 200 / 25.4
PASSWORD = "correct horse 7"


def _blank(img: np.ndarray, rect) -> None:
    img[int(rect.y * PX) : int(rect.bottom * PX), int(rect.x * PX) : int(rect.right * PX)] = 255


def _jpeg(img: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 88])
    assert ok
    return buf.tobytes()


@pytest.fixture(scope="module")
def unknown_tag() -> bytes:
    """A filled BD-30 tag, scanned, with its QR torn off and its form code line blanked."""
    rng = np.random.default_rng(11)
    page, _ = handwritten_page(TAG, sample_values(TAG), rng, TEST_KEY, document_id="260315-AAAA")
    g = TAG.geometry
    _blank(page, g.qr_rect)
    h = g.header_rect
    _blank(page, type(h)(h.x, h.y, h.w, 6.0))  # the form code line (extract.locate)
    return _jpeg(scan_effects(page, np.random.default_rng(3), quarter_turns=0))


def test_the_reader_reads_a_page_as_the_form_a_person_chose(unknown_tag):
    reader = FormReader(TEST_KEY, default_engine())
    refused = reader.read_file(unknown_tag, "tag.jpg")
    assert not refused.records
    (problem,) = refused.problems
    assert problem.file_page == 0 and "未识别的表单" in problem.reason
    chosen = reader.read_file(unknown_tag, "tag.jpg", forced={0: (TAG.code, 1)})
    assert not chosen.problems
    (record,) = chosen.records
    assert record.template == TAG.code and record.identified_by == "manual"
    assert record.document_id.startswith("MANUAL-") and MANUAL_PROBLEM in record.problems
    assert record.status == "needs_review"
    want = sample_values(TAG)
    assert record.field("vin").value == want["vin"]
    # another paper size than the marks say: refused with the reason
    wrong = reader.read_file(unknown_tag, "tag.jpg", forced={0: ("SH-ZH/BD-31", 1)})
    assert not wrong.records and "纸张大小不符" in wrong.problems[0].reason


@pytest.fixture(scope="module", params=STORES)
def office(request, tmp_path_factory):
    data = tmp_path_factory.mktemp("refused")
    with store_settings(data, request.param) as settings:
        app = create_app(settings=settings)
        store = app.state.store
        store.add_station(Station(code="HN01", name="长沙顺达汽车维修站"))
        for username, role, station in (("office", "back_office", None), ("s2", "station", "HN02")):
            store.add_user(
                User(
                    username=username,
                    password_hash=hash_password(PASSWORD),
                    role=role,
                    station=station,
                )
            )
        with TestClient(app) as client:
            res = client.post("/api/login", data={"username": "office", "password": PASSWORD})
            client.headers["X-CSRF-Token"] = res.json()["csrf"]
            yield app, client
        store.close()


def _done(client: TestClient, batch_id: str, timeout: float = 120) -> dict:
    end = time.time() + timeout
    while time.time() < end:
        batch = client.get(f"/api/batches/{batch_id}").json()
        if batch["state"] == "done":
            return batch
        time.sleep(0.2)
    raise AssertionError(f"batch {batch_id} not read in {timeout} s")


def test_a_refused_page_is_classified_by_hand_and_read(office, unknown_tag):
    app, client = office
    white = _jpeg(np.full((1100, 800, 3), 255, np.uint8))
    up = client.post(
        "/api/uploads",
        files=[
            ("files", ("无码标签.jpg", unknown_tag, "image/jpeg")),
            ("files", ("空白页.jpg", white, "image/jpeg")),
        ],
    )
    assert up.status_code == 202, up.text
    batch_id = up.json()["batch_id"]
    _done(client, batch_id)
    view = client.get(f"/api/batches/{batch_id}/view").json()
    files = {f["filename"]: f for f in view["files"]}
    assert set(files) == {"无码标签.jpg", "空白页.jpg"}
    (tag_refusal,) = files["无码标签.jpg"]["refusals"]
    (blank_refusal,) = files["空白页.jpg"]["refusals"]
    assert tag_refusal["state"] == "open" and "未识别的表单" in tag_refusal["reason"]
    assert "没有找到表单" in blank_refusal["reason"] and not files["空白页.jpg"]["records"]
    thumb = client.get(f"/api/scans/{tag_refusal['scan_id']}/pages/0/thumb.png")
    assert thumb.status_code == 200 and thumb.content[:8] == b"\x89PNG\r\n\x1a\n"
    img = cv2.imdecode(np.frombuffer(thumb.content, np.uint8), cv2.IMREAD_COLOR)
    assert img.shape[1] == 480
    no_page = client.get(f"/api/scans/{tag_refusal['scan_id']}/pages/5/thumb.png")
    assert no_page.status_code == 422 and "没有第 6 页" in no_page.json()["reason"]
    open_ids = {r["refusal_id"] for r in client.get("/api/refusals?state=open").json()}
    assert open_ids == {tag_refusal["refusal_id"], blank_refusal["refusal_id"]}

    # a station user does not see the back office's refused pages
    s2 = TestClient(app)
    res = s2.post("/api/login", data={"username": "s2", "password": PASSWORD})
    s2.headers["X-CSRF-Token"] = res.json()["csrf"]
    assert s2.get("/api/refusals").json() == []
    hidden = s2.post(f"/api/refusals/{tag_refusal['refusal_id']}/discard", json={"reason": "x"})
    assert hidden.status_code == 404

    bad = client.post(
        f"/api/refusals/{tag_refusal['refusal_id']}/classify", json={"template": "SH-ZH/BD-99"}
    )
    assert bad.status_code == 422 and "没有表单" in bad.json()["reason"]
    again = client.post(
        f"/api/refusals/{tag_refusal['refusal_id']}/classify", json={"template": TAG.code}
    )
    assert again.status_code == 200, again.text
    assert again.json()["refusal"]["state"] == "requeued"
    twice = client.post(
        f"/api/refusals/{tag_refusal['refusal_id']}/classify", json={"template": TAG.code}
    )
    assert twice.status_code == 409
    _done(client, again.json()["batch"]["batch_id"])
    (settled,) = [
        r
        for r in client.get("/api/refusals").json()
        if r["refusal_id"] == tag_refusal["refusal_id"]
    ]
    assert settled["state"] == "resolved" and settled["settled_by"] == "office"
    (record_id,) = settled["record_ids"]
    detail = client.get(f"/api/records/{record_id}").json()
    assert detail["record"]["identified_by"] == "manual"
    assert detail["summary"]["template"] == TAG.code
    assert MANUAL_PROBLEM in detail["reasons"]
    assert batch_id in detail["batches"]

    # a blank page chosen as a tag: read again, refused again with why
    blank_id = blank_refusal["refusal_id"]
    again = client.post(f"/api/refusals/{blank_id}/classify", json={"template": TAG.code})
    _done(client, again.json()["batch"]["batch_id"])
    (reopened,) = [r for r in client.get("/api/refusals").json() if r["refusal_id"] == blank_id]
    assert reopened["state"] == "open" and "没有找到定位标记" in reopened["reason"]
    empty = client.post(f"/api/refusals/{blank_id}/discard", json={"reason": " "})
    assert empty.status_code == 422
    gone = client.post(f"/api/refusals/{blank_id}/discard", json={"reason": "误扫的空白页"})
    assert gone.status_code == 200 and gone.json()["state"] == "discarded"
    assert gone.json()["note"] == "误扫的空白页"
    assert client.get("/api/refusals?state=open").json() == []
    # the same file uploaded again: the discarded page stays discarded
    up = client.post("/api/uploads", files=[("files", ("空白页2.jpg", white, "image/jpeg"))])
    _done(client, up.json()["batch_id"])
    assert client.get("/api/refusals?state=open").json() == []

    # the whole upload voided: its records leave every list, kept and audited
    voided = client.post(f"/api/batches/{batch_id}/void", json={"reason": "重复上传"})
    assert voided.status_code == 200 and voided.json()["voided"] == 1
    assert client.get("/api/records").json()["total"] == 0
    assert client.get("/api/records", params={"status": "voided"}).json()["total"] == 1
    nothing = client.post(f"/api/batches/{batch_id}/void", json={"reason": "再来"})
    assert nothing.status_code == 422
    restored = client.post(f"/api/records/{record_id}/restore")
    assert restored.status_code == 200 and restored.json()["status"] == "needs_review"
    events = client.get(f"/api/records/{record_id}").json()["events"]
    assert [(e["action"], e["reason"]) for e in events] == [("void", "重复上传"), ("restore", None)]
    # the 工作台 counts neither file as failed: their pages were settled on their own cards
    cards = {c["key"]: c for c in client.get("/api/desk").json()["cards"]}
    assert cards["failed"]["total"] == 0 and cards["refusals"]["total"] == 0
