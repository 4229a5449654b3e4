"""Page geometry shared by the renderer and the reader.

Everything a scan needs to be found again (fiducial marks, the QR code, the header band)
sits at positions derived from the paper size alone, so the reader can locate a page
before it knows which form it is.  All lengths are millimetres, origin top-left, y down.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

PAPER_SIZES_MM: dict[str, tuple[float, float]] = {
    "A4": (210.0, 297.0),
    "A5": (148.0, 210.0),
    "A6": (105.0, 148.0),
}

# ArUco dictionary used for the four corner marks: small, robust, 50 ids.
ARUCO_DICTIONARY = "DICT_4X4_50"
ARUCO_CELLS = 6  # 4x4 data bits plus a one-cell black border on each side


class Corner(StrEnum):
    top_left = "top_left"
    top_right = "top_right"
    bottom_left = "bottom_left"
    bottom_right = "bottom_right"


CORNER_ORDER = (Corner.top_left, Corner.top_right, Corner.bottom_left, Corner.bottom_right)


@dataclass(frozen=True)
class Rect:
    """An axis-aligned rectangle in mm, origin top-left."""

    x: float
    y: float
    w: float
    h: float

    @property
    def right(self) -> float:
        return self.x + self.w

    @property
    def bottom(self) -> float:
        return self.y + self.h

    def overlaps(self, other: Rect, tolerance: float = 0.05) -> bool:
        return (
            self.x < other.right - tolerance
            and other.x < self.right - tolerance
            and self.y < other.bottom - tolerance
            and other.y < self.bottom - tolerance
        )

    def contains(self, other: Rect, tolerance: float = 0.05) -> bool:
        return (
            other.x >= self.x - tolerance
            and other.y >= self.y - tolerance
            and other.right <= self.right + tolerance
            and other.bottom <= self.bottom + tolerance
        )

    def inset(self, d: float) -> Rect:
        return Rect(self.x + d, self.y + d, self.w - 2 * d, self.h - 2 * d)


@dataclass(frozen=True)
class PageGeometry:
    """Where the fixed furniture of a printed form goes, for one paper size."""

    width: float
    height: float
    mark_size: float
    mark_inset: float
    qr_size: float

    @classmethod
    def for_paper(cls, size: str, orientation: str = "portrait") -> PageGeometry:
        w, h = PAPER_SIZES_MM[size]
        if orientation == "landscape":
            w, h = h, w
        small = min(w, h) < 150
        return cls(
            width=w,
            height=h,
            mark_size=14.0 if small else 15.0,
            mark_inset=10.0,
            qr_size=20.0 if small else 22.0,
        )

    @property
    def is_small(self) -> bool:
        return min(self.width, self.height) < 150

    def mark_rect(self, corner: Corner) -> Rect:
        m, i = self.mark_size, self.mark_inset
        x = i if corner in (Corner.top_left, Corner.bottom_left) else self.width - i - m
        y = i if corner in (Corner.top_left, Corner.top_right) else self.height - i - m
        return Rect(x, y, m, m)

    def mark_centres(self) -> dict[Corner, tuple[float, float]]:
        """Mark centres in mm: the reader's homography targets."""
        out = {}
        for c in CORNER_ORDER:
            r = self.mark_rect(c)
            out[c] = (r.x + r.w / 2, r.y + r.h / 2)
        return out

    @property
    def qr_rect(self) -> Rect:
        tr = self.mark_rect(Corner.top_right)
        return Rect(tr.x - 2.0 - self.qr_size, self.mark_inset, self.qr_size, self.qr_size)

    @property
    def header_rect(self) -> Rect:
        """Between the top-left mark and the QR: form code, title, copy (联) label."""
        left = self.mark_rect(Corner.top_left).right + 2.0
        return Rect(left, self.mark_inset, self.qr_rect.x - 2.0 - left, self.qr_size)

    @property
    def content_rect(self) -> Rect:
        """Where a template's fields may go."""
        top = self.mark_inset + self.qr_size + (3.0 if self.is_small else 4.0)
        bottom = self.height - self.mark_inset - self.mark_size - 1.0
        return Rect(self.mark_inset, top, self.width - 2 * self.mark_inset, bottom - top)

    @property
    def footer_rect(self) -> Rect:
        """Between the bottom marks: notes, page n/N and the document id."""
        bl = self.mark_rect(Corner.bottom_left)
        br = self.mark_rect(Corner.bottom_right)
        return Rect(bl.right + 2.0, bl.y, br.x - 2.0 - (bl.right + 2.0), self.mark_size)


def gang_slots(form: PageGeometry, sheet: PageGeometry) -> list[tuple[float, float]]:
    """Top-left offsets (mm) of as many forms as fit on one sheet, row by row."""
    cols = int(sheet.width // form.width) or 1
    rows = int(sheet.height // form.height) or 1
    x0 = (sheet.width - cols * form.width) / 2
    y0 = (sheet.height - rows * form.height) / 2
    return [(x0 + c * form.width, y0 + r * form.height) for r in range(rows) for c in range(cols)]


def marker_id(slot: int, corner: Corner) -> int:
    """Each gang slot has its own four marker ids, so the reader can group marks by form."""
    return slot * 4 + CORNER_ORDER.index(corner)
