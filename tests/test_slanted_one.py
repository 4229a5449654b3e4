"""A stroke read as / or | beside a figure in a text field is a slanted 1 until a person
says otherwise (issue 10: "1 read as | or /"; extract/evidence.py `slanted_one`)."""

from __future__ import annotations

import pytest

from formdesk.extract.evidence import (
    SLANTED_ONE,
    SLASHES_AS_ONES,
    slanted_one,
    slashes_read_as_ones,
)
from formdesk.extract.reader import FormReader

from .pages import scanned_tag


@pytest.mark.parametrize(
    ("text", "doubtful"),
    [
        ("工业大道8//号", True),  # 811号
        ("EQ1/68GLJ", True),  # EQ1168GLJ
        ("1|5", True),
        ("工位\\3", True),
        ("/号工位", True),  # 1号工位: a slash where the value starts
        ("快修|", True),  # 快修1: where it ends
        ("A/号", True),  # before a counter word, where a number belongs
        ("轩逸/.GL", True),  # 轩逸1.6L: beside a decimal point
        ("A./B", True),  # only beside the point: a slash there is a 1 all the same
        ("发动机/变速箱", False),
        ("长沙/湘潭", False),  # a slash between words is a slash
        ("1011010-E02", False),
        ("待料", False),
    ],
)
def test_a_stroke_beside_a_figure(text, doubtful):
    assert slanted_one(text) is doubtful


def test_a_read_slash_beside_a_figure_goes_to_review(key):
    """A handwritten BD-27 tag whose vehicle model holds a slash between figures, read
    by the real engine: the slash is read, and the field is not ok whatever its score;
    the tag's other text fields are not held for it."""
    data, _values = scanned_tag(key, 5, 90, vehicle_model="EQ1/68")
    [rec] = FormReader(key).read_file(data, "tag.jpg").records
    got = {f.key: f for f in rec.fields}
    model = got["vehicle_model"]
    assert "/" in str(model.value), model
    assert model.status == "check" and model.reason == SLANTED_ONE
    assert not any(f.reason == SLANTED_ONE for k, f in got.items() if k != "vehicle_model")


@pytest.mark.parametrize(
    ("raw", "other"),
    [
        ("20261116", "2026-01-06"),  # 2026/1/6, its slashes read as 1s (MNIST, seed 283)
        ("20251112", "2025-01-02"),
        ("20261216", "2026-02-06"),  # 2026/2/6
        ("20261226", None),  # no 1 where the second slash would be
        ("20250315", None),  # no 1 after the year
        ("20261113", "2026-01-03"),
        ("2026-1-16", None),  # separators read: nothing to doubt
        ("2026111", None),  # not eight figures
        ("20261110", None),  # 2026/1/0 is no date
    ],
)
def test_a_date_of_bare_figures_whose_ones_may_be_slashes(raw, other):
    assert slashes_read_as_ones(raw) == other
    if other:
        assert other in SLASHES_AS_ONES.format(other=other)
