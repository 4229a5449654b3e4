"""Field types refuse what a real form could not hold, with a reason a user understands."""

from __future__ import annotations

from decimal import Decimal

import pytest

from formdesk.templates import get_template
from formdesk.templates.values.dates import parse_date, parse_datetime, parse_month
from formdesk.templates.values.identifiers import (
    canonical_phone,
    engine_no_problem,
    phone_problem,
    plate_problem,
)
from formdesk.templates.values.money import amount_in_words, parse_amount, parse_amount_words
from formdesk.templates.values.normalize import (
    FieldValueError,
    correction_value,
    normalize,
    normalize_record,
)
from formdesk.templates.values.vin import correct_single_confusion, vin_problem, with_check_digit

VALID_VIN = "1M8GDM9AXKP042788"  # the ISO 3779 textbook example


def test_vin_check_digit_alphabet_and_length():
    assert vin_problem(VALID_VIN) is None
    assert "第9位" in vin_problem(VALID_VIN[:8] + "1" + VALID_VIN[9:])
    assert "I、O、Q" in vin_problem("LGAX2A13O6K123456")
    assert "17位" in vin_problem("LGAX2A1376K12345")
    assert vin_problem(with_check_digit("LGAX2A1306K123456")) is None


def test_vin_ocr_confusion_is_corrected_only_when_unambiguous():
    good = with_check_digit("LGAX2A1306K123456")
    misread = good.replace("0", "O", 1)  # handwriting OCR's favourite mistake
    assert correct_single_confusion(misread) == good
    assert correct_single_confusion("LGAX2A13XXXXXXXXX") is None


@pytest.mark.parametrize(
    "text", ["2026年3月15日", "2026-03-15", "2026.3.15", "26年3月15日", "2026/03/15", "20260315"]
)
def test_chinese_dates(text):
    assert parse_date(text).isoformat() == "2026-03-15"


@pytest.mark.parametrize(
    "text,reason", [("2026年13月40日", "月份"), ("2026-02-30", "没有30日"), ("上周三", "无法识别")]
)
def test_impossible_dates_say_why(text, reason):
    with pytest.raises(ValueError, match=reason):
        parse_date(text)


@pytest.mark.parametrize(
    "text,year",
    [
        ("0000-01-01", "0"),  # once 2000-01-01
        ("0001-01-01", "1"),  # once 2001-01-01
        ("0099-12-31", "99"),  # once 2099-12-31
        ("9999-12-31", "9999"),
        ("1989-12-31", "1989"),
        ("2100-01-01", "2100"),
        ("00010101", "1"),
        ("2150年1月1日 8:00", "2150"),
    ],
)
def test_a_four_digit_year_is_taken_as_written_and_must_be_plausible(text, year):
    parse = parse_datetime if ":" in text else parse_date
    with pytest.raises(ValueError, match=f"年份应在 1990–2099 年之间,而不是 {year} 年"):
        parse(text)


def test_dates_at_the_ends_of_the_range_and_two_digit_years():
    assert parse_date("1990-01-01").isoformat() == "1990-01-01"
    assert parse_date("2099年12月31日").isoformat() == "2099-12-31"
    assert parse_date("00/1/1").isoformat() == "2000-01-01"  # two digits: 20xx
    assert parse_month("99.12").isoformat() == "2099-12-01"
    with pytest.raises(ValueError, match="年份应在"):
        parse_month("1900-01")


def test_amounts_are_never_rounded_silently():
    assert str(parse_amount("1,200.50")) == "1200.50"
    assert str(parse_amount("-0")) == "0.00" and str(parse_amount("-0.00")) == "0.00"
    assert str(parse_amount("1.500")) == "1.50"  # spare zeros change nothing
    assert str(parse_amount(0.1 + 0.2)) == "0.30"  # a double's 15 digits, as spreadsheets show
    assert str(parse_amount("7.5", 1)) == "7.5"
    for text in ("0.001", "12.345", "0.0001", "-0.005"):
        with pytest.raises(ValueError, match="最多 2 位小数,即到分"):
            parse_amount(text)
    with pytest.raises(ValueError, match=r"最多 1 位小数\)"):
        parse_amount("7.25", 1)


def test_a_signature_or_seal_is_corrected_as_there_or_not():
    fees = get_template("SH-ZH/BD-21")
    signature, seal = fees.field("filled_by"), fees.field("station_seal")
    assert correction_value(signature, True) is True
    assert correction_value(signature, " 已签字 ") is True
    assert correction_value(signature, False) is None
    assert correction_value(seal, "已盖章") is True and correction_value(seal, "未盖章") is None
    for raw in ("yes", 0, 1, "true", "张伟", "已盖章"):
        with pytest.raises(ValueError, match="只能更正为“已签字”"):
            correction_value(signature, raw)
    # printing still puts a name in a signature box; other fields are checked as typed
    assert normalize(signature, "张伟") == "张伟"
    assert correction_value(fees.field("labor_fee"), "-0") == "0.00"


def test_month_and_datetime():
    assert parse_month("2026年11月").isoformat() == "2026-11-01"
    assert parse_datetime("2026年3月15日 14时30分").isoformat() == "2026-03-15T14:30:00"
    assert parse_datetime("2026-03-15 9:05").minute == 5


def test_amount_words_both_ways():
    assert amount_in_words(Decimal("1200")) == "壹仟贰佰元整"
    assert amount_in_words(Decimal("1005.05")) == "壹仟零伍元零伍分"
    assert parse_amount_words("壹仟贰佰叁拾肆元伍角陆分") == Decimal("1234.56")
    assert parse_amount_words("壹拾万元整") == Decimal("100000.00")


def test_plates_engine_numbers_and_phones():
    for plate in ["湘A12345", "粤AD12345", "粤A12345D", "京B1234学"]:
        assert plate_problem(plate) is None, plate
    assert plate_problem("湘AI2345") and plate_problem("A12345")
    assert engine_no_problem("YC4E14020") is None and engine_no_problem("yc") is not None
    for phone in ["13812345678", "0731-84561234", "400-800-1234"]:
        assert phone_problem(phone) is None, phone
    assert phone_problem("1381234") is not None


def test_landlines_follow_the_numbering_plan():
    """010 and 02x are the only 3-digit area codes (8-digit local numbers); the rest have
    4 digits; a local number never begins with 0 or 1.  A `-` left out is put back where
    the plan says the code ends, which is also what a reading that missed it gives."""
    for raw, canonical in [
        ("073184561234", "0731-84561234"),
        ("07318456123", "0731-8456123"),
        ("01088561234", "010-88561234"),
        ("020 8856 1234", "020-88561234"),
        ("0731-84561234", "0731-84561234"),
        ("0731-84561234-808", "0731-84561234-808"),
        ("13812345678", "13812345678"),
        ("400-800-1234", "400-800-1234"),
    ]:
        assert phone_problem(raw) is None, raw
        assert canonical_phone(raw) == canonical, raw
    # a 02x code followed by a 7-digit number, a 4-digit 02xx code, a local number
    # beginning with 0 or 1, an 01x code other than 010: none is a number anyone dials
    for bad in ["021-8856123", "0231-8856123", "0731-08561234", "0731-1856123", "0123-8856123"]:
        assert phone_problem(bad) is not None, bad


def test_record_errors_name_the_field():
    tag = get_template("SH-ZH/BD-27")
    cases = {
        "vin": ("LGAX2A13O6K123456", "车架号码"),
        "mileage_km": ("四万八", "行驶里程"),
        "purchase_date": ("2026年13月40日", "购买日期"),
        "part_origin": ("进口零部件", "产地"),
    }
    for key, (value, label) in cases.items():
        with pytest.raises(FieldValueError, match=label):
            normalize_record(tag, {key: value})
    with pytest.raises(FieldValueError, match="没有这个栏目"):
        normalize_record(tag, {"colour": "红"})


def test_money_words_are_derived_and_must_agree():
    quote = get_template("表格03")
    money = next(f for f in quote.fields if f.type == "money_words")
    clean = normalize_record(quote, {money.words_of: "1200"})
    assert clean[money.key] == "壹仟贰佰元整"
    with pytest.raises(FieldValueError, match="不符"):
        normalize_record(quote, {money.words_of: "1200", money.key: "壹仟元整"})
