"""How much one uploaded file may ask of the machine before we refuse it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class IngestLimits:
    """Per-file limits; the defaults suit a scanner or phone upload of a batch of forms."""

    max_bytes: int = 50 * 1024 * 1024
    max_pages: int = 200
    # Per decoded page image (and per image embedded in a PDF page).  An A3 scan at
    # 600 dpi is 70 M pixels; anything beyond this is almost surely a decompression bomb.
    max_pixels: int = 120_000_000
    dpi: int = 200  # PDF rasterisation
