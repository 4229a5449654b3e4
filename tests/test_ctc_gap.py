"""The gap confidence (extract/ocr/ctc.py): a character the decoder may have skipped
lowers it, a skipped space in a field whose value ignores spaces does not."""

from __future__ import annotations

import numpy as np
import pytest

from formdesk.extract.ocr.ctc import CtcDecoder

CHARS = ["<blank>", "1", "2", "7", " ", ":"]


def _probs(between: str, p_between: float) -> np.ndarray:
    """Five time steps read `1`, blank, `2`: the blank step gives `between` p_between."""
    col = {c: i for i, c in enumerate(CHARS)}
    rows = []
    for ch, p in (("1", 0.98), ("1", 0.98), ("<blank>", None), ("2", 0.98), ("2", 0.98)):
        row = np.full(len(CHARS), 0.0)
        if p is None:
            row[col[between]] = p_between
            row[0] = 1.0 - p_between
        else:
            row[col[ch]] = p
            row[0] = 1.0 - p
        rows.append(row)
    return np.array(rows)


@pytest.mark.parametrize("charset", ["127 :", None])
def test_a_figure_the_decoder_may_have_skipped_lowers_the_gap(charset):
    text, _, _, gap = CtcDecoder(CHARS).decode_frames(_probs("7", 0.4), charset)
    assert text == "12"
    assert gap == pytest.approx(0.6)


def test_a_skipped_space_is_no_lost_character_where_a_charset_is_given():
    decoder = CtcDecoder(CHARS)
    text, _, _, gap = decoder.decode_frames(_probs(" ", 0.4), "127 :")
    assert text == "12" and gap == pytest.approx(1.0)
    # a separator is a character: 2024-3-1 16:00 without its ':' is another reading
    _, _, _, gap = decoder.decode_frames(_probs(":", 0.4), "127 :")
    assert gap == pytest.approx(0.6)
    # read without a charset (free text), a space is text like any other
    _, _, _, gap = decoder.decode_frames(_probs(" ", 0.4), None)
    assert gap == pytest.approx(0.6)
