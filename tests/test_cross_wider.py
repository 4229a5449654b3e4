"""The second model's second look (extract/evidence.merged_doubles, dropped_narrow,
wider_view): PP-OCRv4 runs two narrow equal figures together (a running hand's 11 read 1),
or leaves a lone 1 out, where its time steps are too wide for them; that is no
disagreement until the line, drawn wider, is read again.  A date slot's lone 1, read as
nothing, is read in three copies (extract/fields._slot_reading).  The crops are
date-times written in Long Cang (OFL), the held-out handwriting font, as the generator
writes them."""

from __future__ import annotations

from pathlib import Path

import cv2
import pytest

from formdesk.extract.charsets import charset
from formdesk.extract.evidence import dropped_narrow, merged_doubles, wider_view
from formdesk.extract.fields import _slot_reading
from formdesk.extract.ocr import default_engine
from formdesk.extract.ocr.cross import cross_model
from formdesk.templates.schema import FieldType

HANDS = Path(__file__).parent / "data" / "hands"


@pytest.mark.parametrize(
    ("first", "other", "merged"),
    [
        ("2025-11-26", "2025-1-26", True),
        ("2025-11-18 15:25", "2025-1-18 1525", True),  # the colon squeezed out too
        ("2025-11-15 11:15", "2025-1511:15", True),
        ("LSGUXK2011", "LSGUXK201", True),
        ("2025-11-26", "2025-11-26", False),  # the same: nothing merged
        ("2025-11-26", "2025-1-27", False),  # another figure besides
        ("1", "11", False),  # a figure more, not one less
        ("2025-11-26", "2025-26", False),  # both 1s gone: a figure lost, not merged
        ("", "", False),
    ],
)
def test_merged_doubles(first, other, merged):
    assert merged_doubles(first, other) is merged


@pytest.mark.skipif(cross_model() is None, reason="the second model is not installed")
@pytest.mark.parametrize("name", sorted(p.name for p in HANDS.glob("longcang_datetime_*.png")))
def test_the_second_model_reads_doubled_figures_once_and_right_when_drawn_wider(name):
    crop = cv2.imread(str(HANDS / name))
    chars = charset(FieldType.datetime)
    first = default_engine().recognize([crop], chars)[0].text
    model = cross_model()
    narrow = model.recognize([crop], chars)[0].text
    wide = model.recognize([wider_view(crop)], chars)[0].text
    assert narrow != first and merged_doubles(first, narrow), (first, narrow)
    assert wide == first, (first, wide)


@pytest.mark.parametrize(
    ("first", "other", "dropped"),
    [
        ("400-401-5611", "400-401-561", True),  # Long Cang, 表格04's rescue phone
        ("2025年1月13日", "2025年月13日", True),
        ("LBVHRAPG8M3174661", "LBVHRAPG8M317466", True),
        ("400-401-5611", "400-401-5611", False),  # the same
        ("400-401-5611", "400-401-611", False),  # a 5 is no narrow figure
        ("400-401-5611", "400-401-56", False),  # two figures gone
        ("2025年1月13日", "2025年7月13日", False),
        ("", "", False),
    ],
)
def test_dropped_narrow(first, other, dropped):
    assert dropped_narrow(first, other) is dropped


@pytest.mark.skipif(cross_model() is None, reason="the second model is not installed")
@pytest.mark.parametrize("name", sorted(p.name for p in HANDS.glob("longcang_slot_one_*.png")))
def test_a_lone_one_in_a_date_slot_is_read_in_three_copies(name):
    """A month's or an hour's lone 1 as the reader cuts it from its date slot: the
    second model reads it as nothing alone, and as 111 in three copies side by side."""
    crop = cv2.imread(str(HANDS / name))
    model = cross_model()
    assert model.recognize([crop], "0123456789")[0].text == ""
    assert _slot_reading(model, crop).text == "1"
    assert _slot_reading(default_engine(), crop).text == "1"


@pytest.mark.skipif(cross_model() is None, reason="the second model is not installed")
def test_a_wide_slot_or_one_read_is_read_once():
    """Only a narrow crop read as nothing is read again: a slot read as something (or
    one as wide as two figures and more) keeps its one reading."""
    crop = cv2.imread(str(HANDS / "longcang_slot_one_0.png"))
    wide = cv2.copyMakeBorder(crop, 0, 0, 0, crop.shape[0] * 2, cv2.BORDER_REPLICATE)
    once = cross_model().recognize([wide], "0123456789")[0]
    assert _slot_reading(cross_model(), wide).text == once.text


def test_the_crops_are_there():
    assert len(list(HANDS.glob("longcang_datetime_*.png"))) == 3
    assert len(list(HANDS.glob("longcang_slot_one_*.png"))) == 3
