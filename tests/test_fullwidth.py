"""Full-width digits, letters and punctuation (a Chinese input method in full-width mode)
are accepted wherever values are typed: the value rules themselves, print data through
the API and a CSV batch, a claims file, and a correction of a read record. Chinese text
is not rewritten: only full-width ASCII becomes ASCII in free text.

The expected values are the ASCII forms, computed from the full-width input by shifting
U+FF01–U+FF5E down by 0xFEE0 (Unicode chart FF00), not by the code under test.
"""

from __future__ import annotations

import csv
import io

import pdfplumber
import pytest

from formdesk.ingest.claims import read_claims
from formdesk.model.record import FieldReading, FormRecord, PageSource
from formdesk.templates import get_template, load_catalog
from formdesk.templates.values.normalize import normalize, normalize_record

from .conftest import sample_values
from .test_api import login, service  # noqa: F401 (the module's service fixture)
from .test_claims_import import row, table

TAG = get_template("SH-ZH/BD-27")
GOOD = sample_values(TAG)


def wide(text: str) -> str:
    """`text` as a full-width input method types it (ASCII printable -> U+FF01…, space ->
    U+3000)."""
    return "".join(
        "\u3000" if c == " " else chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text
    )


def spec(template: str, key: str):
    return get_template(template).field(key)


@pytest.mark.parametrize(
    ("key", "typed", "stored"),
    [
        ("vin", wide("LGAX2A1376K123456"), "LGAX2A1376K123456"),
        ("vin", wide("lgax2a1376k123456"), "LGAX2A1376K123456"),
        ("mileage_km", wide("48260"), 48260),
        ("mileage_km", wide("48,260"), 48260),
        ("purchase_date", wide("2026-03-15"), "2026-03-15"),
        ("purchase_date", wide("2026/3/15"), "2026-03-15"),
        ("purchase_date", "２０２６年３月１５日", "2026-03-15"),
        ("engine_no", wide("YC4E14020"), "YC4E14020"),
        ("part_no", wide("1011010-E02"), "1011010-E02"),
    ],
)
def test_the_tags_fields_take_full_width_input(key, typed, stored):
    assert normalize_record(TAG, {key: typed})[key] == stored


@pytest.mark.parametrize(
    ("template", "key", "typed", "stored"),
    [
        ("SH-ZH/BD-24", "parts_sales_amount", "１，２００．５０", "1200.50"),
        ("SH-ZH/BD-24", "parts_sales_amount", "￥１２００", "1200.00"),
        ("SH-ZH/BD-24", "report_month", wide("2026-03"), "2026-03"),
    ],
)
def test_money_and_months_take_full_width_input(template, key, typed, stored):
    assert normalize(spec(template, key), typed) == stored


def test_plates_phones_and_times_take_full_width_input():
    found = {}
    for t in load_catalog().values():
        for f in t.fields:
            for spec_ in (f, *f.columns):
                found.setdefault(spec_.type.value, spec_)
    assert normalize(found["plate"], "湘Ａ１２３４５") == "湘A12345"
    assert normalize(found["phone"], wide("0731-84561234")) == "0731-84561234"
    assert normalize(found["time"], "１４：３０") == "14:30"
    assert normalize(found["datetime"], wide("2026-03-15 14:30")) == "2026-03-15 14:30"


def test_free_text_keeps_chinese_and_compatibility_characters_as_typed():
    """Only full-width ASCII changes; ㍿, ①, …… and half-width katakana stay."""
    f = TAG.field("preliminary_finding")
    typed = "机油压力低（ＡＢＳ灯亮），见①……㍿ｶ"
    assert normalize(f, typed) == "机油压力低(ABS灯亮),见①……㍿ｶ"


def test_full_width_does_not_let_a_bad_value_through():
    with pytest.raises(ValueError, match="校验位"):
        normalize(TAG.field("vin"), wide("LGAX2A1396K123456"))
    with pytest.raises(ValueError, match="没有30日"):
        normalize(TAG.field("purchase_date"), wide("2026-02-30"))


def test_the_print_api_prints_full_width_values_as_ascii(service):  # noqa: F811
    app, _ = service
    office = login(app, "office")
    typed = {
        **GOOD,
        "vin": wide(GOOD["vin"]),
        "mileage_km": wide(str(GOOD["mileage_km"])),
        "purchase_date": wide("2025-06-18"),
    }
    res = office.post(f"/api/print/{TAG.slug}", json=typed)
    assert res.status_code == 200, res.text
    with pdfplumber.open(io.BytesIO(res.content)) as pdf:
        text = pdf.pages[0].extract_text()
    assert GOOD["vin"] in text and str(GOOD["mileage_km"]) in text
    (doc_id,) = res.headers["x-document-ids"].split(",")
    doc = office.get(f"/api/documents/{doc_id}").json()
    assert doc["values"]["vin"] == GOOD["vin"]
    assert doc["values"]["mileage_km"] == GOOD["mileage_km"]
    assert doc["values"]["purchase_date"] == "2025-06-18"


def test_a_csv_batch_of_full_width_values_is_accepted(service):  # noqa: F811
    app, _ = service
    office = login(app, "office")
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["车架号码", "行驶里程", "购买日期", "零部件名称"])
    w.writerow([wide(GOOD["vin"]), "４８２６０", "２０２６－０３－１５", "水泵总成"])
    res = office.post(
        f"/api/print/{TAG.slug}/batch", files={"file": ("tags.csv", buf.getvalue().encode())}
    )
    assert res.status_code == 202, res.text
    assert res.json()["total"] == 1


def test_a_claims_file_of_full_width_values_is_imported():
    vin = row(1)["车架号"]
    typed = row(
        1,
        车架号=wide(vin),
        行驶里程="４８２６０",
        维修日期="２０２６－１１－０３",
        工时费="１，２００．５０",
        零件编号=wide("3411010-K2000"),
        零件名称="动力转向器总成（左）",
    )
    buf = io.StringIO()
    csv.writer(buf).writerows(table([typed]))
    (claim,) = read_claims(buf.getvalue().encode("utf-8"), "c.csv", source="t")
    assert claim.vin == vin
    assert claim.mileage_km == 48260
    assert claim.repair_date.isoformat() == "2026-11-03"
    assert str(claim.labor_fee) == "1200.50"
    assert claim.part_no == "3411010-K2000"
    assert claim.part_name == "动力转向器总成(左)"


def test_a_correction_takes_full_width_input(service):  # noqa: F811
    app, _ = service
    store = app.state.store
    fields = []
    for key, value in GOOD.items():
        f = TAG.field(key)
        fields.append(
            FieldReading(
                key=key, label=f.label, type=f.type.value, value=value, raw=str(value),
                confidence=0.9, status="check",
            )
        )  # fmt: skip
    record = FormRecord(
        template=TAG.code,
        template_version=TAG.version,
        document_id="DWIDE0001",
        identified_by="qr",
        authentic=True,
        residual_mm=0.2,
        pages=[PageSource(file="w.jpg", file_page=0)],
        fields=fields,
    ).model_dump(mode="json")
    scan, _ = store.put_scan(b"full-width correction scan", "w.jpg", "image/jpeg", "office", "HN01")
    (summary,) = store.save_records(scan.sha256, [record], "HN01")
    office = login(app, "office")
    url = f"/api/records/{summary.record_id}/fields"
    for key, typed, stored in (
        ("mileage_km", "４８２６１", 48261),
        ("vin", wide(GOOD["vin"]), GOOD["vin"]),
        ("repair_date", "２０２６年３月１６日", "2026-03-16"),
    ):
        res = office.patch(f"{url}/{key}", json={"value": typed})
        assert res.status_code == 200, res.text
        assert res.json()["new_value"] == stored
    bad = office.patch(f"{url}/repair_date", json={"value": wide("2026-02-30")})
    assert bad.status_code == 422 and "没有30日" in bad.json()["reason"]
