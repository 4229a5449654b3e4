"""Corroboration at filing (issue 10, point 2): a reading OCR alone could not make ok is
ok when the claim of the same vehicle, or the station list, says exactly the same; any
other reading stays for review.  Each real store (TinyDB, PostgreSQL), records filed as
the reader's are."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from formdesk.model.claims import Claim, ClaimImport, Station
from formdesk.model.record import FieldReading, FormRecord, PageSource
from formdesk.store.placing import save_read_records

VIN = "LGAX2A1376K123456"
DISAGREE = "两次识读结果不一致(另一次读作“YC4E14O20”),请核对"
LOW = "识别把握不大,请核对"


def reading(key, label, type_, value, status="ok", reason=None, evidence=None):
    return FieldReading(
        key=key, label=label, type=type_, value=value, raw=str(value), confidence=0.9,
        status=status, reason=reason, evidence=evidence or ["ocr:0.900", "ink", "agree"],
    )  # fmt: skip


def tag(document_id: str, engine_no: str, vin_status: str = "ok", **doubted) -> dict:
    fields = [
        reading("sender_unit", "来件单位", "text", "长沙顺达汽车维修站", **doubted.get("sender_unit", {})),
        reading("vehicle_model", "型号", "text", "EQ1090TJ", **doubted.get("vehicle_model", {})),
        reading("engine_no", "发动机号", "engine_no", engine_no, "check", DISAGREE,
                ["ocr:0.950", "ink", "disagree"]),
        reading("vin", "车架号码", "vin", VIN, vin_status,
                None if vin_status == "ok" else LOW, ["ocr:0.990", "checksum", "ink"]),
        reading("part_no", "零件编号", "text", "1011010-E02", "check", LOW),
    ]  # fmt: skip
    return FormRecord(
        template="SH-ZH/BD-27", template_version=1, document_id=document_id,
        identified_by="qr", authentic=True, residual_mm=0.1,
        pages=[PageSource(file="t.jpg", file_page=0)], fields=fields,
    ).model_dump(mode="json")  # fmt: skip


@pytest.fixture
def store(any_store):
    """Each store (TinyDB, PostgreSQL) with the station and the claim of VIN."""
    s = any_store
    s.add_station(Station(code="HN01", name="长沙顺达汽车维修站"))
    claim = Claim(
        claim_no="SP2603001", station="HN01", vin=VIN, engine_no="YC4E14020",
        vehicle_model="EQ1090TJ", part_no="1011010-E02", part_name="机油泵总成",
        quantity=1, purchase_date=date(2025, 6, 18), repair_date=date(2026, 3, 15),
        mileage_km=48260, labor_fee=Decimal("120"), source="import:t", source_line=2,
    )  # fmt: skip
    log = ClaimImport(import_id="t", filename="c.csv", sha256="0" * 64, imported_by="t", claims=0)
    s.import_claims([claim], log, [])
    return s


def filed(store, record: dict) -> dict:
    scan, _ = store.put_scan(record["document_id"].encode(), "t.jpg", "image/jpeg", "s1", "HN01")
    save_read_records(store, scan.sha256, [record], "HN01")
    [summary], _ = store.list_records()
    return store.get_record(summary.record_id).record


def fields_of(record: dict) -> dict:
    return {f["key"]: f for f in record["fields"]}


def test_the_claim_of_the_same_vehicle_corroborates_doubted_readings(store):
    got = fields_of(filed(store, tag("261130-0000000001", "YC4E14020")))
    assert got["engine_no"]["status"] == "ok" and got["engine_no"]["reason"] is None
    assert got["engine_no"]["evidence"][-1] == "claim"
    assert got["part_no"]["status"] == "ok" and got["part_no"]["evidence"][-1] == "claim"


def test_a_reading_the_claim_does_not_say_stays_for_review(store):
    got = fields_of(filed(store, tag("261130-0000000002", "YC4E14O2O")))
    assert got["engine_no"]["status"] == "check" and "claim" not in got["engine_no"]["evidence"]
    [summary], _ = store.list_records()
    assert summary.status == "needs_review"


def test_no_corroboration_without_a_vin_read_for_sure(store):
    """A doubted VIN whose claim's engine number the form does not say stays doubted, and
    nothing is corroborated by that claim."""
    got = fields_of(filed(store, tag("261130-0000000003", "YC4E14O2O", vin_status="check")))
    assert got["vin"]["status"] == "check"
    assert got["engine_no"]["status"] == "check"
    assert got["part_no"]["status"] == "check"


def test_a_doubted_vin_is_the_claims_when_its_engine_number_agrees(store):
    got = fields_of(filed(store, tag("261130-0000000006", "YC4E14020", vin_status="check")))
    assert got["vin"]["status"] == "ok" and got["vin"]["evidence"][-1] == "claim"
    assert got["engine_no"]["status"] == "ok" and got["part_no"]["status"] == "ok"


def test_a_doubted_vin_no_claim_names_stays_doubted(store):
    record = tag("261130-0000000007", "YC4E14020", vin_status="check")
    vin = next(f for f in record["fields"] if f["key"] == "vin")
    vin["value"] = vin["raw"] = "LGAX2A1376K123457"
    got = fields_of(filed(store, record))
    assert got["vin"]["status"] == "check" and got["engine_no"]["status"] == "check"


def test_the_station_list_corroborates_the_sending_station(store):
    doubted = {"sender_unit": {"status": "check", "reason": LOW}}
    got = fields_of(filed(store, tag("261130-0000000004", "YC4E14020", **doubted)))
    assert got["sender_unit"]["status"] == "ok" and got["sender_unit"]["evidence"][-1] == "stations"


def test_an_overwritten_or_invalid_value_is_never_corroborated(store):
    record = tag("261130-0000000005", "YC4E14020")
    engine = next(f for f in record["fields"] if f["key"] == "engine_no")
    engine["reason"] = "打印值被改写(打印的是“YC4E14021”),请核对"
    got = fields_of(filed(store, record))
    assert got["engine_no"]["status"] == "check"


def test_a_manifest_row_is_identified_by_its_claim_number(store):
    """SH-ZH/BD-31's rows: a doubted VIN whose claim number the row says is the claim's,
    and the row's other doubted cells follow; a row whose claim number another claim holds
    stays doubted."""
    cells = lambda claim_no: {  # noqa: E731
        "claim_no": reading("claim_no", "索赔单号", "text", claim_no),
        "vin": reading("vin", "VIN", "vin", VIN, "check", DISAGREE, ["ocr:0.900", "disagree"]),
        "part_no": reading("part_no", "零件编号", "text", "1011010-E02", "check", LOW),
    }
    table = FieldReading(key="returned_parts", label="返厂零件", type="table", value=None, status="ok",
                         rows=[cells("SP2603001"), cells("SP2603009")])  # fmt: skip
    table.summarise_rows()
    record = FormRecord(
        template="SH-ZH/BD-31", template_version=1, document_id="261130-0000000008",
        identified_by="qr", authentic=True, residual_mm=0.1,
        pages=[PageSource(file="m.jpg", file_page=0)], fields=[table],
    ).model_dump(mode="json")  # fmt: skip
    [rows] = [f["rows"] for f in filed(store, record)["fields"]]
    assert rows[0]["vin"]["status"] == "ok" and rows[0]["vin"]["evidence"][-1] == "claim"
    assert rows[0]["part_no"]["status"] == "ok"
    assert rows[1]["vin"]["status"] == "check" and rows[1]["part_no"]["status"] == "check"


def ok_engine(document_id: str, engine_no: str, evidence: list[str] | None = None) -> dict:
    """A tag whose engine number was read ok by OCR alone (both readings agreeing)."""
    record = tag(document_id, engine_no)
    engine = next(f for f in record["fields"] if f["key"] == "engine_no")
    engine.update(status="ok", reason=None, evidence=evidence or ["ocr:0.990", "ink", "agree"])
    return record


@pytest.mark.parametrize(
    "read",
    ["YC4E14D20", "YC4E1402O", "YCAE14020", "YC4E14021", "YC4EI4O2O"],
    ids=["D-for-0", "O-for-0", "one-character", "last-figure", "three-twins"],
)
def test_an_ok_reading_the_claim_contradicts_goes_to_review(store, read):
    """The claim of the surely read vehicle says a value the same ink could be read as:
    review, with the claim's value named (a D read as 0 came back ok at ≥ 0.9)."""
    got = fields_of(filed(store, ok_engine("261130-0000000010", read)))
    assert got["engine_no"]["status"] == "check"
    assert got["engine_no"]["reason"] == "与该车索赔单不符(索赔单为“YC4E14020”),请核对"
    [summary], _ = store.list_records()
    assert summary.status == "needs_review"


@pytest.mark.parametrize(
    ("read", "evidence"),
    [
        ("YC4E14020", None),  # the claim's own value
        ("YC6A98765", None),  # another value altogether: the reconciliation reports it
        ("YC4E140200", None),  # another length
        ("YC4E14D20", ["printed"]),  # verified against formdesk's own print
    ],
    ids=["same", "far", "longer", "printed"],
)
def test_an_ok_reading_the_claim_does_not_contradict_stays_ok(store, read, evidence):
    got = fields_of(filed(store, ok_engine("261130-0000000011", read, evidence)))
    assert got["engine_no"]["status"] == "ok" and got["engine_no"]["reason"] is None


def test_no_contradiction_without_a_vin_read_for_sure(store):
    record = ok_engine("261130-0000000012", "YC4E14D20")
    vin = next(f for f in record["fields"] if f["key"] == "vin")
    vin.update(status="check", reason=LOW)
    got = fields_of(filed(store, record))
    assert got["engine_no"]["status"] == "ok"


def test_a_part_number_another_claim_of_the_vehicle_says_exactly_stays_ok(store):
    """Two claims of one vehicle for neighbouring part numbers: the tag of either is no
    contradiction; a third number one character from both is."""
    store.import_claims(
        [Claim(claim_no="SP2603002", station="HN01", vin=VIN, engine_no="YC4E14020",
               vehicle_model="EQ1090TJ", part_no="1011010-E03", part_name="机油滤清器",
               quantity=1, purchase_date=date(2025, 6, 18), repair_date=date(2026, 3, 15),
               mileage_km=48260, labor_fee=Decimal("40"), source="import:u", source_line=2)],
        ClaimImport(import_id="u", filename="d.csv", sha256="1" * 64, imported_by="t", claims=0),
        [],
    )  # fmt: skip
    for n, (part, status) in enumerate([("1011010-E03", "ok"), ("1011010-E05", "check")]):
        record = tag(f"261130-000000002{n}", "YC4E14020")
        cell = next(f for f in record["fields"] if f["key"] == "part_no")
        cell.update(value=part, raw=part, status="ok", reason=None)
        scan, _ = store.put_scan(part.encode(), "t.jpg", "image/jpeg", "s1", "HN01")
        save_read_records(store, scan.sha256, [record], "HN01")
        summaries, _ = store.list_records()
        mine = next(s for s in summaries if s.document_id == record["document_id"])
        got = fields_of(store.get_record(mine.record_id).record)
        assert got["part_no"]["status"] == status, part


@pytest.mark.parametrize(
    "reason",
    [
        "两个识读模型的结果不一致(另一识读模型读作“LGAX2A1376K128456”),请核对",
        "单独看第11个字符更像“7”(读作“1”),请核对",
        "有易混的字母和数字(如 S/5、G/6、D/0、B/8),请核对",
    ],
    ids=["second-model", "digit-classifier", "twins"],
)
def test_a_vin_doubted_by_any_ocr_evidence_is_the_claims(store, reason):
    """Whatever OCR evidence doubted the VIN (the second model, the digit classifier, a
    letter's twin), the claim of exactly that VIN whose engine number the tag says too
    identifies it; the tag's doubted part number then follows."""
    record = tag("261130-0000000030", "YC4E14020", vin_status="check")
    vin = next(f for f in record["fields"] if f["key"] == "vin")
    vin["reason"] = reason
    got = fields_of(filed(store, record))
    assert got["vin"]["status"] == "ok" and got["vin"]["evidence"][-1] == "claim"
    assert got["part_no"]["status"] == "ok"


def test_a_station_name_corroborated_is_spelt_as_the_list_spells_it(store):
    """长沙顺达汽车维修站 is on the list; a reading that differs from it only in case or
    width (4s for 4S, full-width letters) is the list's name, whether it was doubted (and
    so made ok) or already ok."""
    store.add_station(Station(code="GX02", name="南宁众诚4S店"))
    for n, status in enumerate(["check", "ok"]):
        doubted = {"sender_unit": {"status": status, "reason": LOW if status == "check" else None}}
        record = tag(f"261130-000000004{n}", "YC4E14020", **doubted)
        cell = next(f for f in record["fields"] if f["key"] == "sender_unit")
        cell["value"] = cell["raw"] = "南宁众诚４s店"
        scan, _ = store.put_scan(
            record["document_id"].encode(), "t.jpg", "image/jpeg", "s1", "HN01"
        )
        save_read_records(store, scan.sha256, [record], "HN01")
        summaries, _ = store.list_records()
        mine = next(s for s in summaries if s.document_id == record["document_id"])
        got = fields_of(store.get_record(mine.record_id).record)["sender_unit"]
        assert got["status"] == "ok" and got["value"] == "南宁众诚4S店", status
        assert got["raw"] == "南宁众诚４s店"  # what was read stays on record
