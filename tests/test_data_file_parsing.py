"""Claims files and print data are parsed in the spreadsheet process (tables_pool), never in the service
(issue 9, red-team finding: a 1.6 MB XLSX grew the service by 1.4 GB), and careless files
are told what is wrong in Chinese, never in the csv or json module's English.

The service's process is shown not to parse by breaking the parser in it (monkeypatch):
the uploads still work, because the worker process imports its own.
"""

from __future__ import annotations

import json
import pickle
from collections.abc import Iterable

import pytest
from fastapi.testclient import TestClient

from formdesk.api.app import create_app
from formdesk.ingest import claims as claims_module
from formdesk.ingest.claims import (
    ClaimFileError,
    ClaimFileTooLarge,
    RowProblem,
    parse_claims_file,
    read_claims,
)
from formdesk.ingest.tables import TableError
from formdesk.model.accounts import User
from formdesk.model.claims import Station
from formdesk.render import record_sources
from formdesk.render.record_sources import RecordSourceError, os_reason, records_from_bytes
from formdesk.services.passwords import hash_password
from formdesk.services.pools import LimitedPool
from formdesk.templates import get_template

from .hostile.test_bounded_inputs import repeat
from .hostile.test_xlsx_parts import MAIN, package, workbook
from .test_claims_import import PASSWORD, STATIONS, csv_bytes, login, row, upload

TAG = get_template("SH-ZH/BD-27")


@pytest.fixture
def service(tmp_path):
    """The service with the stations and a back-office user, `office`."""
    app = create_app(tmp_path / "api", start_worker=False, max_request_bytes=64 * 1024 * 1024)
    for code, name in STATIONS:
        app.state.store.add_station(Station(code=code, name=name))
    app.state.store.add_user(
        User(username="office", password_hash=hash_password(PASSWORD), role="back_office")
    )
    with TestClient(app):
        yield app


def styles_bomb() -> bytes:
    """An XLSX within every budget whose 2 MB of empty cell formats cost openpyxl ~230 MB
    and ~10 s: too much for a worker held to 700 MB, fine for the service's 1 GB one."""

    def xf() -> Iterable[bytes]:
        yield b'<styleSheet xmlns="%s"><cellXfs>' % MAIN.encode()
        yield from repeat(b"<xf/>", 419_000)
        yield b"</cellXfs></styleSheet>"

    return package(workbook(more={"xl/styles.xml": xf()}))


# -- refusals cross the process boundary whole ----------------------------------------------------


def test_refusals_keep_what_they_carry_when_pickled():
    problems = [RowProblem(line=3, column="车架号", reason="不是有效的车架号")]
    error = pickle.loads(pickle.dumps(ClaimFileError("c.csv:2 处错误", problems, total=7)))
    assert (str(error), error.problems, error.total) == ("c.csv:2 处错误", problems, 7)
    large = pickle.loads(pickle.dumps(ClaimFileTooLarge("big.csv:文件 21.0 MB")))
    assert type(large) is ClaimFileTooLarge and large.problems[0].reason == "big.csv:文件 21.0 MB"
    table = pickle.loads(pickle.dumps(TableError("第9行过长", 9)))
    assert (str(table), table.line) == ("第9行过长", 9)
    source = pickle.loads(pickle.dumps(RecordSourceError("tags.csv 第2行:…")))
    assert str(source) == "tags.csv 第2行:…"


def test_a_claims_refusal_from_the_worker_is_the_one_read_here():
    data = csv_bytes([row(1), row(2, 维修日期="2026-13-40", 车架号="LGD")])
    with pytest.raises(ClaimFileError) as here:
        read_claims(data, "c.csv", source="import:x")
    pool = LimitedPool("test", 1, 1024)
    try:
        with pytest.raises(ClaimFileError) as there:
            pool.call(parse_claims_file, data, "c.csv", "x", timeout=60)
        claims = pool.call(parse_claims_file, csv_bytes([row(1)]), "c.csv", "abc", timeout=60)
    finally:
        pool.close()
    assert there.value.problems == here.value.problems and len(here.value.problems) == 2
    assert there.value.total == 2 and str(there.value) == str(here.value)
    assert [c.source for c in claims] == ["import:abc"]


# -- the API parses in the worker --------------------------------------------------------------------


def break_parsing_here(monkeypatch) -> None:
    def parsed_in_the_service(*args, **kwargs):
        raise AssertionError("parsed in the service's process")

    monkeypatch.setattr(claims_module, "read_claims", parsed_in_the_service)
    monkeypatch.setattr(record_sources, "records_from_bytes", parsed_in_the_service)


def test_the_claims_import_parses_in_the_spreadsheet_process(service, monkeypatch):
    break_parsing_here(monkeypatch)
    office = login(service, "office")
    res = upload(office, csv_bytes([row(1), row(2)]))
    assert res.status_code == 200, res.text
    log = res.json()
    stored = office.get("/api/claims").json()["items"]
    assert [c["source"] for c in stored] == [f"import:{log['import_id']}"] * 2
    bad = upload(office, csv_bytes([row(1), row(2, 车架号="LGD")]))
    assert bad.status_code == 422
    assert (
        bad.json()["problems"][0]["line"] == 3 and bad.json()["problems"][0]["column"] == "车架号"
    )


def test_print_data_is_parsed_in_the_spreadsheet_process(service, monkeypatch):
    break_parsing_here(monkeypatch)
    office = login(service, "office")
    rows = "来件单位,零部件名称\n长沙顺达,机油泵总成\n".encode()
    res = office.post(f"/api/print/{TAG.slug}/batch", files={"file": ("tags.csv", rows)})
    assert res.status_code == 202, res.text
    bad = "来件单位,零部件名称\n长沙顺达,机油泵\x1b总成\n".encode()
    res = office.post(f"/api/print/{TAG.slug}/batch", files={"file": ("tags.csv", bad)})
    assert res.status_code == 422
    assert res.json()["reason"].startswith("tags.csv 第2行 ") and "U+001B" in res.json()["reason"]


@pytest.fixture
def small_worker(service):
    """The spreadsheet process held to 700 MB (the service's is 1 GB)."""
    service.state.tables_pool.close()
    service.state.tables_pool = LimitedPool("tables", 1, 700)
    return service  # the app closes it on shutdown


def test_a_file_too_demanding_for_the_worker_is_refused_and_the_next_one_imports(small_worker):
    office = login(small_worker, "office")
    res = upload(office, styles_bomb(), name="bomb.xlsx")
    assert res.status_code == 422
    reason = res.json()["reason"]  # a MemoryError, or the process dies (malloc in C code)
    assert reason in (
        "bomb.xlsx:文件过于复杂,无法读取(处理时超出 700 MB 的内存限制);请分批导入",
        "bomb.xlsx:文件过于复杂,无法读取(处理进程意外退出(可能超出 700 MB 的内存限制));请分批导入",
    )
    assert office.get("/api/claims").json()["total"] == 0
    res = office.post(f"/api/print/{TAG.slug}/batch", files={"file": ("tags.xlsx", styles_bomb())})
    assert res.status_code == 422 and "700 MB" in res.json()["reason"]
    assert upload(office, csv_bytes([row(1)])).status_code == 200


def test_parsing_that_takes_too_long_is_stopped(service, monkeypatch):
    from formdesk.api.routes import claims as route

    monkeypatch.setattr(route, "PARSE_SECONDS", 1.0)
    office = login(service, "office")
    res = upload(office, styles_bomb(), name="slow.xlsx")
    assert res.status_code == 422
    assert res.json()["reason"] == (
        "slow.xlsx:文件过于复杂,无法读取(处理超过 1 秒仍未完成,已中止);请分批导入"
    )


def test_an_oversized_print_data_file_is_refused_before_any_process_reads_it(service):
    office = login(service, "office")
    res = office.post(
        f"/api/print/{TAG.slug}/batch", files={"file": ("tags.csv", b"x" * (21 * 1024 * 1024))}
    )
    assert res.status_code == 413
    assert res.json()["reason"] == "tags.csv:文件 21.0 MB,超过 20 MB 上限"


# -- careless files, told in Chinese ----------------------------------------------------------------


def test_old_mac_line_endings_are_read():
    """A lone CR ends a line (the csv module said "new-line character seen in unquoted
    field - do you need to open the file in universal-newline mode?")."""
    data = csv_bytes([row(1), row(2)]).replace(b"\r\n", b"\r")
    assert b"\n" not in data
    assert [c.claim_no for c in read_claims(data, "mac.csv", source="t")] == [
        "SP2611-001",
        "SP2611-002",
    ]
    tags = records_from_bytes(
        "来件单位,型号\r长沙顺达,EQ1180\r衡阳,EQ1090\r".encode(), "t.csv", TAG
    )
    assert tags == [
        (2, {"sender_unit": "长沙顺达", "vehicle_model": "EQ1180"}),
        (3, {"sender_unit": "衡阳", "vehicle_model": "EQ1090"}),
    ]


@pytest.mark.parametrize("ending", ["\n", "\r\n", "\r"])
def test_a_quote_left_open_is_named_not_read_as_one_cell_to_the_end(ending):
    """The csv module makes one cell of everything after an unclosed quote: the claims
    import listed every row after it as wrong; print data printed it silently."""
    rows = [row(n, 故障描述="转向沉重", 行驶里程="40860", 材料费="2350.5") for n in (1, 2, 3)]
    lines = csv_bytes(rows).decode().splitlines()  # no other quote to close it
    lines[2] = lines[2].replace("动力转向器总成", '"动力转向器总成')
    data = ending.join(lines).encode()
    with pytest.raises(ClaimFileError) as info:
        read_claims(data, "c.csv", source="t")
    assert str(info.value) == (
        "c.csv:第3行:引号没有闭合,从这里到文件末尾都成了一个单元格;请检查这一行的引号"
    )
    tags = ending.join(["来件单位,型号", "长沙,EQ1", '衡阳,"EQ2', "湘潭,EQ3", ""]).encode()
    with pytest.raises(RecordSourceError) as info:
        records_from_bytes(tags, "t.csv", TAG)
    assert str(info.value).startswith("t.csv:第3行:引号没有闭合")
    closed = ending.join(["来件单位,型号", '"长沙,一站",EQ1', '衡阳,"EQ2 ""新"""', ""]).encode()
    assert [v for _, v in records_from_bytes(closed, "t.csv", TAG)] == [
        {"sender_unit": "长沙,一站", "vehicle_model": "EQ1"},
        {"sender_unit": "衡阳", "vehicle_model": 'EQ2 "新"'},
    ]


def test_a_quoted_cell_keeps_its_line_breaks_whatever_they_are():
    data = csv_bytes([row(1, 故障描述="转向沉重\r转向器漏油")]).replace(b"\r\n", b"\r")
    claim = read_claims(data, "mac.csv", source="t")[0]
    assert claim.fault_description == "转向沉重\r转向器漏油"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('[{"sender_unit": "长沙"', "t.json 第1行第22列:JSON 格式错误(缺少逗号)"),
        ("[{sender_unit: 1}]", "t.json 第1行第3列:JSON 格式错误(栏目名应加双引号)"),
        (
            '[{"sender_unit": "长\n沙"}]',
            "t.json 第1行第20列:JSON 格式错误(字符串中有控制字符(换行应写成 \\n))",
        ),  # fmt: skip
        (
            '[{"sender_unit": "a"}] x',
            "t.json 第1行第24列:JSON 格式错误(数据结束后还有多余的内容)",
        ),  # fmt: skip
        ("", "t.json 第1行第1列:JSON 格式错误(此处应为一个值)"),
        ('[{"values": [1]}]', "t.json 第1条记录:values 应为对象(栏目名: 值)"),
        ('[{"x\\u202e": 1}]', "t.json 第1条记录:模板 SH-ZH/BD-27 没有栏目 'x\\u202e'"),
    ],
)
def test_json_print_data_errors_are_in_chinese(text, reason):
    with pytest.raises(RecordSourceError) as info:
        records_from_bytes(text.encode(), "t.json", TAG)
    assert str(info.value) == reason


def test_a_table_cell_of_json_nested_too_deep_or_too_long_a_number_is_refused():
    """json.loads in a table field's cell: RecursionError and the int-digits ValueError
    were not caught (a 500)."""
    manifest = get_template("SH-ZH/BD-31")
    for cell in ("[" * 50_000 + "]" * 50_000, "[" + "9" * 5_000 + "]"):
        with pytest.raises(RecordSourceError) as info:
            records_from_bytes(f'returned_parts\n"{cell}"\n'.encode(), "m.csv", manifest)
        assert str(info.value).startswith("m.csv 第2行 ") and "表格栏应为 JSON 列表" in str(
            info.value
        )


def test_a_broken_workbook_is_described_in_chinese():
    data = package(workbook())
    cut = package(workbook(workbook_extra=b"<broken"))  # the workbook's XML does not parse
    for broken, reason in ((cut, "XML 格式错误"), (data[:-30], "不是完整的 zip 文件")):
        with pytest.raises(ClaimFileError) as info:
            read_claims(broken, "c.xlsx", source="t")
        message = str(info.value)
        assert reason in message and message.isprintable()
        assert not any(word in message for word in ("Error", "Exception", "Key"))


def test_file_system_errors_are_said_in_chinese():
    assert os_reason(PermissionError(13, "Permission denied")) == "没有读取权限"
    assert os_reason(IsADirectoryError(21, "Is a directory")) == "这是一个文件夹"
    assert os_reason(OSError(5, "Input/output error")) == "系统错误 5"


def test_json_records_round_trip(tmp_path):
    """The bytes path and the file path read alike."""
    text = json.dumps([{"sender_unit": "长沙顺达"}], ensure_ascii=False)
    path = tmp_path / "t.json"
    path.write_text(text, encoding="utf-8")
    assert record_sources.load_records(path, TAG) == records_from_bytes(
        text.encode(), "t.json", TAG
    )
