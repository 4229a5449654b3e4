"""A third opinion on handwritten figures: a small convolutional classifier of single digits.

PP-OCR reads a line of writing as a whole; a figure it misreads (a running hand's 7 read 1,
a real 4 read 9) often comes with a confident score.  This classifier looks at each figure
alone, as a piece of ink cut out of the box, and was trained on other writing than the
OCR models: MNIST's *training* split (LeCun, Cortes, Burges; CC BY-SA 3.0) less every image
the bench's real-digit hands use, and digits drawn with the calibration hands' and the
development fonts (never Long Cang, the held-out face) — see bench/digits/train.py, which
wrote `models/digits.npz` (float16 weights, 208 KB; nothing is downloaded at run time).

Shapes: a glyph is normalised as MNIST's were (ink box scaled to fit 20×20 px, placed by its
centre of mass in 28×28, ink = 1.0); the network is conv 5×5 (16) → max-pool 2 → conv 5×5
(32) → max-pool 2 → dense 64 → dense 10, run in numpy (a field's few glyphs cost < 1 ms).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

GLYPH = 28  # px: the classifier's input square
BOX = 20  # px: the ink box is scaled to fit this square, as MNIST's digits were
WEIGHTS = Path(__file__).with_name("models") / "digits.npz"


def normalize_glyph(ink: np.ndarray) -> np.ndarray:
    """A glyph's ink (H×W, nonzero = ink, any scale) as the classifier's 28×28 float32
    input (0..1), normalised as MNIST: ink box scaled to fit BOX px keeping its aspect,
    centre of mass at the centre.  Raises ValueError when `ink` has no ink."""
    ys, xs = np.nonzero(ink)
    if not len(ys):
        raise ValueError("no ink")
    crop = (ink[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1] > 0).astype(np.float32)
    h, w = crop.shape
    s = BOX / max(h, w)
    nh, nw = max(1, round(h * s)), max(1, round(w * s))
    small = cv2.resize(crop, (nw, nh), interpolation=cv2.INTER_AREA)
    total = float(small.sum()) or 1.0
    cy = float((small.sum(axis=1) * np.arange(nh)).sum()) / total
    cx = float((small.sum(axis=0) * np.arange(nw)).sum()) / total
    oy = int(np.clip(round(GLYPH / 2 - cy), 0, GLYPH - nh))
    ox = int(np.clip(round(GLYPH / 2 - cx), 0, GLYPH - nw))
    out = np.zeros((GLYPH, GLYPH), np.float32)
    out[oy : oy + nh, ox : ox + nw] = small
    return out


def _conv(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    """'Same' 2-D convolution (cross-correlation, as torch's Conv2d): x N×C×H×W, w O×C×k×k."""
    k = w.shape[-1]
    p = k // 2
    padded = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    win = sliding_window_view(padded, (k, k), axis=(2, 3))  # N×C×H×W×k×k
    return np.einsum("nchwij,ocij->nohw", win, w, optimize=True) + b[None, :, None, None]


def _pool(x: np.ndarray) -> np.ndarray:
    n, c, h, w = x.shape
    return x[:, :, : h // 2 * 2, : w // 2 * 2].reshape(n, c, h // 2, 2, w // 2, 2).max(axis=(3, 5))


@dataclass(frozen=True)
class DigitNet:
    """The classifier's weights (float32 arrays, names as bench/digits/train.py saves
    them: c1w 16×1×5×5, c1b, c2w 32×16×5×5, c2b, f1w 64×1568, f1b, f2w 10×64, f2b)."""

    c1w: np.ndarray
    c1b: np.ndarray
    c2w: np.ndarray
    c2b: np.ndarray
    f1w: np.ndarray
    f1b: np.ndarray
    f2w: np.ndarray
    f2b: np.ndarray

    @classmethod
    def load(cls, path: Path = WEIGHTS) -> DigitNet:
        """Reads the weights file; raises OSError when it is missing."""
        with np.load(path) as z:
            return cls(**{k: z[k].astype(np.float32) for k in cls.__dataclass_fields__})

    def probabilities(self, glyphs: np.ndarray) -> np.ndarray:
        """N×28×28 normalised glyphs → N×10 probabilities of the digits 0-9."""
        x = glyphs.reshape(-1, 1, GLYPH, GLYPH).astype(np.float32)
        x = _pool(np.maximum(_conv(x, self.c1w, self.c1b), 0))
        x = _pool(np.maximum(_conv(x, self.c2w, self.c2b), 0))
        x = np.maximum(x.reshape(len(x), -1) @ self.f1w.T + self.f1b, 0)
        z = x @ self.f2w.T + self.f2b
        z = np.exp(z - z.max(axis=1, keepdims=True))
        return z / z.sum(axis=1, keepdims=True)


@lru_cache(maxsize=1)
def digit_net() -> DigitNet | None:
    """The shared classifier, or None when its weights file is missing (a broken install:
    the figure opinion is then not given)."""
    try:
        return DigitNet.load()
    except OSError:
        return None
