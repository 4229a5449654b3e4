"""The web pages in a real browser: the app served by uvicorn, Debian's Chromium driven
headless by Playwright, on each store (TinyDB, PostgreSQL).  Sign in, upload a damaged scan
and watch it read, correct the damaged field with the keyboard and verify, print a
prefilled form.

Needs `apt-get install chromium` (never `playwright install`: browsers are not downloaded).
"""

from __future__ import annotations

import io
import os
import re
import socket
import threading
import time
from contextlib import closing
from pathlib import Path
from urllib.parse import quote

import cv2
import httpx
import numpy as np
import pypdfium2 as pdfium
import pytest
import uvicorn
from fastapi.testclient import TestClient
from pypdf import PdfReader

from formdesk.api.app import create_app
from formdesk.model.accounts import User
from formdesk.model.claims import Station
from formdesk.services.passwords import hash_password
from formdesk.templates import get_template
from formdesk.templates.geometry import PageGeometry, gang_slots
from formdesk.templates.layout import describe

from .conftest import sample_values
from .pg import STORES, store_settings

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# The committed screenshots are refreshed only on request (FORMDESK_UPDATE_SCREENSHOTS=1), so
# a test run never leaves the checkout changed; otherwise they go to the test's temp folder.
SAMPLE_SHOTS = Path(__file__).resolve().parents[1] / "samples" / "screenshots"
PASSWORD = "correct horse 7"
TRUE_VIN = sample_values(get_template("SH-ZH/BD-27"))["vin"]
DPI = 200


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module", params=STORES)
def server(request, tmp_path_factory):
    """The whole service (pages, API, background reader) on 127.0.0.1 and a free port, on
    each store (TinyDB, PostgreSQL)."""
    data = tmp_path_factory.mktemp("ui-data")
    with store_settings(data, request.param) as settings:
        yield from _served(create_app(settings=settings))


def _served(app):
    store = app.state.store
    store.add_station(Station(code="HN01", name="长沙顺达汽车维修站"))
    for username, role, station in (("office", "back_office", None), ("s1", "station", "HN01")):
        store.add_user(
            User(
                username=username, password_hash=hash_password(PASSWORD), role=role, station=station
            )
        )
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, name="formdesk-ui-test", daemon=True)
    thread.start()
    end = time.time() + 30
    while not srv.started:
        assert thread.is_alive() and time.time() < end, "uvicorn did not start"
        time.sleep(0.05)
    yield app, f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=30)
    store.close()


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.fail(
            "Chromium is missing at /usr/bin/chromium: run `apt-get install chromium` "
            "(the browser is never downloaded by `playwright install`)"
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("Playwright is missing: pip install -e '.[test]'")
    with sync_playwright() as p:
        # Chinese browser UI (date inputs as 年/月/日) where the chromium-l10n package is there
        env = {**os.environ, "LANGUAGE": "zh_CN"}
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, env=env)
        yield b
        b.close()


def api_client(base: str, username: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=30)
    res = client.post("/api/login", data={"username": username, "password": PASSWORD})
    assert res.status_code == 200, res.text
    client.headers["X-CSRF-Token"] = res.json()["csrf"]
    return client


def damaged_scan(base: str, out: Path, key: str, start: float, end: float) -> str:
    """Station HN01 prints a prefilled tag; on its scan the part `start`..`end` (fractions of
    the width) of field `key`'s writing area is painted over, so the field needs review.
    Returns the printed document id."""
    tag = get_template("SH-ZH/BD-27")
    with closing(api_client(base, "s1")) as s1:
        res = s1.post(f"/api/print/{tag.slug}", json=sample_values(tag))
    assert res.status_code == 200, res.text
    page = pdfium.PdfDocument(res.content)[0].render(scale=DPI / 72).to_pil().convert("RGB")
    img = cv2.cvtColor(np.asarray(page), cv2.COLOR_RGB2BGR)
    ox, oy = gang_slots(tag.geometry, PageGeometry.for_paper("A4", "portrait"))[0]
    x, y, w, h = next(f for f in describe(tag)["fields"] if f["key"] == key)["value_box"]
    px = DPI / 25.4
    top_left = (int((ox + x + start * w) * px), int((oy + y + 0.1 * h) * px))
    bottom_right = (int((ox + x + end * w) * px), int((oy + y + 0.9 * h) * px))
    cv2.rectangle(img, top_left, bottom_right, (255, 255, 255), -1)
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 90])
    assert ok
    out.write_bytes(buf.tobytes())
    return res.headers["x-document-ids"]


def focused_field(page) -> str:
    page.wait_for_function("document.activeElement && document.activeElement.dataset.uid")
    return page.evaluate("document.activeElement.closest('.field').dataset.key")


def test_pages_ask_to_sign_in_and_show_each_role_its_controls(any_settings):
    """Without a browser: redirects, the form sign-in, what each role's pages offer."""
    app = create_app(settings=any_settings, start_worker=False)
    app.state.store.add_station(Station(code="HN01", name="长沙顺达汽车维修站"))
    for username, role, station in (
        ("office", "back_office", None),
        ("s1", "station", "HN01"),
        ("audit", "auditor", None),
    ):
        app.state.store.add_user(
            User(
                username=username, password_hash=hash_password(PASSWORD), role=role, station=station
            )
        )
    with TestClient(app) as anon:
        for path in ("/", "/review", "/review/abc", "/print", "/records?status=verified"):
            res = anon.get(path, follow_redirects=False)
            assert res.status_code == 303, path
            assert res.headers["location"] == "/login?next=" + quote(path, safe=""), path
        assert "登录" in anon.get("/login").text
        assert anon.get("/static/app.css").status_code == 200
        assert anon.get("/static/review.js").headers["content-type"].startswith("text/javascript")
        res = anon.post("/login", data={"username": "office", "password": "nope"})
        assert res.status_code == 401 and "用户名或密码不对" in res.text
        # only a path of this site is followed after signing in
        res = anon.post(
            "/login",
            data={"username": "office", "password": PASSWORD, "next": "//evil.example/"},
            follow_redirects=False,
        )
        assert res.status_code == 303 and res.headers["location"] == "/"

    pages = {}
    for username in ("office", "s1", "audit"):
        with TestClient(app) as client:
            res = client.post(
                "/login",
                data={"username": username, "password": PASSWORD, "next": "/records"},
                follow_redirects=False,
            )
            assert res.headers["location"] == "/records"
            pages[username] = {
                p: client.get(p).text for p in ("/", "/upload", "/print", "/records")
            }
            missing = client.get("/review/no-such-record")
            assert missing.status_code == 404 and "找不到这条记录" in missing.text
            csrf = client.get("/api/me").json()["csrf"]
            assert client.post("/logout", data={"csrf": "wrong"}).url.path == "/"
            assert client.post("/logout", data={"csrf": csrf}).url.path == "/login"
            assert client.get("/api/me").status_code == 401
    for username, texts in pages.items():
        for html in texts.values():
            assert "formdesk <span>售后表单</span>" in html and username in html
            assert not re.search(
                r"""(src|href)=["']?(https?:)?//""", html
            )  # nothing from elsewhere
    up = "/upload"
    assert 'id="dropzone"' in pages["office"][up] and 'id="upload-station"' in pages["office"][up]
    assert 'id="dropzone"' in pages["s1"][up] and 'id="upload-station"' not in pages["s1"][up]
    assert 'id="f-station"' not in pages["s1"]["/records"]
    assert 'id="dropzone"' not in pages["audit"][up] and "审计员只能查看" in pages["audit"][up]
    # every role lands on its 工作台
    for username in pages:
        assert "<h1>工作台</h1>" in pages[username]["/"]
    assert (
        'id="make-pdf"' in pages["s1"]["/print"] and 'id="make-pdf"' not in pages["audit"]["/print"]
    )
    app.state.store.close()


@pytest.mark.slow
def test_sign_in_upload_review_and_print(server, browser, tmp_path):
    app, base = server
    # the last characters of one tag's VIN, the month of another's repair date, painted over
    vin_scan, date_scan = tmp_path / "标签扫描-1.jpg", tmp_path / "标签扫描-2.jpg"
    vin_doc = damaged_scan(base, vin_scan, "vin", 0.42, 1.0)
    date_doc = damaged_scan(base, date_scan, "repair_date", 0.44, 0.61)
    shots = SAMPLE_SHOTS if os.environ.get("FORMDESK_UPDATE_SCREENSHOTS") else tmp_path / "shots"
    shots.mkdir(parents=True, exist_ok=True)

    context = browser.new_context(
        base_url=base,
        viewport={"width": 1440, "height": 900},
        locale="zh-CN",
        accept_downloads=True,
    )
    context.set_default_timeout(20_000)
    page = context.new_page()
    elsewhere, problems = [], []
    page.on(
        "request",
        lambda r: None if r.url.startswith((base, "data:", "blob:")) else elsewhere.append(r.url),
    )
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on(
        "console",
        lambda m: (
            problems.append(m.text)
            if m.type == "error" and not m.text.startswith("Failed to load resource")
            else None
        ),
    )

    # -- signing in: a page asked for first sends to /login and comes back after it --------------
    page.goto("/records")
    assert re.search(r"/login\?next=%2Frecords$", page.url)
    page.fill("#username", "office")
    page.fill("#password", "wrong password")
    page.click("button[type=submit]")
    assert "用户名或密码不对" in page.text_content("#login-error")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/records")
    assert page.text_content(".who .user") == "office"
    assert "售后服务部" in page.text_content(".who .role")

    # -- upload: per-file progress, then the reading to done -----------------------------------------
    page.goto("/upload")
    page.set_input_files("#file-input", [str(vin_scan), str(date_scan)])
    page.wait_for_function(
        "[...document.querySelectorAll('#files-table .result')]"
        ".filter(r => r.textContent.startsWith('已接收')).length === 2"
    )
    assert page.locator("#files-table .pct").all_text_contents() == ["100%", "100%"]
    done = page.wait_for_selector(".batch[data-state=done] .batch-records table", timeout=45_000)
    assert "2 / 2" in page.text_content(".batch .count")
    assert vin_doc in done.text_content() and date_doc in done.text_content()
    assert "其中 2 份需要复核" in page.text_content(".batch .links")
    page.screenshot(path=str(shots / "upload.png"), full_page=True)

    with closing(api_client(base, "office")) as office:
        queue = office.get(
            "/api/records", params={"status": "needs_review", "order": "least_confident"}
        ).json()["items"]
    ids = [r["record_id"] for r in queue]
    by_doc = {r["document_id"]: r["record_id"] for r in queue}
    vin_id, date_id = by_doc[vin_doc], by_doc[date_doc]

    # -- the queue; J and K (PageDown / PageUp) move between its records ---------------------------
    page.click("text=复核队列")
    page.wait_for_url(re.compile(r"/review$"))
    page.wait_for_function("document.querySelectorAll('#queue-table tr.row-link').length === 2")
    page.click("#start-review")
    page.wait_for_url(f"**/review/{ids[0]}")
    focused_field(page)
    page.keyboard.press("Escape")  # out of the input: letters are shortcuts again
    page.keyboard.press("j")
    page.wait_for_url(f"**/review/{ids[1]}")
    focused_field(page)
    page.keyboard.press("PageUp")  # also from an input not yet changed
    page.wait_for_url(f"**/review/{ids[0]}")

    # -- review: the VIN is focused first; type the right one, Enter saves it ----------------------
    if ids[0] != vin_id:
        page.goto(f"/review/{vin_id}")
    assert focused_field(page) == "vin"
    vin_field = page.locator(".field[data-key=vin]")
    assert "st-invalid" in vin_field.get_attribute("class")
    assert page.locator(".fbox.st-invalid.current").count() == 1  # its box on the scan
    assert page.locator(".fbox").count() >= 13
    page.wait_for_function("document.getElementById('scan-img').complete")
    page.wait_for_function(
        "[...document.querySelectorAll('.f-crop img')].every(i => i.complete && i.naturalWidth)"
    )
    page.screenshot(path=str(shots / "review.png"))

    page.keyboard.press("Control+A")
    page.keyboard.type(TRUE_VIN.lower())  # the server normalises to upper case
    page.keyboard.press("Enter")
    page.wait_for_selector(".field[data-key=vin].st-ok")
    assert vin_field.locator("input").input_value() == TRUE_VIN
    assert vin_field.locator(".f-evidence").inner_text() == "依据:人工更正"
    # the other fields say what they rest on: these tags were printed prefilled here, so
    # their values were verified against the print, not read
    said = page.locator(".field:not([data-key=vin]) .f-evidence").all_inner_texts()
    assert said and "依据:与打印值一致" in said, said
    assert page.locator(".fbox[data-uid='0']").get_attribute("class").startswith("fbox st-ok")
    page.wait_for_selector("#audit:not([hidden])")

    # Ctrl+Enter verifies and opens the next record of the queue: the other tag
    page.keyboard.press("Control+Enter")
    page.wait_for_url(f"**/review/{date_id}")
    assert focused_field(page) == "repair_date"
    page.keyboard.press("Control+A")
    page.keyboard.type("2026年3月15日")
    page.keyboard.press("Enter")
    page.wait_for_selector(".field[data-key=repair_date].st-ok")
    assert page.locator(".field[data-key=repair_date] input").input_value() == "2026-03-15"
    page.keyboard.press("Control+Enter")  # the queue is empty now: back to it
    page.wait_for_url(re.compile(r"/review$"))
    page.wait_for_selector("#queue-table td:has-text('没有需要复核的记录')")

    with closing(api_client(base, "office")) as office:
        detail = office.get(f"/api/records/{vin_id}").json()
        other = office.get(f"/api/records/{date_id}").json()
    assert (
        detail["summary"]["status"] == "verified" and detail["summary"]["verified_by"] == "office"
    )
    [fix] = detail["corrections"]
    assert (fix["field_key"], fix["new_value"], fix["user"]) == ("vin", TRUE_VIN, "office")
    assert fix["old_value"] is None  # the reader could not make a VIN of what was left
    vin = next(f for f in detail["record"]["fields"] if f["key"] == "vin")
    assert vin["value"] == TRUE_VIN and vin["status"] == "ok"
    assert other["summary"]["status"] == "verified"
    assert [(c["field_key"], c["new_value"]) for c in other["corrections"]] == [
        ("repair_date", "2026-03-15")
    ]

    # 重新打印 on the record page: the corrected values printed again as a new document
    page.goto(f"/review/{vin_id}")
    page.wait_for_selector("#reprint")
    with page.expect_download() as again:
        page.click("#reprint")
    name = again.value.suggested_filename
    assert name.startswith("SH-ZH-BD-27_") and name.endswith("_1份.pdf"), name
    reprinted = PdfReader(again.value.path()).pages[0].extract_text()
    assert TRUE_VIN in reprinted.replace(" ", "")

    # -- print: a bad value is refused next to its field, then the PDF is downloaded -----------------
    page.goto("/print")
    page.click(".form-list a[data-slug=sh-zh-bd-27]")
    page.wait_for_selector("#pf-vin")
    page.fill("#pf-sender_unit", "衡阳广汇汽车维修站")
    page.fill("#pf-part_name", "水泵总成")
    page.fill("#pf-mileage_km", "61230")
    page.fill("#pf-repair_date", "2026-04-02")
    page.select_option("#pf-part_origin", "日产零部件")
    page.fill("#pf-vin", "LGAX2A13O6K123456")  # an O is never in a VIN
    page.click("#make-pdf")
    page.wait_for_selector("#form-error:not([hidden])")
    assert "车架号码" in page.text_content("#form-error")
    assert page.locator(".pf.bad[data-key=vin]").count() == 1
    page.fill("#pf-vin", TRUE_VIN)
    with page.expect_download() as download:
        page.click("#make-pdf")
    pdf = Path(download.value.path()).read_bytes()
    assert pdf[:4] == b"%PDF"
    text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert "水泵总成" in text and "衡阳广汇汽车维修站" in text and "61230" in text
    page.wait_for_selector("#form-ok:not([hidden])")
    page.screenshot(path=str(shots / "print.png"))
    with page.expect_download() as blank:
        page.click("#blank-pdf")
    assert Path(blank.value.path()).read_bytes()[:4] == b"%PDF"

    # -- 账户: a weak new password is refused with its reason; a token is shown once, revoked ------
    page.click(".who .account-link")
    page.wait_for_url(f"{base}/account")
    page.fill("#old-password", PASSWORD)
    page.fill("#new-password", "1234567890")
    page.fill("#new-password-2", "1234567890")
    page.click("#password-save")
    page.wait_for_selector("#password-error:not([hidden])")
    assert "容易被猜到" in page.text_content("#password-error")
    page.fill("#token-label", "夜间导出")
    page.click("#token-create")
    page.wait_for_selector("#token-new:not([hidden])")
    token = page.text_content("#token-value")
    page.wait_for_selector("#tokens-table tr[data-token-id] >> text=夜间导出")
    assert token.startswith("fd_") and token not in page.text_content("#tokens-table")
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}) as script:
        assert script.get("/api/me").status_code == 200
        page.once("dialog", lambda dialog: dialog.accept())
        page.click("#tokens-table tr[data-token-id] button.revoke")
        page.wait_for_selector("#tokens-table td:has-text('还没有令牌')")
        assert script.get("/api/me").status_code == 401

    # -- records: the verified record is listed; signing out ends the session -----------------------
    page.goto("/records?status=verified")
    page.wait_for_selector(f"#records-table tr[data-record-id='{vin_id}']")
    assert page.locator("#records-table tr.row-link").count() == 2
    assert "status=verified" in page.get_attribute("#export-csv", "href")
    page.click(".logout button")
    page.wait_for_url(re.compile(r"/login$"))
    page.goto("/review")
    assert "/login?next=" in page.url

    context.close()
    assert not elsewhere, f"pages fetched something from elsewhere: {elsewhere}"
    assert not problems, f"errors in the browser console: {problems}"


@pytest.mark.slow
def test_reconciliation_and_summary_pages(server, browser, tmp_path):
    """The month's outcomes as chips and rows; a row opens the crop of its manifest line."""
    from .test_reconcile_api import MISSING, MONTH, UNCLAIMED, populate

    app, base = server
    clients: list[httpx.Client] = []

    def login(username: str) -> httpx.Client:
        clients.append(api_client(base, username))
        return clients[-1]

    batch_id = populate(app.state.store, login)
    end = time.time() + 90
    while clients[0].get(f"/api/batches/{batch_id}").json()["state"] != "done":
        assert time.time() < end, "the month's scans were not read"
        time.sleep(0.3)
    # the latest month with data: the scans' month, or a later one the module's other tests
    # left data in (their forms are dated today)
    latest = clients[0].get("/api/months/latest", params={"station": "HN01"}).json()["month"]
    latest_all = clients[0].get("/api/months/latest").json()["month"]
    assert latest >= MONTH and latest_all >= latest
    # the month's returned parts as the reconciliation counts them: the scans `populate`
    # read (3), and any tag of HN01 dated that month that the module's other tests printed
    rec = clients[0].get("/api/reconcile", params={"station": "HN01", "month": MONTH}).json()
    parts = rec["returned_parts"]
    assert parts >= 3
    for client in clients:
        client.close()

    shots = SAMPLE_SHOTS if os.environ.get("FORMDESK_UPDATE_SCREENSHOTS") else tmp_path / "shots"
    shots.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(
        base_url=base, viewport={"width": 1440, "height": 900}, locale="zh-CN"
    )
    context.set_default_timeout(20_000)
    page = context.new_page()
    problems = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto("/reconcile?station=HN01")  # no month: the latest with data, the scans' month
    page.fill("#username", "office")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_function("document.querySelector('#rc-month').value !== ''")
    assert page.input_value("#rc-month") == latest
    if latest != MONTH:
        page.goto(f"/reconcile?station=HN01&month={MONTH}")
    page.wait_for_selector("#rc-chips .chip[data-kind=missing]")
    assert page.input_value("#rc-month") == MONTH
    returned = page.text_content("#rc-figures [data-figure=returned_parts] b")
    assert returned == f"{parts} 件"
    assert page.text_content("#rc-chips .chip[data-kind=missing] .count") == "1"
    assert page.text_content("#rc-chips .chip[data-kind=matched] .count") == "1"

    page.click("#rc-chips .chip[data-kind=missing]")
    assert page.locator("#rc-table tr.rc-row").count() == 1
    assert MISSING in page.text_content("#rc-table tbody")
    page.click("#rc-chips .chip[data-kind=unexpected]")
    page.click(f"#rc-table tr.rc-row:has-text('{UNCLAIMED}')")
    page.wait_for_selector("#rc-table tr.rc-drill .ev-crop img")
    page.wait_for_function(
        "[...document.querySelectorAll('.rc-drill .ev-crop img')]"
        ".every(i => i.complete && i.naturalWidth > 300)"
    )
    link = page.get_attribute(".rc-drill .ev-meta a", "href")
    assert link.startswith("/review/") and "field=returned_parts" in link and "row=3" in link
    page.screenshot(path=str(shots / "reconcile.png"), full_page=True)
    page.click(".rc-drill .ev-meta a")  # the review page opens at that manifest line
    page.wait_for_url(re.compile(r"/review/"))
    assert focused_field(page) == "returned_parts"
    assert page.evaluate("document.activeElement.closest('.field').dataset.row") == "3"

    page.goto("/summary")  # opens on the latest month with data
    page.wait_for_function("document.querySelector('#sm-month').value !== ''")
    assert page.input_value("#sm-month") == latest_all
    page.goto(f"/summary?month={MONTH}")  # and counts the same returned parts as 核对
    page.wait_for_selector("#sm-chart svg rect")
    assert page.input_value("#sm-month") == MONTH
    card = "#sm-cards .sm-card:has-text('返厂件数') .sm-value"
    assert f"{page.text_content(card)} 件" == returned
    assert "HN01" in page.text_content("#sm-tables [data-table=按维修站]")
    page.screenshot(path=str(shots / "summary.png"), full_page=True)
    page.select_option("#sm-station", "HN01")  # BD-24 is one station's: a POST, with CSRF
    page.wait_for_selector("#dl-bd24:not([disabled])")
    with page.expect_download() as bd24:
        page.click("#dl-bd24")
    assert Path(bd24.value.path()).read_bytes()[:4] == b"%PDF"
    context.close()
    assert not problems, f"errors in the page: {problems}"


@pytest.mark.slow
def test_a_monthly_repair_feedback_becomes_claims_from_its_review_page(server, browser, tmp_path):
    """SH-ZH/BD-25 (月份维修信息反馈) read, then 导入为索赔单 on its review page."""
    import json

    from formdesk.render.document import PdfRenderer

    from .conftest import RECORDS

    app, base = server
    store = app.state.store
    template = get_template("SH-ZH/BD-25")
    values = json.loads((RECORDS / "sh-zh-bd-25.json").read_text(encoding="utf-8"))["values"]
    pdf = tmp_path / "bd25.pdf"
    with PdfRenderer(pdf, app.state.key, gang=False) as r:
        doc = r.add(template, values)
    store.register_documents([doc.registered(station="HN01")])
    scan, _ = store.put_scan(pdf.read_bytes(), "bd25.pdf", "application/pdf", "office", "HN01")
    store.create_batch("office", "HN01", [scan.sha256], 1)
    app.state.worker_wake()
    end = time.time() + 60
    while not (found := store.list_records(template="SH-ZH/BD-25")[0]):
        assert time.time() < end, "the feedback form was not read"
        time.sleep(0.2)
    record_id = found[0].record_id
    before = len(store.list_claims())
    store.verify_record(record_id, "office")  # claims come only from a confirmed record

    context = browser.new_context(base_url=base, locale="zh-CN")
    context.set_default_timeout(20_000)
    page = context.new_page()
    problems = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto(f"/review/{record_id}")
    page.fill("#username", "office")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("#import-claims:not([hidden])")
    rows = len(values["warranty_repairs"])
    asked = []
    page.on("dialog", lambda d: (asked.append(d.message), d.accept()))
    page.click("#import-claims")
    page.wait_for_selector("#toast.ok:has-text('已导入索赔单')")
    assert f"{rows} 行明细" in asked[0]  # the clerk is told how many before
    assert f"新增 {rows} 张" in page.text_content("#toast")
    assert len(store.list_claims()) == before + rows
    page.click("#import-claims")  # again: nothing new
    page.wait_for_selector(f"#toast.ok:has-text('未变 {rows} 张')")
    context.close()
    assert not problems, problems


@pytest.mark.slow
def test_the_back_office_imports_a_claims_file_on_the_reconcile_page(server, browser, tmp_path):
    from formdesk.templates.values.vin import with_check_digit

    app, base = server
    header = "索赔单号,维修站,车架号,车型,零件编号,零件名称,数量,购买日期,维修日期,行驶里程\n"
    good = header + "".join(
        f"UI2611-{n},HN01,{with_check_digit(f'LGDCH91G0RA{n:06d}')},EQ1090TJ,1011010-E02,"
        f"机油泵总成,1,2026-01-05,2026-11-0{n},1200{n}\n"
        for n in (1, 2)
    )
    bad = (
        header
        + "UI2611-9,HN01,LGDCH91G0RA000009,EQ1090TJ,1011010-E02,机油泵总成,1,2026-01-05,2026-13-40,1\n"
    )
    (tmp_path / "bad.csv").write_text(bad, encoding="gbk")
    (tmp_path / "good.csv").write_text(good, encoding="gbk")
    before = len(app.state.store.list_claims())

    context = browser.new_context(base_url=base, locale="zh-CN")
    context.set_default_timeout(20_000)
    page = context.new_page()
    problems = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto("/reconcile?station=HN01&month=2026-11")
    page.fill("#username", "office")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("#rc-import")
    page.set_input_files("#rc-claims-file", str(tmp_path / "bad.csv"))
    page.click("#rc-import button[type=submit]")
    page.wait_for_selector("#rc-import-problems li")
    listed = page.text_content("#rc-import-problems")
    assert "第2行" in listed and "车架号" in listed and "维修日期" in listed, listed
    assert len(app.state.store.list_claims()) == before  # nothing stored
    page.set_input_files("#rc-claims-file", str(tmp_path / "good.csv"))
    page.click("#rc-import button[type=submit]")
    page.wait_for_selector("#rc-import-result.rc-import-ok")
    assert "新增 2 张" in page.text_content("#rc-import-result")
    assert page.is_hidden("#rc-import-problems")
    assert len(app.state.store.list_claims()) == before + 2
    page.wait_for_function("document.querySelector('#rc-figures').textContent.includes('2 张')")
    context.close()
    assert not problems, problems

    station = browser.new_context(base_url=base, locale="zh-CN")
    p2 = station.new_page()
    p2.goto("/reconcile")
    p2.fill("#username", "s1")
    p2.fill("#password", PASSWORD)
    p2.click("button[type=submit]")
    p2.wait_for_selector("#rc-filters")
    assert p2.locator("#rc-import").count() == 0  # only the back office imports
    station.close()


def tags_workbook(path: Path, rows: int, bad: dict[int, dict[str, str]]) -> None:
    """An XLSX of `rows` BD-27 tags under the Chinese labels; row n (1-based, the sheet's
    row n + 1) takes the values in `bad[n]`."""
    from openpyxl import Workbook

    tag = get_template("SH-ZH/BD-27")
    values = sample_values(tag)
    keys = ["sender_unit", "part_name", "vin", "purchase_date"]
    wb = Workbook()
    ws = wb.active
    ws.append([tag.field(k).label for k in keys])
    for n in range(1, rows + 1):
        row = {k: str(values.get(k, "")) for k in keys} | {"part_name": f"机油泵总成{n}"}
        ws.append([(row | bad.get(n, {}))[k] for k in keys])
    wb.save(path)


def test_a_station_prints_tags_from_a_workbook_with_two_bad_rows(server, browser, tmp_path):
    """Issue 12: the station's clerk picks an XLSX of 20 tags on the 打印 page; the two bad
    rows are named at once (line and Chinese field label), the 18 good ones print as one
    job, registered for the station, downloaded under a name saying what it holds."""
    app, base = server
    xlsx = tmp_path / "tags.xlsx"
    tags_workbook(
        xlsx, 20, {5: {"vin": "LGAX2A13O6K123456"}, 12: {"purchase_date": "2026年2月30日"}}
    )
    before = set(app.state.store.document_ids("SH-ZH/BD-27"))
    context = browser.new_context(base_url=base, locale="zh-CN", accept_downloads=True)
    context.set_default_timeout(30_000)
    page = context.new_page()
    problems = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto("/print")
    page.fill("#username", "s1")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.click(".form-list a[data-slug=sh-zh-bd-27]")
    page.wait_for_selector("#batch-print:not([hidden])")
    page.set_input_files("#batch-file", str(xlsx))
    page.wait_for_selector("#batch-result:not([hidden])")
    listed = page.locator("#batch-problems li").all_text_contents()
    assert len(listed) == 2, listed
    assert listed[0].startswith("第6行 车架号") and listed[1].startswith("第13行 购买日期"), listed
    assert not any("(" in p and "_" in p for p in listed), listed  # no English keys
    assert "18 行可以打印" in page.text_content("#batch-summary")
    with page.expect_download(timeout=180_000) as download:
        page.click("#batch-go")
    name = download.value.suggested_filename
    assert name.startswith("SH-ZH-BD-27_") and name.endswith("_18份.pdf"), name
    page.wait_for_function(
        "document.querySelector('#batch-progress').textContent.includes('跳过有错的 2 行')"
    )
    pdf = pdfium.PdfDocument(download.value.path())
    assert len(pdf) >= 18 // 4  # tags ganged four to an A4 sheet
    context.close()
    assert not problems, problems
    store = app.state.store
    new = set(store.document_ids("SH-ZH/BD-27")) - before
    assert len(new) == 18  # registered, each for the station that printed it
    assert {store.get_document(d).station for d in new} == {"HN01"}
