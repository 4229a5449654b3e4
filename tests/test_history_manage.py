"""识读词库 (issue 10): the back office sees the values people confirmed in each form's
text fields and takes a slip out of the reader's history (停用) or back (恢复) — on both
stores, through the service and the served API; only the back office may."""

from __future__ import annotations

from contextlib import ExitStack

import pytest
from fastapi.testclient import TestClient

from formdesk.api.app import create_app
from formdesk.model.accounts import User
from formdesk.model.claims import Station
from formdesk.model.errors import NotFoundError
from formdesk.services import history, records
from formdesk.services.passwords import hash_password
from formdesk.store import open_store
from formdesk.templates import UnknownTemplateError

from .pg import STORES, store_settings
from .served import PASSWORD as SERVED_PASSWORD
from .served import Server
from .test_history import FINDING, RESULT
from .test_review_desk import OFFICE, make_record
from .test_store import new_scan, reading
from .test_ui import browser  # noqa: F401 (fixture)

PASSWORD = "correct horse 7"


def _confirm(store, values: list[tuple[str, str]]) -> None:
    """One BD-27 record per (初步确认, 检查结果) pair, both kept by a reviewer."""
    scan = new_scan(store).sha256
    for i, (finding, result) in enumerate(values):
        rec = make_record(f"H{i}")
        rec["fields"] += [
            reading("preliminary_finding", finding, "check", 0.7, label="初步确认"),
            reading("inspection_result", result, "check", 0.6, label="检查结果"),
        ]
        (summary,) = store.save_records(scan, [rec], "S01")
        records.correct_field(store, OFFICE, summary.record_id, "preliminary_finding", finding)
        records.correct_field(store, OFFICE, summary.record_id, "inspection_result", result)


def _shown(h) -> list[tuple[str, str, int, bool]]:
    return [(v.label, v.value, v.times, v.excluded_by is not None) for v in h.values]


def test_a_slip_taken_out_of_the_history_is_no_longer_read_against(any_store):
    store = any_store
    _confirm(store, [("压力低", "线圈烧坏"), ("压力低", "线圈烧杯"), ("压力低", "线圈烧坏")])
    h = history.form_history(store, "BD-27")
    assert (h.template, h.title) == ("SH-ZH/BD-27", "保修零部件鉴别标签")
    assert _shown(h) == [  # the form's field order, most often confirmed first
        ("初步确认", "压力低", 3, False),
        ("检查结果", "线圈烧坏", 2, False),
        ("检查结果", "线圈烧杯", 1, False),
    ]
    assert store.known_values()[RESULT] == ["线圈烧坏", "线圈烧杯"]

    done = history.exclude(store, "office", "SH-ZH/BD-27", "inspection_result", "线圈烧杯")
    assert done.excluded_by == "office" and done.excluded_at is not None
    assert store.known_values()[RESULT] == ["线圈烧坏"]  # the reader's lexicon
    again = history.exclude(store, "boss", "SH-ZH/BD-27", "inspection_result", "线圈烧杯")
    assert (again.excluded_by, again.excluded_at) == ("office", done.excluded_at)
    assert _shown(history.form_history(store, "SH-ZH/BD-27"))[2] == (
        "检查结果",
        "线圈烧杯",
        1,
        True,
    )

    # the only value of a list excluded: the list is gone, not empty
    history.exclude(store, "office", "SH-ZH/BD-27", "preliminary_finding", "压力低")
    known = store.known_values()
    assert FINDING not in known and not any(
        k.startswith("frequent:") and "preliminary" in k for k in known
    )

    with pytest.raises(NotFoundError, match="识读词库中没有“线圈烧毁”"):
        history.exclude(store, "office", "SH-ZH/BD-27", "inspection_result", "线圈烧毁")
    with pytest.raises(NotFoundError):  # the value is known, but in another field
        history.exclude(store, "office", "SH-ZH/BD-27", "preliminary_finding", "线圈烧坏")
    with pytest.raises(UnknownTemplateError):
        history.form_history(store, "表格99")

    back = history.restore(store, "office", "SH-ZH/BD-27", "inspection_result", "线圈烧杯")
    assert back.excluded_by is None
    assert store.known_values()[RESULT] == ["线圈烧坏", "线圈烧杯"]
    history.restore(store, "office", "SH-ZH/BD-27", "inspection_result", "线圈烧杯")  # no-op
    assert _shown(history.form_history(store, "SH-ZH/BD-27"))[0] == ("初步确认", "压力低", 3, True)


def _client(app, username: str) -> TestClient:
    client = TestClient(app)
    res = client.post("/api/login", data={"username": username, "password": PASSWORD})
    assert res.status_code == 200, res.text
    client.headers["X-CSRF-Token"] = res.json()["csrf"]
    return client


@pytest.mark.parametrize("kind", STORES)
def test_the_history_page_and_api(kind, tmp_path):
    with store_settings(tmp_path, kind) as settings:
        app = create_app(settings=settings, start_worker=False)
        store = app.state.store
        store.add_station(Station(code="HN01", name="长沙顺达汽车维修站"))
        for username, role, station in (
            ("office", "back_office", None),
            ("s1", "station", "HN01"),
            ("audit", "auditor", None),
        ):
            store.add_user(
                User(username=username, password_hash=hash_password(PASSWORD), role=role,
                     station=station)
            )  # fmt: skip
        _confirm(store, [("待料", "断裂")])
        try:
            with TestClient(app):
                office = _client(app, "office")
                page = office.get("/history")
                assert page.status_code == 200 and "识读词库" in page.text
                assert 'href="/history"' in office.get("/").text  # in the back office's nav
                got = office.get("/api/history", params={"form": "SH-ZH/BD-27"})
                assert got.status_code == 200, got.text
                assert [(v["value"], v["times"]) for v in got.json()["values"]] == [
                    ("待料", 1),
                    ("断裂", 1),
                ]
                entry = {"form": "SH-ZH/BD-27", "field": "inspection_result", "value": "断裂"}
                off = office.post("/api/history/exclude", json=entry)
                assert off.status_code == 200 and off.json()["excluded_by"] == "office"
                assert RESULT not in store.known_values()
                missing = office.post("/api/history/exclude", json={**entry, "value": "断"})
                assert (
                    missing.status_code == 404 and "识读词库中没有“断”" in missing.json()["reason"]
                )
                bad = office.get("/api/history", params={"form": "表格99"})
                assert bad.status_code == 404 and "没有模板" in bad.json()["reason"]
                empty = office.post("/api/history/exclude", json={**entry, "value": ""})
                assert empty.status_code == 422
                on = office.post("/api/history/restore", json=entry)
                assert on.status_code == 200 and on.json()["excluded_by"] is None
                assert store.known_values()[RESULT] == ["断裂"]

                station, auditor = _client(app, "s1"), _client(app, "audit")
                assert station.get("/history").status_code == 403
                assert 'href="/history"' not in station.get("/").text
                for who in (station, auditor):
                    seen = who.get("/api/history", params={"form": "SH-ZH/BD-27"})
                    assert seen.status_code == 403
                    assert who.post("/api/history/exclude", json=entry).status_code == 403
                assert RESULT in store.known_values()
        finally:
            store.close()


@pytest.mark.slow
def test_the_back_office_takes_a_slip_out_in_the_browser(tmp_path, browser):  # noqa: F811
    """`formdesk serve` as a process (TinyDB) and Chromium: 识读词库 lists BD-27's
    confirmed values; 停用 on one (the dialog accepted) marks it 已停用 and the reader's
    lexicon no longer holds it; 恢复 brings it back."""
    data = tmp_path / "data"
    with open_store(data) as store:
        _confirm(store, [("压力低", "线圈烧坏"), ("压力低", "线圈烧杯")])
    with ExitStack() as stack:
        served = Server(data)
        stack.callback(served.stop)
        served.cli("user", "add", "office", "--role", "back_office", "--password", SERVED_PASSWORD)
        served.start()
        context = browser.new_context(base_url=served.url, viewport={"width": 1280, "height": 900})
        context.set_default_timeout(30_000)
        page = context.new_page()
        problems: list[str] = []
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.goto("/login?next=/history")
        page.fill("#username", "office")
        page.fill("#password", SERVED_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{served.url}/history")
        assert page.locator("nav a.active").text_content() == "识读词库"
        page.wait_for_selector("#hs-template option[value='SH-ZH/BD-27']", state="attached")
        page.select_option("#hs-template", "SH-ZH/BD-27")
        row = page.locator("#hs-table tr[data-value='线圈烧杯']")
        row.wait_for()
        assert row.locator("td").nth(0).text_content() == ""  # under 检查结果's first row
        assert page.locator("#hs-table tr").nth(2).locator("td").nth(0).text_content() == "检查结果"
        page.once("dialog", lambda d: d.accept())
        row.locator("button.hs-exclude").click()
        page.wait_for_selector("#hs-table tr[data-value='线圈烧杯'] td.refused:has-text('已停用')")
        assert "form=SH-ZH%2FBD-27" in page.url or "form=SH-ZH/BD-27" in page.url
        with open_store(data) as store:
            assert store.known_values()[RESULT] == ["线圈烧坏"]
        page.reload()  # the chosen form is kept in the address
        restore = page.locator("#hs-table tr[data-value='线圈烧杯'] button.hs-restore")
        restore.click()
        page.wait_for_selector("#hs-table tr[data-value='线圈烧杯'] button.hs-exclude")
        with open_store(data) as store:
            assert store.known_values()[RESULT] == ["线圈烧坏", "线圈烧杯"]
        assert problems == []
        context.close()
