"""Reading values from a digital PDF's text layer instead of OCR — only where that text is
what the page shows.

A text layer is trusted only on a PDF that formdesk itself wrote: its /FormdeskIssue entry
carries an HMAC of this installation over the document ids it prints (templates/identity.py
`sign_issue`), and the page's QR names one of them.  A scanner's invisible OCR layer, a PDF
retyped elsewhere or printed by another installation is read from its pixels like a scan.

Even then, every field's text must agree with the page image (`agrees`): each character
must sit on ink, and the ink in the box must lie under the characters — an annotation
drawn over a value, or text hidden under a picture, sends the field to OCR.

The characters come from ingest (`PageImage.chars`) placed on the rendered page by the same
transform as the pixels (/Rotate, CropBox, /UserUnit); here they are taken into form
millimetres through the alignment, and put in reading order there, so a page rotated by
180° reads forwards.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from formdesk.ingest import PageImage
from formdesk.templates.geometry import Rect
from formdesk.templates.identity import verify_issue

from .align import Alignment
from .ink import FormImage

CHAR_INK_MIN = 4  # ink px (200 dpi) a drawn character of a value covers at the least
INK_UNDER_TEXT = 0.9  # share of a box's ink that must lie under its characters
GROW_MM = 0.5  # characters' boxes grown by this when asking where the ink is


@dataclass(frozen=True)
class BoxChar:
    """A text-layer character in form millimetres (x right, y down)."""

    text: str
    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def mid_y(self) -> float:
        return (self.y0 + self.y1) / 2


@dataclass(frozen=True)
class BoxText:
    """The text layer inside one box: the text in reading order and its characters."""

    text: str
    chars: tuple[BoxChar, ...]


def trusted_documents(page: PageImage, key: bytes) -> frozenset[str]:
    """The document ids whose text layer may be used on this page: those the PDF's issue
    mark vouches for under this installation's key (empty for every other PDF)."""
    if not page.text_layer or not page.chars:
        return frozenset()
    return verify_issue(page.issuer_mark, key)


class TextLayer:
    """A page's text-layer characters, to be asked per form (alignment) and box."""

    def __init__(self, page: PageImage):
        chars = page.chars
        self._text = [c.text for c in chars]
        self._corners = np.array(
            [[(c.x0, c.y0), (c.x1, c.y0), (c.x1, c.y1), (c.x0, c.y1)] for c in chars],
            dtype=np.float64,
        ).reshape(-1, 1, 2)

    def text_at(self, alignment: Alignment) -> Callable[[Rect], BoxText]:
        """A function giving the text inside a form rect (mm), in reading order."""
        if not self._text:
            return lambda r: BoxText("", ())
        mm = cv2.perspectiveTransform(self._corners, np.linalg.inv(alignment.to_image))
        mm = mm.reshape(-1, 4, 2)
        lo, hi = mm.min(axis=1), mm.max(axis=1)
        chars = [
            BoxChar(t, *map(float, (a[0], a[1], b[0], b[1])))
            for t, a, b in zip(self._text, lo, hi, strict=True)
        ]

        def inside(r: Rect) -> BoxText:
            hits = [
                c
                for c in chars
                if r.x <= (c.x0 + c.x1) / 2 <= r.right and r.y <= c.mid_y <= r.bottom
            ]
            ordered = _reading_order(hits)
            text = " ".join("".join(c.text for c in ordered).split())
            return BoxText(text, tuple(ordered))

        return inside


def agrees(form: FormImage, box: Rect, text: BoxText) -> bool:
    """Whether the page image shows what the text layer says in `box`: every character of
    the value drawn (ink under it), and the box's ink under the characters; no value and
    no ink agree too.

    `form.ink` excludes the blank form's print, so the form's own labels and hints inside
    the box count neither way: a character lying on print and on no ink is the form's."""
    sl = form.px(box, 0.6)
    ink = form.ink[sl]
    under = np.zeros_like(ink)
    y_off, x_off = sl[0].start, sl[1].start
    written: list[BoxChar] = []
    for c in text.chars:
        own = form.px(Rect(c.x0, c.y0, c.x1 - c.x0, c.y1 - c.y0))
        if int(form.ink[own].sum()) < CHAR_INK_MIN:
            if form.printed[own].any():
                continue  # the form's own print
            return False  # a character that draws nothing: invisible or hidden text
        written.append(c)
        ys, xs = form.px(
            Rect(
                c.x0 - GROW_MM, c.y0 - GROW_MM, c.x1 - c.x0 + 2 * GROW_MM, c.y1 - c.y0 + 2 * GROW_MM
            )
        )
        under[
            max(0, ys.start - y_off) : max(0, ys.stop - y_off),
            max(0, xs.start - x_off) : max(0, xs.stop - x_off),
        ] = True
    if not written:
        return not form.has_ink(box)
    if _overlapping(written):
        return False  # text drawn over text: an edit typed over a whited-out value
    return float(ink[under].sum()) >= INK_UNDER_TEXT * float(ink.sum())


OVERLAP = 0.3  # share of the smaller box two characters of one value never cover


def _overlapping(chars: Sequence[BoxChar]) -> bool:
    """Whether two characters lie on each other (more than OVERLAP of the smaller)."""
    for i, a in enumerate(chars):
        for b in chars[i + 1 :]:
            w = min(a.x1, b.x1) - max(a.x0, b.x0)
            h = min(a.y1, b.y1) - max(a.y0, b.y0)
            if w <= 0 or h <= 0:
                continue
            smaller = min((a.x1 - a.x0) * (a.y1 - a.y0), (b.x1 - b.x0) * (b.y1 - b.y0))
            if smaller > 0 and w * h > OVERLAP * smaller:
                return True
    return False


def _reading_order(chars: Sequence[BoxChar]) -> list[BoxChar]:
    """Lines, then left to right.  Sorted by vertical centre, a new line starts where two
    neighbouring centres are more than half the median character height apart, so a comma
    or hyphen (small boxes, off-centre) stays on its line, and so do digits beside the
    smaller printed 年/月/日."""
    if not chars:
        return []
    ordered = sorted(chars, key=lambda c: c.mid_y)
    gap = 0.5 * float(np.median([c.y1 - c.y0 for c in ordered]))
    lines: list[list[BoxChar]] = [[ordered[0]]]
    for prev, c in zip(ordered, ordered[1:], strict=False):
        if c.mid_y - prev.mid_y > gap:
            lines.append([])
        lines[-1].append(c)
    return [c for line in lines for c in sorted(line, key=lambda c: c.x0)]
