"""Reading the identity QR codes on a page (zxing-cpp copes with damaged codes)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import zxingcpp


@dataclass(frozen=True)
class FoundQr:
    text: str
    centre: tuple[float, float]  # image px
    corners: (
        np.ndarray
    )  # 4x2 image px: the symbol's own top-left, top-right, bottom-right, bottom-left


def read_qr_codes(gray: np.ndarray) -> list[FoundQr]:
    out = []
    for r in zxingcpp.read_barcodes(gray, formats=zxingcpp.BarcodeFormat.QRCode, try_rotate=True):
        p = r.position
        xs = [p.top_left.x, p.top_right.x, p.bottom_right.x, p.bottom_left.x]
        ys = [p.top_left.y, p.top_right.y, p.bottom_right.y, p.bottom_left.y]
        corners = np.array(list(zip(xs, ys, strict=True)), dtype=np.float64)
        out.append(FoundQr(r.text, (sum(xs) / 4, sum(ys) / 4), corners))
    return out


def qr_module_count(text: str) -> int:
    """Modules per side of the QR the renderer draws for `text` (its version follows from
    the text): needed to know where the symbol's corners sit in mm."""
    from formdesk.render.marks import qr_modules

    return int(qr_modules(text).shape[0])
