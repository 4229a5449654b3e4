"""What the reader undoes of OCR's habits before a value is checked (extract/charsets.py),
and what it refuses to guess: plates (GA 36-2018: no I or O in the serial), plates written
in text fields, codes in text fields."""

from __future__ import annotations

import pytest

from formdesk.extract.charsets import clean_ocr, date_splits, plate_shaped
from formdesk.extract.fields import _checked, _Reading
from formdesk.templates import get_template
from formdesk.templates.schema import FieldType


@pytest.mark.parametrize(
    ("read", "clean"),
    [
        ("湘DOER49", "湘D0ER49"),  # O in the serial is 0
        ("湘A1234I", "湘A12341"),  # I in the serial is 1
        ("湘0A1234", "湘DA1234"),  # the city letter is a letter
        ("粤AD12345", "粤AD12345"),  # new energy, untouched
    ],
)
def test_plate_serials_hold_no_i_or_o(read, clean):
    assert clean_ocr(FieldType.plate, read) == clean


@pytest.mark.parametrize(
    ("read", "clean"),
    [
        ("湘DRGGOP", "湘DRGG0P"),
        ("湘d4zmon", "湘D4ZM0N"),
        ("休息", "休息"),  # a word in the same slot
        ("wx20260301", "WX20260301"),  # a code
        ("途观L", "途观L"),
        ("30000KM保养", "30000km保养"),  # the unit is km
        ("5000 Km首保", "5000km首保"),
        ("KM20", "KM20"),  # a code stays a code
    ],
)
def test_a_plate_in_a_text_field_is_cleaned_as_a_plate(read, clean):
    assert clean_ocr(FieldType.text, read) == clean


def test_plate_shape():
    assert plate_shaped("湘J31352") and plate_shaped("粤AD12345")
    assert not plate_shaped("湘J3135") and not plate_shaped("休息") and not plate_shaped("J31352X")


def _slot():
    table = get_template("表格02").field("staff_schedule")
    return next(c for c in table.columns if c.key == "slot_0800")


def test_a_plate_shaped_text_that_is_no_plate_is_not_a_value():
    """湘J31352 read 湘531352 at 0.997: the city letter read as a digit."""
    r = _checked(_slot(), _Reading("湘531352", 0.997, []))
    assert r.error is not None and "车牌号" in r.error
    good = _checked(_slot(), _Reading("湘JDOER4", 0.997, []))
    assert good.error is None and good.value == "湘JD0ER4"
    word = _checked(_slot(), _Reading("培训", 0.99, []))
    assert word.error is None and word.value == "培训"


def test_a_vins_last_four_characters_are_figures():
    """ISO 3779 / GB 16735: the VIS ends in four figures; a letter read there is the
    figure it looks like (the check digit then decides)."""
    assert clean_ocr(FieldType.vin, "LGBD7RES1RK00S099") == "LGBD7RES1RK005099"
    assert clean_ocr(FieldType.vin, "LGAX2A1376K12345G") == "LGAX2A1376K123456"
    assert clean_ocr(FieldType.vin, "LGAX2A1376KS23456") == "LGAX2A1376KS23456"  # 13th: any


@pytest.mark.parametrize(
    ("pattern", "chars"),
    [
        (r"[0-9A-Z][0-9A-Z.\-/]{2,24}", "-./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
        ("质量|非质量|待定", "定待质量非"),
        ("[优良中差]", "中优差良"),
        ("(SP|WX)[0-9]+", "0123456789PSWX"),
        (".*", None),  # any character
        (r"\w+", None),
        ("[^a]", None),
        ("A(?=B)", None),
        ("[", None),  # not a pattern at all
    ],
)
def test_a_pattern_that_names_every_character_it_admits_is_the_charset(pattern, chars):
    from formdesk.extract.charsets import pattern_charset

    assert pattern_charset(pattern) == chars


def test_fields_are_read_with_the_characters_their_template_admits():
    from formdesk.extract.charsets import charset, field_charset

    tag = {f.key: f for f in get_template("SH-ZH/BD-27").fields}
    assert set(field_charset(tag["part_no"])) == set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ.-/")
    assert field_charset(tag["sender_unit"]) is None  # free text: anything
    assert field_charset(tag["vin"]) == charset(FieldType.vin)  # the type's own
    report = get_template("SH-ZH/BD-23")
    table = next(f for f in report.fields if f.type == FieldType.table)
    verdict = next(c for c in table.columns if c.constraints.pattern == "质量|非质量|待定")
    assert field_charset(verdict) == "定待质量非"


@pytest.mark.parametrize(
    ("read", "clean"),
    [
        ("W×20241016-034", "WX20241016-034"),  # a work order number
        ("w×2026031556", "WX2026031556"),
        ("K7、×3000", "K7、X3000"),  # model names listed
        ("×3000", "X3000"),
        ("3×4", "3×4"),  # between figures it is a multiplication sign
        ("轮胎2×4", "轮胎2×4"),
    ],
)
def test_a_handwritten_x_read_as_the_multiplication_sign_is_a_letter(read, clean):
    assert clean_ocr(FieldType.text, read) == clean


def test_a_plate_written_in_a_text_field_is_judged_as_a_plate():
    """表格02's time slots hold a plate or a word: a plate read there has the plate's rule
    (random letters and figures, no check: never ok on OCR alone), a word the text's."""
    from formdesk.extract.evidence import rule_for
    from formdesk.extract.fields import judged_as

    assert judged_as(FieldType.text, "云AWM60Y") == FieldType.plate
    assert judged_as(FieldType.text, "保养") == FieldType.text
    assert judged_as(FieldType.text, None) == FieldType.text
    assert judged_as(FieldType.engine_no, "云AWM60Y") == FieldType.engine_no
    assert rule_for(judged_as(FieldType.text, "湘A8S151")).min_score > 1.0


@pytest.mark.parametrize("read", ["MA24125F", "MAD7CE3", "MAJOT6G", "AT4V63", "BC8RMJW"])
def test_a_plate_whose_province_was_lost_is_a_plate_in_a_slot(read):
    """In a cell that holds a plate or a word (表格02's slots, `holds_plates`), letters and
    figures alone are a plate whose province was dropped or read as a letter: 冀A24125F
    read MA24125F, 冀AD7CE3 read MAD7CE3 and 冀AJ0T6G read MAJOT6G were ok as text
    (ZCOOL KuaiLe, cal seed 29); elsewhere such a reading is a code (EQ1180GZ, a model)."""
    from formdesk.extract.evidence import rule_for
    from formdesk.extract.fields import judged_as
    from formdesk.templates import get_template

    slot = get_template("表格02").spec("staff_schedule.slot_1100")
    assert slot.holds_plates
    assert judged_as(FieldType.text, read, slot.holds_plates) == FieldType.plate
    assert rule_for(judged_as(FieldType.text, read, True)).min_score > 1.0
    assert judged_as(FieldType.text, read) == FieldType.text  # a code, outside a slot
    assert not get_template("表格02").spec("staff_schedule.staff_name").holds_plates


@pytest.mark.parametrize(
    "read", ["鄂A·12345", "鄂A-1W4TB", "1AU4311", "3A8C3Y6", "AT4V-63", "云A U4311"]
)
def test_a_plate_with_separators_or_a_figure_for_its_province_is_a_plate_in_a_slot(read):
    """A slot's plate written with a separator (鄂A·12345, GA 36-2018's dot copied), or
    with its province read as a figure (川 read 1), is still a plate: judged as text it
    could be ok on OCR alone (a review of the slot rule found both missed)."""
    from formdesk.extract.fields import judged_as

    assert judged_as(FieldType.text, read, True) == FieldType.plate


@pytest.mark.parametrize("read", ["休息", "培训", "ABCDEF", "A1", "保养A1234", "9:30", "1-2号"])
def test_words_in_a_slot_are_text(read):
    """In a 表格02 slot (`holds_plates`) a word, a short code or a plate-like run with
    Chinese in it is judged as text, not as a plate whose province was lost."""
    from formdesk.extract.fields import judged_as

    assert judged_as(FieldType.text, read, True) == FieldType.text


@pytest.mark.parametrize("read", ["云AU431", "鄂A/WATB", "鄂AFL>261", "粤B1234学"])
def test_a_misread_plate_in_a_text_field_is_judged_as_a_plate(read):
    """A plate misread (a figure dropped, a 1 read /, a 7 read >) is no longer
    plate-shaped, yet it begins as a plate does — a province and its city letter — and
    holds no other Chinese: still a plate's reading, never ok on OCR alone (held-out
    mnist-eval, seed 163: 云AU4311, 鄂A1W4TB and 鄂AFL7261 read so were ok)."""
    from formdesk.extract.fields import judged_as

    assert judged_as(FieldType.text, read) == FieldType.plate


@pytest.mark.parametrize("read", ["美AMOH68", "美A8C3Y6", "关AL769K", "第A71FLE"])
def test_a_plate_whose_province_was_misread_is_judged_as_a_plate(read):
    """A plate in 表格02's slots whose province 冀 was read as another character (美, 关,
    第) is no plate-shaped reading, and as text it was ok (冀AM0H68 read 美AMOH68 and
    冀A8C3Y6 read 美A8C3Y6, cal seed 19): a Chinese character, a letter and 4–6 letters or
    figures is a plate's reading all the same."""
    from formdesk.extract.fields import judged_as

    assert judged_as(FieldType.text, read) == FieldType.plate


@pytest.mark.parametrize(
    "text", ["新A柱", "京A", "川A区域", "保养", "湘潭市", "A01", "东风EQ1090", "型号A1", "解放J6P"]
)
def test_text_that_only_starts_like_a_plate_is_text(text):
    from formdesk.extract.fields import judged_as

    assert judged_as(FieldType.text, text) == FieldType.text


@pytest.mark.parametrize(
    ("text", "splits"),
    [
        ("2024710", ["2024-7-10", "2024-71-0"]),  # only the first is a date
        ("2024112", ["2024-1-12", "2024-11-2"]),  # two dates: the slots decide
        ("2023 12 04", ["2023-12-04"]),
        ("202447", ["2024-4-7"]),
        ("22497", []),  # a year and one figure: no month and day
        ("2249", []),
        ("2024-7-10", []),  # not a run of figures
        ("２０２４７１０", []),  # full-width figures are no run here: the slots decide
    ],
)
def test_a_date_read_as_one_run_of_figures_splits_every_way(text, splits):
    """charsets.date_splits: year, month and day of a run of 5–8 figures."""
    assert date_splits(text) == splits


@pytest.mark.parametrize(
    ("text", "splits"),
    [
        ("20265281140", ["2026-5-28 11:40", "2026-52-8 11:40", "2026-52-81 1:40"]),
        ("202401 27 12 30", ["2024-01-27 12:30"]),
        ("2024127840", ["2024-1-2 78:40", "2024-1-27 8:40", "2024-12-7 8:40"]),  # two dates
        ("20241", []),  # too short for a day and a time
        ("2024-1-27 8:40", []),
    ],
)
def test_a_date_time_read_as_one_run_of_figures_splits_every_way(text, splits):
    """charsets.date_splits with a time: hour of one or two figures, then two of minutes."""
    assert date_splits(text, with_time=True) == splits
