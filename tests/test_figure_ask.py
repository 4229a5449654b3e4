"""A figure the digit classifier doubts needs the second model's firm word (issue 10:
MNIST figures misread by the first model and its second view alike were ok;
extract/evidence.py `figure_asked`, FIGURE_ASK, FIGURE_CROSS_FLOOR).

The crop is a real handwritten MNIST-digit date (mnist-cal, the calibration half of the
digits) as the reader cut it from a phone photo of 表格15: 2024年8月6日, read 2024年5月6日 at
0.886 with the second view agreeing; the classifier gives the 5 to an 8 (0.576), and the
second model reads the same only at 0.592."""

from __future__ import annotations

from pathlib import Path

import cv2
import pytest

from formdesk.extract.charsets import charset
from formdesk.extract.evidence import FIGURE_ASK, FIGURE_VETO, figure_asked, same_value
from formdesk.extract.figure_check import figure_opinion
from formdesk.extract.ocr import default_engine
from formdesk.extract.ocr.cross import cross_model
from formdesk.templates.schema import FieldType

HANDS = Path(__file__).parent / "data" / "hands"


@pytest.mark.parametrize(
    ("doubt", "cross", "asked"),
    [
        (None, None, False),  # no figure judged
        (0.3, None, False),  # little doubt: the type's own rule decides
        (0.5, None, False),
        (0.58, 0.59, True),  # the second model reads the same, but weakly
        (0.58, None, True),  # it read otherwise, or could not run
        (0.58, 0.95, False),  # it reads the same firmly
    ],
)
def test_figure_asked(doubt, cross, asked):
    assert figure_asked(doubt, cross) is asked


@pytest.mark.skipif(cross_model() is None, reason="the second model is not installed")
def test_a_doubted_mnist_date_read_weakly_by_the_second_model_is_asked():
    crop = cv2.imread(str(HANDS / "mnist_date_doubt.png"))
    chars = charset(FieldType.date)
    first = default_engine().recognize([crop], chars)[0]
    assert first.text == "2024年5月6日", first.text  # the 8 misread, as on the photo
    opinion = figure_opinion(crop, first.text, first.char_x)
    assert FIGURE_ASK < opinion.doubt <= FIGURE_VETO, opinion  # under the fixed veto
    assert first.text[opinion.at] == "5" and opinion.other == "8", opinion
    other = cross_model().recognize([crop], chars)[0]
    assert same_value(first.text, other.text), other.text  # both models read it so
    assert figure_asked(opinion.doubt, other.score)


@pytest.mark.parametrize("name", ["longcang_datetime_0.png", "longcang_datetime_1.png"])
def test_figures_the_classifier_trusts_are_not_asked(name):
    crop = cv2.imread(str(HANDS / name))
    first = default_engine().recognize([crop], charset(FieldType.datetime))[0]
    opinion = figure_opinion(crop, first.text, first.char_x)
    assert opinion.seen and not figure_asked(opinion.doubt, None), opinion
