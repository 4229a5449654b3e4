"""A thin layer over a reportlab canvas that speaks the catalog's units: millimetres from
the form's top-left corner, y down."""

from __future__ import annotations

from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from formdesk.templates.geometry import Rect

from .fonts import font_name


class Pen:
    def __init__(self, canvas: Canvas, form_height_mm: float):
        self.c = canvas
        self.h = form_height_mm
        self.font = font_name()

    def _y(self, y_mm: float) -> float:
        return (self.h - y_mm) * mm

    def rect(self, r: Rect, width: float = 0.5, fill: bool = False, dash: tuple | None = None):
        c = self.c
        c.setLineWidth(width)
        c.setDash(*dash) if dash else c.setDash()
        c.rect(
            r.x * mm,
            self._y(r.bottom),
            r.w * mm,
            r.h * mm,
            stroke=0 if fill else 1,
            fill=1 if fill else 0,
        )

    def line(
        self,
        x1: float,
        y1: float,
        x2: float,
        y2: float,
        width: float = 0.5,
        dash: tuple | None = None,
    ):
        c = self.c
        c.setLineWidth(width)
        c.setDash(*dash) if dash else c.setDash()
        c.line(x1 * mm, self._y(y1), x2 * mm, self._y(y2))

    def text(self, x: float, baseline_y: float, text: str, size: float, align: str = "left"):
        c = self.c
        c.setFont(self.font, size)
        if align == "center":
            c.drawCentredString(x * mm, self._y(baseline_y), text)
        elif align == "right":
            c.drawRightString(x * mm, self._y(baseline_y), text)
        else:
            c.drawString(x * mm, self._y(baseline_y), text)

    def text_centered_in(
        self, r: Rect, text: str, size: float, align: str = "left", pad: float = 1.2
    ):
        """One line of text, vertically centred in `r`."""
        baseline = r.y + r.h / 2 + size * 0.3528 * 0.35
        x = {"left": r.x + pad, "center": r.x + r.w / 2, "right": r.right - pad}[align]
        self.text(x, baseline, text, size, align)

    def filled_cells(self, cells: list[Rect]):
        """Many black rectangles as one path (markers, QR modules): fast to write and draw."""
        c = self.c
        p = c.beginPath()
        for r in cells:
            p.rect(r.x * mm, self._y(r.bottom), r.w * mm, r.h * mm)
        c.drawPath(p, stroke=0, fill=1)

    def ellipse(self, r: Rect, width: float = 0.6):
        self.c.setLineWidth(width)
        self.c.setDash()
        self.c.ellipse(r.x * mm, self._y(r.bottom), r.right * mm, self._y(r.y), stroke=1, fill=0)

    def tick(self, r: Rect, width: float = 0.8):
        """A pen-like ✓ across a square."""
        c = self.c
        c.setLineWidth(width)
        c.setDash()
        p = c.beginPath()
        p.moveTo((r.x + 0.15 * r.w) * mm, self._y(r.y + 0.55 * r.h))
        p.lineTo((r.x + 0.42 * r.w) * mm, self._y(r.y + 0.85 * r.h))
        p.lineTo((r.x + 0.9 * r.w) * mm, self._y(r.y + 0.1 * r.h))
        c.drawPath(p, stroke=1, fill=0)
