"""Handwritten pages for the tests: a BD-27 tag filled in by the development hands and
scanned (samples.synth), as JPEG bytes the reader takes."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from formdesk.templates import get_template
from samples.synth import handwritten_page, make_values, scan_effects


def scanned_tag(
    key: bytes, seed: int, quality: int = 85, **overrides: Any
) -> tuple[bytes, dict[str, Any]]:
    """A BD-27 tag, every field filled (generator values of `seed`, `overrides` written
    instead), handwritten and flatbed-scanned: (JPEG bytes at `quality`, values written)."""
    t = get_template("SH-ZH/BD-27")
    rng = np.random.default_rng(seed)
    values = make_values(t, rng, p_empty=0.0) | overrides
    img, _truth = handwritten_page(t, values, rng, key)
    ok, buf = cv2.imencode(".jpg", scan_effects(img, rng), [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return buf.tobytes(), values
