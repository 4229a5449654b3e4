"""Importing warranty claims (三包索赔单): real CSV and XLSX files, each real store (TinyDB,
PostgreSQL), the `formdesk claims` command and the HTTP API; every bad file stores nothing."""

from __future__ import annotations

import csv
import io
import json
import pathlib
import subprocess
import sys
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import Workbook
from typer.testing import CliRunner

from formdesk.api.app import create_app
from formdesk.api.cli import app as cli_app
from formdesk.ingest.claims import (
    MAX_PROBLEMS,
    ClaimFileError,
    ClaimFileTooLarge,
    claims_from_feedback,
    read_claims,
)
from formdesk.model.accounts import User
from formdesk.model.claims import Claim, ClaimImport, Station
from formdesk.model.record import FieldReading, FormRecord, PageSource
from formdesk.services.claims import import_claims_file, import_claims_from_record
from formdesk.services.passwords import hash_password
from formdesk.store import ConflictError
from formdesk.templates import get_template
from formdesk.templates.values.vin import with_check_digit

from .conftest import sample_values
from .pg import database_url, reopened

HEADER = [
    "索赔单号",
    "维修站",
    "车架号",
    "发动机号",
    "车型",
    "零件编号",
    "零件名称",
    "数量",
    "购买日期",
    "维修日期",
    "行驶里程",
    "故障描述",
    "工时费",
    "材料费",
]
STATIONS = (("HN01", "长沙顺达汽车维修站"), ("HN02", "衡阳广汇汽车维修站"))
PASSWORD = "correct horse 7"


def vin(n: int) -> str:
    return with_check_digit(f"LGDCH91G0RA{n:06d}")


def row(n: int, **changes: str) -> dict[str, str]:
    """One valid claim, as the warranty system writes it, by header label."""
    values = {
        "索赔单号": f"SP2611-{n:03d}",
        "维修站": "HN01",
        "车架号": vin(n),
        "发动机号": f"YC6J{18000 + n}",
        "车型": "EQ1180GZ",
        "零件编号": "3411010-K2000",
        "零件名称": "动力转向器总成",
        "数量": "1",
        "购买日期": "2024年12月20日",
        "维修日期": f"2026-11-{n % 28 + 1:02d}",
        "行驶里程": "40,860",
        "故障描述": "转向沉重,转向器漏油",
        "工时费": "¥180.00",
        "材料费": "2,350.5",
    }
    values.update(changes)
    return values


def table(rows: list[dict[str, str]], header: list[str] = HEADER) -> list[list[str]]:
    """Header and rows; `header` may rename the columns (same order as HEADER)."""
    return [header, *[[r.get(h, "") for h in HEADER] for r in rows]]


def write_csv(path: Path, lines: list[list], encoding: str = "utf-8") -> Path:
    with path.open("w", newline="", encoding=encoding) as fh:
        csv.writer(fh).writerows(lines)
    return path


def write_xlsx(path: Path, lines: list[list]) -> Path:
    wb = Workbook()
    ws = wb.active
    for line in lines:
        ws.append(line)
    wb.save(path)
    return path


@pytest.fixture
def store(any_store):
    """The claims tests run on both stores (TinyDB, PostgreSQL), with the two stations."""
    for code, name in STATIONS:
        any_store.add_station(Station(code=code, name=name))
    return any_store


@pytest.fixture
def cli_store(store, monkeypatch):
    """`store`, as the command line opens it: the TinyDB store of --data-dir, or the
    PostgreSQL store that FORMDESK_DATABASE_URL names (set here for the test)."""
    url = database_url(store)
    if url is not None:
        monkeypatch.setenv("FORMDESK_DATABASE_URL", url)
    return store


def import_file(store, path: Path, replace: bool = False) -> ClaimImport:
    return import_claims_file(store, path.read_bytes(), path.name, "office", replace)


def assert_nothing_stored(store) -> None:
    assert store.list_claims() == [] and store.list_claim_imports() == []
    assert [s.code for s in store.list_stations()] == ["HN01", "HN02"]


# -- good files ---------------------------------------------------------------------------------


def test_utf8_csv_with_chinese_headers(store, tmp_path):
    rows = [row(1), row(2, 工时费="", 材料费="", 发动机号="", 故障描述="")]
    path = write_csv(tmp_path / "claims.csv", table(rows))
    log = import_file(store, path)
    assert (log.claims, log.replaced, log.unchanged, log.stations_added) == (2, 0, 0, [])
    assert log.filename == "claims.csv" and log.imported_by == "office" and len(log.sha256) == 64
    first, second = store.list_claims()
    assert first == store.get_claim("SP2611-001")
    assert first.vin == vin(1) and first.station == "HN01" and first.engine_no == "YC6J18001"
    assert first.purchase_date == date(2024, 12, 20) and first.repair_date == date(2026, 11, 2)
    assert first.mileage_km == 40860 and first.quantity == 1
    assert first.labor_fee == Decimal("180.00") and first.material_fee == Decimal("2350.50")
    assert first.source == f"import:{log.import_id}" and first.source_line == 2
    assert second.engine_no is None and second.amount == 0 and second.source_line == 3
    assert store.list_claim_imports() == [log]


def test_gbk_csv(store, tmp_path):
    # GBK has no ¥ (U+00A5): Chinese Excel writes the full-width ￥
    rows = [row(1, 工时费="￥180.00"), row(2, 工时费="", 维修站="衡阳广汇汽车维修站")]
    path = write_csv(tmp_path / "claims.csv", table(rows), encoding="gbk")
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")
    log = import_file(store, path)
    assert log.claims == 2
    claims = {c.claim_no: c for c in store.list_claims()}
    assert claims["SP2611-001"].part_name == "动力转向器总成"
    assert claims["SP2611-001"].labor_fee == Decimal("180.00")
    assert claims["SP2611-002"].station == "HN02"  # the name resolved to its code


def test_utf8_with_bom_and_tabs(store, tmp_path):
    path = tmp_path / "claims.txt"
    text = "\n".join("\t".join(line) for line in table([row(1), row(2)]))
    path.write_bytes(("\ufeff" + text).encode("utf-8"))
    assert import_file(store, path).claims == 2


def test_xlsx_with_real_date_cells_and_numbers(store, tmp_path):
    lines = [
        ["三包索赔单导出 2026年11月"],  # a title row above the header, as exports have
        HEADER,
    ]
    for n in (1, 2, 3):
        r = row(n)
        r.update(
            {
                "购买日期": datetime(2024, 12, 20),
                "维修日期": date(2026, 11, n) if n != 3 else "2026.11.3",
                "数量": 2,
                "行驶里程": 40860.0,
                "工时费": 180.5,
                "材料费": 2350,
            }
        )
        lines.append([r[h] for h in HEADER])
    lines.insert(3, [None] * len(HEADER))  # a blank row (skipped; row numbers still count)
    path = write_xlsx(tmp_path / "claims.xlsx", lines)
    log = import_file(store, path)
    assert log.claims == 3
    claims = store.list_claims()
    assert [c.repair_date for c in claims] == [date(2026, 11, n) for n in (1, 2, 3)]
    assert [c.source_line for c in claims] == [3, 5, 6]  # sheet rows
    assert claims[0].purchase_date == date(2024, 12, 20) and claims[0].quantity == 2
    assert claims[0].mileage_km == 40860 and claims[0].labor_fee == Decimal("180.50")
    assert claims[0].material_fee == Decimal("2350.00")


@pytest.mark.parametrize(
    "header",
    [
        [" 索赔号 ", "服务站", "VIN", "发动机号", "车型", "零件号", "配件名称", "数量（件）"]
        + ["购车日期", "修理日期", "里程(km)", "故障现象", "工时费（元）", "配件费"],
        ["*索赔单编号", "维修站名称", "车辆识别代号", "发动机号", "车型", "配件编号", "零件名称"]
        + ["数量", "销售日期", "报修日期", "公里数", "故障描述", "工时费", "材料费(元)"],
        ["claim_no", "station", "vin", "engine_no", "vehicle_model", "part_no", "part_name"]
        + ["quantity", "purchase_date", "repair_date", "mileage_km", "fault_description"]
        + ["labor_fee", "material_fee"],
        ["索赔单号", "站号", "底盘号", "发动机号", "车型", "配件号", "配件名称", "数量"]
        + ["购买日期", "维修日期", "行驶里程", "故障描述", "工时费", "材料费"],
    ],
    ids=["spaces-brackets", "star-and-units", "english-keys", "short-names"],
)
def test_synonym_headers(store, tmp_path, header):
    path = write_csv(tmp_path / "claims.csv", table([row(1)], header))
    assert import_file(store, path).claims == 1
    claim = store.get_claim("SP2611-001")
    assert claim.part_name == "动力转向器总成" and claim.fault_description.startswith("转向沉重")
    assert claim.labor_fee == Decimal("180.00") and claim.material_fee == Decimal("2350.50")


# -- bad files -----------------------------------------------------------------------------------

BAD_FILES = {
    "missing-column": (
        [[c for c in line if c not in ("车型", "EQ1180GZ")] for line in table([row(1), row(2)])],
        ["第1行:缺少必需的列:车型"],
    ),
    "renamed-column": (
        table([row(1)], [h if h != "维修日期" else "维修日" for h in HEADER]),
        ["缺少必需的列:维修日期", "无法识别的表头:“维修日”(是否为“维修日期”?)"],
    ),
    "two-columns-for-one-field": (
        table([row(1)], [h if h != "发动机号" else "车架号" for h in HEADER]),
        ["第1行:“车架号”与“车架号”都是车架号列"],
    ),
    "bad-dates": (
        table([row(1), row(2, 维修日期="2026-13-40"), row(3, 购买日期="2025年2月30日")]),
        [
            "第3行 维修日期:“2026-13-40”不是有效日期(月份应为1–12)",
            "第4行 购买日期:“2025年2月30日”不是有效日期",
        ],
    ),
    "repair-before-purchase": (
        table([row(1), row(2, 购买日期="2026-11-20", 维修日期="2026-11-03")]),
        ["第3行 维修日期:2026-11-03 早于购买日期 2026-11-20"],
    ),
    "bad-vin-check-digit": (
        table([row(1, 车架号=vin(1)[:8] + ("1" if vin(1)[8] != "1" else "2") + vin(1)[9:])]),
        ["第2行 车架号:", "不是有效的车架号,车架号校验位(第9位)应为"],
    ),
    "duplicate-claim-numbers": (
        table([row(1), row(2), row(3, 索赔单号="sp2611-001")]),
        ["第4行 索赔单号:“SP2611-001”与第2行重复"],
    ),
    "bad-numbers-and-blanks": (
        table([row(1, 数量="0", 行驶里程="-5", 工时费="abc", 零件名称="", 索赔单号=" ")]),
        [
            "第2行 数量:“0”不能小于 1",
            "第2行 行驶里程:“-5”不能小于 0",
            "第2行 工时费:“abc”不是有效金额",
            "第2行 零件名称:不能为空",
            "第2行 索赔单号:不能为空",
        ],
    ),
    "negative-fee": (table([row(1, 材料费="-20")]), ["第2行 材料费:“-20”不能为负数"]),
    "header-only": (table([]), ["文件中没有索赔数据"]),
    "blank-rows-only": (table([]) + [[""] * 14, [], [" "]], ["文件中没有索赔数据"]),
}


@pytest.mark.parametrize("case", BAD_FILES, ids=list(BAD_FILES))
def test_bad_csv_is_refused_whole_with_its_rows(store, tmp_path, case):
    lines, expected = BAD_FILES[case]
    path = write_csv(tmp_path / "claims.csv", lines)
    with pytest.raises(ClaimFileError) as caught:
        import_file(store, path)
    text = "\n".join(str(p) for p in caught.value.problems)
    for part in expected:
        assert part in text, text
    assert "\n" not in str(caught.value) and str(caught.value).startswith("claims.csv:")
    assert_nothing_stored(store)


@pytest.mark.parametrize(
    "name, content, expected",
    [
        ("empty.csv", b"", "文件中没有索赔数据"),
        ("blank.csv", b"\r\n \n", "文件中没有索赔数据"),
        ("text.xlsx", "索赔单号,维修站\nSP1,HN01\n".encode(), "内容却不是 Excel 工作簿"),
        ("export.xls", b"<html><table><tr><td>1</td></tr></table></html>", "不是 Excel"),
        ("scan.csv", b"%PDF-1.7\n%...", "这是PDF 文件"),
        ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64, "旧版 Excel"),
        ("broken.xlsx", b"PK\x03\x04not really a zip", "无法作为 Excel 工作簿打开"),
        ("binary.csv", b"\x01\x02\x00\x00\xff" * 20, "不是 CSV 或 Excel"),
    ],
)
def test_files_that_are_not_tables(store, name, content, expected):
    with pytest.raises(ClaimFileError) as caught:
        import_claims_file(store, content, name, "office")
    assert expected in str(caught.value) and len(caught.value.problems) == 1
    assert_nothing_stored(store)


def test_header_only_xlsx(store, tmp_path):
    path = write_xlsx(tmp_path / "claims.xlsx", [HEADER])
    with pytest.raises(ClaimFileError, match="文件中没有索赔数据"):
        import_file(store, path)


def test_bad_xlsx_names_sheet_rows(store, tmp_path):
    lines = table([row(1), row(2, 维修日期="2026-02-30"), row(3)])
    lines.insert(2, [None] * len(HEADER))
    path = write_xlsx(tmp_path / "claims.xlsx", lines)
    with pytest.raises(ClaimFileError) as caught:
        import_file(store, path)
    problem = "第4行 维修日期:“2026-02-30”不是有效日期(2026年2月没有30日)"
    assert [str(p) for p in caught.value.problems] == [problem]
    assert str(caught.value) == f"claims.xlsx:{problem},未导入任何索赔单"
    assert_nothing_stored(store)


def test_problems_are_capped_with_a_count_of_the_rest(store, tmp_path):
    rows = [row(n, 数量="x") for n in range(1, 301)]
    path = write_csv(tmp_path / "claims.csv", table(rows))
    with pytest.raises(ClaimFileError) as caught:
        import_file(store, path)
    exc = caught.value
    assert exc.total == 300 and len(exc.problems) == MAX_PROBLEMS + 1
    assert exc.problems[-1].reason == "还有 100 处问题未列出"
    assert str(exc) == "claims.csv:300 处错误,未导入任何索赔单"
    assert_nothing_stored(store)


def test_size_limit(store):
    with pytest.raises(ClaimFileTooLarge, match=r"文件 21\.0 MB,超过 20 MB 上限"):
        read_claims(b"x" * (21 * 1024 * 1024), "big.csv", source="import:x")
    assert_nothing_stored(store)


# -- the store: unchanged, conflicts, replace, stations -----------------------------------------


def test_same_file_again_is_unchanged_and_changed_content_conflicts(store, tmp_path):
    path = write_csv(tmp_path / "claims.csv", table([row(1), row(2)]))
    import_file(store, path)
    again = import_file(store, path)
    assert (again.claims, again.unchanged) == (0, 2)
    before = store.get_claim("SP2611-002")
    assert before.source_line == 3 and before.source != f"import:{again.import_id}"

    changed = write_csv(tmp_path / "changed.csv", table([row(1), row(2, 数量="2"), row(3)]))
    with pytest.raises(ConflictError, match="索赔单号已存在且内容不同:SP2611-002"):
        import_file(store, changed)
    assert store.get_claim("SP2611-002") == before and store.get_claim("SP2611-003") is None
    assert len(store.list_claim_imports()) == 2

    log = import_file(store, changed, replace=True)
    assert (log.claims, log.replaced, log.unchanged) == (2, 1, 1)
    assert store.get_claim("SP2611-002").quantity == 2
    assert store.list_claim_imports()[0] == log  # newest first


def test_station_names_resolve_and_unknown_stations_are_added(store, tmp_path):
    rows = [
        row(1, 维修站="长沙顺达汽车维修站"),
        row(2, 维修站="hn02"),
        row(3, 维修站="湘潭新城维修站"),
        row(4, 维修站="湘潭新城维修站"),
    ]
    path = write_csv(tmp_path / "claims.csv", table(rows))
    log = import_file(store, path)
    assert log.stations_added == ["湘潭新城维修站"]
    assert [c.station for c in store.list_claims()] == ["HN01", "HN02", "湘潭新城维修站"] + [
        "湘潭新城维修站"
    ]
    assert store.get_station("湘潭新城维修站") == Station(
        code="湘潭新城维修站", name="湘潭新城维修站"
    )
    assert [c.claim_no for c in store.list_claims(station="HN02")] == ["SP2611-002"]
    again = import_file(store, path)
    assert again.stations_added == [] and again.unchanged == 4


def test_a_conflict_adds_no_station(store, tmp_path):
    import_file(store, write_csv(tmp_path / "a.csv", table([row(1)])))
    other = write_csv(tmp_path / "b.csv", table([row(1, 数量="3"), row(2, 维修站="新站")]))
    with pytest.raises(ConflictError):
        import_file(store, other)
    assert store.get_station("新站") is None and store.get_claim("SP2611-002") is None


def claim(n: int, station: str = "HN01", day: date = date(2026, 11, 1)) -> Claim:
    return Claim(
        claim_no=f"C{n:05d}",
        station=station,
        vin=vin(n),
        vehicle_model="EQ1180GZ",
        part_no="3411010-K2000",
        part_name="动力转向器总成",
        quantity=1,
        purchase_date=date(2024, 1, 1),
        repair_date=day,
        mileage_km=n,
        labor_fee=Decimal("10.00"),
        source="import:bulk",
        source_line=n + 1,
    )


def test_listing_5000_claims_is_ordered_and_filtered(store):
    claims = [
        claim(n, ("HN01", "HN02")[n % 2], date(2026, 10 + n % 2, n % 28 + 1)) for n in range(5000)
    ]
    log = ClaimImport(
        import_id="bulk", filename="bulk.csv", sha256="0" * 64, imported_by="t", claims=0
    )
    assert store.import_claims(claims, log, []).claims == 5000
    listed = store.list_claims()
    assert [(c.repair_date, c.claim_no) for c in listed] == sorted(
        (c.repair_date, c.claim_no) for c in claims
    )
    november = store.list_claims(
        station="HN02", repair_from=date(2026, 11, 1), repair_to=date(2026, 11, 30)
    )
    assert len(november) == 2500 and {c.station for c in november} == {"HN02"}
    assert store.list_claims(repair_from=date(2026, 10, 5), repair_to=date(2026, 10, 5)) == [
        c for c in listed if c.repair_date == date(2026, 10, 5)
    ]


def test_the_store_refuses_an_unknown_station(store):
    log = ClaimImport(import_id="x1", filename="x", sha256="0" * 64, imported_by="t", claims=0)
    with pytest.raises(LookupError, match="维修站“HN99”不存在"):
        store.import_claims([claim(1, "HN99")], log, [])
    assert store.list_claims() == []


def test_claims_survive_reopening(any_store):
    with any_store as s:
        s.add_station(Station(code="HN01", name="站"))
        log = ClaimImport(import_id="r1", filename="f", sha256="0" * 64, imported_by="t", claims=0)
        s.import_claims([claim(1)], log, [])
    with reopened(any_store) as s:
        assert s.get_claim("C00001") == claim(1).model_copy(
            update={"imported_at": s.get_claim("C00001").imported_at}
        )
        assert [i.import_id for i in s.list_claim_imports()] == ["r1"]


# -- SH-ZH/BD-25 records ----------------------------------------------------------------------------


def cell(key: str, value, status: str = "ok") -> FieldReading:
    return FieldReading(
        key=key, label=key, type="text", value=value, raw=str(value), confidence=0.95, status=status
    )


def feedback_record(
    template: str = "SH-ZH/BD-25", *, doubtful: bool = False, bad_vin: bool = False
) -> dict:
    values = sample_values(get_template("SH-ZH/BD-25"))
    rows = []
    for n, r in enumerate(values["warranty_repairs"], start=1):
        r = dict(r)
        if bad_vin and n == 2:
            r["vin"] = r["vin"][:8] + ("1" if r["vin"][8] != "1" else "2") + r["vin"][9:]
        status = "check" if doubtful and n == 3 else "ok"
        rows.append({k: cell(k, v, status if k == "vin" else "ok") for k, v in r.items()})
    repairs = FieldReading(
        key="warranty_repairs",
        label="三包维修明细",
        type="table",
        value=[{k: c.value for k, c in r.items()} for r in rows],
        raw=f"{len(rows)} 行",
        confidence=0.95,
        status="check" if doubtful else "ok",
        rows=rows,
    )
    return FormRecord(
        template=template,
        template_version=1,
        document_id="D25TEST0001",
        identified_by="qr",
        authentic=True,
        residual_mm=0.3,
        pages=[PageSource(file="bd25.pdf", file_page=0)],
        fields=[cell("station_name", values["station_name"]), repairs],
    ).model_dump(mode="json")


def saved(store, record: dict, station: str | None = "HN01", content: bytes = b"%PDF bd25"):
    scan, _ = store.put_scan(content, "bd25.pdf", "application/pdf", "office", station)
    (summary,) = store.save_records(scan.sha256, [record], station)
    return store.get_record(summary.record_id)


def test_claims_from_a_read_bd25_record(store):
    stored = saved(store, feedback_record())
    claims = claims_from_feedback(stored)
    sample = sample_values(get_template("SH-ZH/BD-25"))["warranty_repairs"]
    assert [c.claim_no for c in claims] == [r["claim_no"] for r in sample]
    assert [c.source_line for c in claims] == list(range(1, len(sample) + 1))
    assert {c.source for c in claims} == {f"record:{stored.summary.record_id}"}
    assert claims[0].labor_fee == Decimal("180.00") and claims[0].station == "HN01"

    log = import_claims_from_record(store, stored, "office")
    assert log.claims == len(sample) and log.filename == "SH-ZH/BD-25 D25TEST0001"
    assert import_claims_from_record(store, stored, "office").unchanged == len(sample)


def test_a_record_without_station_uses_the_name_written_on_it(store):
    stored = saved(store, feedback_record(), station=None)
    assert import_claims_from_record(store, stored, "office").stations_added == []
    assert {c.station for c in store.list_claims()} == {"HN01"}  # 长沙顺达汽车维修站


@pytest.mark.parametrize(
    "record, expected",
    [
        (feedback_record(doubtful=True), "记录尚有待复核的栏目,请先复核"),
        (feedback_record("SH-ZH/BD-27"), "不是SH-ZH/BD-25"),
        (feedback_record(bad_vin=True), "第2行 车架号:"),
    ],
    ids=["needs-review", "other-form", "bad-vin"],
)
def test_bd25_records_refused(store, record, expected):
    stored = saved(store, record)
    with pytest.raises(ClaimFileError) as caught:
        import_claims_from_record(store, stored, "office")
    assert expected in str(caught.value) + "\n".join(map(str, caught.value.problems))
    assert_nothing_stored(store)


# -- the command ---------------------------------------------------------------------------------------


def cli(*args: str):
    return CliRunner().invoke(cli_app, list(args))


def test_cli_import_and_list(cli_store, tmp_path):
    store = cli_store
    data = str(tmp_path / "data")
    path = write_csv(tmp_path / "claims.csv", table([row(1), row(2, 维修站="新站")]))
    res = cli("claims", "import", str(path), "--data-dir", data, "--user", "王会计")
    assert res.exit_code == 0, res.output
    assert res.stdout.strip() == "已导入 claims.csv:新增 2 条,未变 0 条,新登记维修站 新站"
    assert store.list_claim_imports()[0].imported_by == "王会计"

    res = cli("claims", "import", str(path), "--data-dir", data)
    assert res.stdout.strip() == "已导入 claims.csv:新增 0 条,未变 2 条"

    changed = write_csv(tmp_path / "changed.csv", table([row(1, 数量="4")]))
    res = cli("claims", "import", str(changed), "--data-dir", data)
    assert res.exit_code == 1 and "索赔单号已存在且内容不同:SP2611-001" in res.stderr
    assert "--replace" in res.stderr
    res = cli("claims", "import", str(changed), "--data-dir", data, "--replace")
    assert res.stdout.strip() == "已导入 changed.csv:新增 0 条,替换 1 条,未变 0 条"

    res = cli("claims", "list", "--data-dir", data, "--json", "--month", "2026-11")
    listed = json.loads(res.stdout)
    assert [c["claim_no"] for c in listed] == ["SP2611-001", "SP2611-002"]
    assert listed[0]["quantity"] == 4
    res = cli("claims", "list", "--data-dir", data, "--json", "--station", "长沙顺达汽车维修站")
    assert [c["claim_no"] for c in json.loads(res.stdout)] == ["SP2611-001"]
    res = cli("claims", "list", "--data-dir", data, "--month", "2026-10", "--json")
    assert json.loads(res.stdout) == []
    res = cli("claims", "list", "--data-dir", data)
    assert res.exit_code == 0 and "共 2 条" in res.stdout
    res = cli("claims", "import", str(tmp_path / "nope.csv"), "--data-dir", data)
    assert res.exit_code == 1 and res.stderr.startswith("错误:找不到文件")
    res = cli("claims", "list", "--data-dir", data, "--month", "2026-13")
    assert res.exit_code == 1 and res.stderr.startswith("错误:年月无效")


def test_cli_bad_file_prints_each_problem_and_stores_nothing(cli_store, tmp_path):
    store = cli_store
    data = str(tmp_path / "data")
    rows = [row(n, 维修日期="2026-13-40") for n in range(1, 61)] + [row(61, 车架号="X")]
    path = write_csv(tmp_path / "claims.csv", table(rows))
    res = cli("claims", "import", str(path), "--data-dir", data)
    assert res.exit_code == 1 and res.stdout == ""
    lines = res.stderr.splitlines()
    assert lines[0] == "  第2行 维修日期:“2026-13-40”不是有效日期(月份应为1–12)"
    assert len(lines) == 52 and lines[50] == "  还有 11 处"
    assert lines[-1] == "错误:claims.csv:61 处错误,未导入任何索赔单"
    assert_nothing_stored(store)


def test_cli_refuses_a_100mb_file_without_reading_it(cli_store, tmp_path, monkeypatch):
    store = cli_store
    path = tmp_path / "huge.csv"
    with path.open("wb") as fh:
        fh.truncate(100 * 1024 * 1024)  # sparse: no disk space, no bytes to read

    def no_reading(self, *args, **kwargs):
        raise AssertionError(f"{self} was read")

    monkeypatch.setattr(pathlib.Path, "read_bytes", no_reading)
    monkeypatch.setattr(pathlib.Path, "open", no_reading)
    res = cli("claims", "import", str(path), "--data-dir", str(tmp_path / "data"))
    assert res.exit_code == 1
    assert res.stderr.strip() == "错误:huge.csv:文件 100.0 MB,超过 20 MB 上限"
    monkeypatch.undo()
    assert_nothing_stored(store)


def test_the_installed_command(cli_store, tmp_path):
    """`python -m formdesk.api claims …` from another folder, as test_cli runs it."""
    store = cli_store
    path = write_csv(tmp_path / "claims.csv", table([row(1)]))
    res = subprocess.run(
        [sys.executable, "-m", "formdesk.api", "claims", "import", str(path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={
            "FORMDESK_DATA_DIR": str(tmp_path / "data"),
            "PATH": "/usr/bin:/bin",
            **({"FORMDESK_DATABASE_URL": url} if (url := database_url(store)) else {}),
        },
        timeout=120,
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "已导入 claims.csv:新增 1 条,未变 0 条"
    assert store.get_claim("SP2611-001").station == "HN01"


# -- the API ---------------------------------------------------------------------------------------------


@pytest.fixture
def service(any_settings):
    app = create_app(settings=any_settings, start_worker=False, max_request_bytes=64 * 1024 * 1024)
    store = app.state.store
    for code, name in STATIONS:
        store.add_station(Station(code=code, name=name))
    for username, role, station in (
        ("office", "back_office", None),
        ("s1", "station", "HN01"),
        ("audit", "auditor", None),
    ):
        store.add_user(
            User(
                username=username, password_hash=hash_password(PASSWORD), role=role, station=station
            )
        )
    with TestClient(app):
        yield app
    store.close()


def login(app, username: str) -> TestClient:
    client = TestClient(app)
    res = client.post("/api/login", data={"username": username, "password": PASSWORD})
    assert res.status_code == 200, res.text
    client.headers["X-CSRF-Token"] = res.json()["csrf"]
    return client


def csv_bytes(rows: list[dict[str, str]]) -> bytes:
    buf = io.StringIO()
    csv.writer(buf).writerows(table(rows))
    return buf.getvalue().encode("utf-8")


def upload(client: TestClient, content: bytes, name: str = "claims.csv", **form):
    return client.post("/api/claims/import", files={"file": (name, content, "text/csv")}, data=form)


def test_api_import_list_and_isolation(service):
    office, s1, audit = (login(service, u) for u in ("office", "s1", "audit"))
    rows = [row(1), row(2, 维修站="HN02"), row(3, 维修站="湘潭新站", 维修日期="2026-10-30")]
    res = upload(office, csv_bytes(rows))
    assert res.status_code == 200, res.text
    assert res.json()["claims"] == 3 and res.json()["stations_added"] == ["湘潭新站"]

    assert upload(s1, csv_bytes([row(9)])).status_code == 403
    assert upload(audit, csv_bytes([row(9)])).status_code == 403

    everything = office.get("/api/claims").json()
    assert everything["total"] == 3
    assert audit.get("/api/claims").json() == everything
    november = office.get("/api/claims", params={"month": "2026-11"}).json()
    assert [c["claim_no"] for c in november["items"]] == ["SP2611-001", "SP2611-002"]
    own = s1.get("/api/claims").json()
    assert [c["station"] for c in own["items"]] == ["HN01"]
    assert s1.get("/api/claims", params={"station": "HN02"}).json() == own  # not HN02's
    bad = office.get("/api/claims", params={"month": "2026-13"})
    assert bad.status_code == 422 and "年月无效" in bad.json()["reason"]

    imports = office.get("/api/claims/imports").json()
    assert [i["claims"] for i in imports] == [3] and imports[0]["imported_by"] == "office"
    assert audit.get("/api/claims/imports").status_code == 200
    assert s1.get("/api/claims/imports").status_code == 403

    changed = upload(office, csv_bytes([row(1, 数量="2")]))
    assert changed.status_code == 409 and "SP2611-001" in changed.json()["reason"]
    replaced = upload(office, csv_bytes([row(1, 数量="2")]), replace="true")
    assert replaced.status_code == 200 and replaced.json()["replaced"] == 1
    # an import that replaced a stored claim cannot be undone (the old content is gone)
    refused = office.post(f"/api/claims/imports/{replaced.json()['import_id']}/undo")
    assert refused.status_code == 409 and "不能撤销" in refused.json()["reason"]
    # the first file's import can: its claims not replaced since go (two of three)
    first = imports[0]["import_id"]
    undone = office.post(f"/api/claims/imports/{first}/undo")
    assert undone.status_code == 200 and undone.json()["deleted"] == 2
    assert [c["claim_no"] for c in office.get("/api/claims").json()["items"]] == ["SP2611-001"]


def test_api_bad_file_is_422_with_every_problem(service):
    office = login(service, "office")
    res = upload(office, csv_bytes([row(1), row(2, 维修日期="2026-13-40", 车架号="LGD")]))
    assert res.status_code == 422
    body = res.json()
    assert body["status"] == 422 and body["reason"] == "claims.csv:2 处错误,未导入任何索赔单"
    assert body["problems"][0] == {
        "line": 3,
        "column": "车架号",
        "reason": "“LGD”不是有效的车架号,车架号应为17位,实际3位",
    }
    assert body["problems"][1]["column"] == "维修日期"
    text = upload(office, b"claim,station\n1,2\n", name="claims.xlsx")
    assert text.status_code == 422 and "不是 Excel 工作簿" in text.json()["reason"]
    assert office.get("/api/claims").json()["total"] == 0


def test_api_refuses_an_oversized_file_with_413(service):
    office = login(service, "office")
    res = upload(office, b"x" * (21 * 1024 * 1024), name="big.csv")
    assert res.status_code == 413
    assert res.json() == {"reason": "big.csv:文件 21.0 MB,超过 20 MB 上限", "status": 413}
    assert office.get("/api/claims").json()["total"] == 0


def test_api_import_from_a_bd25_record(service):
    office, s1 = login(service, "office"), login(service, "s1")
    store = service.state.store
    good = saved(store, feedback_record())
    doubtful = saved(store, feedback_record(doubtful=True), content=b"%PDF other")
    res = s1.post(f"/api/claims/from-record/{good.summary.record_id}")
    assert res.status_code == 403
    res = office.post(f"/api/claims/from-record/{doubtful.summary.record_id}")
    assert res.status_code == 422 and res.json()["reason"] == "记录尚有待复核的栏目,请先复核"
    res = office.post(f"/api/claims/from-record/{good.summary.record_id}")
    assert res.status_code == 409 and "确认无误" in res.json()["reason"]  # not confirmed yet
    store.verify_record(good.summary.record_id, "office")
    res = office.post(f"/api/claims/from-record/{good.summary.record_id}")
    assert res.status_code == 200, res.text
    assert res.json()["claims"] == 6
    items = s1.get("/api/claims").json()["items"]
    assert len(items) == 6 and items[0]["source"] == f"record:{good.summary.record_id}"
    assert office.post("/api/claims/from-record/nope").status_code == 404
    # imported twice (nothing new), then undone: the claims go, both imports say so
    again = office.post(f"/api/claims/from-record/{good.summary.record_id}").json()
    assert again["unchanged"] == 6
    assert s1.post(f"/api/claims/imports/{again['import_id']}/undo").status_code == 403
    undone = office.post(f"/api/claims/imports/{again['import_id']}/undo")
    assert undone.status_code == 200 and undone.json()["deleted"] == 6
    assert undone.json()["imported"]["undone_by"] == "office"
    assert office.get("/api/claims").json()["total"] == 0
    logs = office.get("/api/claims/imports").json()
    assert [bool(i["undone_by"]) for i in logs] == [True, True]
    twice = office.post(f"/api/claims/imports/{again['import_id']}/undo")
    assert twice.status_code == 409 and "已经撤销" in twice.json()["reason"]
    assert office.post("/api/claims/imports/nope/undo").status_code == 404


def test_station_code_and_name_columns_together_use_the_code(store, tmp_path):
    header = ["维修站名称", *HEADER[:1], "维修站代码", *HEADER[2:]]
    lines = [header] + [
        ["长沙顺达汽车维修站", r["索赔单号"], "HN02", *[r[h] for h in HEADER[2:]]]
        for r in (row(1), row(2))
    ]
    data = write_csv(tmp_path / "both.csv", lines).read_bytes()
    log = import_claims_file(store, data, "both.csv", "tester")
    assert log.claims == 2 and log.stations_added == []
    assert {c.station for c in store.list_claims()} == {"HN02"}
