"""The back-office desk in a real browser (issue 12): Debian's Chromium driven by Playwright
against the app served by uvicorn, on each store.  The back office uploads scans (sample
scans signed with another installation's key, a tag whose QR and form code are gone, a
second scan of one form), opens the upload's page, says which form the refused page is
and gets its record, bulk-confirms the records whose only reason is 签名不符, corrects a
field (marked 已更正), voids the second scan, undoes a confirmation, exports XLSX and
reprints; the auditor lands on 工作台 and can change nothing.  Screenshots of each page
(desktop and phone width) go to samples/screenshots/ on request."""

from __future__ import annotations

import io
import os
import re
from contextlib import closing
from pathlib import Path

import cv2
import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from formdesk.model.accounts import User
from formdesk.model.claims import Station
from formdesk.services.passwords import hash_password
from formdesk.templates import get_template

from .test_refused_pages import unknown_tag  # noqa: F401 (fixture)
from .test_ui import PASSWORD, SAMPLE_SHOTS, api_client, browser, server  # noqa: F401
from .test_ui_phone import WIDER_THAN_SCREEN

SCANS = Path(__file__).resolve().parents[1] / "samples" / "scans"
TAG = get_template("SH-ZH/BD-30")
PHONE = {"width": 390, "height": 844}


def _context(chromium, base: str, viewport=None):
    context = chromium.new_context(
        base_url=base,
        viewport=viewport or {"width": 1440, "height": 900},
        locale="zh-CN",
        accept_downloads=True,
    )
    context.set_default_timeout(30_000)
    return context


def _sign_in(page, username: str, next_path: str = "/") -> None:
    page.goto(f"/login?next={next_path}")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")


def _shots(tmp_path: Path) -> Path:
    shots = SAMPLE_SHOTS if os.environ.get("FORMDESK_UPDATE_SCREENSHOTS") else tmp_path / "shots"
    shots.mkdir(parents=True, exist_ok=True)
    return shots


@pytest.mark.slow
def test_the_back_office_day_and_the_auditor(server, browser, tmp_path, unknown_tag):  # noqa: F811
    app, base = server
    store = app.state.store
    if store.get_user("audit") is None:
        store.add_user(
            User(username="audit", password_hash=hash_password(PASSWORD), role="auditor")
        )
    # the stations the sample scans come from are the installation's own: a station name
    # the station list lacks is never ok (extract/lexicon.CLOSED_LISTS)
    for code, name in (
        ("GX02", "柳州中兴汽车维修站"),
        ("GZ03", "贵阳天成汽车维修有限公司"),
        ("HN04", "岳阳众诚汽车维修站"),
        ("SD05", "济南汇通汽车服务有限公司"),
    ):
        if store.get_station(code) is None:
            store.add_station(Station(code=code, name=name))  # fmt: skip
    shots = _shots(tmp_path)
    files = []
    for name in ("0001.jpg", "0006.jpg", "0007.jpg", "0000.jpg"):
        files.append(tmp_path / f"样张-{name}")
        files[-1].write_bytes((SCANS / name).read_bytes())
    files.append(tmp_path / "无码标签.jpg")
    files[-1].write_bytes(unknown_tag)
    # a second scan of the BD-30 sample: other bytes, the same form (重复扫描)
    img = cv2.imread(str(SCANS / "0001.jpg"))
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 80])
    files.append(tmp_path / "样张-0001-再扫.jpg")
    files[-1].write_bytes(buf.tobytes())

    context = _context(browser, base)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(str(e)))

    # -- the back office lands on 工作台, uploads, and opens the upload's page -------------------
    _sign_in(page, "office")
    page.wait_for_url(f"{base}/")
    assert page.text_content("h1") == "工作台"
    page.click("nav >> text=上传")
    page.set_input_files("#file-input", [str(f) for f in files])
    page.wait_for_selector(".batch[data-state=done]", timeout=300_000)
    page.click(".batch .batch-link")
    page.wait_for_url(re.compile(r"/batches/\w+$"))
    page.wait_for_selector(".refusal[data-state=open] img")
    page.wait_for_function(
        "[...document.querySelectorAll('.refusal img')].every(i => i.complete && i.naturalWidth)"
    )
    page.screenshot(path=str(shots / "batch.png"), full_page=True)
    assert "未识别的表单" in page.text_content(".refusal .why")
    assert page.locator(".batch-records tbody tr").count() == 5

    # -- the refused page is a BD-30 tag: say so, it is read again ---------------------------------
    page.select_option(".refusal select[name=template]", TAG.code)
    page.click(".refusal .classify button[type=submit]")
    page.wait_for_selector(".refusal[data-state=resolved]", timeout=120_000)
    page.click(".refusal[data-state=resolved] a[href^='/review/']")
    page.wait_for_url(re.compile(r"/review/\w+"))
    page.wait_for_selector("#rec-meta b")
    assert "人工指定" in page.text_content("#rec-meta")
    assert "表单类型由人工指定" in page.text_content("#rec-problems")
    assert "批次" in page.text_content("#rec-actions")

    # -- bulk confirmation of the records whose only reason is 签名不符 -----------------------------
    page.goto("/review")
    page.wait_for_selector("#bulk:not([hidden]) #bulk-reasons input")
    page.check("#bulk-reasons input[value='签名不符']")
    # every record whose only reason is 签名不符, the duplicate scan of the BD-30 left out
    assert page.text_content("#bulk-count") == "将确认 3 条记录"
    page.screenshot(path=str(shots / "queue-bulk.png"), full_page=True)
    page.once("dialog", lambda d: d.accept() if "3 条" in d.message else d.dismiss())
    page.click("#bulk-confirm")
    page.wait_for_selector("#toast:has-text('已确认 3 条记录')")
    # what is left needs a look field by field: bulk says why it offers nothing, each row why
    page.wait_for_selector("#bulk-none:not([hidden])")
    assert page.locator("#bulk-body").is_hidden()
    # the queue reloads beside the bulk panel ("加载中…" first): wait for its rows
    page.wait_for_selector("#queue-table td.reasons")
    reasons = page.locator("#queue-table td.reasons").all_text_contents()
    assert reasons and "—" not in reasons and any("栏需核对" in r for r in reasons), reasons
    with closing(api_client(base, "office")) as office:
        verified = office.get("/api/records", params={"status": "verified"}).json()["items"]
        # the manifest, the BD-24 and the first scan of the BD-30 tag: every field ok (its
        # fault description, several lines, with both second opinions: calibration.yaml)
        assert sorted(r["template"] for r in verified) == [
            "SH-ZH/BD-24", "SH-ZH/BD-30", "SH-ZH/BD-31",
        ]  # fmt: skip
        queue = office.get("/api/records", params={"status": "needs_review"}).json()["items"]
        bd27 = next(r for r in queue if r["template"] == "SH-ZH/BD-27")
        all_rows = office.get("/api/records", params={"duplicates": "true"}).json()["items"]
        second = next(r for r in all_rows if r["duplicate_of"])

    # -- correct the BD-27's doubtful field: marked 已更正, its old value kept ---------------------
    page.goto(f"/review/{bd27['record_id']}")
    page.wait_for_function("document.activeElement && document.activeElement.dataset.uid")
    field = page.evaluate("document.activeElement.closest('.field').dataset.key")
    before = page.input_value(":focus")
    page.keyboard.press("End")
    page.keyboard.type("9")
    page.keyboard.press("Escape")  # Esc gives the stored value back
    assert (
        page.input_value(f".field[data-key={field}] input, .field[data-key={field}] select")
        == before
    )
    page.focus(f".field[data-key={field}] input")
    page.keyboard.press("End")
    page.keyboard.type("1")
    page.keyboard.press("Enter")
    page.wait_for_selector(f".field[data-key={field}] .badge.reviewed.corrected")
    assert "已更正" in page.text_content(f".field[data-key={field}] .f-head")
    assert "已更正 1 栏" in page.text_content("#fields-count")
    # no ink figures for marks: words
    raws = page.locator(".field .f-raw").all_text_contents()
    assert not any(re.search(r"\d:\d|^识读:0\.\d{3}$", t) for t in raws), raws
    page.screenshot(path=str(shots / "review-corrected.png"), full_page=True)
    page.keyboard.press("Control+Enter")  # 确认无误: the next record of the queue opens
    page.wait_for_url(lambda url: bd27["record_id"] not in url)

    # -- undo that confirmation, then void the second scan of the BD-30 ----------------------------
    page.goto(f"/review/{bd27['record_id']}")
    page.wait_for_selector("#unverify")
    page.click("#unverify")
    page.wait_for_selector("#rec-events li:has-text('撤销确认')")
    assert page.text_content("#rec-status") == "待复核"
    page.goto(f"/review/{second['record_id']}")
    page.wait_for_selector("#void-form")
    page.fill("#void-reason", "同一张标签扫描了两次")
    page.once("dialog", lambda d: d.accept())
    page.click("#void-form button[type=submit]")
    page.wait_for_selector("#rec-events li:has-text('作废')")
    assert page.text_content("#rec-status") == "已作废"
    assert page.is_visible("#restore-record")
    page.screenshot(path=str(shots / "review-voided.png"), full_page=True)

    # -- 记录: names, key values, the upload's file; the export opens in openpyxl --------------------
    page.goto("/records")
    page.wait_for_selector("#records-table tbody tr.row-link")
    text = page.text_content("#records-table")
    assert "三包换件故障标签" in text or "故障标签" in text
    assert "VIN " in text
    page.fill("#f-file", "无码")
    page.press("#f-file", "Enter")
    page.wait_for_function(
        "document.querySelectorAll('#records-table tbody tr.row-link').length === 1"
    )
    page.fill("#f-file", "")
    page.select_option("#f-status", "voided")
    page.wait_for_function(
        "document.querySelectorAll('#records-table tbody tr.row-link').length === 1"
    )
    page.select_option("#f-status", "")
    page.wait_for_function(
        "document.querySelectorAll('#records-table tbody tr.row-link').length === 5"
    )
    page.screenshot(path=str(shots / "records.png"), full_page=True)
    with page.expect_download() as got:
        page.click("#export-xlsx")
    book = load_workbook(io.BytesIO(Path(got.value.path()).read_bytes()))
    sheets = [ws.title for ws in book.worksheets]
    assert any("BD-30" in t for t in sheets) and any("BD-27" in t for t in sheets)
    bd30 = next(ws for ws in book.worksheets if "BD-30" in ws.title)
    headers = [c.value for c in next(bd30.iter_rows(max_row=1))]
    assert "车架号" in "".join(str(h) for h in headers)
    assert bd30.max_row == 3  # the two BD-30 records counted once each, the voided scan left out

    # -- reprint from the record page ----------------------------------------------------------------
    page.goto(f"/review/{bd27['record_id']}")
    page.wait_for_selector("#reprint:not([disabled])")
    with page.expect_download() as got:
        page.click("#reprint")
    assert Path(got.value.path()).read_bytes()[:5] == b"%PDF-"
    page.select_option("#reprint-paper", "a6")  # a tag: the paper is the clerk's choice
    with page.expect_download() as got:
        page.click("#reprint")
    box = PdfReader(got.value.path()).pages[0].mediabox
    assert (round(float(box.width) / 72 * 25.4), round(float(box.height) / 72 * 25.4)) == (105, 148)

    # -- 工作台 and the pages of the desk -------------------------------------------------------------
    page.goto("/")
    page.wait_for_selector(".desk-card[data-card=review]")
    assert page.text_content(".desk-card[data-card=refusals] .big") == "0"
    page.screenshot(path=str(shots / "desk.png"), full_page=True)
    page.goto("/refusals?state=resolved")
    page.wait_for_selector(".refusal[data-state=resolved]")
    page.screenshot(path=str(shots / "refusals.png"), full_page=True)
    assert not problems, problems
    context.close()

    # -- the auditor lands on 工作台 and can change nothing -----------------------------------------
    context = _context(browser, base)
    page = context.new_page()
    _sign_in(page, "audit")
    page.wait_for_url(f"{base}/")
    page.wait_for_selector(".desk-card")
    assert page.text_content("h1") == "工作台"
    page.goto("/review")
    page.wait_for_selector("#queue-table tbody tr")
    assert page.locator("#bulk").count() == 0
    page.goto(f"/review/{second['record_id']}")
    page.wait_for_selector("#rec-meta b")
    assert (
        page.locator("#restore-record, #void-form, #verify, #unverify, #set-station").count() == 0
    )
    with closing(api_client(base, "audit")) as audit:
        res = audit.post(f"/api/records/{second['record_id']}/restore")
        assert res.status_code == 403 and "审计员" in res.json()["reason"]
    context.close()

    # -- every page, at desktop and phone width, for samples/screenshots/ (once: TinyDB) --------
    if ".sql." in type(store).__module__:  # the PostgreSQL store: shot once, on TinyDB
        assert not problems, problems
        return
    batch_id = store.list_batches()[-1].batch_id
    pages = [
        ("/", "desk"),
        ("/upload", "upload"),
        (f"/batches/{batch_id}", "batch"),
        ("/refusals?state=resolved", "refusals"),
        ("/review", "queue"),
        (f"/review/{bd27['record_id']}", "review"),
        ("/records", "records"),
        ("/reconcile", "reconcile"),
        ("/summary", "summary"),
        ("/print", "print"),
        ("/claims", "claims"),
        ("/users", "users"),
        ("/account", "account"),
    ]
    for viewport, suffix in ((None, ""), (PHONE, "-phone")):
        context = _context(browser, base, viewport)
        page = context.new_page()
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.goto("/login")
        page.screenshot(path=str(shots / f"login{suffix}.png"), full_page=True)
        _sign_in(page, "office")
        page.wait_for_url(f"{base}/")
        for path, name in pages:
            page.goto(path)
            page.wait_for_load_state("networkidle")
            assert page.locator("h1").count() >= 1, path
            shown = page.inner_text("main")
            assert not re.search(r"\b(null|undefined|NaN)\b", shown), (path, shown[:300])
            if viewport is PHONE:
                width = page.evaluate("document.documentElement.scrollWidth")
                wide = page.evaluate(WIDER_THAN_SCREEN) if width > PHONE["width"] else []
                assert width <= PHONE["width"], (path, width, wide)
            page.screenshot(path=str(shots / f"{name}{suffix}.png"), full_page=True)
        context.close()
    assert not problems, problems
