"""Issue 13's acceptance in a real browser: `formdesk serve` as a process (TinyDB), Debian's
Chromium driven by Playwright at a 1280 px desktop.  The back office opens 表单版式,
uploads a scan of the independently typeset BD-27 blank (tests/data/external, scanned by
samples.synth), sees every proposed box drawn over the reference image with its field's
label, corrects one box by dragging it with the mouse, resizes another by its corner
handle, takes a third away and draws it again, saves the layout; the saved boxes have moved
and shrunk by the drags (read back through the API).  A filled scan of that layout, uploaded,
becomes a 外部表单 record whose page names the variant and shows the VIN read.

(The API's refusals, the roles and PostgreSQL: tests/test_layout_api.py.)"""

from __future__ import annotations

import os
import time
from contextlib import ExitStack, closing
from urllib.parse import quote

import cv2
import numpy as np
import pytest

from formdesk.extract.align import PX_PER_MM
from samples.external import external_blank, filled_page, shoot

from .served import PASSWORD, Server, wait_batches
from .test_ui import SAMPLE_SHOTS, browser  # noqa: F401 (fixture)

VARIANT = "印刷厂票本"
DRAG_PX = (24, 10)  # the drag, CSS pixels of the shown image
RESIZE_PX = (30, 6)  # a corner handle dragged up and left by this much


@pytest.fixture
def served(tmp_path):
    with ExitStack() as stack:
        s = Server(tmp_path / "data")
        stack.callback(s.stop)
        s.cli("user", "add", "office", "--role", "back_office", "--password", PASSWORD)
        s.start()
        yield s


def _jpeg(image: np.ndarray, path) -> None:
    path.write_bytes(cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 88])[1].tobytes())


@pytest.mark.slow
def test_register_a_layout_in_the_browser_and_read_a_filled_page(served, browser, tmp_path):  # noqa: F811
    started = time.monotonic()
    shots = SAMPLE_SHOTS if os.environ.get("FORMDESK_UPDATE_SCREENSHOTS") else tmp_path
    blank = external_blank("SH-ZH/BD-27")
    scan = tmp_path / "空白标签.jpg"
    _jpeg(shoot(blank.page(), "scan", np.random.default_rng(27)), scan)

    context = browser.new_context(
        base_url=served.url, viewport={"width": 1280, "height": 900}, locale="zh-CN"
    )
    context.set_default_timeout(60_000)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto("/login?next=/layouts")
    page.fill("#username", "office")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{served.url}/layouts")
    assert page.locator("nav a.active").text_content() == "表单版式"
    page.wait_for_selector("#lt-table td:has-text('还没有登记任何版式')")

    # -- upload the scan of the blank: the proposal over the reference image ---------------------
    page.wait_for_selector("#lt-template option[value='SH-ZH/BD-27']", state="attached")
    page.select_option("#lt-template", "SH-ZH/BD-27")
    page.set_input_files("#lt-file", str(scan))
    with page.expect_response(lambda r: r.url.endswith("/api/layout-drafts")) as answer:
        page.click("#lt-propose-go")
    draft = answer.value.json()
    assert answer.value.status == 201, draft
    page.wait_for_selector("#lt-stage[data-ready=true]")
    proposed = {f["key"]: f for f in draft["fields"]}
    shown = page.eval_on_selector_all(
        "#lt-stage .lt-box",
        "ns => ns.map(n => [n.dataset.key, n.querySelector('span').textContent])",
    )
    assert dict(shown) == {k: f["label"] for k, f in proposed.items()} and len(shown) == 13
    assert page.locator("#lt-missing li").count() == 0
    # usable at 1280 px: nothing wider than the window, the side panel beside the image
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    side = page.locator(".lt-side").bounding_box()
    image = page.locator("#lt-stage").bounding_box()
    assert side["x"] >= image["x"] + image["width"] and side["x"] + side["width"] <= 1280

    # -- correct one box by dragging it with the mouse --------------------------------------------
    key = "inspection_result"
    page.locator(f".lt-box[data-key={key}]").scroll_into_view_if_needed()
    box = page.locator(f".lt-box[data-key={key}]").bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + DRAG_PX[0] / 2, y + DRAG_PX[1] / 2, steps=4)
    page.mouse.move(x + DRAG_PX[0], y + DRAG_PX[1], steps=4)
    page.mouse.up()
    mm_per_px = draft["paper_mm"][0] / page.locator("#lt-stage").bounding_box()["width"]
    assert "manual" in page.get_attribute(f".lt-box[data-key={key}]", "class")

    # resize another by its corner handle; take one away and draw it again where it is
    handle = page.locator(".lt-box[data-key=preliminary_finding] .lt-handle").bounding_box()
    hx, hy = handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2
    page.mouse.move(hx, hy)
    page.mouse.down()
    page.mouse.move(hx - RESIZE_PX[0], hy - RESIZE_PX[1], steps=4)
    page.mouse.up()
    page.click("#lt-found li[data-key=company_name] .lt-clear")
    assert page.locator(".lt-box[data-key=company_name]").count() == 0
    assert page.text_content("#lt-missing li[data-key=company_name]").startswith("公司名称")
    page.click("#lt-missing li[data-key=company_name] .lt-assign")
    stage = page.locator("#lt-stage").bounding_box()
    x0, y0, w0, h0 = proposed["company_name"]["box"]
    drawn = [x0 + 1.0, y0 + 0.5, w0 - 3.0, h0 - 1.0]  # a little inside the proposed one
    corner = [stage["x"] + drawn[0] / mm_per_px, stage["y"] + drawn[1] / mm_per_px]
    page.mouse.move(*corner)
    page.mouse.down()
    page.mouse.move(corner[0] + drawn[2] / mm_per_px, corner[1] + drawn[3] / mm_per_px, steps=5)
    page.mouse.up()
    page.wait_for_selector(".lt-box[data-key=company_name]")
    assert page.locator("#lt-missing li").count() == 0
    page.screenshot(path=str(shots / "layouts-editor.png"), full_page=True)

    page.fill("#lt-name", VARIANT)
    page.click("#lt-save")
    page.wait_for_selector(f"#lt-table td.lt-variant:has-text('{VARIANT}')")
    assert page.locator("#lt-editor").is_hidden()

    with closing(served.client("office")) as client:
        saved = client.get(f"/api/layouts/sh-zh-bd-27/{quote(VARIANT)}")
        assert saved.status_code == 200, saved.text
        boxes = {f["key"]: f for f in saved.json()["fields"]}
        before, after = proposed[key]["box"], boxes[key]["box"]
        assert after[0] - before[0] == pytest.approx(DRAG_PX[0] * mm_per_px, abs=0.25)
        assert after[1] - before[1] == pytest.approx(DRAG_PX[1] * mm_per_px, abs=0.25)
        assert after[2:] == pytest.approx(before[2:], abs=0.06)
        assert boxes[key]["source"] == "manual"
        assert boxes["vin"]["box"] == proposed["vin"]["box"]  # the others as proposed
        assert boxes["vin"]["source"] == "label"
        before, after = proposed["preliminary_finding"]["box"], boxes["preliminary_finding"]["box"]
        assert after[:2] == pytest.approx(before[:2], abs=0.06)
        assert before[2] - after[2] == pytest.approx(RESIZE_PX[0] * mm_per_px, abs=0.25)
        assert before[3] - after[3] == pytest.approx(RESIZE_PX[1] * mm_per_px, abs=0.25)
        # drawn again where the pointer went (a pixel or two apart)
        assert boxes["company_name"]["box"] == pytest.approx(drawn, abs=0.4)
        assert boxes["company_name"]["source"] == "manual"

        # -- a filled scan of that layout, uploaded, read against it -------------------------------
        filled, values = filled_page(blank, np.random.default_rng(21), "scan")
        jpeg = cv2.imencode(".jpg", filled, [cv2.IMWRITE_JPEG_QUALITY, 88])[1].tobytes()
        up = client.post("/api/uploads", files=[("files", ("填好的标签.jpg", jpeg, "image/jpeg"))])
        assert up.status_code == 202, up.text
        batch_id = up.json()["batch_id"]
        wait_batches(client, [batch_id], timeout=120)
        (file,) = client.get(f"/api/batches/{batch_id}/view").json()["files"]
        assert file["refusals"] == [], file
        (summary,) = file["records"]

    page.goto(f"/review/{summary['record_id']}")
    page.wait_for_selector("#rec-meta b")
    assert "外部表单" in page.text_content("#rec-meta")
    assert f"版式“{VARIANT}”" in page.text_content("#rec-notes")
    assert page.locator("input[aria-label='车架号码']").input_value() == values["vin"]
    # the scan beside the fields: the page aligned on the variant (the paper at 200 dpi),
    # its field boxes drawn over it, the VIN's crop shown
    loaded = "n => n.complete && n.naturalWidth > 0"
    page.wait_for_function(f"() => ({loaded})(document.querySelector('#scan-img'))")
    assert page.locator("#scan-loading").is_hidden() and page.locator("#page-note").is_hidden()
    size = page.eval_on_selector("#scan-img", "n => [n.naturalWidth, n.naturalHeight]")
    assert size == [round(105 * PX_PER_MM), round(148 * PX_PER_MM)]
    assert page.locator("#boxes .fbox").count() >= 13
    page.screenshot(path=str(shots / "layouts-record.png"), full_page=True)
    with closing(served.client("office")) as client:
        res = client.get(f"/api/records/{summary['record_id']}/page.png?page=1")
        assert res.status_code == 200 and res.headers["content-type"] == "image/png"
        crop = client.get(f"/api/records/{summary['record_id']}/crop.png", params={"key": "vin"})
        assert crop.status_code == 200, crop.text
        # the variant removed: the page as uploaded, said so, no boxes over it
        assert client.delete(f"/api/layouts/sh-zh-bd-27/{quote(VARIANT)}").status_code == 204
    page.reload()
    page.wait_for_selector("#page-note:not([hidden])")
    assert "已删除" in page.text_content("#page-note")
    page.wait_for_function(f"() => ({loaded})(document.querySelector('#scan-img'))")
    size = page.eval_on_selector("#scan-img", "n => [n.naturalWidth, n.naturalHeight]")
    # the scan as the reader decoded it (ingest may resample a pixel or two)
    assert size == pytest.approx([filled.shape[1], filled.shape[0]], abs=2)
    assert page.locator("#boxes .fbox").count() == 0
    assert problems == []
    context.close()
    assert time.monotonic() - started < 90
