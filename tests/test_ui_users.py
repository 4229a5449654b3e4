"""The 用户 and 索赔单 pages in a real browser (issue 12 point 8), on each store: the back
office adds a station user, who signs in; the back office disables them and their next
page load goes to the sign-in page; the back office sets the installation's names; a
claims file imported on the 索赔单 page is listed, with its import.  Screenshots of both
pages, desktop and phone width (samples/screenshots when FORMDESK_UPDATE_SCREENSHOTS=1).

The server and browser fixtures are tests/test_ui.py's."""

from __future__ import annotations

import os
import re

from formdesk.templates.values.vin import with_check_digit

from .test_ui import PASSWORD, SAMPLE_SHOTS, browser, server  # noqa: F401 (fixtures)

STRONG = "Violet-Lantern-Orbit-42"
PHONE = {"width": 390, "height": 844}


def _watch(page, problems: list[str]) -> None:
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on(
        "console",
        lambda m: (
            problems.append(m.text)
            if m.type == "error" and not m.text.startswith("Failed to load resource")
            else None
        ),
    )


def _sign_in(page, username: str, password: str = PASSWORD) -> None:
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")


def test_the_back_office_adds_and_disables_a_station_user(server, browser, tmp_path):  # noqa: F811
    app, base = server
    shots = SAMPLE_SHOTS if os.environ.get("FORMDESK_UPDATE_SCREENSHOTS") else tmp_path / "shots"
    shots.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []

    office = browser.new_context(base_url=base, viewport={"width": 1440, "height": 900},
                                 locale="zh-CN")  # fmt: skip
    office.set_default_timeout(20_000)
    page = office.new_page()
    _watch(page, problems)
    page.goto("/users")
    _sign_in(page, "office")
    page.wait_for_selector("#users-table tr[data-username=office]")
    assert page.locator("nav.nav a[href='/users']").count() == 1
    # a new station needs its name: refused with the reason, nothing added
    page.fill("#u-name", "hn05")
    page.select_option("#u-role", "station")
    page.fill("#u-station", "HN05")
    page.fill("#u-password", STRONG)
    page.click("#u-add")
    page.wait_for_selector("#user-error:not([hidden])")
    assert "请填写维修站名称" in page.text_content("#user-error")
    page.fill("#u-station-name", "株洲天元汽车维修站")
    page.click("#u-add")
    row = page.locator("#users-table tr[data-username=hn05]")
    row.wait_for()
    cells = row.locator("td").all_text_contents()
    assert cells[:4] == ["hn05", "维修站", "HN05 株洲天元汽车维修站", "启用"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", cells[4])
    assert page.is_hidden("#user-error")

    # the installation's names, saved and shown with who set them
    page.fill("#s-company_name", "某某汽车有限公司")
    page.click("#s-save")
    page.wait_for_selector("#settings-info:has-text('公司名称:office')")
    page.screenshot(path=str(shots / "users.png"), full_page=True)

    # the new user signs in
    station = browser.new_context(base_url=base, locale="zh-CN")
    station.set_default_timeout(20_000)
    theirs = station.new_page()
    _watch(theirs, problems)
    theirs.goto("/records")
    _sign_in(theirs, "hn05", STRONG)
    theirs.wait_for_url(f"{base}/records")
    assert theirs.text_content(".who .user") == "hn05"
    assert theirs.locator("nav.nav a[href='/users']").count() == 0
    theirs.goto("/users")
    assert "无权访问" in theirs.text_content("main")

    # the back office disables them: their next page load goes to the sign-in page
    page.on("dialog", lambda d: d.accept())
    row.locator("button.disable").click()
    page.wait_for_selector("#users-table tr[data-username=hn05] .badge:has-text('停用')")
    assert page.locator("#users-table tr[data-username=office] button.disable").count() == 0
    theirs.goto("/records")
    theirs.wait_for_url(re.compile(r"/login\?next=%2Frecords$"))
    _sign_in(theirs, "hn05", STRONG)
    theirs.wait_for_selector("#login-error")
    assert "该账户已停用" in theirs.text_content("#login-error")

    # a new password (generated, shown once) and enabled again: they sign in with it
    row.locator("button.reset").click()  # the prompt left empty: a generated password
    page.wait_for_selector("#shown-password")
    new_password = page.text_content("#shown-password")
    assert len(new_password) >= 10
    row.locator("button.enable").click()
    page.wait_for_selector("#users-table tr[data-username=hn05] .badge:has-text('启用')")
    _sign_in(theirs, "hn05", new_password)
    theirs.wait_for_url(f"{base}/records")
    station.close()

    phone = browser.new_context(base_url=base, viewport=PHONE, locale="zh-CN",
                                is_mobile=True, has_touch=True)  # fmt: skip
    small = phone.new_page()
    small.goto("/users")
    _sign_in(small, "office")
    small.wait_for_selector("#users-table tr[data-username=hn05]")
    small.screenshot(path=str(shots / "users-phone.png"), full_page=True)
    phone.close()
    office.close()
    assert not problems, problems


def test_the_claims_page_lists_an_imported_claim(server, browser, tmp_path):  # noqa: F811
    app, base = server
    shots = SAMPLE_SHOTS if os.environ.get("FORMDESK_UPDATE_SCREENSHOTS") else tmp_path / "shots"
    shots.mkdir(parents=True, exist_ok=True)
    vin = with_check_digit("LGDCH91G0RA000071")
    header = "索赔单号,维修站,车架号,车型,零件编号,零件名称,数量,购买日期,维修日期,行驶里程\n"
    rows = (
        f"CL2603-1,HN01,{vin},EQ1090TJ,1011010-E02,机油泵总成,1,2025-06-01,2026-03-05,12001\n"
        f"CL2603-2,HN01,{with_check_digit('LGDCH91G0RA000072')},EQ1090TJ,1307010-KH400,"
        "水泵总成,1,2025-06-01,2026-03-09,12002\n"
    )
    (tmp_path / "三月索赔单.csv").write_text(header + rows, encoding="gbk")
    problems: list[str] = []

    context = browser.new_context(base_url=base, viewport={"width": 1440, "height": 900},
                                  locale="zh-CN")  # fmt: skip
    context.set_default_timeout(20_000)
    page = context.new_page()
    _watch(page, problems)
    page.goto("/claims")
    _sign_in(page, "office")
    page.wait_for_selector("#rc-import")  # the import control of 核对, reused
    page.set_input_files("#rc-claims-file", str(tmp_path / "三月索赔单.csv"))
    page.click("#rc-import button[type=submit]")
    page.wait_for_selector("#rc-import-result.rc-import-ok")
    assert "新增 2 张" in page.text_content("#rc-import-result")
    page.wait_for_selector("#claims-table tr[data-claim-no='CL2603-1']")
    imported = page.locator("#imports-table tbody tr").filter(has_text="三月索赔单.csv")
    imported.wait_for()
    cells = imported.locator("td").all_text_contents()
    assert cells[1] == "office" and cells[3] == "2"

    # search by a piece of the VIN
    page.fill("#cl-q", vin[-6:])
    page.click("#cl-filters button[type=submit]")
    page.wait_for_function(
        "document.querySelectorAll('#claims-table tbody tr').length === 1"
        " && document.querySelector('#claims-table tbody').textContent.includes('CL2603-1')"
    )
    page.click("#cl-filters button[type=reset]")
    # an import's rows
    imported.locator("button.view-import").click()
    page.wait_for_selector("#cl-import-filter:not([hidden])")
    page.wait_for_function(
        "[...document.querySelectorAll('#claims-table tbody tr')].map(r => r.dataset.claimNo)"
        ".join() === 'CL2603-1,CL2603-2'"
    )
    page.screenshot(path=str(shots / "claims.png"), full_page=True)
    context.close()

    phone = browser.new_context(base_url=base, viewport=PHONE, locale="zh-CN",
                                is_mobile=True, has_touch=True)  # fmt: skip
    small = phone.new_page()
    _watch(small, problems)
    small.goto("/claims")
    _sign_in(small, "s1")  # a station sees its own claims, not the imports
    small.wait_for_selector("#claims-table tr[data-claim-no='CL2603-2']")
    assert small.locator("#imports-table").count() == 0
    assert small.locator("#rc-import").count() == 0
    small.screenshot(path=str(shots / "claims-phone.png"), full_page=True)
    phone.close()
    assert not problems, problems


def test_a_form_sent_before_its_script_ran_goes_once_it_has(server, browser, tmp_path):  # noqa: F811
    """The CI race of 2026-12-04: the import button clicked while claims_import.js was still
    on its way went as a plain GET (/claims?file=…) and nothing was imported.  Here the
    script is held back until after the click; base.html's guard holds the submit and
    submits it again once the scripts have run."""
    app, base = server
    vin = with_check_digit("LGDCH91G0RA000081")
    (tmp_path / "四月索赔单.csv").write_text(
        "索赔单号,维修站,车架号,车型,零件编号,零件名称,数量,购买日期,维修日期,行驶里程\n"
        f"CL2604-1,HN01,{vin},EQ1090TJ,1011010-E02,机油泵总成,1,2025-06-01,2026-04-05,13001\n",
        encoding="utf-8",
    )
    problems: list[str] = []
    context = browser.new_context(base_url=base, locale="zh-CN")
    context.set_default_timeout(20_000)
    page = context.new_page()
    _watch(page, problems)
    page.goto("/claims")
    _sign_in(page, "office")
    page.wait_for_selector("#claims-table")
    held = []
    page.route("**/static/claims_import.js", lambda route: held.append(route))
    page.goto("/claims", wait_until="commit")
    page.wait_for_selector("#rc-import")
    page.set_input_files("#rc-claims-file", str(tmp_path / "四月索赔单.csv"))
    assert held, "the page script was not requested"
    assert page.evaluate("document.readyState") == "loading"  # the script has not run
    page.click("#rc-import button[type=submit]", no_wait_after=True)
    held[0].continue_()
    page.wait_for_selector("#rc-import-result.rc-import-ok")
    assert "新增 1 张" in page.text_content("#rc-import-result")
    assert "?" not in page.url  # no plain GET with the form's fields
    assert problems == []
    context.close()


def test_files_picked_before_the_upload_script_ran_are_uploaded(server, browser, tmp_path):  # noqa: F811
    """The CI race of 2026-12-04 (test_ui_desk, PostgreSQL, two workers): the files were
    set on 上传's picker while upload.js was still on its way, the change event found no
    listener, and nothing was uploaded (the batch awaited 300 s). Here the script is held
    back until after the files are picked; it takes them when it runs."""
    from pathlib import Path

    scan = Path(__file__).resolve().parents[1] / "samples" / "scans" / "0001.jpg"
    (tmp_path / "样张.jpg").write_bytes(scan.read_bytes())
    _app, base = server
    problems: list[str] = []
    context = browser.new_context(base_url=base, locale="zh-CN")
    context.set_default_timeout(60_000)
    page = context.new_page()
    _watch(page, problems)
    page.goto("/upload")
    _sign_in(page, "office")
    page.wait_for_selector("#file-input", state="attached")
    held = []
    page.route("**/static/upload.js", lambda route: held.append(route))
    page.goto("/upload", wait_until="commit")
    page.wait_for_selector("#file-input", state="attached")
    page.set_input_files("#file-input", str(tmp_path / "样张.jpg"))
    assert held, "the page script was not requested"
    assert page.evaluate("document.readyState") == "loading"  # the script has not run
    held[0].continue_()
    page.wait_for_selector(".batch[data-state=done]", timeout=120_000)
    assert problems == []
    context.close()
