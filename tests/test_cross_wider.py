"""The second model's second look (extract/evidence.merged_doubles, wider_view): PP-OCRv4
runs two narrow equal figures together (a running hand's 11 read 1) where its time
steps are too wide for them; that is no disagreement until the line, drawn wider, is
read again.  The crops are date-times written in Long Cang (OFL), the held-out
handwriting font, as the generator writes them."""

from __future__ import annotations

from pathlib import Path

import cv2
import pytest

from formdesk.extract.charsets import charset
from formdesk.extract.evidence import merged_doubles, wider_view
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


def test_the_crops_are_there():
    assert len(list(HANDS.glob("longcang_datetime_*.png"))) == 3
