"""A 1 whose piece holds two strokes side by side is doubted: 11 written close enough to
touch is read as one 1 by both models (extract/figure_check.py `_strokes_across`,
FigureOpinion.doubled; reason DOUBLED_ONE).

The crops are Long Cang (the held-out face) as the reader cut them from scanned pages: a
表格06's 2025年3月29日11时20 (seed 313), read …1时20 by PP-OCRv6 and the second model, and
a BD-20 cell's 11 read 1 (seed 317), both ok before."""

from __future__ import annotations

from pathlib import Path

import cv2
import pytest

from formdesk.extract.charsets import charset
from formdesk.extract.figure_check import figure_opinion
from formdesk.extract.ocr import default_engine
from formdesk.templates.schema import FieldType

HANDS = Path(__file__).parent / "data" / "hands"


@pytest.mark.parametrize(
    ("name", "kind", "read", "at"),
    [
        ("longcang_hour_11_touching.png", FieldType.datetime, "2025年3月29日1时20", 10),
        # a BD-20 table cell, 11 (seed 317): the strokes part only in their lower third
        ("longcang_count_11_touching.png", FieldType.integer, "1", 0),
    ],
)
def test_eleven_run_together_and_read_as_one_is_doubted(name, kind, read, at):
    crop = cv2.imread(str(HANDS / name))
    got = default_engine().recognize([crop], charset(kind))[0]
    assert got.text == read, got.text  # the 11 read as one 1
    assert figure_opinion(crop, got.text, got.char_x).doubled == at


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("longcang_datetime_0.png", FieldType.datetime),  # 2025-11-18 15:25
        ("longcang_datetime_1.png", FieldType.datetime),  # 2024-10-11 17:38
        ("longcang_datetime_2.png", FieldType.datetime),  # 11:15
        ("longcang_slot_one_2.png", FieldType.date),  # a lone 1
        ("longcang_point_in_foot_1.png", FieldType.decimal),  # 1.0, the point in its foot
        ("mnist_date_doubt.png", FieldType.date),
    ],
)
def test_ones_written_once_are_not_doubted(name, kind):
    crop = cv2.imread(str(HANDS / name))
    got = default_engine().recognize([crop], charset(kind))[0]
    assert "1" in got.text or name.startswith("mnist"), got.text
    assert figure_opinion(crop, got.text, got.char_x).doubled is None
