"""The web service through its HTTP API: real FastAPI app on each store (real TinyDB files,
a real PostgreSQL database), the real reader in its background worker.  Every endpoint,
with every role."""

from __future__ import annotations

import io
import json
import time

import cv2
import numpy as np
import pypdfium2 as pdfium
import pytest
from fastapi.testclient import TestClient

from formdesk.api.app import create_app
from formdesk.model.accounts import User
from formdesk.model.claims import Station
from formdesk.services.passwords import hash_password
from formdesk.templates import get_template

from .conftest import finished_print_job, sample_values
from .pg import STORES, store_settings

PASSWORD = "correct horse 7"


@pytest.fixture(scope="module", params=STORES)
def service(request, tmp_path_factory):
    data = tmp_path_factory.mktemp("data")
    with store_settings(data, request.param) as settings:
        app = create_app(settings=settings, max_request_bytes=8 * 1024 * 1024)
        yield from _with_users(app)
        app.state.store.close()


def _with_users(app):
    store = app.state.store
    for code, name in (("HN01", "长沙顺达汽车维修站"), ("HN02", "衡阳广汇汽车维修站")):
        store.add_station(Station(code=code, name=name))
    for username, role, station in (
        ("office", "back_office", None),
        ("s1", "station", "HN01"),
        ("s2", "station", "HN02"),
        ("audit", "auditor", None),
    ):
        store.add_user(
            User(
                username=username, password_hash=hash_password(PASSWORD), role=role, station=station
            )
        )
    with TestClient(app) as client:
        yield app, client


def login(app, username: str) -> TestClient:
    client = TestClient(app)
    res = client.post("/api/login", data={"username": username, "password": PASSWORD})
    assert res.status_code == 200, res.text
    client.headers["X-CSRF-Token"] = res.json()["csrf"]
    return client


def scan_of(pdf: bytes) -> bytes:
    """The printed PDF, as a scanner would return it: a JPEG of page one."""
    page = pdfium.PdfDocument(pdf)[0].render(scale=200 / 72).to_pil().convert("RGB")
    img = cv2.cvtColor(np.asarray(page), cv2.COLOR_RGB2BGR)
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 90])
    return buf.tobytes()


def wait_done(client: TestClient, batch_id: str, timeout: float = 60) -> dict:
    end = time.time() + timeout
    while time.time() < end:
        batch = client.get(f"/api/batches/{batch_id}").json()
        if batch["state"] == "done":
            return batch
        time.sleep(0.2)
    raise AssertionError(f"batch {batch_id} not read in {timeout} s")


@pytest.fixture(scope="module")
def read_tag(service):
    """Station HN01 prints a prefilled tag; the back office uploads its scan; it is read."""
    app, _ = service
    s1 = login(app, "s1")
    tag = get_template("SH-ZH/BD-27")
    res = s1.post(f"/api/print/{tag.slug}", json=sample_values(tag))
    assert res.status_code == 200 and res.headers["content-type"] == "application/pdf"
    doc_id = res.headers["x-document-ids"]
    office = login(app, "office")
    jpeg = scan_of(res.content)
    up = office.post("/api/uploads", files=[("files", ("tag.jpg", jpeg, "image/jpeg"))])
    assert up.status_code == 202, up.text
    batch = wait_done(office, up.json()["batch_id"])
    assert batch["pages_done"] == batch["pages_total"] == 1 and not batch["errors"]
    items = office.get("/api/records", params={"q": doc_id}).json()["items"]
    assert len(items) == 1
    return items[0]["record_id"], doc_id, jpeg, up.json()["accepted"][0]["sha256"]


def test_health_and_docs(service):
    _, client = service
    assert client.get("/health").json()["status"] == "ok"
    assert client.get("/docs").status_code == 200
    assert "/api/uploads" in client.get("/openapi.json").json()["paths"]


def test_sign_in_required_and_wrong_password_refused(service):
    app, client = service
    res = TestClient(app).get("/api/records")
    assert res.status_code == 401 and res.json()["reason"] == "请先登录"
    res = TestClient(app).post("/api/login", data={"username": "office", "password": "nope"})
    assert res.status_code == 401 and "密码" in res.json()["reason"]


def test_a_session_write_needs_the_csrf_token(service, read_tag):
    app, _ = service
    office = login(app, "office")
    del office.headers["X-CSRF-Token"]
    res = office.post(f"/api/records/{read_tag[0]}/verify")
    assert res.status_code == 403 and "CSRF" in res.json()["reason"]


def test_an_api_token_works_without_a_session(service, read_tag):
    app, _ = service
    office = login(app, "office")
    token = office.post("/api/tokens", data={"label": "nightly export"}).json()["token"]
    script = TestClient(app, headers={"Authorization": f"Bearer {token}"})
    assert script.get("/api/me").json()["username"] == "office"
    assert script.get(f"/api/records/{read_tag[0]}").status_code == 200
    bad = TestClient(app, headers={"Authorization": "Bearer fd_wrong"})
    assert bad.get("/api/records").status_code == 401


def test_a_scan_is_read_into_a_record_of_the_printing_station(service, read_tag):
    app, _ = service
    record_id, doc_id, jpeg, sha = read_tag
    office = login(app, "office")
    detail = office.get(f"/api/records/{record_id}").json()
    assert detail["summary"]["station"] == "HN01" and detail["summary"]["document_id"] == doc_id
    values = {f["key"]: f["value"] for f in detail["record"]["fields"]}
    assert values["vin"] == sample_values(get_template("SH-ZH/BD-27"))["vin"]
    # printed here with values: the reader verified them against the registry, no OCR
    texts = [f for f in detail["record"]["fields"] if f["type"] not in ("circle_choice", "seal")]
    assert texts and all(f["evidence"] == ["printed"] for f in texts if f["value"] is not None)
    assert office.get(f"/api/scans/{sha}").content == jpeg  # the original, byte for byte
    assert office.get(f"/api/documents/{doc_id}").json()["station"] == "HN01"
    page = office.get(f"/api/records/{record_id}/page.png")
    assert page.status_code == 200 and page.content[:4] == b"\x89PNG"
    crop = office.get(f"/api/records/{record_id}/crop.png", params={"key": "vin"})
    img = cv2.imdecode(np.frombuffer(crop.content, np.uint8), cv2.IMREAD_COLOR)
    assert img.shape[1] > 5 * img.shape[0]  # a one-line field's crop is long and low


def test_uploading_the_same_file_twice_stores_it_once(service, read_tag):
    app, _ = service
    office = login(app, "office")
    up = office.post(
        "/api/uploads", files=[("files", ("again.jpg", read_tag[2], "image/jpeg"))]
    ).json()
    assert up["accepted"][0]["sha256"] == read_tag[3] and up["accepted"][0]["new"] is False
    wait_done(office, up["batch_id"])
    assert office.get("/api/records", params={"q": read_tag[1]}).json()["total"] == 1


def test_correcting_keeps_an_audit_trail_and_verifying_closes(service, read_tag):
    app, _ = service
    record_id = read_tag[0]
    office = login(app, "office")
    bad = office.patch(f"/api/records/{record_id}/fields/mileage_km", json={"value": "四万"})
    assert bad.status_code == 422 and "行驶里程" in bad.json()["reason"]
    no_row = office.patch(
        f"/api/records/{record_id}/fields/mileage_km", json={"value": "1", "row": 9, "column": "x"}
    )
    assert no_row.status_code in (404, 422)
    fixed = office.patch(f"/api/records/{record_id}/fields/mileage_km", json={"value": "48,261"})
    assert fixed.status_code == 200 and fixed.json()["new_value"] == 48261
    # the reading as now stored, with the model's review rule: the page applies none itself
    reading = fixed.json()["reading"]
    assert (reading["value"], reading["status"], reading["evidence"]) == (
        48261,
        "ok",
        ["corrected"],
    )
    assert reading["needs_check"] is False
    detail = office.get(f"/api/records/{record_id}").json()
    assert all("needs_check" in f for f in detail["record"]["fields"])
    assert [f["key"] for f in detail["record"]["fields"] if f["needs_check"]] == [
        f["key"]
        for f in detail["record"]["fields"]
        if f["status"] in ("check", "invalid") or (f["status"] == "empty" and f["reason"])
    ]
    assert [c["new_value"] for c in detail["corrections"]] == [48261]
    assert (
        detail["corrections"][0]["old_value"] == 48260
        and detail["corrections"][0]["user"] == "office"
    )
    assert office.post(f"/api/records/{record_id}/verify").json()["status"] == "verified"


def test_a_station_sees_only_its_own_things(service, read_tag):
    app, _ = service
    record_id, doc_id, _, sha = read_tag
    s2 = login(app, "s2")
    for path in (
        f"/api/records/{record_id}",
        f"/api/records/{record_id}/page.png",
        f"/api/records/{record_id}/crop.png?key=vin",
        f"/api/scans/{sha}",
        f"/api/documents/{doc_id}",
    ):
        assert s2.get(path).status_code == 404, path
    assert s2.post(f"/api/records/{record_id}/reprint.pdf").status_code == 404
    assert s2.patch(f"/api/records/{record_id}/fields/vin", json={"value": "x"}).status_code == 404
    assert s2.post(f"/api/records/{record_id}/verify").status_code == 404
    assert s2.get("/api/records").json()["total"] == 0
    assert s2.get("/api/records", params={"station": "HN01"}).json()["total"] == 0
    s1 = login(app, "s1")
    assert s1.get(f"/api/records/{record_id}").status_code == 200
    assert s1.get("/api/records").json()["total"] >= 1


def test_an_auditor_reads_everything_and_changes_nothing(service, read_tag):
    app, _ = service
    record_id = read_tag[0]
    audit = login(app, "audit")
    assert audit.get(f"/api/records/{record_id}").status_code == 200
    assert audit.get("/api/export.json").status_code == 200
    for method, path, kwargs in (
        ("patch", f"/api/records/{record_id}/fields/vin", {"json": {"value": "x"}}),
        ("post", f"/api/records/{record_id}/verify", {}),
        ("post", "/api/uploads", {"files": [("files", ("a.jpg", b"x", "image/jpeg"))]}),
        ("post", "/api/print/sh-zh-bd-27/blank.pdf", {}),
        ("post", "/api/print/sh-zh-bd-27", {"json": {}}),
        ("post", f"/api/records/{record_id}/reprint.pdf", {}),
    ):
        res = getattr(audit, method)(path, **kwargs)
        assert res.status_code == 403 and "审计员" in res.json()["reason"], (path, res.text)


def test_exports(service, read_tag):
    """What the back office opens: per form, Chinese headers in the template's order,
    statuses in Chinese, Beijing time; a table's rows on their own sheet."""
    import csv
    import zipfile

    from openpyxl import load_workbook

    app, _ = service
    office = login(app, "office")
    tag = get_template("SH-ZH/BD-27")
    res = office.get("/api/export.csv", params={"template": tag.code})
    assert res.headers["content-type"].startswith("text/csv")
    assert "SH-ZH-BD-27-" in res.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(res.content.decode("utf-8-sig"))))
    header, mine = rows[0], next(r for r in rows[1:] if r[1] == read_tag[1])
    assert header[:5] == ["记录号", "文档号", "联", "维修站代码", "状态"]
    labels = [f.label for f in tag.fields]
    assert header[10:] == labels  # every field, in the template's order
    assert mine[4] in ("识读完成", "待复核", "已确认") and mine[3] == "HN01"
    assert mine[header.index("零部件名称")] == sample_values(tag)["part_name"]
    assert "T" not in mine[6] and len(mine[6]) == 16  # 2026-03-18 14:05, Beijing time
    # several forms: one CSV each, in a ZIP
    office.post("/api/print/form-04/blank.pdf")  # nothing read from it: still one form
    every = office.get("/api/export.csv")
    if every.headers["content-type"] == "application/zip":
        with zipfile.ZipFile(io.BytesIO(every.content)) as zf:
            assert all(n.endswith(".csv") for n in zf.namelist())
            assert any(n.startswith("SH-ZH-BD-27-") for n in zf.namelist())
    else:
        assert every.content.decode("utf-8-sig").startswith("记录号,文档号")
    wb = load_workbook(io.BytesIO(office.get("/api/export.xlsx").content))
    ws = wb[f"SH-ZH-BD-27 {tag.title}"[:31]]
    assert [c.value for c in ws[1]][:2] == ["记录号", "文档号"] and ws.freeze_panes == "A2"
    assert ws[1][0].font.bold and ws.column_dimensions["B"].width >= 17
    assert any(r[1] == read_tag[1] for r in ws.iter_rows(min_row=2, values_only=True))
    data = office.get("/api/export.json").json()
    assert any(d["summary"]["document_id"] == read_tag[1] for d in data)


def test_printing(service, read_tag):
    app, _ = service
    office = login(app, "office")
    blank = office.post("/api/print/form-04/blank.pdf", params={"copies": 2})
    assert blank.status_code == 200 and len(blank.headers["x-document-ids"].split(",")) == 2
    bad = office.post("/api/print/sh-zh-bd-27", json={"vin": "LGAX2A13O6K123456"})
    assert bad.status_code == 422 and "车架号码" in bad.json()["reason"]
    assert office.post("/api/print/no-such-form/blank.pdf").status_code == 404
    rows = "来件单位,零部件名称\n长沙顺达,机油泵总成\n衡阳广汇,水泵总成\n".encode()
    many = office.post(
        "/api/print/sh-zh-bd-27/batch", files={"file": ("tags.csv", rows, "text/csv")}
    )
    assert many.status_code == 202, many.text  # a print job, read back when done
    job = many.json()
    assert (job["total"], job["template"]) == (2, "SH-ZH/BD-27")
    job = finished_print_job(office, job)
    assert job["state"] == "done" and job["done"] == 2 and len(job["document_ids"]) == 2
    pdf = office.get(job["file_url"])
    assert pdf.status_code == 200 and pdf.content[:4] == b"%PDF"
    assert pdf.headers["x-document-ids"].split(",") == job["document_ids"]
    assert all(office.get(f"/api/documents/{d}").status_code == 200 for d in job["document_ids"])
    assert login(app, "s2").get(job["status_url"]).status_code == 404  # not theirs
    gbk = office.post(
        "/api/print/sh-zh-bd-27/batch",
        files={"file": ("tags.csv", rows.decode().encode("gbk"), "text/csv")},
    )
    # Chinese Excel's default CSV (GBK) prints, its values read right (ingest.tables)
    assert gbk.status_code == 202, gbk.text
    job = gbk.json()
    job = finished_print_job(office, job)
    assert job["state"] == "done", job
    names = [office.get(f"/api/documents/{d}").json()["values"]["part_name"]
             for d in job["document_ids"]]  # fmt: skip
    assert sorted(names) == ["机油泵总成", "水泵总成"]
    again = office.post(f"/api/records/{read_tag[0]}/reprint.pdf")
    assert again.status_code == 200 and again.content[:4] == b"%PDF"
    assert office.get("/api/templates").json()[0]["code"] == "SH-ZH/BD-20"
    assert office.get("/api/templates/form-04").json()["title"] == "维修接车单"


def test_a_print_file_is_checked_row_by_row_and_its_good_rows_print(service):
    """Issue 12: every bad row of a print-data file is named at once (line, Chinese label,
    no English key); with skip_bad the good rows print as one job that lists the others;
    without it the file is refused at its first bad row, as the CLI refuses it."""
    app, _ = service
    s1 = login(app, "s1")
    rows = ["来件单位,零部件名称,车架号码,购买日期"] + [
        f"长沙顺达,机油泵总成{n},LGAX2A1376K123456,2025-06-18" for n in range(1, 6)
    ]
    rows[2] = "长沙顺达,水泵总成,LGAX2A13O6K123456,2025-06-18"  # the letter O in the VIN
    rows[4] = "长沙顺达,水泵总成,LGAX2A1376K123456,2026年2月30日"
    data = ("\n".join(rows) + "\n").encode()
    files = {"file": ("tags.csv", data, "text/csv")}
    checked = s1.post("/api/print/sh-zh-bd-27/check", files=files).json()
    assert (checked["good"], checked["bad"]) == (3, 2), checked
    assert checked["problems"][0].startswith("第3行 车架号码:")
    assert checked["problems"][1].startswith("第5行 购买日期:日期无效")
    assert not any("(vin)" in p or "purchase_date" in p for p in checked["problems"])
    whole = s1.post("/api/print/sh-zh-bd-27/batch", files=files)
    assert whole.status_code == 422 and whole.json()["reason"].startswith(
        "tags.csv 第3行 车架号码:"
    )
    job = s1.post("/api/print/sh-zh-bd-27/batch", params={"skip_bad": "true"}, files=files)
    assert job.status_code == 202, job.text
    assert job.json()["skipped"] == checked["problems"] and job.json()["total"] == 3
    done = finished_print_job(s1, job.json(), timeout=120)
    assert done["state"] == "done" and len(done["document_ids"]) == 3, done
    pdf = s1.get(done["file_url"])
    assert "_3%E4%BB%BD.pdf" in pdf.headers["content-disposition"]  # …_3份.pdf
    assert login(app, "audit").post("/api/print/sh-zh-bd-27/check", files=files).status_code == 403
    nothing = s1.post(
        "/api/print/sh-zh-bd-27/batch", params={"skip_bad": "true"},
        files={"file": ("bad.csv", ("\n".join([rows[0], rows[2]]) + "\n").encode())},
    )  # fmt: skip
    assert nothing.status_code == 422 and "没有一行可以打印" in nothing.json()["reason"]


@pytest.mark.parametrize(
    "files,status,reason",
    [
        ([("files", ("empty.pdf", b"", "application/pdf"))], 422, "文件为空"),
        ([("files", ("note.jpg", b"hello", "image/jpeg"))], 422, "不是 PDF、JPEG、PNG 或 TIFF"),
        ([("files", ("half.pdf", "truncated_pdf", "application/pdf"))], 422, "损坏或不完整"),
        ([("files", ("locked.pdf", "encrypted_pdf", "application/pdf"))], 422, "已加密"),
        ([("files", ("bomb.png", "bomb_png", "image/png"))], 422, "解压炸弹"),
    ],
)
def test_bad_uploads_get_a_reason(service, files, status, reason):
    from .test_ingest import bomb_png, encrypted

    app, _ = service
    office = login(app, "office")
    pdf = office.post("/api/print/form-04/blank.pdf").content
    made = {
        "truncated_pdf": pdf[: len(pdf) // 2],
        "encrypted_pdf": encrypted(pdf, "secret"),
        "bomb_png": bomb_png(30000, 30000),
    }
    files = [(k, (name, made.get(data, data), ctype)) for k, (name, data, ctype) in files]
    res = office.post("/api/uploads", files=files)
    assert res.status_code == status and reason in res.json()["reason"]


def test_pages_that_are_not_our_forms_are_reported_on_the_batch(service):
    app, _ = service
    office = login(app, "office")
    photo = np.full((1200, 900, 3), 90, np.uint8)
    ok, buf = cv2.imencode(".jpg", photo)
    up = office.post(
        "/api/uploads", files=[("files", ("holiday.jpg", buf.tobytes(), "image/jpeg"))]
    )
    assert up.status_code == 202
    batch = wait_done(office, up.json()["batch_id"])
    assert "holiday.jpg" in batch["errors"][0] and "没有找到表单" in batch["errors"][0]
    assert any(b["batch_id"] == batch["batch_id"] for b in office.get("/api/batches").json())


def test_logout_ends_the_session(service):
    app, _ = service
    office = login(app, "office")
    assert office.post("/api/logout").json() == {"ok": True}
    assert office.get("/api/me").status_code == 401


def test_wrong_content_type_and_oversized_bodies(service):
    app, _ = service
    office = login(app, "office")
    res = office.post(
        "/api/uploads", content=json.dumps({"x": 1}), headers={"content-type": "application/json"}
    )
    assert res.status_code == 415 and "multipart" in res.json()["reason"]

    def big():  # a valid multipart upload, streamed without Content-Length: counted as it arrives
        yield (
            b'--x\r\nContent-Disposition: form-data; name="files"; filename="big.pdf"\r\n'
            b"Content-Type: application/pdf\r\n\r\n"
        )
        for _ in range(20):
            yield b"0" * (1024 * 1024)

    res = office.post(
        "/api/uploads", content=big(), headers={"content-type": "multipart/form-data; boundary=x"}
    )
    assert res.status_code == 413 and "过大" in res.json()["reason"]
    declared = office.post(
        "/api/uploads",
        content=b"x",
        headers={"content-type": "multipart/form-data; boundary=x", "content-length": str(2**30)},
    )
    assert declared.status_code == 413


@pytest.mark.parametrize("kind", STORES)
def test_first_start_creates_admin_and_loads_samples(tmp_path, kind):
    with store_settings(tmp_path, kind) as settings:
        _first_start(settings)


def _first_start(settings):
    from formdesk.services.samples import load_samples

    from .conftest import RECORDS

    app = create_app(settings=settings, start_worker=False)
    assert app.state.first_password and app.state.store.get_user("admin").role == "back_office"
    again = create_app(settings=settings, start_worker=False)
    assert again.state.first_password is None  # only once
    again.state.store.close()
    store = app.state.store
    queued = load_samples(store, app.state.key, RECORDS)
    assert queued == sum(len(get_template(p.stem).copies) or 1 for p in RECORDS.glob("*.json"))
    [batch] = store.list_batches()
    assert batch.pages_total == queued and store.get_station("HN01") is not None
    assert app.state.reader.run_one()  # the real reader, one scan
    items, total = store.list_records()
    assert total == 1 and items[0].station == "HN01" and items[0].status == "ready"
    assert load_samples(store, app.state.key, RECORDS) == 0  # not twice
    store.close()


def test_bad_parameters_are_named_in_chinese(service):
    """A 422 from FastAPI's own validation names the parameter and the rule in Chinese;
    pydantic's English message is never shown (new-user trial, 2026-12-01)."""
    app, _ = service
    office = login(app, "office")
    slug = get_template("SH-ZH/BD-27").slug
    res = office.post(f"/api/print/{slug}/blank.pdf", params={"copies": "abc"})
    assert res.status_code == 422
    assert res.json()["reason"] == "请求参数不对:查询参数 copies 应为整数"
    res = office.post(f"/api/print/{slug}/blank.pdf", params={"copies": "500"})
    assert res.json()["reason"] == "请求参数不对:查询参数 copies 应不大于 200"
    res = office.get("/api/records/x/page.png", params={"page": "0"})
    assert res.status_code == 422 and res.json()["reason"].endswith("page 应不小于 1")
    assert not any(c.isascii() and c.isalpha() for c in res.json()["reason"].split("page")[-1])
