"""The reconciliation's three outputs: the workbook, the printed report and the station
letter, from a hand-built month with every kind of difference (some of them doubtful)."""

from __future__ import annotations

import io
import time
from datetime import UTC, date, datetime

import pdfplumber
import pypdf
import pytest
from openpyxl import load_workbook

from formdesk.model.reconciliation import (
    KIND_LABELS,
    Evidence,
    Outcome,
    Reconciliation,
    ReturnedItem,
)
from formdesk.reports.reconcile_pdf import reconciliation_pdf, shortened
from formdesk.reports.reconcile_xlsx import DIFFERENCE_COLUMNS, reconciliation_xlsx
from formdesk.reports.station_letter import station_letter_pdf

from .pdfcheck import squash

STATION, STATION_NAME = "HN02", "长沙湘江汽车维修站"
PER_KIND = {
    "matched": 30,
    "missing": 20,
    "unexpected": 20,
    "quantity": 20,
    "mismatch": 24,
    "duplicate": 16,
    "outside_warranty": 20,
}
FIELDS = ["vin", "engine_no", "vehicle_model", "mileage_km"]
PARTS = [
    ("1701010-A01", "变速器总成"),
    ("3501020-B12", "前制动片&卡钳"),
    ("1109100-K08", "空气滤清器"),
]


def url(e: Evidence) -> str:
    return f"https://formdesk.example/records/{e.record_id}/evidence/{e.field_key}?row={e.row}"


def returned(n: int, tag: bool, doubtful_column: str | None = None) -> ReturnedItem:
    reading = {doubtful_column: (0.41, "check")} if doubtful_column else {}
    return ReturnedItem(
        source="tag" if tag else "manifest_line",
        record_id=f"rec-{n:04d}",
        document_id=f"D{n:06d}",
        template="SH-ZH/BD-30" if tag else "SH-ZH/BD-31",
        manifest_no=None if tag else f"M-2611-{n % 7 + 1:02d}",
        row=None if tag else n % 12 + 1,
        claim_no=f"SP2611-{n:04d}",
        vin=f"LZWADAGA{n:09d}",
        engine_no=f"E4G{n:06d}",
        vehicle_model="HFC1040",
        mileage_km=12000 + n,
        part_no=PARTS[n % 3][0],
        part_name=PARTS[n % 3][1],
        reading=reading,
    )


def outcome(kind: str, n: int) -> Outcome:
    doubtful = kind != "matched" and n % 5 == 0
    field = FIELDS[n % 4] if kind == "mismatch" else None
    item = returned(n, tag=n % 2 == 0, doubtful_column=field or "quantity" if doubtful else None)
    claim_value, values = None, []
    message = {
        "matched": "索赔单与返厂清单、故障标签一致",
        "missing": "索赔单已结算申请,但本月返厂清单和故障标签中均未见该零件;请确认是否漏装箱或漏填清单",
        "unexpected": "返厂清单上有此零件,但本月索赔单中没有对应记录(可能索赔单号填写错误或尚未录入)",
        "quantity": "索赔数量为 2 件,返厂清单记为 1 件,标签只有 1 张,数量不一致",
        "mismatch": f"索赔单与返回件的{KIND_LABELS['mismatch']}:手写的字符与索赔系统的记录不同,请核对标签原件",
        "duplicate": "同一零件在两张返厂清单上各出现一次,疑为重复返件或重复索赔",
        "outside_warranty": "购车日期 2023-05-10 至维修日期已超过 24 个月的三包期,且行驶里程超过 50000 km",
    }[kind]
    if kind in ("quantity", "mismatch"):
        claim_value = "2" if kind == "quantity" else str(getattr(item, field))
        values = ["1", "1"] if kind == "quantity" else [f"{getattr(item, field)}X"]
    evidence = [item.evidence(field), returned(n + 1000, tag=True).evidence("claim_no")]
    return Outcome(
        kind=kind,
        field=field,
        claim_no=item.claim_no,
        vin=item.vin,
        part_no=item.part_no,
        part_name=item.part_name,
        claim_value=claim_value,
        returned_values=values,
        message=message,
        evidence=evidence,
        doubtful=doubtful,
    )


def month(outcomes: list[Outcome]) -> Reconciliation:
    return Reconciliation(
        station=STATION,
        station_name=STATION_NAME,
        month="2026-11",
        period_start=date(2026, 11, 1),
        period_end=date(2026, 11, 30),
        generated_at=datetime(2026, 12, 1, 17, 30, tzinfo=UTC),  # 2026-12-02 01:30 in China
        claims=110,
        claimed_quantity=131,
        manifest_lines=104,
        returned_quantity=118,
        tags=96,
        outcomes=outcomes,
    )


@pytest.fixture(scope="module")
def rec() -> Reconciliation:
    n = iter(range(1, 1000))
    kinds = [k for k, count in PER_KIND.items() for _ in range(count)]
    return month([outcome(kind, next(n)) for kind in kinds])


@pytest.fixture(scope="module")
def empty() -> Reconciliation:
    r = month([])
    return r.model_copy(
        update={
            "claims": 0,
            "claimed_quantity": 0,
            "manifest_lines": 0,
            "returned_quantity": 0,
            "tags": 0,
        }
    )


def pdf_pages(data: bytes) -> list[str]:
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        return [page.extract_text() or "" for page in pdf.pages]


def assert_font_embedded(data: bytes) -> None:
    """Every glyph is drawn in the packaged font, and that font travels inside the file
    (reportlab's page preamble names Helvetica, but no character is set in it)."""
    reader = pypdf.PdfReader(io.BytesIO(data))
    embedded = {}
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descriptor = font.get("/FontDescriptor")
            embedded[font["/BaseFont"][1:]] = descriptor is not None and "/FontFile2" in descriptor
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        drawn = {c["fontname"] for page in pdf.pages for c in page.chars}
    assert drawn and all("WenQuanYiMicroHei" in name for name in drawn), drawn
    assert all(embedded[name] for name in drawn), embedded


def test_fixture_has_every_kind_and_forces_pages(rec):
    assert len(rec.differences) == 120
    assert all(rec.counts()[k] for k in KIND_LABELS)
    assert 0 < sum(o.doubtful for o in rec.differences) < 120


def test_xlsx_sheets_rows_counts_and_links(rec):
    wb = load_workbook(io.BytesIO(reconciliation_xlsx(rec, url)))
    assert wb.sheetnames == ["汇总", "差异明细", "一致"]

    summary = {row[0]: row[1] for row in wb["汇总"].iter_rows(min_row=2, values_only=True)}
    assert summary["维修站代码"] == STATION and summary["维修站名称"] == STATION_NAME
    assert summary["月份"] == "2026-11" and summary["核对期间"] == "2026-11-01 至 2026-11-30"
    assert summary["生成时间"].startswith("2026-12-02 01:30")
    assert summary["索赔单数"] == 110 and summary["返厂件数量"] == 118 and summary["标签数"] == 96
    for kind, label in KIND_LABELS.items():
        assert summary[label] == PER_KIND[kind]
    assert summary["差异合计"] == 120
    assert summary["其中待核实"] == sum(o.doubtful for o in rec.differences)

    ws = wb["差异明细"]
    header = [c.value for c in ws[1]]
    assert header == [h for h, _ in DIFFERENCE_COLUMNS]
    assert all(c.font.bold for c in ws[1])
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == "A1:K121"
    assert ws.max_row == 1 + 120
    col = {h: i for i, h in enumerate(header)}
    for row, o in zip(ws.iter_rows(min_row=2), rec.differences, strict=True):
        assert row[col["索赔单号"]].value == o.claim_no
        assert row[col["差异类型"]].value == o.label
        assert row[col["待核实"]].value == ("是" if o.doubtful else None)
        assert row[col["证据"]].value == ";".join(e.label for e in o.evidence)
        assert row[col["证据"]].hyperlink.target == url(o.evidence[0])
    mismatch = next(o for o in rec.differences if o.kind == "mismatch" and o.field == "vin")
    assert "车架号不符" in [c.value for c in ws["B"]]
    assert mismatch.claim_no in [c.value for c in ws["C"]]

    matched = wb["一致"]
    assert matched.max_row == 1 + PER_KIND["matched"]
    assert matched.freeze_panes == "A2"


def test_xlsx_keeps_scanned_text_as_text(rec):
    o = rec.differences[0].model_copy(
        update={"returned_values": ["=HYPERLINK(1)"], "message": "a\x07b"}
    )
    ws = load_workbook(io.BytesIO(reconciliation_xlsx(month([o]))))["差异明细"]
    assert ws["H2"].value == "=HYPERLINK(1)" and ws["H2"].data_type == "s"
    assert ws["I2"].value == "ab"
    assert ws["K2"].hyperlink is None  # no evidence_url given


def test_report_pdf_lists_every_difference_with_repeated_header(rec):
    data = reconciliation_pdf(rec)
    pages = pdf_pages(data)
    assert len(pages) >= 3
    text = "\n".join(pages)
    assert "三包索赔件核对报告" in pages[0]
    assert STATION in pages[0] and STATION_NAME in pages[0]
    assert "2026-11-01" in pages[0] and "2026-11-30" in pages[0]
    for label in KIND_LABELS.values():
        assert label in squash(pages[0])
    for o in rec.differences:
        assert o.claim_no in text, o.claim_no
    for page in pages[1:]:
        assert "差异类型" in page and "返回件所记" in page and "待核实" in page
    for n, page in enumerate(pages, 1):
        assert f"第{n}页共{len(pages)}页" in squash(page)
    assert f"一致:{PER_KIND['matched']}项" in squash(text)
    assert_font_embedded(data)


def test_letter_leaves_out_doubtful_and_says_how_many(rec):
    data = station_letter_pdf(rec, center_name="华中售后服务中心")
    pages = pdf_pages(data)
    text = squash("".join(pages))
    assert f"致{STATION_NAME}" in text and "华中售后服务中心" in text
    held = [o for o in rec.differences if o.doubtful]
    listed = [o for o in rec.differences if not o.doubtful]
    for o in listed:  # a claim number only for a part that has a claim
        assert (o.claim_no in text) == (o.kind != "unexpected"), o.claim_no
    for o in held:
        assert o.claim_no not in text, o.claim_no
    assert f"另有{len(held)}项差异" in text
    assert "如与清单数量不符者,请及时与本中心联系" in text
    assert "不反馈不予兑换配件" in text
    for kind, label in KIND_LABELS.items():
        if kind != "matched":
            assert f"{label}(" in text
    assert text.index("索赔件未返回(") < text.index("返回件无索赔(")
    assert "2026年12月2日" in text  # dated in China time
    assert_font_embedded(data)


def test_letter_all_doubtful_lists_nothing(rec):
    doubtful = [o.model_copy(update={"doubtful": True}) for o in rec.differences[:3]]
    text = squash("".join(pdf_pages(station_letter_pdf(month(doubtful)))))
    assert "暂无需贵站处理的差异" in text and "另有3项差异" in text
    assert all(o.claim_no not in text for o in doubtful)


def test_letter_all_matched_is_short(rec):
    matched = [o for o in rec.outcomes if o.kind == "matched"]
    data = station_letter_pdf(month(matched))
    pages = pdf_pages(data)
    assert len(pages) == 1
    assert "全部一致" in squash(pages[0]) and "另有" not in pages[0]


def test_empty_month_renders_everywhere(empty):
    wb = load_workbook(io.BytesIO(reconciliation_xlsx(empty, url)))
    assert wb["差异明细"].max_row == 1 and wb["一致"].max_row == 1
    summary = {row[0]: row[1] for row in wb["汇总"].iter_rows(min_row=2, values_only=True)}
    assert summary["索赔单数"] == 0 and summary["差异合计"] == 0

    pages = pdf_pages(reconciliation_pdf(empty))
    assert len(pages) == 1
    assert "本月无索赔、无返厂件" in pages[0] and "第1页共1页" in squash(pages[0])

    letter = pdf_pages(station_letter_pdf(empty))
    assert len(letter) == 1 and "无三包索赔、无返厂件" in squash(letter[0])


# -- text stored before the claims import bounded it -------------------------------------------


def stored_month(store, chars: int) -> Reconciliation:
    """A station-month from a real store (`any_store`: TinyDB or PostgreSQL) whose one claim
    (never returned: a difference) has `chars` characters of part number, name, model and
    description, and whose station's name is as long: what an import before the length
    limits could store."""
    from formdesk.model.claims import Claim, ClaimImport, Station
    from formdesk.reconcile.engine import reconcile_station

    store.add_station(Station(code=STATION, name="衡" * chars))
    claim = Claim(
        claim_no="SP2608-0001",
        station=STATION,
        vin="LGAG4DD31R8012345",
        vehicle_model="型" * chars,
        part_no="P" * chars,
        part_name="泵" * chars,
        quantity=1,
        purchase_date=date(2026, 1, 5),
        repair_date=date(2026, 8, 15),
        mileage_km=100,
        fault_description="漏" * chars,
        source="import:old",
    )
    log = ClaimImport(import_id="old", filename="old.csv", sha256="0", imported_by="t", claims=0)
    store.import_claims([claim], log, [], replace=False)
    return reconcile_station(store, STATION, "2026-08")


@pytest.mark.parametrize("chars", [1_000, 100_000])
def test_long_stored_text_is_shortened_in_the_report_and_the_letter(any_store, chars):
    """A 1,000-character part name made the report a 500 (a table row taller than the
    page); 100,000 characters took the letter a minute."""
    rec = stored_month(any_store, chars)
    assert [o.kind for o in rec.differences] == ["missing"]
    assert rec.differences[0].part_name == "泵" * chars
    start = time.monotonic()
    report = reconciliation_pdf(rec)
    letter = station_letter_pdf(rec)
    assert time.monotonic() - start < 5
    pages = [squash(t) for t in pdf_pages(report)]
    assert len(pages) == 1
    assert f"…(共{chars}字)" in pages[0]  # the part name, cut, says how long it is
    assert "泵" * 20 in pages[0] and "泵" * 200 not in pages[0]
    assert "衡" * 30 in pages[0] and "衡" * 100 not in pages[0]
    text = squash("".join(pdf_pages(letter)))
    assert squash(f"零件 {shortened('P' * chars, 60)} {shortened('泵' * chars, 60)}") in text
    assert "SP2608-0001" in text and len(text) < 2_000
    assert squash(f"致 {shortened('衡' * chars, 20)} · 2026年8月") in text  # the footer
    assert_font_embedded(report)


def test_a_cell_is_cut_only_as_far_as_its_lines_need():
    from formdesk.reports.reconcile_pdf import MAX_CELL_LINES, fitted, styles

    cell = styles()["cell"]
    assert shortened("泵" * 10, 10) == "泵" * 10
    assert shortened("泵" * 11, 10) == "泵…(共 11 字)"
    whole = fitted("泵" * 100, cell, 60, MAX_CELL_LINES)  # 8 per line: 13 lines
    assert "共 100 字" in whole.text
    _, height = whole.wrap(60, 10_000)
    assert height <= MAX_CELL_LINES * cell.leading
    wide = fitted("W" * 90, cell, 60, MAX_CELL_LINES)  # Latin letters are narrower: whole
    assert wide.text == "W" * 90
