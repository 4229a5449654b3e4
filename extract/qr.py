"""Reading the identity QR codes on a page (zxing-cpp copes with damaged codes)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import zxingcpp


@dataclass(frozen=True)
class FoundQr:
    text: str
    centre: tuple[float, float]  # image px
    # 4x2 image px: the symbol's own top-left, top-right, bottom-right, bottom-left
    corners: np.ndarray
    modules: int  # modules per side (from the symbol's version)


def read_qr_codes(gray: np.ndarray) -> list[FoundQr]:
    out = []
    for r in zxingcpp.read_barcodes(gray, formats=zxingcpp.BarcodeFormat.QRCode, try_rotate=True):
        p = r.position
        xs = [p.top_left.x, p.top_right.x, p.bottom_right.x, p.bottom_left.x]
        ys = [p.top_left.y, p.top_right.y, p.bottom_right.y, p.bottom_left.y]
        corners = np.array(list(zip(xs, ys, strict=True)), dtype=np.float64)
        version = str(r.extra.get("Version", "")) if isinstance(r.extra, dict) else ""
        modules = 17 + 4 * int(version) if version.isdigit() else qr_module_count(r.text)
        out.append(FoundQr(r.text, (sum(xs) / 4, sum(ys) / 4), corners, modules))
    return out


def qr_module_count(text: str) -> int:
    """Modules per side of the QR the renderer draws for `text`, when the decoder does not
    report the version: the renderer's own encoder decides it."""
    from formdesk.render.marks import qr_modules

    return int(qr_modules(text).shape[0])
