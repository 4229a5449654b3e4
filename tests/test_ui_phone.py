"""The station's pages on a phone (issue 12, point 9): 上传, 打印 and 记录 in a 390 px wide
window (Playwright's mobile emulation: device scale 3, touch) on Debian's Chromium, against
the real app served by uvicorn on each store.  No page is wider than the screen, every page
link and 退出 are on the screen and take a tap, a phone photo of a tag uploads and reads,
its record opens from 记录, and 打印 prefills the station's own name and prints one tag on
an A6 page.

Screenshots at phone width go to samples/screenshots/ with FORMDESK_UPDATE_SCREENSHOTS=1.
"""

from __future__ import annotations

import os
import re
from contextlib import closing
from pathlib import Path

import cv2
import numpy as np
import pypdfium2 as pdfium
import pytest

from formdesk.templates import get_template

from .conftest import sample_values
from .test_ui import (  # noqa: F401 (the module's fixtures)
    PASSWORD,
    SAMPLE_SHOTS,
    api_client,
    browser,
    server,
)

PHONE = {"width": 390, "height": 844}
TAG = get_template("SH-ZH/BD-27")
NAV = ["工作台", "上传", "复核", "记录", "核对", "月报", "打印"]


def phone_photo(base: str, out: Path) -> str:
    """Station HN01 prints a prefilled tag on an A6 page; the page, rendered at 200 dpi, is
    photographed by a phone: turned a little, on a grey table, softened, as a JPEG.
    Returns the printed document's id."""
    with closing(api_client(base, "s1")) as s1:
        res = s1.post(f"/api/print/{TAG.slug}", params={"paper": "a6"}, json=sample_values(TAG))
    assert res.status_code == 200, res.text
    page = pdfium.PdfDocument(res.content)[0].render(scale=200 / 72).to_pil().convert("RGB")
    img = cv2.cvtColor(np.asarray(page), cv2.COLOR_RGB2BGR)
    h, w = img.shape[:2]
    pad = 60
    table = np.full((h + 2 * pad, w + 2 * pad, 3), 120, np.uint8)
    table[pad : pad + h, pad : pad + w] = img
    turn = cv2.getRotationMatrix2D((table.shape[1] / 2, table.shape[0] / 2), 2.0, 1.0)
    shot = cv2.warpAffine(table, turn, (table.shape[1], table.shape[0]), borderValue=(120,) * 3)
    shot = cv2.GaussianBlur(shot, (3, 3), 0.7)
    ok, buf = cv2.imencode(".jpg", shot, [cv2.IMWRITE_JPEG_QUALITY, 85])
    assert ok
    out.write_bytes(buf.tobytes())
    return res.headers["x-document-ids"]


def fits_the_screen(page, where: str) -> None:
    """Nothing makes the page wider than the phone's screen."""
    width = page.evaluate("document.documentElement.scrollWidth")
    wide = page.evaluate(WIDER_THAN_SCREEN) if width > PHONE["width"] else []
    assert width <= PHONE["width"], f"{where}: the page is {width} px wide: {wide}"
    shown = page.inner_text("main")
    assert not re.search(r"\b(null|undefined|NaN)\b", shown), (where, shown[:300])


WIDER_THAN_SCREEN = """() => [...document.querySelectorAll("body *")]
  .filter((el) => el.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5)
  .slice(0, 8)
  .map((el) => `${el.tagName.toLowerCase()}#${el.id}.${[...el.classList].join(".")}`
               + ` ${Math.round(el.getBoundingClientRect().right)}`)"""


TAPPABLE = """(el) => {
  const r = el.getBoundingClientRect();
  const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
  return {left: r.left, right: r.right, top: r.top, bottom: r.bottom,
          hit: !!hit && (hit === el || el.contains(hit))};
}"""


def reachable(page, selector: str) -> dict:
    """The element is wholly on the screen, big enough for a finger, and a tap at its
    middle reaches it (nothing covers it)."""
    box = page.locator(selector).evaluate(TAPPABLE)
    assert box["left"] >= 0 and box["right"] <= PHONE["width"], (selector, box)
    assert box["top"] >= 0 and box["bottom"] <= PHONE["height"], (selector, box)
    assert box["bottom"] - box["top"] >= 24, (selector, box)
    assert box["hit"], (selector, box)
    return box


def top_bar_works(page, where: str) -> None:
    links = page.locator(".topbar .nav a")
    assert links.all_text_contents() == NAV, where
    for n in range(links.count()):
        reachable(page, f".topbar .nav a >> nth={n}")
    reachable(page, ".who .logout button")
    reachable(page, ".who .account-link")


@pytest.mark.slow
def test_a_station_clerk_works_from_a_phone(server, browser, tmp_path):  # noqa: F811
    app, base = server
    photo = tmp_path / "手机拍照.jpg"
    document_id = phone_photo(base, photo)
    shots = SAMPLE_SHOTS if os.environ.get("FORMDESK_UPDATE_SCREENSHOTS") else tmp_path / "shots"
    shots.mkdir(parents=True, exist_ok=True)

    context = browser.new_context(
        base_url=base,
        viewport=PHONE,
        device_scale_factor=3,
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
        accept_downloads=True,
    )
    context.set_default_timeout(20_000)
    page = context.new_page()
    problems = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto("/login?next=%2F")
    page.fill("#username", "s1")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")

    # -- 工作台 first, then 上传: the bar and the drop zone fit; a phone photo is read ------------
    page.wait_for_selector(".desk-card")
    fits_the_screen(page, "工作台")
    top_bar_works(page, "工作台")
    page.tap(".topbar .nav a:has-text('上传')")
    page.wait_for_url(f"{base}/upload")
    page.wait_for_selector("#recent-table tbody tr")
    fits_the_screen(page, "上传")
    top_bar_works(page, "上传")
    page.set_input_files("#file-input", str(photo))
    done = page.wait_for_selector(".batch[data-state=done] .batch-records table", timeout=60_000)
    assert document_id in done.text_content()
    assert "识读出 1 份表单" in page.text_content(".batch .links")
    fits_the_screen(page, "上传 after the upload")
    page.wait_for_function("document.querySelector('#recent-table tbody td[data-label]') !== null")
    page.screenshot(path=str(shots / "phone-upload.png"), full_page=True, scale="css")

    # -- 记录: a card per record; a tap opens it -----------------------------------------------
    page.tap(".topbar .nav a:has-text('记录')")
    page.wait_for_url(f"{base}/records")
    row = page.wait_for_selector(f"#records-table tr.row-link:has-text('{document_id}')")
    fits_the_screen(page, "记录")
    top_bar_works(page, "记录")
    assert page.locator("#records-table thead").is_hidden()  # cards: the heading is in each cell
    labels = page.locator("#records-table tr.row-link >> nth=0").locator("td")
    assert labels.nth(1).get_attribute("data-label") == "文档号"
    assert row.bounding_box()["width"] <= PHONE["width"]
    page.screenshot(path=str(shots / "phone-records.png"), full_page=True, scale="css")
    record_id = row.get_attribute("data-record-id")
    page.tap(f"#records-table tr[data-record-id='{record_id}'] a")
    page.wait_for_url(f"{base}/review/{record_id}")
    page.wait_for_selector(".field[data-key=vin]")
    assert sample_values(TAG)["vin"] in page.locator(".field[data-key=vin] input").input_value()
    fits_the_screen(page, "复核")
    top_bar_works(page, "复核")
    page.screenshot(path=str(shots / "phone-review.png"), full_page=True, scale="css")

    # -- 打印: the station's own name prefilled; one tag on an A6 page -----------------------------
    page.goto("/")
    page.tap(".topbar .nav a:has-text('打印')")
    page.wait_for_url(f"{base}/print")
    page.wait_for_selector(".form-list a[data-slug=sh-zh-bd-27]")
    fits_the_screen(page, "打印")
    top_bar_works(page, "打印")
    page.tap(".form-list a[data-slug=sh-zh-bd-27]")
    page.wait_for_selector("#pf-sender_unit")
    assert page.input_value("#pf-sender_unit") == "长沙顺达汽车维修站"
    assert page.is_visible("#paper-choice")
    page.select_option("#paper", "a6")
    assert "每页 A6 一份" in page.text_content("#form-meta")
    page.fill("#pf-part_name", "水泵总成")
    page.fill("#pf-vin", sample_values(TAG)["vin"])
    fits_the_screen(page, "打印 with a form open")
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")  # the bar stays on top
    reachable(page, ".who .logout button")
    reachable(page, ".topbar .nav a:has-text('上传')")
    page.locator("#make-pdf").evaluate("el => el.scrollIntoView({block: 'center'})")
    reachable(page, "#make-pdf")
    with page.expect_download() as download:
        page.tap("#make-pdf")
    pdf = pdfium.PdfDocument(download.value.path())
    assert len(pdf) == 1
    w, h = pdf[0].get_size()
    assert abs(w - 105 / 25.4 * 72) < 1 and abs(h - 148 / 25.4 * 72) < 1, (w, h)
    pdf.close()
    page.wait_for_selector("#form-ok:not([hidden])")
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(shots / "phone-print.png"), full_page=True, scale="css")

    # -- 退出 from the phone -----------------------------------------------------------------------
    page.tap(".who .logout button")
    page.wait_for_url(re.compile(r"/login$"))
    context.close()
    assert not problems, problems
