"""The reconciliation logic on claims and returned parts given directly: every outcome kind,
OCR-tolerant matching, the month boundary, and the warranty rules."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from formdesk.model.claims import Claim, Station
from formdesk.model.reconciliation import ReturnedItem
from formdesk.reconcile.engine import month_bounds, reconcile
from formdesk.reconcile.matching import confusable
from formdesk.reconcile.rules import RulesError, add_months, load_rules, parse_rules
from formdesk.templates.values.vin import with_check_digit

STATION = Station(code="ST01", name="长沙顺达汽车维修站")
RULES = load_rules()


def vin(n: int) -> str:
    return with_check_digit(f"LGBH52E0{n:01d}RY{n:06d}"[:17].ljust(17, "0"))


def claim(no: str, n: int, **over) -> Claim:
    data = dict(
        claim_no=no,
        station="ST01",
        vin=vin(n),
        engine_no=f"DK4{n:05d}",
        vehicle_model="轩逸",
        part_no=f"5519{n:03d}-E74",
        part_name="发电机总成",
        quantity=1,
        purchase_date=date(2025, 6, 1),
        repair_date=date(2026, 11, 5),
        mileage_km=23000 + n,
        fault_description="不发电",
        labor_fee=Decimal("120.00"),
        material_fee=Decimal("860.00"),
        source="import:test",
    )
    data.update(over)
    return Claim(**data)


def line(
    c: Claim, doc: str = "M1", row: int = 1, day: date = date(2026, 11, 17), **over
) -> ReturnedItem:
    data = dict(
        source="manifest_line",
        record_id=f"r-{doc}",
        document_id=doc,
        template="SH-ZH/BD-31",
        manifest_no=f"FC-{doc}",
        manifest_date=day,
        row=row,
        claim_no=c.claim_no,
        vin=c.vin,
        engine_no=c.engine_no,
        part_no=c.part_no,
        part_name=c.part_name,
        quantity=c.quantity,
    )
    data.update(over)
    return ReturnedItem(**data)


def tag(c: Claim, doc: str, template: str = "SH-ZH/BD-30", **over) -> ReturnedItem:
    data = dict(
        source="tag",
        record_id=f"r-{doc}",
        document_id=doc,
        template=template,
        claim_no=c.claim_no if template.endswith("30") else None,
        vin=c.vin,
        engine_no=c.engine_no,
        vehicle_model=c.vehicle_model,
        mileage_km=c.mileage_km,
        part_no=c.part_no,
        part_name=c.part_name,
        repair_date=c.repair_date,
    )
    data.update(over)
    return ReturnedItem(**data)


def run(claims, items, month="2026-11"):
    return reconcile(STATION, month, claims, items, RULES)


def kinds(rec) -> list[tuple[str, str | None, str | None]]:
    return sorted((o.kind, o.field, o.claim_no) for o in rec.outcomes)


def test_a_returned_part_matching_its_claim_is_matched():
    c = claim("SP0112345", 1)
    rec = run([c], [line(c), tag(c, "T1")])
    assert kinds(rec) == [("matched", None, "SP0112345")]
    assert rec.claims == 1 and rec.manifest_lines == 1 and rec.tags == 1
    assert {e.document_id for e in rec.outcomes[0].evidence} == {"M1", "T1"}


def test_claimed_but_not_returned_is_missing():
    c = claim("SP0112345", 1)
    rec = run([c], [])
    assert kinds(rec) == [("missing", None, "SP0112345")]
    assert "未返回" in rec.outcomes[0].message


def test_returned_without_claim_is_one_unexpected_outcome_per_part():
    c = claim("SP0112345", 1)
    stray = claim("SP0199999", 2)  # the next vehicle of the same fleet: VIN one digit away
    rec = run([c], [line(c), tag(c, "T1"), line(stray, row=2), tag(stray, "T2")])
    assert kinds(rec) == [("matched", None, "SP0112345"), ("unexpected", None, "SP0199999")]
    unexpected = next(o for o in rec.outcomes if o.kind == "unexpected")
    assert {(e.document_id, e.row) for e in unexpected.evidence} == {("M1", 2), ("T2", None)}


def test_quantity_compares_claim_manifest_and_tags():
    c = claim("SP0112345", 1, quantity=2)
    rec = run([c], [line(c, quantity=1), tag(c, "T1")])
    assert kinds(rec) == [("quantity", None, "SP0112345")]
    assert rec.outcomes[0].message == "数量不符:索赔 2 件,返厂清单 1 件,零件标签 1 张"
    ok = run([c], [line(c), tag(c, "T1"), tag(c, "T2")])
    assert kinds(ok) == [("matched", None, "SP0112345")]
    unlisted = run([c], [tag(c, "T1"), tag(c, "T2")])
    assert "未列入返厂清单" in unlisted.outcomes[0].message


@pytest.mark.parametrize(
    ("field", "wrong"),
    [("vin", vin(7)), ("engine_no", "DK499999"), ("vehicle_model", "天籁"), ("mileage_km", 99999)],
)
def test_each_compared_field_that_differs_is_reported(field, wrong):
    c = claim("SP0112345", 1)
    rec = run([c], [line(c), tag(c, "T1", **{field: wrong})])
    assert kinds(rec) == [("mismatch", field, "SP0112345")]
    o = rec.outcomes[0]
    assert o.claim_value == str(getattr(c, field)) and o.returned_values == [str(wrong)]
    assert o.evidence[0].document_id == "T1" and o.evidence[0].field_key == field


def test_a_part_tag_without_claim_number_matches_by_vin_or_engine_number():
    c = claim("SP0112345", 1)
    by_vin = run([c], [line(c), tag(c, "T1", template="SH-ZH/BD-27")])
    assert kinds(by_vin) == [("matched", None, "SP0112345")]
    wrong_vin = run([c], [line(c), tag(c, "T1", template="SH-ZH/BD-27", vin=vin(8))])
    assert kinds(wrong_vin) == [("mismatch", "vin", "SP0112345")]


def test_part_claimed_twice_is_a_duplicate_not_also_missing():
    first = claim("SP0112345", 1)
    again = claim("SP0154321", 1, repair_date=date(2026, 11, 12))
    rec = run([first, again], [line(first), tag(first, "T1")])
    assert kinds(rec) == [("duplicate", None, "SP0154321"), ("matched", None, "SP0112345")]
    assert "SP0112345" in next(o for o in rec.outcomes if o.kind == "duplicate").message


def test_part_returned_on_two_manifests_is_a_duplicate():
    c = claim("SP0112345", 1)
    rec = run([c], [line(c), line(c, doc="M2", row=4, day=date(2026, 12, 2)), tag(c, "T1")])
    assert kinds(rec) == [("duplicate", None, "SP0112345")]
    assert {e.document_id for e in rec.outcomes[0].evidence} == {"M1", "M2"}


def test_outside_the_models_warranty_period():
    car = claim("SP0112345", 1, purchase_date=date(2023, 10, 1))  # 37 months: cars have 36
    truck = claim("SP0112346", 2, vehicle_model="EQ1090TJ", purchase_date=date(2025, 10, 1))
    far = claim("SP0112347", 3, mileage_km=61000)
    inside = claim(
        "SP0112348", 4, vehicle_model="EQ1090TJ", purchase_date=date(2025, 12, 1), mileage_km=90000
    )
    claims = [car, truck, far, inside]
    items = [
        i for c in claims for i in (line(c, row=int(c.claim_no[-1])), tag(c, "T" + c.claim_no))
    ]
    rec = run(claims, items)
    assert kinds(rec) == [
        ("matched", None, "SP0112348"),
        ("outside_warranty", None, "SP0112345"),
        ("outside_warranty", None, "SP0112346"),
        ("outside_warranty", None, "SP0112347"),
    ]
    assert "12 个月" in next(o for o in rec.outcomes if o.claim_no == "SP0112346").message


def test_misread_claim_numbers_and_vins_still_match():
    c = claim("SP0110345", 1)
    # 0 read as O in the claim number; one VIN character wrong on the manifest
    bad_vin = c.vin[:10] + ("A" if c.vin[10] != "A" else "B") + c.vin[11:]
    rec = run([c], [line(c, claim_no="SPO11O345", vin=bad_vin), tag(c, "T1")])
    assert [(o.kind, o.field) for o in rec.outcomes] == [("mismatch", "vin")]
    # a claim number misread into nothing known, VIN and part number right
    rec = run([c], [line(c, claim_no="SP0119999"), tag(c, "T1")])
    assert kinds(rec) == [("matched", None, "SP0110345")]
    # no claim number (a part tag), VIN read unsure and one character off
    unsure = {"vin": (0.5, "check")}
    part_tag = tag(c, "T2", template="SH-ZH/BD-27", vin=bad_vin, engine_no=None, reading=unsure)
    rec = run([c], [line(c), part_tag])
    assert [(o.kind, o.field) for o in rec.outcomes] == [("mismatch", "vin")]
    assert rec.outcomes[0].doubtful


def test_a_difference_resting_on_an_unsure_reading_is_doubtful():
    c = claim("SP0112345", 1)
    unsure = tag(c, "T1", mileage_km=32000, reading={"mileage_km": (0.4, "check")})
    sure = tag(c, "T1", mileage_km=32000, reading={"mileage_km": (0.99, "ok")})
    confused = tag(c, "T1", engine_no=c.engine_no.replace("0", "O", 1))
    assert run([c], [line(c), unsure]).outcomes[0].doubtful
    assert not run([c], [line(c), sure]).outcomes[0].doubtful
    assert run([c], [line(c), confused]).outcomes[0].doubtful
    assert confusable("D310-563444", "0310-563444") and confusable("LSVDSCWV", "LSVD5CWV")
    assert not confusable("D310-563444", "D310-563445")


def test_month_boundary_late_returns_and_strays():
    late = claim("SP0112345", 1, repair_date=date(2026, 11, 29))
    december = claim("SP0112399", 2, repair_date=date(2026, 12, 3))
    stray_nov = claim("SP0177777", 3)
    stray_dec = claim("SP0188888", 4)
    items = [
        line(late, doc="M12", day=date(2026, 12, 2)),
        tag(late, "T1"),
        line(december, doc="M12", row=2, day=date(2026, 12, 2)),
        tag(december, "T2"),
        line(stray_nov, doc="M11", day=date(2026, 11, 17)),
        line(stray_dec, doc="M12", row=3, day=date(2026, 12, 2)),
    ]
    nov = run([late, december], items)
    assert kinds(nov) == [("matched", None, "SP0112345"), ("unexpected", None, "SP0177777")]
    dec = run([late, december], items, month="2026-12")
    assert kinds(dec) == [("matched", None, "SP0112399"), ("unexpected", None, "SP0188888")]


def test_month_and_rules_errors_are_chinese():
    assert month_bounds("2026-02") == (date(2026, 2, 1), date(2026, 2, 28))
    with pytest.raises(ValueError, match="无法识别的年月"):
        month_bounds("11/2026")
    assert month_bounds("2026年2月") == month_bounds("2026-02")
    with pytest.raises(RulesError, match="三包期规则文件"):
        parse_rules("default: {months: -1}", "x.yaml")
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)


def test_rules_file_in_the_data_folder_overrides_the_defaults(tmp_path):
    (tmp_path / "warranty_rules.yaml").write_text(
        "default: {months: 24, km: 50000}\nmodels:\n  - {match: '轩逸*', months: 48, km: 100000}\n",
        encoding="utf-8",
    )
    rules = load_rules(tmp_path)
    assert (rules.term_for("轩逸1.6L").months, rules.term_for("朗逸").km) == (48, 50000)


def test_a_tag_whose_part_number_was_not_read_matches_the_vehicles_claim():
    c = claim("SP0112345", 1)
    unread = tag(
        c, "T1", template="SH-ZH/BD-27", part_no=None, reading={"part_no": (0.2, "invalid")}
    )
    assert kinds(run([c], [line(c), unread])) == [("matched", None, "SP0112345")]
    by_engine = tag(c, "T1", template="SH-ZH/BD-27", part_no=None, vin=vin(9))
    assert kinds(run([c], [line(c), by_engine])) == [("mismatch", "vin", "SP0112345")]
    other = claim("SP0112399", 1, part_no="9999001-X")  # two parts claimed for that vehicle
    assert ("unexpected", None, None) in kinds(
        run([c, other], [line(c), line(other, row=2), unread])
    )


def test_a_manifest_quantity_alone_against_claim_and_tags_is_doubtful():
    c = claim("SP0112345", 1, quantity=2)
    rec = run([c], [line(c, quantity=22), tag(c, "T1"), tag(c, "T2")])
    assert kinds(rec) == [("quantity", None, "SP0112345")] and rec.outcomes[0].doubtful
    short = run([c], [line(c, quantity=1), tag(c, "T1")])  # manifest and tags agree: real
    assert not short.outcomes[0].doubtful
