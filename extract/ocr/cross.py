"""A second recognition model for a second opinion (issue 10, point 2: "two readings that
must agree").

Reading the same crop twice with the same model agrees with itself too often: a model's
mistakes follow its training, so a binarised copy of the crop is mostly misread the same
way.  PP-OCRv4's mobile recogniser (PaddleOCR, trained on a different data mix and with a
different 6,623-character alphabet than the default engine's PP-OCRv6) is a more
independent witness.  Its ONNX file ships inside the `rapidocr_onnxruntime` wheel (1.4.4,
`models/ch_PP-OCRv4_rec_infer.onnx`, alphabet in the model's `character` metadata);
nothing is downloaded at run time.  Recognition only, on onnxruntime directly.
"""

from __future__ import annotations

import os
import threading
from functools import cache
from importlib import util as import_util
from pathlib import Path

import cv2
import numpy as np

from . import Recognized
from .ctc import CtcDecoder
from .simplify import to_simplified

MODEL_HEIGHT = 48  # px: the model's input height (PP-OCRv4 rec, 3×48×W)
MIN_RATIO = 2.5  # width / height below which a crop is padded with paper (as rapid.py)


class CrossModel:
    """PP-OCRv4 mobile text-line recogniser.  `recognize(crops, charset)` as OcrEngine's:
    crops are BGR or grey uint8 images of one line each (any size; px at 200 dpi in
    formdesk), `charset` limits the characters the CTC decoder may choose.
    OcrEngineUnavailable-free: build it through `cross_model()`, which answers None where
    the wheel is not installed."""

    name = "pp-ocrv4-rec"

    def __init__(self, model: Path) -> None:
        import onnxruntime as ort

        opts = ort.SessionOptions()
        threads = os.environ.get("FORMDESK_OCR_THREADS")
        if threads:
            opts.intra_op_num_threads = int(threads)
        opts.log_severity_level = 3
        self._session = ort.InferenceSession(
            str(model), sess_options=opts, providers=["CPUExecutionProvider"]
        )
        meta = self._session.get_modelmeta().custom_metadata_map
        alphabet = meta["character"].splitlines()
        # PaddleOCR's CTC head: the blank first, then the dictionary, then the space
        self._decoder = CtcDecoder(["blank", *alphabet, " "])
        self._input = self._session.get_inputs()[0].name
        self._lock = threading.Lock()

    def recognize(self, crops: list[np.ndarray], charset: str | None = None) -> list[Recognized]:
        out = []
        for crop in crops:
            batch = _prepared(crop)
            with self._lock:
                probs = self._session.run(None, {self._input: batch})[0][0]
            text, scores, _, gap = self._decoder.decode_frames(probs, charset)
            kept = [p for ch, p in zip(text, scores, strict=False) if not ch.isspace()]
            out.append(
                Recognized(
                    text if charset else to_simplified(text),
                    min(kept) if kept else 0.0,
                    tuple(scores),
                    (),
                    gap,
                )
            )
        return out


def _prepared(crop: np.ndarray) -> np.ndarray:
    """1×3×48×W float32, normalised to [-1, 1] as PaddleOCR's rec preprocessing."""
    img = np.repeat(crop[:, :, None], 3, axis=2) if crop.ndim == 2 else crop
    h, w = img.shape[:2]
    need = int(MIN_RATIO * h) - w
    if need > 0:
        left = need // 2
        img = cv2.copyMakeBorder(
            img, 0, 0, left, need - left, cv2.BORDER_CONSTANT, value=(255,) * 3
        )
        h, w = img.shape[:2]
    width = max(8, int(np.ceil(MODEL_HEIGHT * w / h)))
    img = cv2.resize(img, (width, MODEL_HEIGHT)).astype(np.float32)
    img = (img / 255.0 - 0.5) / 0.5
    return img.transpose(2, 0, 1)[np.newaxis]


@cache
def cross_model() -> CrossModel | None:
    """The second model, loaded once per process; None where `rapidocr_onnxruntime` is not
    installed (the evidence is then not gathered and its rule cannot be met)."""
    spec = import_util.find_spec("rapidocr_onnxruntime")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = (
        Path(next(iter(spec.submodule_search_locations))) / "models" / "ch_PP-OCRv4_rec_infer.onnx"
    )
    if not path.is_file():
        return None
    return CrossModel(path)
