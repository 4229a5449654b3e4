"""Reading the identity QR codes on a page (zxing-cpp copes with damaged codes)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import zxingcpp


@dataclass(frozen=True)
class FoundQr:
    text: str
    centre: tuple[float, float]  # image px


def read_qr_codes(gray: np.ndarray) -> list[FoundQr]:
    out = []
    for r in zxingcpp.read_barcodes(gray, formats=zxingcpp.BarcodeFormat.QRCode, try_rotate=True):
        p = r.position
        xs = [p.top_left.x, p.top_right.x, p.bottom_right.x, p.bottom_left.x]
        ys = [p.top_left.y, p.top_right.y, p.bottom_right.y, p.bottom_left.y]
        out.append(FoundQr(r.text, (sum(xs) / 4, sum(ys) / 4)))
    return out
