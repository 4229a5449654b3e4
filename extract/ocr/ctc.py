"""Greedy CTC decoding with an optional character whitelist.

Restricting the argmax to the characters a field may hold turns the model's second
choice into the answer when its first is impossible (G in a mileage, O in a VIN).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np


class CtcDecoder:
    def __init__(self, characters: list[str]):
        self.characters = characters  # index 0 is the CTC blank
        self.index = {c: i for i, c in enumerate(characters)}

    @lru_cache(maxsize=64)  # noqa: B019 (one decoder per process; charsets are few)
    def _allowed(self, charset: str) -> np.ndarray:
        idx = {0} | {self.index[c] for c in charset if c in self.index}
        return np.array(sorted(idx))

    def decode(self, probs: np.ndarray, charset: str | None = None) -> tuple[str, float]:
        """(text, confidence): confidence is the mean probability of the kept characters,
        renormalised over the allowed set, so a forced choice reads as uncertain."""
        if charset is None:
            cols = np.arange(probs.shape[1])
            p = probs
        else:
            cols = self._allowed(charset)
            p = probs[:, cols]
            p = p / np.maximum(p.sum(axis=1, keepdims=True), 1e-9)
        best = p.argmax(axis=1)
        best_p = p[np.arange(len(best)), best]
        chars, scores, prev = [], [], -1
        for k, (b, bp) in enumerate(zip(best, best_p, strict=True)):
            if b != prev and cols[b] != 0:
                chars.append(self.characters[cols[b]])
                scores.append(bp)
            elif b == prev and cols[b] != 0 and scores:
                scores[-1] = max(scores[-1], bp)
            prev = b
            del k
        if not chars:
            return "", float(best_p.mean()) if len(best_p) else 0.0
        return "".join(chars), float(np.mean(scores))
