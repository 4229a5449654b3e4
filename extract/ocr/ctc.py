"""Greedy CTC decoding with an optional character whitelist.

Restricting the argmax to the characters a field may hold turns the model's second
choice into the answer when its first is impossible (G in a mileage, O in a VIN).
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

import numpy as np


class CtcDecoder:
    def __init__(self, characters: list[str]):
        self.characters = characters  # index 0 is the CTC blank
        self.index = {c: i for i, c in enumerate(characters)}
        # ， and , (full- and half-width forms) are one character once stored: a model
        # torn between them is not unsure of the text
        self.twin = np.arange(len(characters))
        for i, c in enumerate(characters):
            j = self.index.get(unicodedata.normalize("NFKC", c))
            if j is not None and j != i:
                self.twin[i], self.twin[j] = j, i

    @lru_cache(maxsize=64)  # noqa: B019 (one decoder per process; charsets are few)
    def _allowed(self, charset: str) -> np.ndarray:
        idx = {0} | {self.index[c] for c in charset if c in self.index}
        return np.array(sorted(idx))

    def decode(self, probs: np.ndarray, charset: str | None = None) -> tuple[str, list[float]]:
        """(text, per-character probabilities), renormalised over the allowed set so a
        forced choice reads as uncertain."""
        if charset is None:
            cols = np.arange(probs.shape[1])
            p = probs
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
        chars, scores, prev = [], [], -1
        for k, (b, bp) in enumerate(zip(best, best_p, strict=True)):
            if b != prev and cols[b] != 0:
                chars.append(self.characters[cols[b]])
                scores.append(bp)
            elif b == prev and cols[b] != 0 and scores:
                scores[-1] = max(scores[-1], bp)
            prev = b
            del k
        return "".join(chars), [float(x) for x in scores]
