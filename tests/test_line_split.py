"""Lines of a multi-line box (extract/fields.py `_split_lines`): a last line of one
character is its own line.  A remark 每周技术例会通报返修案例,加强技师力矩规范培训,质检增加路试项目
written on two lines, 目 alone on the second (MNIST-figure pages, held-out seed 499), was
one band of ink with no white row between the lines; the cut at its thinnest row was
refused because 目 held 2 % of the ink, the band was read as one line and 目 was dropped —
ok at 0.93, a wrong value the back office would never have seen."""

from __future__ import annotations

import numpy as np

from formdesk.extract.fields import _split_lines


def _band(last_line: bool = True, tails: bool = False) -> np.ndarray:
    """A box's ink (rows × columns): 28 characters 40 px tall on rows 8–48 with the
    strokes' feet reaching row 60, and (`last_line`) one character on rows 55–87 at
    the left, beside those feet; (`tails`) long tails from three characters down to row
    85 instead, each joined to its character."""
    ink = np.zeros((100, 1500), np.uint8)
    for k in range(28):
        x = 10 + 52 * k
        ink[8:48, x : x + 40] = 1
        ink[48:60, x + 18 : x + 21] = 1  # a foot
    if last_line:
        ink[55:88, 1400:1430] = 1
    if tails:
        for k in (3, 9, 20):
            x = 10 + 52 * k
            ink[48:86, x + 5 : x + 8] = 1
    return ink


def test_a_last_line_of_one_character_is_a_line():
    ink = _band()
    assert len(_split_lines(ink.sum(axis=1), cut_touching=True)) == 1  # by the ink's share
    lines = _split_lines(ink.sum(axis=1), cut_touching=True, ink=ink)
    assert len(lines) == 2
    assert lines[1][0] > 48 and lines[1][1] == 87


def test_tails_of_one_line_are_not_a_line():
    """Strokes reaching down from the line's characters belong to pieces whose middle is
    above the cut: the band stays one line."""
    ink = _band(last_line=False, tails=True)
    assert len(_split_lines(ink.sum(axis=1), cut_touching=True, ink=ink)) == 1


def test_a_large_character_in_pieces_is_not_cut_from_its_line():
    """A line's first character written large in two pieces (木 over 子, as in 李): 子's
    piece is tall and its middle lies below the thinnest row, but it lies under 木's, which
    reaches past that row — one line (a review of the first version cut it)."""
    ink = np.zeros((90, 1500), np.uint8)
    for k in range(1, 24):
        x = 10 + 52 * k
        ink[5:45, x : x + 40] = 1
    ink[5:44, 10:51] = 1  # 木's top
    ink[44:53, 10:14] = 1  # its legs, reaching down beside 子
    ink[44:53, 47:51] = 1
    ink[46:83, 20:41] = 1  # 子
    assert _split_lines(ink.sum(axis=1), cut_touching=True, ink=ink) == [(5, 82)]
