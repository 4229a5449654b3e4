"""OCR engines behind one small interface, so the reader does not care which runs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np


@dataclass(frozen=True)
class Recognized:
    text: str  # already in Simplified Chinese
    score: float  # the engine's confidence, 0..1: that of the least sure character
    char_scores: tuple[float, ...] = ()  # per character of `text`, when the engine knows


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


def default_engine() -> OcrEngine:
    """The bundled engine: RapidOCR with PP-OCR ONNX models, loaded once per process."""
    from .rapid import shared_rapid_engine

    return shared_rapid_engine()
