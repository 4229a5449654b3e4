"""Greedy CTC decoding with an optional character whitelist.

Restricting the argmax to the characters a field may hold turns the model's second
choice into the answer when its first is impossible (G in a mileage, O in a VIN).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from functools import lru_cache

import numpy as np


def _foreign_script(c: str) -> bool:
    """Kana and hangul (and their half-width forms): scripts a Chinese form never holds."""
    o = ord(c[0]) if c else 0
    return (
        0x3040 <= o <= 0x30FF  # hiragana, katakana
        or 0x31F0 <= o <= 0x31FF
        or 0x1100 <= o <= 0x11FF  # hangul jamo
        or 0x3130 <= o <= 0x318F
        or 0xAC00 <= o <= 0xD7AF  # hangul syllables
        or 0xFF66 <= o <= 0xFFDC  # half-width katakana and hangul
    )


class CtcDecoder:
    def __init__(self, characters: list[str]):
        self.characters = characters  # index 0 is the CTC blank
        self.index = {c: i for i, c in enumerate(characters)}
        # ， and , (full- and half-width forms) are one character once stored: a model
        # torn between them is not unsure of the text
        self._foreign = np.array(
            [i for i, c in enumerate(characters) if i and _foreign_script(c)], dtype=np.int64
        )
        self.twin = np.arange(len(characters))
        for i, c in enumerate(characters):
            j = self.index.get(unicodedata.normalize("NFKC", c))
            if j is not None and j != i:
                self.twin[i], self.twin[j] = j, i

    @lru_cache(maxsize=64)  # noqa: B019 (one decoder per process; charsets are few)
    def _allowed(self, charset: str) -> np.ndarray:
        idx = {0} | {self.index[c] for c in charset if c in self.index}
        return np.array(sorted(idx))

    @lru_cache(maxsize=64)  # noqa: B019 (as _allowed)
    def _silent(self, charset: str) -> tuple[int, ...]:
        """The columns of `_allowed(charset)` that hold a space."""
        cols = self._allowed(charset)
        return tuple(j for j, c in enumerate(cols) if j and self.characters[c].isspace())

    def without_foreign(self, probs: np.ndarray) -> np.ndarray:
        """`probs` with kana and hangul removed and rows renormalised, as decoding sees
        them (a copy)."""
        p = probs.copy()
        p[:, self._foreign] = 0.0
        return p / np.maximum(p.sum(axis=1, keepdims=True), 1e-9)

    def log_likelihood(self, p: np.ndarray, text: str) -> float:
        """log P(text | p) over every alignment (`ctc_log_likelihood`); `p` as
        `without_foreign` returns it.  −inf when a character is not in the model's
        alphabet.  A full- or half-width twin (，/,) counts as the same character."""
        labels = [self.index.get(c, -1) for c in text]
        if any(i <= 0 for i in labels):
            return float("-inf")
        cols = np.array(labels)
        twins = self.twin[cols]
        q = p[:, np.r_[0, cols]].copy()
        q[:, 1:] += np.where(twins != cols, p[:, twins], 0.0)
        return ctc_log_likelihood(q, list(range(1, len(labels) + 1)))

    def decode(self, probs: np.ndarray, charset: str | None = None) -> tuple[str, list[float]]:
        """(text, per-character probabilities), renormalised over the allowed set so a
        forced choice reads as uncertain."""
        text, scores, _, _ = self.decode_frames(probs, charset)
        return text, scores

    def decode_frames(
        self, probs: np.ndarray, charset: str | None = None
    ) -> tuple[str, list[float], list[float], float]:
        """`decode`, plus where each character was read — the middle of its run of time
        steps (a fractional frame index; the model's steps are evenly spaced across the
        input width) — and `_gap_confidence`."""
        if charset is None:
            cols = np.arange(probs.shape[1])
            # these forms are Chinese: kana and hangul are never written on them (途观L read
            # 途观し), so they are not among the answers
            p = self.without_foreign(probs)
        else:
            cols = self._allowed(charset)
            p = probs[:, cols]
            p = p / np.maximum(p.sum(axis=1, keepdims=True), 1e-9)
        best = p.argmax(axis=1)
        steps = np.arange(len(best))
        best_p = p[steps, best]
        if charset is None:
            best_p = np.minimum(
                1.0, best_p + np.where(self.twin[best] != best, p[steps, self.twin[best]], 0.0)
            )
        chars, scores, runs, prev = [], [], [], -1
        for k, (b, bp) in enumerate(zip(best, best_p, strict=True)):
            if b != prev and cols[b] != 0:
                chars.append(self.characters[cols[b]])
                scores.append(bp)
                runs.append([k, k])
            elif b == prev and cols[b] != 0 and scores:
                scores[-1] = max(scores[-1], bp)
                runs[-1][1] = k
            prev = b
        frames = [(a + b) / 2 for a, b in runs]
        # a field's value never depends on a space where a charset is given (a date-time
        # is read with its spaces removed, charsets.datetime_readings): a space the
        # decoder may have skipped is not a lost character
        gap = _gap_confidence(p, best, runs, self._silent(charset) if charset is not None else ())
        return "".join(chars), [float(x) for x in scores], frames, gap


def ctc_log_likelihood(probs: np.ndarray, labels: list[int]) -> float:
    """log P(labels | probs) under CTC: the sum over every alignment of the label sequence
    with the T time steps (Graves et al. 2006, the forward recursion), computed in log
    space.  `probs`: T×C probabilities (column 0 the blank); `labels`: column indices,
    none of them 0.  −inf when the steps are too few for the labels."""
    t_steps = probs.shape[0]
    if not labels:
        return float(np.log(np.maximum(probs[:, 0], 1e-30)).sum())
    ext = np.zeros(2 * len(labels) + 1, dtype=np.int64)
    ext[1::2] = labels
    logp = np.log(np.maximum(probs[:, ext], 1e-30))  # T × S
    s = len(ext)
    # a label may be skipped to from two states back unless it repeats the label there
    skip = np.zeros(s, dtype=bool)
    skip[3::2] = ext[3::2] != ext[1:-2:2]
    alpha = np.full(s, -np.inf)
    alpha[0] = logp[0, 0]
    alpha[1] = logp[0, 1]
    for t in range(1, t_steps):
        prev1 = np.concatenate(([-np.inf], alpha[:-1]))
        prev2 = np.concatenate(([-np.inf, -np.inf], alpha[:-2]))
        prev2 = np.where(skip, prev2, -np.inf)
        alpha = np.logaddexp(np.logaddexp(alpha, prev1), prev2) + logp[t]
    return float(np.logaddexp(alpha[-1], alpha[-2]))


def _gap_confidence(
    p: np.ndarray, best: np.ndarray, runs: list[list[int]], silent: Sequence[int] = ()
) -> float:
    """How sure the model is that nothing was written where it read nothing: over the
    time steps decoded as blank, 1 − the largest probability of a character other than
    the ones read just before and after (a least-sure-character score cannot see a
    character the decoder dropped: 7862.50 read 862.50).  `p`: T×C probabilities over
    the allowed columns, column 0 the blank; `silent`: columns whose character, if
    skipped, changes nothing (a space in a date-time)."""
    blank = np.nonzero(best == 0)[0]
    if not len(blank):
        return 1.0
    q = p[blank, 1:].copy()
    for j in silent:
        q[:, j - 1] = 0.0
    starts = [a for a, _ in runs]
    ends = [b for _, b in runs]
    for row, k in enumerate(blank):
        i = int(np.searchsorted(ends, k))  # first run ending after k: the next one read
        for j in (i - 1, i):
            if 0 <= j < len(runs):
                q[row, best[starts[j]] - 1] = 0.0
    return float(1.0 - q.max()) if q.size else 1.0
