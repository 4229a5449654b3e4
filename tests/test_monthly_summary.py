"""The monthly summary on a real store (each: TinyDB, PostgreSQL): a hand-computed November
of two stations (claims, repair orders, manifests and tags), the BD-24 prefill and its PDF,
the workbook, the CLI."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from io import BytesIO

import pdfplumber
import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from formdesk.api.cli import app
from formdesk.model.claims import Claim, ClaimImport, Station
from formdesk.model.record import FieldReading, FormRecord, PageSource
from formdesk.reconcile.faults import OTHER, load_fault_keywords
from formdesk.reconcile.monthly import bd24_values, monthly_summary
from formdesk.reports.summary_xlsx import monthly_summary_xlsx
from formdesk.services.monthly import bd24_pdf
from formdesk.store import Store
from formdesk.templates import get_template
from formdesk.templates.values.money import amount_in_words
from formdesk.templates.values.normalize import normalize_record

from .conftest import TEST_KEY
from .pg import database_url

S01 = Station(code="S01", name="长沙一站")
S02 = Station(code="S02", name="株洲站")


def vin(letter: str) -> str:
    return f"LGAX2A13{letter}N1000001"


def claim(no, station, car, model, part_no, part_name, qty, day, labor, material, fault=""):
    return Claim(
        claim_no=no,
        station=station,
        vin=vin(car),
        vehicle_model=model,
        part_no=part_no,
        part_name=part_name,
        quantity=qty,
        purchase_date=date(2026, 1, 10),
        repair_date=date.fromisoformat(day),
        mileage_km=12000,
        fault_description=fault,
        labor_fee=Decimal(labor),
        material_fee=Decimal(material),
        source="import:test",
    )


CLAIMS = [
    claim(
        "C1",
        "S01",
        "A",
        "EQ1090",
        "P-100",
        "离合器压盘",
        1,
        "2026-11-03",
        "100",
        "300",
        "离合器打滑",
    ),
    claim(
        "C2", "S01", "A", "EQ1090", "P-200", "前刹车片", 2, "2026-11-03", "50", "120", "制动异响"
    ),
    claim(
        "C3", "S01", "B", "DFL1250", "P-300", "发电机", 1, "2026-11-20", "80", "450.50", "不充电"
    ),
    claim("C4", "S01", "C", "eq1090", "P-100", "离合器压盘", 1, "2026-10-28", "100", "300"),
    claim(
        "C5", "S02", "D", "DFL1250", "P-400", "空调压缩机", 1, "2026-11-15", "60", "800", "不制冷"
    ),
    claim("C6", "S02", "E", "EQ1090", "P-500", "门锁总成", 1, "2026-12-01", "40", "90"),
    claim("C7", "S02", "F", "eq1090", "P-600", "机油泵", 1, "2026-11-30", "120", "260"),
]  # fmt: skip


def reading(key: str, value, status: str = "ok") -> FieldReading:
    table = isinstance(value, list)
    return FieldReading(
        key=key,
        label=key,
        type="table" if table else "text",
        value=value,
        raw="" if value is None else str(value),
        confidence=0.5 if status == "check" else 0.95,
        status=status if value is not None else "empty",
        rows=[{k: reading(k, v) for k, v in row.items()} for row in value] if table else None,
    )


def record(template: str, doc: str, values: dict, check: tuple[str, ...] = ()) -> dict:
    return FormRecord(
        template=template,
        template_version=1,
        document_id=doc,
        identified_by="qr",
        authentic=True,
        residual_mm=0.3,
        pages=[PageSource(file="scan.pdf", file_page=0)],
        fields=[reading(k, v, "check" if k in check else "ok") for k, v in values.items()],
    ).model_dump(mode="json")


def order(doc, category, car, model, entry, labor, material, total, items, **extra) -> dict:
    values = {
        "work_order_no": doc,
        "repair_category": category,
        "vin": vin(car),
        "vehicle_model": model,
        "entry_time": entry,
        "labor_total": labor,
        "material_total": material,
        "total_amount": total,
        "repair_items": [{"item": item, "material_name": part} for item, part in items],
        **extra,
    }
    return record("表格18", doc, values, check=("labor_total",) if doc == "R7" else ())


ORDERS = {
    "S01": [
        order("R1", "一般维修", "G", "EQ1090", "2026-11-05 09:30", "200.00", "350.00", "550.00",
              [("更换前减震器", "减震器")], customer_description="过坑异响"),
        order("R2", "事故维修", "H", "DFL1250", "2026-11-12 10:00", "500.00", "1500.00",
              "2100.00", [("钣金喷漆", "前保险杠")]),
        order("R3", "保养", "A", "EQ1090", "2026-11-03 08:00", "0.00", "180.00", "180.00",
              [("首保", "机油")]),
        order("R4", "保修索赔", "B", "DFL1250", None, "80.00", "450.50", "530.50",
              [("更换发电机", "发电机")], sign_date="2026-11-20"),
        order("R5", "保养", "I", "DFL1250", "2026-11-18 14:00", "100.00", "200.00", "300.00",
              [("定期保养", "机滤")]),
        order("R6", "一般维修", "G", "EQ1090", "2026-10-31 23:00", "90.00", "10.00", "100.00",
              [("检查", None)]),
        order("R7", "一般维修", "J", "EQ1090", "2026-11-08 16:00", "100.00", "0.00", "100.00",
              [("更换大灯灯泡", None)]),
    ],
    "S02": [
        order("R8", "保养", "K", "DFL1250", "2026-11-16 08:30", "50.00", "150.00", "200.00",
              [("更换机油机滤", "机油")]),
        order("R9", "一般维修", "L", "EQ1090", None, "10.00", "0.00", "10.00", [("检查", None)]),
    ],
}  # fmt: skip


def manifest_row(no, car, part_no, part_name, qty) -> dict:
    return {"claim_no": no, "vin": vin(car) if car else None, "part_no": part_no,
            "part_name": part_name, "quantity": qty}  # fmt: skip


MANIFEST = record(
    "SH-ZH/BD-31",
    "M1",
    {
        "unit_name": "长沙一站",
        "manifest_no": "M-2611-01",
        "manifest_date": "2026-11-25",
        "returned_parts": [
            manifest_row("C1", "A", "P-100", "离合器压盘", 1),
            manifest_row("C2", "A", "P-200", "前刹车片", 2),
            manifest_row("C4", "C", "P-100", "离合器压盘", 1),  # an October claim
            manifest_row(None, "Z", "P-999", "水泵", 3),  # matches no claim
        ],
    },
)


def tag(doc: str, no: str | None, car: str, part_no: str, part_name: str, day: str) -> dict:
    values = {"claim_no": no, "vin": vin(car), "part_no": part_no, "part_name": part_name,
              "repair_date": day}  # fmt: skip
    return record("SH-ZH/BD-30", doc, values)


@pytest.fixture
def store(any_store) -> Store:
    """Each store (TinyDB, PostgreSQL) with the hand-computed November."""
    s = any_store
    for st in (S01, S02):
        s.add_station(st)
    log = ClaimImport(import_id="imp1", filename="claims.xlsx", sha256="0" * 64,
                      imported_by="tester", claims=0)  # fmt: skip
    s.import_claims(CLAIMS, log, [])

    def save(station: str, name: str, records: list[dict]) -> None:
        scan, _ = s.put_scan(name.encode(), f"{name}.pdf", "application/pdf", "tester", station)
        s.save_records(scan.sha256, records, station)

    save("S01", "orders-s01", ORDERS["S01"])
    save("S01", "r1-again", [ORDERS["S01"][0]])  # the same order scanned twice counts once
    save("S02", "orders-s02", ORDERS["S02"])
    save("S01", "manifest", [MANIFEST])
    save("S01", "tags-s01", [
        tag("T1", "C1", "A", "P-100", "离合器压盘", "2026-11-03"),
        tag("T2", "C2", "A", "P-200", "前刹车片", "2026-11-03"),  # one tag, two parts
    ])  # fmt: skip
    save("S02", "tags-s02", [
        tag("T3", "C5", "D", "P-400", "空调压缩机", "2026-11-15"),
        tag("T4", None, "Y", "P-777", "玻璃升降器", "2026-10-10"),  # October, no claim
    ])  # fmt: skip
    return s


def figures(row, *keys: str) -> dict:
    return {k: getattr(row, k) for k in keys}


def test_station_figures_are_exact(store):
    s = monthly_summary(store, "2026-11")
    assert (s.month, s.period_start, s.period_end, s.station) == (
        "2026-11", date(2026, 11, 1), date(2026, 11, 30), None,
    )  # fmt: skip
    s01, s02 = s.station_row("S01"), s.station_row("S02")
    assert [(r.key, r.label) for r in s.stations] == [("S01", "长沙一站"), ("S02", "株洲站")]
    assert figures(s01, "warranty_claims", "warranty_visits", "claimed_qty") == {
        "warranty_claims": 3, "warranty_visits": 2, "claimed_qty": 4,
    }  # fmt: skip
    assert (s01.warranty_labor, s01.warranty_material, s01.warranty_total) == (
        Decimal("230.00"), Decimal("870.50"), Decimal("1100.50"),
    )  # fmt: skip
    # 一般维修 R1, R7 and 事故维修 R2; R6 is October; the 保修索赔 order R4 is claim C3
    assert (s01.paid_repairs, s01.paid_labor, s01.paid_material, s01.paid_total) == (
        3, Decimal("800.00"), Decimal("1850.00"), Decimal("2750.00"),
    )  # fmt: skip
    assert figures(s01, "maintenance", "maintenance_first", "maintenance_periodic") == {
        "maintenance": 2, "maintenance_first": 1, "maintenance_periodic": 1,
    }  # fmt: skip
    assert (s01.maintenance_labor, s01.maintenance_material, s01.maintenance_total) == (
        Decimal("100.00"), Decimal("380.00"), Decimal("480.00"),
    )  # fmt: skip
    # visits: A 11-03 (claims C1, C2 and 首保 R3), B 11-20 (C3 and R4), G, H, I, J
    assert s01.vehicles == 6
    # C1 on manifest and tag: 1; C2 listed 2 with one tag: 2; the unclaimed 水泵: 3
    assert (s01.returned_qty, s01.returned_unclaimed_qty) == (6, 3)
    assert s01.total == Decimal("4330.50")

    assert figures(s02, "warranty_claims", "warranty_visits", "claimed_qty", "paid_repairs") == {
        "warranty_claims": 2, "warranty_visits": 2, "claimed_qty": 2, "paid_repairs": 0,
    }  # fmt: skip
    assert s02.warranty_total == Decimal("1240.00")
    assert figures(s02, "maintenance", "maintenance_first", "maintenance_periodic") == {
        "maintenance": 1, "maintenance_first": 0, "maintenance_periodic": 0,
    }  # fmt: skip
    assert (s02.maintenance_total, s02.vehicles, s02.returned_qty) == (Decimal("200.00"), 3, 1)

    t = s.totals
    assert (t.warranty_claims, t.claimed_qty, t.warranty_total) == (5, 6, Decimal("2340.50"))
    assert (t.paid_repairs, t.paid_total, t.maintenance, t.maintenance_total) == (
        3, Decimal("2750.00"), 3, Decimal("680.00"),
    )  # fmt: skip
    assert (t.vehicles, t.returned_qty, t.returned_unclaimed_qty) == (9, 7, 3)
    assert t.total == Decimal("5770.50")
    assert (s.orders_to_check, s.orders_undated) == (1, 1)  # R7 awaits review, R9 undated


def test_models_parts_and_categories(store):
    s = monthly_summary(store, "2026-11")
    models = {
        r.label: (r.warranty_claims, r.claimed_qty, r.warranty_total, r.paid_repairs,
                  r.paid_total, r.maintenance, r.maintenance_total, r.returned_qty)
        for r in s.models
    }  # fmt: skip
    assert models == {
        # EQ1090 and eq1090 are one model: C1, C2, C7; R1, R7; R3
        "EQ1090": (3, 4, Decimal("950.00"), 2, Decimal("650.00"), 1, Decimal("180.00"), 3),
        "DFL1250": (2, 2, Decimal("1390.50"), 1, Decimal("2100.00"), 2, Decimal("500.00"), 1),
        "未填车型": (0, 0, Decimal("0.00"), 0, Decimal("0.00"), 0, Decimal("0.00"), 3),
    }
    assert [r.label for r in s.models] == ["EQ1090", "DFL1250", "未填车型"]

    parts = [
        (r.key, r.label, r.warranty_claims, r.claimed_qty, r.warranty_total, r.returned_qty,
         r.returned_unclaimed_qty)
        for r in s.parts
    ]  # fmt: skip
    assert parts == [
        ("P-200", "前刹车片", 1, 2, Decimal("170.00"), 2, 0),
        ("P-100", "离合器压盘", 1, 1, Decimal("400.00"), 1, 0),
        ("P-300", "发电机", 1, 1, Decimal("530.50"), 0, 0),
        ("P-400", "空调压缩机", 1, 1, Decimal("860.00"), 1, 0),
        ("P-600", "机油泵", 1, 1, Decimal("380.00"), 0, 0),
        ("P-999", "水泵", 0, 0, Decimal("0.00"), 3, 3),
    ]

    categories = {
        r.key: (r.warranty_claims, r.warranty_total, r.paid_repairs, r.paid_total, r.returned_qty)
        for r in s.categories
    }
    zero = Decimal("0.00")
    assert categories == {
        "发动机": (1, Decimal("380.00"), 0, zero, 3),  # 机油泵; the unclaimed 水泵
        "变速器/离合器": (1, Decimal("400.00"), 0, zero, 1),
        "制动系统": (1, Decimal("170.00"), 0, zero, 2),
        "转向/悬架": (0, zero, 1, Decimal("550.00"), 0),  # R1 减震器
        "电气": (1, Decimal("530.50"), 1, Decimal("100.00"), 0),  # 发电机; R7 灯泡
        "空调": (1, Decimal("860.00"), 0, zero, 1),
        "车身/内饰": (0, zero, 1, Decimal("2100.00"), 0),  # R2 保险杠
        OTHER: (0, zero, 0, zero, 0),
    }
    # maintenance is no fault: it is in no category
    assert sum(r.maintenance for r in s.categories) == 0


def test_one_station_and_errors(store):
    s = monthly_summary(store, "2026-11", "S02")
    assert (s.station, s.station_name) == ("S02", "株洲站")
    assert [r.key for r in s.stations] == ["S02"]
    whole = monthly_summary(store, "2026-11").station_row("S02").model_dump()
    assert s.totals.model_dump() == {k: v for k, v in whole.items() if k not in ("key", "label")}
    assert {r.key for r in s.parts} == {"P-400", "P-600"}
    idle = monthly_summary(store, "2027-01", "S01")
    assert idle.station_row("S01").vehicles == 0 and idle.totals.total == 0
    with pytest.raises(ValueError, match="年月无效"):
        monthly_summary(store, "2026-13")
    with pytest.raises(LookupError, match="S09"):
        monthly_summary(store, "2026-11", "S09")


def test_fault_keywords_longest_word_wins():
    k = load_fault_keywords()
    assert k.category("仪表台") == "车身/内饰"  # not 电气 (仪表)
    assert k.category("鼓风机电机") == "空调"
    assert (
        k.category("总成", "刹车时异响") == "制动系统"
    )  # the description when the name says nothing
    assert k.category(None, "") == OTHER


def test_bd24_values_pass_the_form(store):
    s = monthly_summary(store, "2026-11")
    v = bd24_values(s, S01, date(2026, 12, 3))
    assert normalize_record(get_template("SH-ZH/BD-24"), v) == v
    assert v == {
        "station_name": "长沙一站",
        "station_code": "S01",
        "report_month": "2026-11",
        "fill_date": "2026-12-03",
        "warranty_repair_count": 2,
        "warranty_labor_fee": "230.00",
        "warranty_material_fee": "870.50",
        "warranty_total": "1100.50",
        "paid_repair_count": 3,
        "paid_labor_fee": "800.00",
        "paid_material_fee": "1850.00",
        "paid_other_fee": "100.00",  # R2's total holds 100 beyond labour and material
        "paid_total": "2750.00",
        "first_maintenance_count": 1,
        "periodic_maintenance_count": 1,
        "maintenance_labor_fee": "100.00",
        "maintenance_material_fee": "380.00",
        "maintenance_total": "480.00",
        "parts_claimed_qty": 4,
        "parts_claimed_amount": "870.50",
        "parts_returned_qty": 6,
        "vehicles_total": 6,
        "revenue_total": "4330.50",
        "revenue_total_words": amount_in_words(Decimal("4330.50")),
    }
    # S02's maintenance order says neither 首保 nor 定保: a person fills those in
    v2 = bd24_values(s, S02, date(2026, 12, 3), parts_sales_amount=Decimal("99.5"))
    assert "first_maintenance_count" not in v2 and "periodic_maintenance_count" not in v2
    assert (v2["parts_sales_amount"], v2["revenue_total"]) == ("99.50", "1539.50")
    with pytest.raises(ValueError, match="不能早于"):
        bd24_values(s, S01, date(2026, 10, 31))


def test_bd24_pdf_has_both_copies_and_is_registered(store):
    s = monthly_summary(store, "2026-11", "S01")
    data = bd24_pdf(store, s, S01, TEST_KEY, "tester", fill_date=date(2026, 12, 3))
    with pdfplumber.open(BytesIO(data)) as pdf:
        pages = [p.extract_text() or "" for p in pdf.pages]
    assert len(pages) == 2  # 第一联, 第二联
    assert all("长沙一站" in p and "1100.50" in p and "4330.50" in p for p in pages)
    doc_id = re.search(r"文档号\s*(\S+)", pages[0])[1]
    doc = store.get_document(doc_id)
    assert (doc.template, doc.station, doc.issued_by, doc.copies) == (
        "SH-ZH/BD-24", "S01", "tester", 2,
    )  # fmt: skip
    assert doc.values["warranty_total"] == "1100.50"


def test_workbook_sheets_rows_formats_and_chart(store):
    s = monthly_summary(store, "2026-11")
    wb = load_workbook(BytesIO(monthly_summary_xlsx(s)))
    assert wb.sheetnames == ["汇总", "按维修站", "按车型", "按零件", "按故障类别"]
    overview = wb["汇总"]
    assert len(overview._charts) == 1
    items = {r[0]: r[1] for r in overview.iter_rows(min_row=2, values_only=True)}
    assert items["月份"] == "2026-11" and items["三包索赔单数"] == 5
    assert items["三包合计(元)"] == pytest.approx(2340.50)

    stations = wb["按维修站"]
    rows = list(stations.iter_rows(values_only=True))
    head = rows[0]
    assert head[:2] == ("维修站代码", "维修站名称") and stations["A1"].font.b
    assert stations.freeze_panes == "B2"
    assert [r[0] for r in rows[1:]] == ["S01", "S02", "合计"]
    s01 = dict(zip(head, rows[1], strict=True))
    assert s01["索赔单数"] == 3 and s01["三包合计"] == pytest.approx(1100.50)
    assert s01["返厂件数"] == 6 and s01["合计金额"] == pytest.approx(4330.50)
    money = stations.cell(row=2, column=head.index("三包合计") + 1)
    assert money.number_format == "#,##0.00"
    assert stations.column_dimensions["B"].width >= 10

    assert [r[0] for r in wb["按车型"].iter_rows(min_row=2, values_only=True)] == [
        "EQ1090", "DFL1250", "未填车型", "合计",
    ]  # fmt: skip
    assert len(list(wb["按零件"].iter_rows(min_row=2))) == 7  # six parts and the total
    categories = [r[0] for r in wb["按故障类别"].iter_rows(min_row=2, values_only=True)]
    assert categories == [*load_fault_keywords().categories, "合计"]


@pytest.fixture
def cli(monkeypatch):
    monkeypatch.setenv("FORMDESK_SECRET", "cli-test")
    return lambda *args: CliRunner().invoke(app, ["summary", *args])


def test_cli_table_files_and_errors(store, tmp_path, cli, monkeypatch):
    data = str(tmp_path / "data")
    url = database_url(store)
    if url is not None:  # the command finds the PostgreSQL store as installed: by its URL
        monkeypatch.setenv("FORMDESK_DATABASE_URL", url)
    res = cli("--month", "2026-11", "--data-dir", data)
    assert res.exit_code == 0, res.output
    assert "长沙一站" in res.stdout and "合计" in res.stdout and "1,100.50" in res.stdout

    xlsx = tmp_path / "summary.xlsx"
    res = cli("--month", "2026-11", "--data-dir", data, "-o", str(xlsx))
    assert res.exit_code == 0 and load_workbook(xlsx).sheetnames[0] == "汇总"
    pdf = tmp_path / "bd24.pdf"
    res = cli("--month", "2026-11", "--station", "S01", "--data-dir", data, "-o", str(pdf))
    assert res.exit_code == 0, res.output
    assert pdf.read_bytes().startswith(b"%PDF")

    for args, message in [
        (["--month", "2026-13"], "年月无效"),
        (["--month", "2026-11", "--station", "S09"], "S09"),
        (["--month", "2026-11", "-o", str(tmp_path / "x.pdf")], "--station"),
        (["--month", "2026-11", "-o", str(tmp_path / "x.csv")], ".xlsx"),
    ]:
        res = cli(*args, "--data-dir", data)
        assert res.exit_code == 1
        assert res.stderr.startswith("错误:") and message in res.stderr
        assert len(res.stderr.strip().splitlines()) == 1
    if url is None:  # the TinyDB store is its data folder: none there is an error
        res = cli("--month", "2026-11", "--data-dir", str(tmp_path / "nowhere"))
        assert res.exit_code == 1 and "数据目录不存在" in res.stderr
