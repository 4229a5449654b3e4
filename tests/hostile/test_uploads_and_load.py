"""Uploads between stations (the same bytes are each uploader's own), a batch holding the
same file twice, and the service's latency while a big print batch and a long upload are
being handled."""

from __future__ import annotations

import os
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing

import httpx
import pypdfium2 as pdfium
import pytest
from fastapi.testclient import TestClient

from formdesk.api.app import create_app
from formdesk.model.accounts import User
from formdesk.model.claims import Station
from formdesk.services.passwords import hash_password
from formdesk.templates import get_template

from ..served import PASSWORD, Server, tag_scans, wait_batches
from .world import PASSWORD as APP_PASSWORD
from .world import login

STATIONS = {"s1": "HN01", "s2": "HN02"}


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    app = create_app(tmp_path_factory.mktemp("data"))
    store = app.state.store
    for code in STATIONS.values():
        store.add_station(Station(code=code, name=f"{code} 维修站"))
    for name, role, station in (
        ("office", "back_office", None),
        ("s1", "station", "HN01"),
        ("s2", "station", "HN02"),
    ):
        store.add_user(
            User(
                username=name,
                password_hash=hash_password(APP_PASSWORD),
                role=role,
                station=station,
            )
        )
    with TestClient(app):
        yield app


def wait_done(client: TestClient, batch_id: str, timeout: float = 90) -> dict:
    end = time.time() + timeout
    while time.time() < end:
        batch = client.get(f"/api/batches/{batch_id}").json()
        if batch["state"] == "done":
            return batch
        time.sleep(0.2)
    raise AssertionError(f"batch {batch_id} not read: {batch}")


def blank_tag_scan(office: TestClient) -> tuple[bytes, str]:
    """A blank tag printed by the back office (for no station), scanned as a JPEG."""
    import cv2
    import numpy as np

    res = office.post("/api/print/sh-zh-bd-27", json={})
    assert res.status_code == 200, res.text
    page = pdfium.PdfDocument(res.content)[0].render(scale=200 / 72).to_pil().convert("RGB")
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(np.asarray(page), cv2.COLOR_RGB2BGR))
    return buf.tobytes(), res.headers["x-document-ids"]


def test_a_stations_upload_of_stored_bytes_is_its_own(app):
    office, s1, s2 = login(app, "office"), login(app, "s1"), login(app, "s2")
    jpeg, doc_id = blank_tag_scan(office)
    first = s1.post("/api/uploads", files=[("files", ("hn01-tag.jpg", jpeg, "image/jpeg"))])
    assert first.status_code == 202 and first.json()["accepted"][0]["new"] is True
    wait_done(s1, first.json()["batch_id"])
    # station 2 sends the same bytes: new for it; it is not told station 1 has them
    second = s2.post("/api/uploads", files=[("files", ("mine.jpg", jpeg, "image/jpeg"))])
    assert second.status_code == 202
    [accepted] = second.json()["accepted"]
    assert accepted["new"] is True
    batch = wait_done(s2, second.json()["batch_id"])
    assert not batch["errors"] and batch["station"] == "HN02"
    # each station has its own record of the form and opens its own upload
    [mine] = s2.get("/api/records", params={"q": doc_id}).json()["items"]
    [theirs] = s1.get("/api/records", params={"q": doc_id}).json()["items"]
    assert (mine["station"], theirs["station"]) == ("HN02", "HN01")
    assert mine["record_id"] != theirs["record_id"]
    scan = s2.get(f"/api/scans/{accepted['sha256']}")
    assert scan.status_code == 200 and scan.content == jpeg
    assert "mine.jpg" in scan.headers["content-disposition"]
    assert (
        "hn01-tag.jpg" in s1.get(f"/api/scans/{accepted['sha256']}").headers["content-disposition"]
    )
    assert s1.get(f"/api/batches/{second.json()['batch_id']}").status_code == 404
    assert s2.get(f"/api/records/{theirs['record_id']}").status_code == 404
    # sending it again: not new for station 2 any more, and station 1's record untouched
    again = s2.post("/api/uploads", files=[("files", ("mine.jpg", jpeg, "image/jpeg"))])
    assert again.json()["accepted"][0]["new"] is False
    wait_done(s2, again.json()["batch_id"])
    assert len(office.get("/api/records", params={"q": doc_id}).json()["items"]) == 2


def test_the_same_file_twice_in_one_upload_counts_twice_and_finishes(app):
    office = login(app, "office")
    jpeg, _ = blank_tag_scan(office)
    res = office.post(
        "/api/uploads",
        files=[
            ("files", ("a.jpg", jpeg, "image/jpeg")),
            ("files", ("copy of a.jpg", jpeg, "image/jpeg")),
        ],
    )
    assert res.status_code == 202
    batch = wait_done(office, res.json()["batch_id"])
    assert (batch["files_done"], batch["files_total"]) == (2, 2)
    assert (batch["pages_done"], batch["pages_total"]) == (1, 1)  # one scan read once
    assert len(batch["scan_ids"]) == 1 and not batch["errors"]


def print_rows(n: int) -> bytes:
    lines = ["来件单位,零部件名称,行驶里程"]
    lines += [f"长沙顺达汽车维修站,机油泵总成,{10_000 + i}" for i in range(n)]
    return ("\n".join(lines) + "\n").encode()


@pytest.mark.exclusive  # times itself (tests/exclusive.py)
@pytest.mark.slow
def test_other_requests_keep_their_latency_while_a_1500_row_print_runs(tmp_path):
    server = Server(tmp_path / "data")
    server.cli("user", "add", "office", "--role", "back_office", "--password", PASSWORD)
    server.start()
    try:
        with closing(server.client()) as c, ThreadPoolExecutor(24) as pool:
            res = c.post(
                "/api/print/sh-zh-bd-27/batch",
                files={"file": ("tags.csv", print_rows(1500), "text/csv")},
            )
            assert res.status_code == 202, res.text
            job = res.json()
            assert job["total"] == 1500
            # a second batch queues behind it; a third is one too many for one user
            small = c.post(
                "/api/print/sh-zh-bd-27/batch",
                files={"file": ("one.csv", print_rows(1), "text/csv")},
            )
            assert small.status_code == 202
            third = c.post(
                "/api/print/sh-zh-bd-27/batch",
                files={"file": ("two.csv", print_rows(2), "text/csv")},
            )
            assert third.status_code == 429 and "打印任务在进行" in third.json()["reason"]
            # meanwhile twenty clerks print forms at once: none holds a worker thread
            blanks = [
                pool.submit(c.post, "/api/print/form-04/blank.pdf", params={"copies": 10})
                for _ in range(20)
            ]
            latencies, lists, progress, blank_s = [], [], [], None
            t_blank = time.perf_counter()
            while job["state"] in ("queued", "rendering"):
                t = time.perf_counter()
                assert httpx.get(f"{server.url}/health", timeout=10).status_code == 200
                latencies.append(time.perf_counter() - t)
                t = time.perf_counter()
                assert c.get("/api/records").status_code == 200
                lists.append(time.perf_counter() - t)
                if blank_s is None and blanks[0].done():
                    blank_s = time.perf_counter() - t_blank
                job = c.get(job["status_url"]).json()
                progress.append(job["done"])
                time.sleep(0.2)
            assert job["state"] == "done", job
            assert all(b.result().status_code == 200 for b in blanks)
            # the first blank print did not wait for the batch (its own render process)
            assert blank_s is not None and blank_s < 20, blank_s
            assert len(job["document_ids"]) == 1500
            assert any(0 < p < 1500 for p in progress), progress  # progress was reported
            pdf = c.get(job["file_url"])
            assert pdf.status_code == 200
            assert len(pdfium.PdfDocument(pdf.content)) == 375  # 4 tags per A4 sheet
            # generous bounds for a loaded CI machine; bench/service_bench.py measures them
            assert len(latencies) >= 5 and statistics.quantiles(latencies, n=20)[-1] < 1.0
            assert statistics.quantiles(lists, n=20)[-1] < 2.0
            # scans of those tags are recognised: their documents are registered
            [(name, jpeg, doc)] = tag_scans(tmp_path, 1)
            assert c.get(f"/api/documents/{job['document_ids'][0]}").status_code == 200
            up = c.post("/api/uploads", files=[("files", (name, jpeg, "image/jpeg"))])
            wait_batches(c, [up.json()["batch_id"]], timeout=120)
    finally:
        server.stop()


def test_a_print_too_big_to_wait_for_is_refused_with_its_page_count(app):
    office = login(app, "office")
    res = office.post("/api/print/form-04/blank.pdf", params={"copies": 200})
    assert res.status_code == 200  # 200 pages: printed while the request waits
    rows = [{"claim_no": f"SP{i:06d}"} for i in range(5000)]
    manifest = office.post(
        "/api/print/sh-zh-bd-31", json={"returned_parts": rows}, params={"copies": 20}
    )
    assert manifest.status_code == 422, manifest.text
    assert "一次最多直接打印 300 页" in manifest.json()["reason"]


def test_a_template_that_is_not_there_and_a_print_job_of_nobody(app):
    office = login(app, "office")
    assert office.get("/api/print-jobs/nope").status_code == 404
    res = office.post(
        "/api/print/sh-zh-bd-27/batch", files={"file": ("x.csv", b"\xef\xbb\xbf", "text/csv")}
    )
    assert res.status_code == 422 and "x.csv" in res.json()["reason"]
    assert get_template("SH-ZH/BD-27").per_sheet == 4


def test_a_file_over_the_size_limit_is_refused_before_any_parser_and_uploads_go_on(app):
    office = login(app, "office")
    big = b"%PDF-1.7\n" + os.urandom(1024 * 1024) * 60  # 60 MB, over the 50 MB per file
    res = office.post("/api/uploads", files=[("files", ("big.pdf", big, "application/pdf"))])
    assert res.status_code == 422 and "文件过大" in res.json()["reason"]
    jpeg, _ = blank_tag_scan(office)
    again = office.post("/api/uploads", files=[("files", ("ok.jpg", jpeg, "image/jpeg"))])
    assert again.status_code == 202, again.text


def test_reports_wait_for_a_slot_and_claims_come_in_pages(app, monkeypatch):
    from formdesk.api.routes import reconcile

    office = login(app, "office")
    monkeypatch.setattr(reconcile, "REPORT_WAIT_S", 0.2)
    slots = app.state.report_slots
    assert slots.acquire(timeout=1) and slots.acquire(timeout=1)  # two reports running
    try:
        busy = office.get("/api/reconcile", params={"station": "HN01", "month": "2026-03"})
        assert busy.status_code == 429 and busy.headers["retry-after"] == "30"
        assert "报表较多" in busy.json()["reason"]
        assert office.get("/api/summary", params={"month": "2026-03"}).status_code == 429
    finally:
        slots.release()
        slots.release()
    ok = office.get("/api/reconcile", params={"station": "HN01", "month": "2026-03"})
    assert ok.status_code == 200, ok.text
    page = office.get("/api/claims", params={"limit": 1, "offset": 0})
    assert page.status_code == 200 and len(page.json()["items"]) <= 1
    assert office.get("/api/claims", params={"limit": 100_000}).status_code == 422
