"""A decimal read without its point goes to review (issue 10: a figure dropped or run
together is wrong at full confidence; extract/evidence.py `point_unread`).

The crops are Long Cang (the held-out face) as the reader cut them from scanned 表格13 and
表格04 pages (seed 293): 3.5 and 1.0 with the point written into the foot of a figure,
read 35 and 10 by both views and marked ok before."""

from __future__ import annotations

from pathlib import Path

import cv2
import pytest

from formdesk.extract.charsets import charset, clean_ocr
from formdesk.extract.evidence import point_unread
from formdesk.extract.ocr import default_engine
from formdesk.templates.schema import FieldType

HANDS = Path(__file__).parent / "data" / "hands"


@pytest.mark.parametrize(
    ("raw", "decimals", "doubted"),
    [
        ("35", 1, True),
        ("10", 1, True),
        ("3.5", 1, False),
        ("7", 1, False),  # one figure: no point can hide between figures
        ("0005", 3, True),
        ("0.005", 3, False),
        ("120", None, True),  # no places given: two, as normalize keeps them
        ("120", 0, False),  # a field of whole numbers
    ],
)
def test_point_unread(raw, decimals, doubted):
    assert point_unread(raw, decimals) is doubted


@pytest.mark.parametrize(
    ("name", "written"),
    [("longcang_point_in_foot.png", "3.5"), ("longcang_point_in_foot_1.png", "1.0")],
)
def test_a_point_in_the_foot_of_a_figure_is_not_read_and_so_doubted(name, written):
    crop = cv2.imread(str(HANDS / name))
    got = default_engine().recognize([crop], charset(FieldType.decimal))[0]
    text = clean_ocr(FieldType.decimal, got.text)
    assert text == written.replace(".", ""), got.text  # the point is lost, as on the page
    assert point_unread(text, 1)
