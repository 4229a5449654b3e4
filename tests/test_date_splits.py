"""A date (or date-time) whose slots do not hold the writing is read from the whole line's
run of figures (extract/fields._date_text): only a split every slot's figures agree with,
and never in place of a date the slots read themselves without review."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

import formdesk.extract.fields as fields
from formdesk.extract.ocr import Recognized
from formdesk.templates import get_template


def _date_text(monkeypatch, code: str, key: str, whole: str, slots: list[str]):
    """`_date_text` of a line read whole as `whole`, its slots read as `slots` in turn."""
    read = iter(slots)
    monkeypatch.setattr(fields, "_slot_reading", lambda engine, crop: Recognized(next(read), 0.99))
    form = SimpleNamespace(text_crop=lambda *a, **k: np.zeros((10, 10), np.uint8))
    template = get_template(code)
    ctx = SimpleNamespace(template=template, form=form, engine=None)
    return fields._date_text(ctx, template.field(key), whole, 0.95)


@pytest.mark.parametrize(
    ("code", "key", "whole", "slots", "expected"),
    [
        # the year's slot cut through wide figures: the whole line, the slots agreeing
        ("SH-ZH/BD-27", "purchase_date", "2022731", ["202", "7", "3"], ("2022-07-31", False)),
        # 2024 11 2 with a 1 dropped from the line: 2024-01-02 would contradict the month
        # slot's 11 — the slots' own (invalid) reading stays
        ("SH-ZH/BD-27", "purchase_date", "202412", ["202", "11", "2"], None),
        # 11:40 with a 1 dropped from the line, the hour's slot reading 11: not 01:40
        ("表格04", "promised_delivery_time", "2026528140", ["026", "5", "28", "11", "40"], None),
    ],
)
def test_a_split_must_hold_every_slots_figures(monkeypatch, code, key, whole, slots, expected):
    text, _, lost = _date_text(monkeypatch, code, key, whole, slots)
    if expected is None:
        assert "-" not in text  # the slots' reading (年/月/日), not a split
    else:
        assert (text, lost) == expected


@pytest.mark.parametrize(
    ("code", "key", "whole", "slots", "value"),
    [
        # a valid date from the slots, a figure fewer than the line (a stray stroke read 1
        # in the line, or a 1 the day's slot dropped): which is right is for review
        ("SH-ZH/BD-27", "purchase_date", "2024711", ["2024", "7", "1"], "2024-07-11"),
        # an hour's 11 read 1 in its slot: the line's 11:40 is shown, still for review
        ("表格04", "promised_delivery_time", "20265281140", ["2026", "5", "28", "1", "40"],
         "2026-05-28 11:40"),
    ],
)  # fmt: skip
def test_a_split_beside_a_date_the_slots_read_stays_for_review(
    monkeypatch, code, key, whole, slots, value
):
    text, _, lost = _date_text(monkeypatch, code, key, whole, slots)
    assert text == value and lost
