"""RapidOCR (PaddleOCR's PP-OCR models as ONNX, on onnxruntime): the default engine.

The models ship inside the `rapidocr` wheel; nothing is downloaded at run time.
Recognition runs the model directly so a field's type can limit the characters the CTC
decoder may choose (a digit field never reads 6 as G); whole-page OCR goes through
RapidOCR itself, passing `use_det`/`use_cls`/`use_rec` on every call since they are sticky.
A lock serialises calls: the RapidOCR object keeps per-call state.
"""

from __future__ import annotations

import os
import threading
from functools import cache

import cv2
import numpy as np

from . import DetectedLine, Recognized
from .confusion import confusion
from .ctc import CtcDecoder
from .simplify import to_simplified, to_traditional


class RapidOcrEngine:
    name = "rapidocr"

    def __init__(self) -> None:
        from rapidocr import RapidOCR

        params: dict[str, object] = {"Global.log_level": "error"}
        threads = os.environ.get("FORMDESK_OCR_THREADS")  # e.g. 1 per process when several run
        if threads:
            params["EngineConfig.onnxruntime.intra_op_num_threads"] = int(threads)
            cv2.setNumThreads(int(threads))  # image work too: one core's share per reader
        self._engine = RapidOCR(params=params)
        self._rec = (
            self._engine._load_rec_model()
            if self._engine.text_rec is None
            else self._engine.text_rec
        )
        self._decoder = CtcDecoder(list(self._rec.postprocess_op.character))
        self._height = int(self._rec.rec_image_shape[1])
        self._lock = threading.Lock()
        self.recognize([np.full((48, 160, 3), 255, dtype=np.uint8)])  # warm up

    def recognize(self, crops: list[np.ndarray], charset: str | None = None) -> list[Recognized]:
        """One text line per crop; `charset` limits the characters that may be read."""
        out = []
        for crop in crops:
            img = _bgr(crop)
            # no padding to the model's nominal 320 px: cost grows with width, and a
            # field's trimmed ink is usually much narrower
            img, left = _widen(img)
            ratio = img.shape[1] / img.shape[0]
            batch = self._rec.resize_norm_img(img, ratio)[np.newaxis, :].astype(np.float32)
            with self._lock:
                probs = self._rec.session(batch)[0]
            text, scores, frames, gap = self._decoder.decode_frames(probs, charset)
            xs = _frames_to_x(frames, len(probs), batch.shape[3], self._height, img.shape[:2], left)
            # one doubtful character makes the whole value doubtful; a doubtful space does not
            # (values are compared without the typographic space OCR may or may not see)
            kept = [p for ch, p in zip(text, scores, strict=False) if not ch.isspace()]
            score = min(kept) if kept else 0.0
            rows = probs[0] if probs.ndim == 3 else probs
            out.append(
                Recognized(
                    text if charset else to_simplified(text),
                    score,
                    tuple(scores),
                    xs,
                    gap,
                    _Likelihood(self._decoder, rows),
                    confusion(rows, self._decoder.index, text, frames, charset),
                )
            )
        return out

    def read_page(self, image: np.ndarray) -> list[DetectedLine]:
        with self._lock:
            res = self._engine(_bgr(image), use_det=True, use_cls=True, use_rec=True)
        if res.boxes is None:
            return []
        return [
            DetectedLine(np.asarray(b, dtype=np.float64), to_simplified(t), float(s))
            for b, t, s in zip(res.boxes, res.txts, res.scores, strict=True)
        ]


class _Likelihood:
    """log P(text | crop) for any text (`CtcDecoder.log_likelihood`), the text also tried
    in Traditional characters (the model often answers in them): the better of the two.
    The model's output is prepared once, on the first call; each text is scored once (the
    lexicon asks for the same known values twice: `best_known`, then `known_rival`)."""

    def __init__(self, decoder: CtcDecoder, probs: np.ndarray):
        self._decoder, self._raw, self._p = decoder, probs, None
        self._scored: dict[str, float] = {}

    def __call__(self, text: str) -> float:
        if text in self._scored:
            return self._scored[text]
        if self._p is None:
            self._p, self._raw = self._decoder.without_foreign(self._raw), None
        best = self._decoder.log_likelihood(self._p, text)
        trad = to_traditional(text)
        if trad != text:
            best = max(best, self._decoder.log_likelihood(self._p, trad))
        self._scored[text] = best
        return best


MIN_RATIO = 2.5  # width / height


def _widen(img: np.ndarray) -> tuple[np.ndarray, int]:
    """Pads a short crop with paper to a minimum width: with only a few time steps the
    model drops characters (卢飞 read as 卢).  Returns the image and the left padding."""
    h, w = img.shape[:2]
    need = int(MIN_RATIO * h) - w
    if need <= 0:
        return img, 0
    left = need // 2
    return cv2.copyMakeBorder(
        img, 0, 0, left, need - left, cv2.BORDER_CONSTANT, value=(255, 255, 255)
    ), left


def _frames_to_x(
    frames: list[float],
    steps: int,
    input_w: int,
    model_h: int,
    shape: tuple[int, int],
    left: int,
) -> tuple[float, ...]:
    """Time-step positions to x in the caller's crop (px): the model reads the crop
    resized to its height, padded to `input_w`; its `steps` outputs are evenly spaced."""
    h, w = shape
    resized_w = min(input_w, int(np.ceil(model_h * w / h)))
    scale = w / max(resized_w, 1)
    return tuple((f + 0.5) * input_w / steps * scale - left for f in frames)


def _bgr(img: np.ndarray) -> np.ndarray:
    if img.ndim == 2:
        return np.repeat(img[:, :, None], 3, axis=2)
    return img


@cache
def shared_rapid_engine() -> RapidOcrEngine:
    return RapidOcrEngine()
