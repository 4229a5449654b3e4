"""Reconciliation and monthly summary through the HTTP API: claims imported as the back office
does, a manifest and two fault tags printed prefilled by the station, scanned, uploaded and
read by the real reader; then the month's outcomes, reports, letter, evidence crops and
summary, with every role; on each store (TinyDB, PostgreSQL)."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

import cv2
import numpy as np
import pdfplumber
import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from formdesk.api.app import create_app
from formdesk.model.accounts import User
from formdesk.model.claims import Station
from formdesk.services.passwords import hash_password
from formdesk.services.print_jobs import run_print_job
from formdesk.templates import get_template

from .conftest import sample_values
from .pdfcheck import squash
from .pg import STORES, store_settings
from .test_api import PASSWORD, login, scan_of

MONTH = "2026-03"
HN01, HN02 = ("HN01", "长沙顺达汽车维修站"), ("HN02", "衡阳广汇汽车维修站")
MATCHED, MISMATCHED, MISSING, UNCLAIMED = (
    "SP2026031502",
    "SP2026031807",
    "SP2026032405",
    "SP2026032011",
)
OTHER_STATIONS = "SP2026031999"
WRONG_VIN = "LGAX4C356S1046678"  # the tag's; the claim and the manifest: LGAX4C351S1045678
CLAIMS_CSV = """索赔单号,维修站,车架号,发动机号,车型,零件编号,零件名称,数量,购买日期,维修日期,行驶里程,工时费,材料费
SP2026031502,HN01,LGAG4DD31R8012345,86593104,EQ1168GLJ,1307010-KH400,水泵总成,1,2025-04-22,2026-03-15,36820,120,480
SP2026031807,HN01,LGAX4C351S1045678,YC4E14020,EQ1090TJ,1011010-E02,机油泵总成,1,2025-06-18,2026-03-18,48260,90,650
SP2026032405,HN01,LGAG4DY1XS8056231,86617752,EQ1168GLJ,3701010-KC100,发电机总成,1,2025-07-01,2026-03-24,30110,150,1200
SP2026031999,HN02,LGAX2B131RF118904,YC4S15050,EQ1090TJ,3502ZB1-001,后制动蹄总成,1,2025-09-09,2026-03-19,12040,60,300
"""


def manifest_values() -> dict:
    """The sample manifest cut to three lines: two claimed parts and one nobody claimed."""
    values = sample_values(get_template("SH-ZH/BD-31"))
    rows = values["returned_parts"][:3]
    assert [r["claim_no"] for r in rows] == [MATCHED, MISMATCHED, UNCLAIMED]
    return {**values, "returned_parts": rows, "total_quantity": 3}


def tag_values() -> list[dict]:
    """The matched claim's fault tag as the sample has it, and the other's with a wrong VIN."""
    first = sample_values(get_template("SH-ZH/BD-30"))
    second = {
        **first,
        "claim_no": MISMATCHED,
        "vehicle_model": "EQ1090TJ",
        "purchase_date": "2025-06-18",
        "vin": WRONG_VIN,
        "engine_no": "YC4E14020",
        "mileage_km": 48260,
        "part_no": "1011010-E02",
        "part_name": "机油泵总成",
        "fault_description": "机油压力低,齿轮磨损",
        "repair_date": "2026-03-18",
    }
    return [first, second]


USERS = (
    ("office", "back_office", None),
    ("s1", "station", "HN01"),
    ("s2", "station", "HN02"),
    ("audit", "auditor", None),
)


def populate(
    store, login: Callable[[str], Any], print_here: Callable[[str], None] | None = None
) -> str:
    """The month's paperwork, as it arrives: the back office imports the claims, station HN01
    prints its manifest and tags prefilled, their scans are uploaded. `login(username)` gives
    a signed-in client (TestClient or httpx); `print_here(job_id)` renders a queued print
    job when no worker process runs; returns the upload's batch id."""
    for code, name in (HN01, HN02):
        if store.get_station(code) is None:
            store.add_station(Station(code=code, name=name))
    for username, role, station in USERS:
        if store.get_user(username) is None:
            store.add_user(
                User(
                    username=username,
                    password_hash=hash_password(PASSWORD),
                    role=role,
                    station=station,
                )
            )
    office = login("office")
    res = office.post(
        "/api/claims/import", files={"file": ("claims.csv", CLAIMS_CSV.encode(), "text/csv")}
    )
    assert res.status_code == 200 and res.json()["claims"] == 4, res.text
    s1 = login("s1")
    manifest = s1.post("/api/print/sh-zh-bd-31", json=manifest_values())
    assert manifest.status_code == 200, manifest.text
    tags = s1.post(
        "/api/print/sh-zh-bd-30/batch",
        files={"file": ("tags.json", json.dumps(tag_values()).encode(), "application/json")},
    )
    assert tags.status_code == 202, tags.text  # a print job
    job = tags.json()
    if print_here is not None:  # no worker process on the database: its task, here and now
        print_here(job["job_id"])
    end = time.time() + 60
    while job["state"] not in ("done", "failed") and time.time() < end:
        time.sleep(0.1)
        job = s1.get(job["status_url"]).json()
    assert job["state"] == "done" and len(job["document_ids"]) == 2, job
    sheet = s1.get(job["file_url"])
    files = [
        ("files", ("manifest.jpg", scan_of(manifest.content), "image/jpeg")),
        ("files", ("tags.jpg", scan_of(sheet.content), "image/jpeg")),  # one sheet, two tags
    ]
    up = office.post("/api/uploads", files=files)
    assert up.status_code == 202, up.text
    return up.json()["batch_id"]


@pytest.fixture(scope="module", params=STORES)
def month(request, tmp_path_factory):
    data = tmp_path_factory.mktemp("reconcile-data")
    with store_settings(data, request.param) as settings:
        app = create_app(settings=settings, start_worker=False)
        with TestClient(app):
            queued = app.state.settings.database_url is not None
            populate(
                app.state.store,
                lambda username: login(app, username),
                (lambda job_id: run_print_job(
                    app.state.store, app.state.key, app.state.batch_pool, job_id
                )) if queued else None,
            )  # fmt: skip
            while app.state.reader.run_one():  # the background reader's work, here and now
                pass
            assert app.state.store.list_records(station="HN01")[1] == 3
            yield app
        app.state.store.close()


def outcomes_by_kind(body: dict) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for o in body["outcomes"]:
        out.setdefault(o["kind"], []).append(o)
    return out


def test_the_month_as_json(month):
    office = login(month, "office")
    res = office.get("/api/reconcile", params={"station": "HN01", "month": MONTH})
    assert res.status_code == 200, res.text
    body = res.json()
    assert (body["station"], body["station_name"], body["month"]) == ("HN01", HN01[1], MONTH)
    assert (body["claims"], body["manifest_lines"], body["tags"]) == (3, 3, 2)
    kinds = outcomes_by_kind(body)
    assert [o["claim_no"] for o in kinds["matched"]] == [MATCHED]
    assert [o["claim_no"] for o in kinds["missing"]] == [MISSING]
    [unexpected] = kinds["unexpected"]
    assert unexpected["claim_no"] == UNCLAIMED and unexpected["label"] == "返回件无索赔"
    [wrong] = kinds["mismatch"]
    assert (wrong["claim_no"], wrong["field"], wrong["label"]) == (MISMATCHED, "vin", "车架号不符")
    assert wrong["returned_values"] == [WRONG_VIN]
    assert (
        body["counts"] == {kind: len(kinds.get(kind, [])) for kind in body["kind_labels"]}
        and body["counts"]["missing"] == 1
    )
    assert body["kind_labels"]["missing"] == "索赔件未返回"
    # the evidence names the record and place each difference was seen
    [manifest_row] = unexpected["evidence"]
    assert manifest_row["template"] == "SH-ZH/BD-31" and manifest_row["row"] == 3
    assert manifest_row["column"] is None and manifest_row["field_key"] == "returned_parts"
    [tag_vin] = wrong["evidence"]
    assert (tag_vin["template"], tag_vin["field_key"], tag_vin["value"]) == (
        "SH-ZH/BD-30",
        "vin",
        WRONG_VIN,
    )


def png(res) -> np.ndarray:
    assert res.status_code == 200, res.text
    assert res.headers["content-type"] == "image/png"
    return cv2.imdecode(np.frombuffer(res.content, np.uint8), cv2.IMREAD_COLOR)


def test_evidence_crops_of_a_manifest_row_and_a_tag_field(month):
    office = login(month, "office")
    body = office.get("/api/reconcile", params={"station": "HN01", "month": MONTH}).json()
    kinds = outcomes_by_kind(body)
    row = kinds["unexpected"][0]["evidence"][0]
    url = f"/api/records/{row['record_id']}/crop.png"
    whole = png(office.get(url, params={"key": "returned_parts", "row": row["row"]}))
    cell = png(office.get(url, params={"key": "returned_parts", "row": 3, "column": "claim_no"}))
    # a whole line of the table: far wider than one of its cells, as low as one
    assert whole.shape[1] > 3 * cell.shape[1] and whole.shape[1] > 8 * whole.shape[0]
    assert abs(whole.shape[0] - cell.shape[0]) <= 4
    for params in (
        {"key": "returned_parts", "row": 99},
        {"key": "returned_parts", "column": "claim_no"},
        {"key": "returned_parts", "row": 1, "column": "no_such_column"},
    ):
        assert office.get(url, params=params).status_code == 404, params
    vin = kinds["mismatch"][0]["evidence"][0]
    crop = png(
        office.get(f"/api/records/{vin['record_id']}/crop.png", params={"key": vin["field_key"]})
    )
    assert crop.shape[1] > 4 * crop.shape[0]


def test_the_report_as_a_workbook_links_to_the_evidence(month):
    office = login(month, "office")
    res = office.get("/api/reconcile/report.xlsx", params={"station": "HN01", "month": MONTH})
    assert res.status_code == 200
    disposition = res.headers["content-disposition"]
    assert 'filename="reconcile-report-HN01-2026-03.xlsx"' in disposition
    assert unquote(disposition.split("filename*=UTF-8''")[1]) == "核对报告-HN01-2026-03.xlsx"
    wb = load_workbook(io.BytesIO(res.content))
    assert wb.sheetnames == ["汇总", "差异明细", "一致"]
    summary = {row[0]: row[1] for row in wb["汇总"].iter_rows(values_only=True)}
    assert summary["维修站代码"] == "HN01" and summary["索赔件未返回"] == 1
    details = wb["差异明细"]
    header = [c.value for c in details[1]]
    claim_col, link_col = header.index("索赔单号"), header.index("证据")
    rows = {r[claim_col].value: r for r in details.iter_rows(min_row=2)}
    assert {MISSING, MISMATCHED, UNCLAIMED} <= set(rows)
    link = rows[MISMATCHED][link_col].hyperlink.target
    assert link.startswith("http://testserver/review/") and "field=vin" in link
    assert rows[MISSING][link_col].hyperlink is None  # nothing came back: nothing to show
    matched = [r[1] for r in wb["一致"].iter_rows(min_row=2, values_only=True)]
    assert matched == [MATCHED]


def pdf_text(data: bytes) -> str:
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        return squash("".join(page.extract_text() or "" for page in pdf.pages))


def test_the_printed_report_and_the_letter(month):
    office = login(month, "office")
    params = {"station": "HN01", "month": MONTH}
    report = office.get("/api/reconcile/report.pdf", params=params)
    assert report.status_code == 200 and report.headers["content-type"] == "application/pdf"
    assert "核对报告-HN01-2026-03.pdf" in unquote(report.headers["content-disposition"])
    text = pdf_text(report.content)
    assert "三包索赔件核对报告" in text and HN01[1] in text
    for claim_no in (MISSING, MISMATCHED, UNCLAIMED):
        assert claim_no in text
    letter = office.get("/api/reconcile/letter.pdf", params=params)
    assert letter.status_code == 200
    assert "核对结果通知-HN01-2026-03.pdf" in unquote(letter.headers["content-disposition"])
    text = pdf_text(letter.content)
    assert f"致{HN01[1]}(HN01)" in text and MISSING in text


def test_a_station_sees_only_its_own_month(month):
    s1, s2 = login(month, "s1"), login(month, "s2")
    own = s1.get("/api/reconcile", params={"month": MONTH})
    assert own.status_code == 200 and own.json()["station"] == "HN01"
    assert s1.get("/api/reconcile", params={"station": "HN01", "month": MONTH}).status_code == 200
    for path in (
        "/api/reconcile",
        "/api/reconcile/report.xlsx",
        "/api/reconcile/report.pdf",
        "/api/reconcile/letter.pdf",
        "/api/summary",
        "/api/summary.xlsx",
    ):
        res = s1.get(path, params={"station": "HN02", "month": MONTH})
        assert res.status_code == 404, path
    res = s1.post("/api/summary/bd24.pdf", params={"station": "HN02", "month": MONTH})
    assert res.status_code == 404
    theirs = s2.get("/api/reconcile", params={"month": MONTH}).json()
    assert theirs["station"] == "HN02" and [o["claim_no"] for o in theirs["outcomes"]] == [
        OTHER_STATIONS
    ]
    assert s2.get("/api/summary", params={"month": MONTH}).json()["station"] == "HN02"


def test_an_auditor_reads_but_prints_no_bd24(month):
    audit = login(month, "audit")
    params = {"station": "HN01", "month": MONTH}
    assert audit.get("/api/reconcile", params=params).status_code == 200
    assert audit.get("/api/reconcile/letter.pdf", params=params).status_code == 200
    assert audit.get("/api/summary", params={"month": MONTH}).status_code == 200
    res = audit.post("/api/summary/bd24.pdf", params=params)
    assert res.status_code == 403 and "审计员" in res.json()["reason"]


@pytest.mark.parametrize(
    "params,status,reason",
    [
        ({"station": "HN01", "month": "2026-13"}, 422, "年月无效:2026-13"),
        ({"station": "HN01", "month": "三月"}, 422, "应如 2026年11月 或 2026-11"),
        ({"station": "XX99", "month": MONTH}, 404, "维修站“XX99”未登记"),
        ({"month": MONTH}, 422, "请指定维修站"),
    ],
)
def test_bad_month_and_unknown_station(month, params, status, reason):
    office = login(month, "office")
    res = office.get("/api/reconcile", params=params)
    assert res.status_code == status and reason in res.json()["reason"], res.text


def test_the_monthly_summary(month):
    office = login(month, "office")
    res = office.get("/api/summary", params={"month": MONTH})
    assert res.status_code == 200, res.text
    body = res.json()
    assert body["month"] == MONTH and body["station"] is None
    assert body["totals"]["warranty_claims"] == 4
    stations = {r["key"]: r for r in body["stations"]}
    assert stations["HN01"]["warranty_claims"] == 3 and stations["HN02"]["warranty_claims"] == 1
    assert stations["HN01"]["returned_unclaimed_qty"] == 1
    assert float(stations["HN01"]["warranty_total"]) == 120 + 480 + 90 + 650 + 150 + 1200
    one = office.get("/api/summary", params={"month": MONTH, "station": "HN02"}).json()
    assert one["station"] == "HN02" and one["totals"]["warranty_claims"] == 1
    bad = office.get("/api/summary", params={"month": "2026/13"})
    assert bad.status_code == 422 and "年月无效" in bad.json()["reason"]
    assert office.get("/api/summary", params={"station": "XX99", "month": MONTH}).status_code == 404

    xlsx = office.get("/api/summary.xlsx", params={"month": MONTH})
    assert xlsx.status_code == 200
    assert "月售后服务汇总-ALL-2026-03.xlsx" in unquote(xlsx.headers["content-disposition"])
    wb = load_workbook(io.BytesIO(xlsx.content))
    cells = {c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row}
    assert "HN01" in cells or HN01[1] in cells


def test_bd24_is_prefilled_for_a_station(month):
    s1 = login(month, "s1")
    res = s1.post("/api/summary/bd24.pdf", params={"month": MONTH})
    assert res.status_code == 200 and res.content[:4] == b"%PDF"
    assert "业务月报表-HN01-2026-03.pdf" in unquote(res.headers["content-disposition"])
    text = pdf_text(res.content)
    assert HN01[1] in text and "2690.00" in text  # 三包合计: the three claims' fees
    office = login(month, "office")
    assert office.post("/api/summary/bd24.pdf", params={"month": MONTH}).status_code == 422


def test_the_pages_for_each_role(month):
    anon = TestClient(month)
    for path in ("/reconcile", "/summary"):
        res = anon.get(path, follow_redirects=False)
        assert res.status_code == 303 and res.headers["location"].startswith("/login?next=")
    pages = {}
    for username in ("office", "s1", "audit"):
        client = TestClient(month)
        res = client.post("/login", data={"username": username, "password": PASSWORD})
        assert res.status_code == 200
        pages[username] = {p: client.get(p).text for p in ("/reconcile", "/summary")}
        for path, html in pages[username].items():
            assert f'href="{path}" class="active"' in html and "/static/app.js" in html
    assert 'id="rc-station"' in pages["office"]["/reconcile"]
    assert 'id="rc-station"' not in pages["s1"]["/reconcile"]  # a station sees its own
    assert 'id="sm-station"' not in pages["s1"]["/summary"]
    assert 'id="dl-bd24"' in pages["s1"]["/summary"]
    assert 'id="dl-bd24"' not in pages["audit"]["/summary"]  # printing registers a document


def test_the_work_desk_agrees_with_the_reconciliation(month):
    """工作台 (new-user trial, 2026-12-01): it opens on the month 核对 opens on, and a
    station's BD-31 counts in the month of its parts, as on 核对 — the manifest scanned
    today (December) is HN01's March manifest; HN02 sent none; the missing parts are the
    reconciliation's."""
    office = login(month, "office")
    latest = office.get("/api/months/latest").json()["month"]
    desk = office.get("/api/desk").json()
    assert desk["month"] == latest == MONTH
    cards = {c["key"]: c for c in desk["cards"]}
    assert [i["label"] for i in cards["no_manifest"]["items"]] == [" ".join(HN02)]
    rec = office.get("/api/reconcile", params={"station": "HN01", "month": MONTH}).json()
    missing = {i["label"]: i for i in cards["missing_parts"]["items"]}
    assert missing[" ".join(HN01)]["count"] == rec["counts"]["missing"] == 1
    assert missing[" ".join(HN01)]["href"] == f"/reconcile?station=HN01&month={MONTH}"
    assert missing[" ".join(HN02)]["count"] == 1  # its one claim, no part returned
    s1 = login(month, "s1")
    own = {c["key"]: c for c in s1.get("/api/desk").json()["cards"]}
    assert own["no_manifest"]["total"] == 0 and own["missing_parts"]["total"] == 1
