"""OCR engines behind one small interface, so the reader does not care which runs."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Protocol

import numpy as np


@dataclass(frozen=True)
class Recognized:
    text: str  # already in Simplified Chinese
    score: float  # the engine's confidence, 0..1: that of the least sure character
    char_scores: tuple[float, ...] = ()  # per character of `text`, when the engine knows
    # per character of `text`: the x (px of the crop given) where it was read, when known
    char_x: tuple[float, ...] = ()
    # how sure the model is that it skipped no character (see ocr/ctc.py), 1 when unknown
    gap_score: float = 1.0
    # the model's T×C output and how to score any text against it (`likelihood(text)`:
    # log P(text | crop) over every CTC alignment), when the engine exposes them; used
    # to weigh known values against the reading (extract/lexicon.py)
    likelihood: Callable[[str], float] | None = field(default=None, compare=False, repr=False)
    # the most probability the model gave, where it read a letter or figure, to the figure
    # or letter it is most often confused with (S/5, G/6, D/0, B/8, Z/2, I/1), 0..1; 0
    # when unknown or no such character was read (ocr/confusion.py)
    confusion: float = 0.0


@dataclass(frozen=True)
class DetectedLine:
    box: np.ndarray  # 4x2 image px
    text: str
    score: float


class OcrEngine(Protocol):
    name: str

    def recognize(self, crops: list[np.ndarray], charset: str | None = None) -> list[Recognized]:
        """Recognition only: each crop holds one line of text (a field's ink); `charset`,
        when given, lists every character the line may contain."""
        ...

    def read_page(self, image: np.ndarray) -> list[DetectedLine]:
        """Detection and recognition over a whole image (fallback and comparison)."""
        ...


class OcrEngineUnavailable(RuntimeError):
    """The chosen engine cannot run here; the message says what is missing (Chinese)."""


def default_engine() -> OcrEngine:
    """The engine FORMDESK_OCR_ENGINE names, loaded once per process: `rapidocr` (default,
    PP-OCR ONNX models bundled in its wheel) or `paddleocr` (needs local model folders)."""
    choice = os.environ.get("FORMDESK_OCR_ENGINE", "rapidocr").strip().lower()
    if choice == "paddleocr":
        return _paddle()
    if choice != "rapidocr":
        raise OcrEngineUnavailable(f"未知的 OCR 引擎 {choice!r}(可选 rapidocr、paddleocr)")
    from .rapid import shared_rapid_engine

    return shared_rapid_engine()


@cache
def _paddle() -> OcrEngine:
    from .paddle import PaddleOcrEngine

    return PaddleOcrEngine()
