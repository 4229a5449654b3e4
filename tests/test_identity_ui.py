"""The 复核 queue shows each record's reasons and the record page its links to other scans
of the same document, in Chromium (issue 10, point 5): a tag, its photocopy filled for
another part, and the tag scanned again with its QR torn off (named by OCR)."""

from __future__ import annotations

import re
import threading
import time

import pytest
import uvicorn

from formdesk.api.app import create_app
from formdesk.model.accounts import User
from formdesk.model.claims import Station
from formdesk.model.documents import IssuedDocument
from formdesk.services.passwords import hash_password

from .pg import STORES, store_settings
from .test_identity import DOC, STATION, TAG, file, reader, reads  # noqa: F401 (fixtures)
from .test_ui import PASSWORD, browser, free_port  # noqa: F401 (fixture)


@pytest.fixture(scope="module", params=STORES)
def served(request, tmp_path_factory, reads):  # noqa: F811
    """The service on a free port, on each store (TinyDB, PostgreSQL), the three scans
    filed (a1, its photocopy, a1 torn)."""
    with store_settings(tmp_path_factory.mktemp("identity-ui"), request.param) as settings:
        app = create_app(settings=settings, start_worker=False)
        yield from _served(app, reads)
        app.state.store.close()


def _served(app, scans_read):
    store = app.state.store
    store.add_station(Station(code=STATION, name="长沙顺达汽车维修站"))
    store.register_documents(
        [IssuedDocument(document_id=DOC, template=TAG.code, template_version=1, station=STATION)]
    )
    store.add_user(
        User(username="office", password_hash=hash_password(PASSWORD), role="back_office")
    )
    ids = {name: file(store, scans_read, name).record_id for name in ("a1", "copy", "torn")}
    port = free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    end = time.time() + 30
    while not srv.started:
        assert thread.is_alive() and time.time() < end, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", ids
    srv.should_exit = True
    thread.join(timeout=30)


def test_queue_reasons_and_record_links(served, browser):  # noqa: F811
    base, ids = served
    context = browser.new_context(base_url=base, locale="zh-CN")
    context.set_default_timeout(20_000)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto("/review")
    page.fill("#username", "office")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/review$"))
    # the rescan is not in the queue; the two papers are, each saying why
    page.wait_for_function("document.querySelectorAll('#queue-table tr.row-link').length === 2")
    rows = page.locator("#queue-table tr.row-link")
    shown = {rows.nth(i).get_attribute("data-record-id") for i in range(2)}
    assert shown == {ids["a1"], ids["copy"]}
    reasons = page.locator("#queue-table td.reasons").all_text_contents()
    assert len(reasons) == 2 and all(r.startswith("疑似复印件") for r in reasons)

    page.goto(f"/review/{ids['a1']}")
    page.wait_for_selector("#rec-identity:not([hidden]) #rec-rescans")
    assert "疑似复印件" in page.text_content("#rec-reasons")
    assert page.get_attribute("#rec-rescans a", "href") == f"/review/{ids['torn']}"
    assert page.get_attribute("#rec-photocopies a", "href") == f"/review/{ids['copy']}"

    page.goto(f"/review/{ids['torn']}")
    page.wait_for_selector("#rec-duplicate-of")
    assert page.get_attribute("#rec-duplicate-of a", "href") == f"/review/{ids['a1']}"
    assert "文档号由OCR识别" in page.text_content("#rec-reasons")
    assert f"已与登记的文档 {DOC} 对应" in page.text_content("#rec-identity")
    assert problems == []
    context.close()
