"""Optional engine: PaddleOCR itself, for installations that have its model folders.

Nothing is downloaded: both model folders must exist locally (FORMDESK_PADDLE_DET_DIR,
FORMDESK_PADDLE_REC_DIR).  PaddleOCR does not expose the recogniser's per-step
probabilities, so a field's character set is applied after decoding, not during it.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np

from . import DetectedLine, OcrEngineUnavailable, Recognized
from .simplify import to_simplified


class PaddleOcrEngine:
    name = "paddleocr"

    def __init__(self, det_dir: str | None = None, rec_dir: str | None = None):
        det_dir = det_dir or os.environ.get("FORMDESK_PADDLE_DET_DIR", "")
        rec_dir = rec_dir or os.environ.get("FORMDESK_PADDLE_REC_DIR", "")
        for what, d in (("检测", det_dir), ("识别", rec_dir)):
            if not d or not Path(d).is_dir():
                raise OcrEngineUnavailable(
                    f"PaddleOCR 引擎需要本地的{what}模型目录(FORMDESK_PADDLE_{'DET' if what == '检测' else 'REC'}_DIR),"
                    f"找不到:{d or '未设置'}"
                )
        try:
            import paddleocr
        except ImportError:
            raise OcrEngineUnavailable(
                "未安装 paddleocr:pip install paddleocr paddlepaddle"
            ) from None
        self._rec = paddleocr.TextRecognition(model_dir=rec_dir)
        self._page = paddleocr.PaddleOCR(
            text_detection_model_dir=det_dir,
            text_recognition_model_dir=rec_dir,
            use_doc_orientation_classify=False,
            use_doc_unwarping=False,
            use_textline_orientation=False,
        )
        self._lock = threading.Lock()

    def recognize(self, crops: list[np.ndarray], charset: str | None = None) -> list[Recognized]:
        with self._lock:
            results = list(self._rec.predict(input=crops, batch_size=len(crops) or 1))
        out = []
        for r in results:
            text, score = str(r["rec_text"]), float(r["rec_score"])
            if charset is not None:
                text = "".join(ch for ch in text if ch in charset)
            out.append(Recognized(text if charset else to_simplified(text), score))
        return out

    def read_page(self, image: np.ndarray) -> list[DetectedLine]:
        with self._lock:
            [r] = list(self._page.predict(image))
        return [
            DetectedLine(np.asarray(poly, dtype=np.float64), to_simplified(t), float(s))
            for poly, t, s in zip(r["rec_polys"], r["rec_texts"], r["rec_scores"], strict=True)
        ]
