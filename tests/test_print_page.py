"""The 打印 page in a real browser (Debian's Chromium, the app served by uvicorn): an
impossible date typed in a date box is refused next to its field with the rule, never
dropped; full-width values typed with a Chinese input method print as ASCII.
"""

from __future__ import annotations

import io
from pathlib import Path

from pypdf import PdfReader

from formdesk.templates import get_template

from .conftest import sample_values
from .test_ui import PASSWORD, browser, server  # noqa: F401 (the module's fixtures)

TAG = get_template("SH-ZH/BD-27")
GOOD = sample_values(TAG)


def wide(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def test_an_impossible_date_is_refused_at_its_field_and_full_width_prints(server, browser):  # noqa: F811
    _, base = server
    context = browser.new_context(base_url=base, locale="zh-CN", accept_downloads=True)
    context.set_default_timeout(20_000)
    page = context.new_page()
    page.goto("/login?next=%2Fprint")
    page.fill("#username", "s1")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/print")
    page.click(".form-list a[data-slug=sh-zh-bd-27]")
    page.wait_for_selector("#pf-purchase_date")
    page.fill("#pf-part_name", "水泵总成")
    page.fill("#pf-purchase_date", "2026年2月30日")
    page.fill("#pf-mileage_km", wide("48260"))
    page.fill("#pf-vin", wide(GOOD["vin"]))
    page.click("#make-pdf")
    page.wait_for_selector(".pf.bad[data-key=purchase_date] .pf-error:not([hidden])")
    at_field = page.text_content(".pf[data-key=purchase_date] .pf-error")
    assert "2026年2月30日" in at_field and "没有30日" in at_field, at_field
    assert "购买日期" in page.text_content("#form-error")
    assert page.locator(".pf.bad").count() == 1

    page.fill("#pf-purchase_date", wide("2025-06-18"))
    with page.expect_download() as download:
        page.click("#make-pdf")
    pdf = Path(download.value.path()).read_bytes()
    text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert GOOD["vin"] in text and "48260" in text and "水泵总成" in text
    context.close()
