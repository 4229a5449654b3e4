"""A pen on paper: handwriting glyph by glyph, ticks, circles, signatures and red seals.

Everything is laid out in millimetres and drawn into an 8-bit *ink coverage* canvas at the
page's resolution; `InkCanvas.apply` then lays the ink on the page image (multiply, like
ink on paper).  Every mark is clipped to the box it belongs to, so nothing written spills
into a neighbouring field.

A `Hand` writes with the development fonts (`HAND_FONTS`) unless it has a `source`
(sources.py: other handwriting fonts, real MNIST digits); then each character is written by
the source's face for it, a fallback face of the same group, or a real digit sample.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from functools import cache
from importlib import resources
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont
from reportlab.pdfbase.ttfonts import TTFontFile

from formdesk.templates.geometry import Rect

from .sources import (
    DIGIT_ADVANCE,
    DIGIT_INK,
    SOURCE_FONTS,
    FontMissingError,
    HandSource,
    WritingLog,
    digit_mask,
    load_digits,
    source_font_file,
)

DPI = 200
PX_PER_MM = DPI / 25.4

# (path, face index, Debian package)
HAND_FONTS = {
    "wenkai": ("/usr/share/fonts/truetype/lxgw-wenkai/LXGWWenKai-Regular.ttf", 0, "fonts-lxgw-wenkai"),
    "wenkai-light": ("/usr/share/fonts/truetype/lxgw-wenkai/LXGWWenKai-Light.ttf", 0, "fonts-lxgw-wenkai"),
    "ukai": ("/usr/share/fonts/truetype/arphic/ukai.ttc", 0, "fonts-arphic-ukai"),
}  # fmt: skip
CJK_INK = 0.87  # ink height of a CJK glyph, in em
ASCENT = 0.80  # ink above the baseline, in em (CJK); 0.12 below
LINE_GAP = 1.22  # line pitch, in em

INKS = {
    "blue": (150, 62, 22),  # BGR ballpoint blue
    "navy": (110, 45, 30),
    "black": (38, 34, 32),
    "blue-black": (80, 50, 40),
}
SEAL_RED = (48, 40, 205)  # BGR


@cache
def font_file(name: str) -> tuple[str, int]:
    """(path, face index) of a development font (`HAND_FONTS`) or a hand source's font
    (`sources.SOURCE_FONTS`); raises FontMissingError naming the Debian package or the
    fetch command."""
    if name not in HAND_FONTS and name in SOURCE_FONTS:
        return source_font_file(name), 0
    path, index, package = HAND_FONTS[name]
    if not Path(path).exists():
        raise FontMissingError(
            f"handwriting font {path} is missing: install the Debian package {package} "
            f"(apt-get install {package})"
        )
    return path, index


@cache
def _pil_font(name: str, px: int) -> ImageFont.FreeTypeFont:
    path, index = font_file(name)
    return ImageFont.truetype(path, px, index=index)


@cache
def _cmap(name: str) -> frozenset[int]:
    path, index = font_file(name)
    return frozenset(TTFontFile(path, subfontIndex=index).charToGlyph)


def has_glyph(name: str, ch: str) -> bool:
    return ch == " " or ord(ch) in _cmap(name)


@cache
def has_ink(name: str, ch: str) -> bool:
    """Whether font `name` draws `ch`: in its cmap *and* at least 4 pixels inked at 48 px
    (SetoFont maps 认设访… to empty glyphs, so the cmap alone over-reports)."""
    if ch == " ":
        return True
    if not has_glyph(name, ch):
        return False
    mask = _pil_font(name, 48).getmask(ch)
    w, h = mask.size
    return bool(w and h and int((np.asarray(mask, np.uint8).reshape(h, w) > 128).sum()) >= 4)


@cache
def _advance(name: str, ch: str) -> float:
    """Advance width in em."""
    if not has_glyph(name, ch):
        name = "wenkai"
    return _pil_font(name, 200).getlength(ch) / 200


def max_advance(ch: str) -> float:
    return max(_advance(n, ch) for n in HAND_FONTS)


@cache
def _glyph(name: str, px: int, ch: str) -> tuple[np.ndarray, int, int]:
    """(mask, x offset, y offset of the mask's top-left from the pen position on the baseline)."""
    if not has_glyph(name, ch):
        name = "wenkai" if has_glyph("wenkai", ch) else "ukai"
    font = _pil_font(name, px)
    mask, (ox, oy) = font.getmask2(ch, anchor="ls")
    w, h = mask.size
    a = np.asarray(mask, dtype=np.uint8).reshape(h, w) if w and h else np.zeros((0, 0), np.uint8)
    return a, ox, oy


REAL_DIGIT = "<mnist>"  # the "font" of a real handwritten digit
# A font's point or colon beside a pasted real digit: its advance is the font's (Long Cang's
# point: 0.11 em) while the real digit is as wide as a written one, so the point vanished
# under the next figure (1.5 written as 15 by mnist-eval: the truth said 1.5, the paper 15).
# Among real digits these marks get at least MARK_ADVANCE, and a real digit stays in its cell.
MARKS_AMONG_FIGURES = frozenset(".,:")
MARK_ADVANCE = 0.28  # em
# Likewise a comma between two phrases of Chinese: a person gives it a cell of its own
# (标点符号占一格), but Long Cang's ASCII comma advances 0.18 em while its neighbours'
# glyphs overrun their cells, so the comma was drawn touching the next character or
# hidden under the one before (压力低,轴承异响: the truth held a comma the paper did not,
# held-out set seed 113, 2026-12-03).  Written by a hand source, these marks get at least
# PHRASE_MARK_ADVANCE and are written PHRASE_MARK_LEAD into it.
PHRASE_MARKS = frozenset(",;，；、")
PHRASE_MARK_ADVANCE = 0.5  # em
PHRASE_MARK_LEAD = 0.12  # em: how far right of the pen the mark is written


@cache
def resolve(source: HandSource, ch: str) -> tuple[str, float, bool]:
    """Which face of `source` writes `ch`: (font name or REAL_DIGIT, em scale, fallback).

    Digits 0-9 are real samples when the source has `digits`; other ASCII characters come
    from its `latin` face when it has one and draws them; everything else from the first of
    `fonts` that draws it.  `fallback` is True when that is not the first choice (the truth
    records it).  A character no face of the source draws falls back to the development
    font WenKai, also marked as a fallback.
    """
    if source.digits and ch in "0123456789":
        return REAL_DIGIT, 1.0, False
    first = source.latin if source.latin and ch.isascii() else source.fonts[0]
    candidates = ([source.latin] if source.latin and ch.isascii() else []) + list(source.fonts)
    for name in candidates:
        if has_ink(name, ch):
            scale = SOURCE_FONTS[name].scale if name in SOURCE_FONTS else 1.0
            return name, scale, name != first
    return "wenkai", 1.0, True


@cache
def seal_font_path() -> str:
    return str(resources.files("formdesk.render").joinpath("fonts", "wqy-microhei.ttc"))


# -- a writer ---------------------------------------------------------------------------------
@dataclass
class Hand:
    font: str
    ink: tuple[int, int, int]
    size_frac: float  # glyph height / box height
    max_glyph_mm: float
    ml_glyph_mm: float  # glyph height in multiline boxes
    spacing: float  # advance multiplier
    slant: float  # shear (tan of the slant angle), positive leans right
    jitter: float  # baseline jitter, in em
    rot_deg: float  # per-glyph rotation sd (clipped to 5 degrees)
    bold: bool
    drift_deg: float  # baseline slope
    left_pad_mm: float
    pen_mm: float  # stroke width of ticks and circles
    source: HandSource | None = None  # None: the development fonts (`font`)
    log: WritingLog | None = None  # with a source: fallbacks and real digits used

    @classmethod
    def random(
        cls, rng: np.random.Generator, signature: bool = False, source: HandSource | None = None
    ) -> Hand:
        """A writer drawn from `rng`.  Without `source` the draws (and so every generated
        sample) are exactly those of the development hands; with one, the same draws are
        made and the writer writes with the source's faces (`resolve`) and a fresh log."""
        font = ["wenkai", "wenkai", "wenkai-light", "ukai", "ukai"][int(rng.integers(5))]
        ink = ["blue", "blue", "navy", "black", "black", "blue-black"][int(rng.integers(6))]
        if source is not None:
            font = source.fonts[0]
        return cls(
            font=font,
            ink=INKS[ink],
            size_frac=float(rng.uniform(0.6, 0.85)) * CJK_INK,  # em 60-85 % of the box
            max_glyph_mm=float(rng.uniform(5.0, 6.2)),  # em at most ~7 mm
            ml_glyph_mm=float(rng.uniform(3.4, 4.6)),
            spacing=float(rng.uniform(0.98, 1.12))
            if not signature
            else float(rng.uniform(0.78, 0.9)),
            slant=float(rng.uniform(-0.04, 0.16))
            if not signature
            else float(rng.uniform(0.25, 0.45)),
            jitter=float(rng.uniform(0.025, 0.06)),
            rot_deg=float(rng.uniform(1.2, 3.0)),
            bold=bool(rng.random() < 0.3),
            drift_deg=float(rng.uniform(-1.2, 1.2)) if not signature else float(rng.uniform(-6, 2)),
            left_pad_mm=float(rng.uniform(0.8, 3.0)),
            pen_mm=float(rng.uniform(0.28, 0.45)),
            source=source,
            log=WritingLog() if source is not None else None,
        )

    def signer(self, rng: np.random.Generator) -> Hand:
        """Another person's hand for a signature: slanted, tighter, often another pen (with
        a source: the same source, logging into this form's log)."""
        h = Hand.random(rng, signature=True, source=self.source)
        if self.source is not None:
            h.log = self.log
        if rng.random() < 0.4:
            h.ink = self.ink
        return h

    def advance(self, ch: str) -> float:
        """Pen advance of `ch`, in em."""
        if self.source is None:
            return _advance(self.font, ch)
        name, scale, _ = resolve(self.source, ch)
        if name == REAL_DIGIT:
            return DIGIT_ADVANCE
        adv = _advance(name, ch) * scale
        if ch in PHRASE_MARKS:
            adv = max(adv, PHRASE_MARK_ADVANCE)
        if self.source.digits and ch in MARKS_AMONG_FIGURES:
            return max(adv, MARK_ADVANCE)
        return adv


# -- text layout ------------------------------------------------------------------------------
MIN_EM_MM = 2.5  # below this a person would not write (and a reader could not read)
SAFE_SPACING = 1.14
SAFE_SLANT = 0.5


@dataclass(frozen=True)
class Placed:
    ch: str
    x: float  # mm, pen position on the baseline
    baseline: float
    em: float


_CODE_CHARS = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-/.")


def _chunks(text: str) -> list[str]:
    """Break points: between CJK characters, never inside a code (letters, digits, - / .)
    and never before punctuation."""
    out: list[str] = []
    for ch in text:
        joins_code = ch in _CODE_CHARS and bool(out) and out[-1][-1] in _CODE_CHARS
        if out and (joins_code or ch in ",;:、，。；：)）%"):
            out[-1] += ch
        else:
            out.append(ch)
    return out


def _width(text: str, em: float, spacing: float, adv) -> float:
    return sum(adv(ch) for ch in text) * em * spacing


def _wrap(text: str, width: float, em: float, spacing: float, adv) -> list[str]:
    lines: list[str] = []
    line = ""
    for chunk in _chunks(text):
        if line and _width(line + chunk, em, spacing, adv) > width:
            lines.append(line)
            line = chunk.lstrip()
        else:
            line += chunk
    if line:
        lines.append(line)
    return lines


def fit_lines(
    text: str,
    w: float,
    h: float,
    em: float,
    spacing: float,
    slant: float,
    may_wrap: bool,
    adv=max_advance,
    min_em: float = MIN_EM_MM,
) -> tuple[list[str], float] | None:
    """The lines and em size (mm) at which `text` fits a w x h area, shrinking from `em`."""
    text = text.strip()
    if not text:
        return [], em
    em = min(em, (h - 0.4) / (CJK_INK + 0.1))
    while em >= min_em - 1e-6:
        avail = w - slant * ASCENT * em - 0.2 * em
        if _width(text, em, spacing, adv) <= avail:
            return [text], em
        if may_wrap:
            n_max = int((h - 0.4 - (CJK_INK + 0.1) * em) // (LINE_GAP * em)) + 1
            if n_max >= 2:
                lines = _wrap(text, avail, em, spacing, adv)
                if len(lines) <= n_max and all(
                    _width(ln, em, spacing, adv) <= avail for ln in lines
                ):
                    return lines, em
        em *= 0.94
    return None


def text_fits(text: str, r: Rect, may_wrap: bool, multiline: bool = False) -> bool:
    """Whether any writer can put `text` in the writing area `r` (mm) at a readable size."""
    em = (4.0 if multiline else min(0.62 * r.h, 5.0)) / CJK_INK
    return (
        fit_lines(
            text, r.w - 1.0, r.h - 0.8, em, SAFE_SPACING, SAFE_SLANT * 0.6, may_wrap or multiline
        )
        is not None
    )


def comfortable_fit(text: str, r: Rect, may_wrap: bool, multiline: bool = False) -> bool:
    """Fits on one line at 45 % of the box height (multiline: at 3.2 mm glyphs)."""
    if multiline:
        em = 3.4 / CJK_INK
        return (
            fit_lines(text, r.w - 1.5, r.h - 0.8, em, SAFE_SPACING, 0.3, True, min_em=em)
            is not None
        )
    em = max(min(0.45 * r.h, 4.2), MIN_EM_MM + 0.2) / CJK_INK
    return (
        fit_lines(text, r.w - 1.5, r.h - 0.8, em, SAFE_SPACING, 0.3, False, min_em=em) is not None
    )


# -- the canvas -------------------------------------------------------------------------------
class InkCanvas:
    """Ink coverage (0..255) for one page image; `origin` is the form's top-left in mm
    (non-zero for a tag on a gang sheet)."""

    def __init__(self, shape: tuple[int, int], origin: tuple[float, float] = (0.0, 0.0)):
        self.cov = {}  # ink colour -> coverage array
        self.shape = shape
        self.origin = origin
        self.seals: list[tuple[np.ndarray, int, int, float]] = []

    def _layer(self, ink) -> np.ndarray:
        if ink not in self.cov:
            self.cov[ink] = np.zeros(self.shape, np.uint8)
        return self.cov[ink]

    def px(self, x_mm: float, y_mm: float) -> tuple[float, float]:
        return (x_mm + self.origin[0]) * PX_PER_MM, (y_mm + self.origin[1]) * PX_PER_MM

    def clip_box(self, r: Rect) -> tuple[int, int, int, int]:
        x0, y0 = self.px(r.x, r.y)
        x1, y1 = self.px(r.right, r.bottom)
        h, w = self.shape
        return (
            max(0, math.ceil(x0)),
            max(0, math.ceil(y0)),
            min(w, math.floor(x1)),
            min(h, math.floor(y1)),
        )

    def merge(self, local: np.ndarray, box: tuple[int, int, int, int], ink) -> None:
        x0, y0, x1, y1 = box
        layer = self._layer(ink)
        np.maximum(layer[y0:y1, x0:x1], local, out=layer[y0:y1, x0:x1])

    # -- compositing ----------------------------------------------------------------------
    def apply(self, img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Lays ink (multiply) and seals on a BGR page image, region by region."""
        out = img.copy()
        h, w = self.shape
        # pen pressure: a smooth field between ~0.72 and 1
        small = rng.uniform(0.72, 1.0, (max(2, h // 120), max(2, w // 120))).astype(np.float32)
        pressure_full = None
        for ink, cov in self.cov.items():
            rows, cols = np.nonzero(cov.any(axis=1))[0], np.nonzero(cov.any(axis=0))[0]
            if not len(rows):
                continue
            y0, y1 = max(0, rows[0] - 4), min(h, rows[-1] + 5)
            x0, x1 = max(0, cols[0] - 4), min(w, cols[-1] + 5)
            if pressure_full is None:
                pressure_full = cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)
            pressure = pressure_full[y0:y1, x0:x1]
            a = cv2.GaussianBlur(cov[y0:y1, x0:x1], (0, 0), 0.55).astype(np.float32)
            a = np.minimum(a * (pressure * (1.08 / 255.0)), 1.0)[..., None]
            colour = np.array(ink, np.float32) / 255.0
            region = out[y0:y1, x0:x1]
            region[:] = region * (1.0 - a * (1.0 - colour))
        for mask, x, y, alpha in self.seals:
            mh, mw = mask.shape
            sx0, sy0 = max(0, x), max(0, y)
            sx1, sy1 = min(w, x + mw), min(h, y + mh)
            if sx1 <= sx0 or sy1 <= sy0:
                continue
            m = mask[sy0 - y : sy1 - y, sx0 - x : sx1 - x].astype(np.float32)[..., None] / 255.0
            red = np.array(SEAL_RED, np.float32) / 255.0
            region = out[sy0:sy1, sx0:sx1]
            region[:] = region * (1.0 - alpha * m * (1.0 - red))
        return out


# -- writing ----------------------------------------------------------------------------------
def _clipped_normal(rng: np.random.Generator, sd: float, limit: float) -> float:
    return max(-limit, min(limit, float(rng.normal(0, sd))))


_PX_STEPS = sorted({int(round(8 * 1.08**i)) for i in range(40)})


def _quantised_px(em_px: float) -> int:
    """Glyph masks are cached for a few sizes; the affine transform scales the rest."""
    for p in _PX_STEPS:
        if p >= em_px * 0.97:
            return p
    return _PX_STEPS[-1]


def _glyph_instance(
    hand: Hand, ch: str, em_px: float, rng: np.random.Generator, extra_rot: float
) -> tuple[np.ndarray, float, float]:
    """A transformed glyph mask and the position of the pen point inside it."""
    real = False
    if hand.source is None:
        px = _quantised_px(em_px)
        mask, ox, oy = _glyph(hand.font, px, ch)
    else:
        name, font_scale, fallback = resolve(hand.source, ch)
        if hand.log is not None and fallback:
            hand.log.fallback[ch] = name
        if name == REAL_DIGIT:
            real = True
            mask, ox, oy, px = _real_digit(hand, ch, em_px, rng)
        else:
            em_px *= font_scale
            px = _quantised_px(em_px)
            mask, ox, oy = _glyph(name, px, ch)
    if mask.size == 0:
        return mask, 0.0, 0.0
    scale = em_px / px
    pad = int(px * 0.35) + 2
    h, w = mask.shape
    src = np.zeros((h + 2 * pad, w + 2 * pad), np.uint8)
    src[pad : pad + h, pad : pad + w] = mask
    # pen point (baseline origin) in src coordinates
    px0, py0 = pad - ox, pad - oy
    rot = math.radians(_clipped_normal(rng, hand.rot_deg, 5.0) + extra_rot)
    # a real digit already leans as its writer wrote it: only a trace of the hand's slant
    shear = (0.25 * hand.slant if real else hand.slant) + float(rng.normal(0, 0.02))
    sx = scale * float(rng.uniform(0.94, 1.04))
    sy = scale * float(rng.uniform(0.95, 1.05))
    # M = R . S . Shear, about the pen point; y axis points down, so shear uses -y
    c, s = math.cos(rot), math.sin(rot)
    a11, a12 = sx, -shear * sy
    a21, a22 = 0.0, sy
    m11, m12 = c * a11 - s * a21, c * a12 - s * a22
    m21, m22 = s * a11 + c * a21, s * a12 + c * a22
    H, W = src.shape
    corners = np.array([[0, 0], [W, 0], [0, H], [W, H]], np.float32) - [px0, py0]
    mapped = corners @ np.array([[m11, m21], [m12, m22]], np.float32)
    minx, miny = mapped.min(axis=0)
    maxx, maxy = mapped.max(axis=0)
    tx, ty = -minx, -miny
    M = np.array(
        [[m11, m12, tx - m11 * px0 - m12 * py0], [m21, m22, ty - m21 * px0 - m22 * py0]],
        np.float32,
    )
    out = cv2.warpAffine(
        src,
        M,
        (int(math.ceil(maxx - minx)) + 1, int(math.ceil(maxy - miny)) + 1),
        flags=cv2.INTER_LINEAR,
    )
    if hand.bold and not real:
        out = cv2.dilate(out, np.ones((2, 2), np.uint8))
    return out, tx, ty


def _real_digit(
    hand: Hand, ch: str, em_px: float, rng: np.random.Generator
) -> tuple[np.ndarray, int, int, int]:
    """A real handwritten `ch` (0-9) from the hand's MNIST half, a sample not used before
    on this form: (mask, x offset, y offset of its top-left from the pen point, px).

    Its ink is DIGIT_INK em tall (x 0.92-1.05 per occurrence), standing on the baseline
    and centred in its DIGIT_ADVANCE em cell, like a font digit; px is the em in pixels."""
    assert hand.source is not None and hand.source.digits and hand.log is not None
    digits = load_digits(hand.source.digits)
    i = hand.log.next_digit(digits, int(ch), rng)
    height = DIGIT_INK * em_px * float(rng.uniform(0.92, 1.05))
    mask = digit_mask(digits.images[i], height)
    if mask.size == 0:
        return mask, 0, 0, max(1, int(round(em_px)))
    h, w = mask.shape  # ink plus 2 px of paper every side
    widest = int(DIGIT_ADVANCE * em_px) + 4  # a wide 0 or 5 squeezed into its cell
    if w > widest:
        mask = cv2.resize(mask, (widest, h), interpolation=cv2.INTER_AREA)
        w = widest
    ox = int(round((DIGIT_ADVANCE * em_px - (w - 4)) / 2)) - 2
    oy = -(h - 2)  # ink bottom on the baseline
    return mask, ox, oy, max(1, int(round(em_px)))


class FieldPen:
    """Writes into one clip rectangle (mm) of an InkCanvas."""

    def __init__(self, canvas: InkCanvas, clip: Rect, ink):
        self.canvas = canvas
        self.clip_rect = clip
        self.box = canvas.clip_box(clip)
        x0, y0, x1, y1 = self.box
        self.local = np.zeros((max(0, y1 - y0), max(0, x1 - x0)), np.uint8)
        self.ink = ink

    def _local_px(self, x_mm: float, y_mm: float) -> tuple[float, float]:
        gx, gy = self.canvas.px(x_mm, y_mm)
        return gx - self.box[0], gy - self.box[1]

    def paste(self, mask: np.ndarray, x_px: float, y_px: float) -> None:
        """Max-blends `mask` with its top-left at local pixel (x, y), clipped."""
        if mask.size == 0 or self.local.size == 0:
            return
        x, y = int(round(x_px)), int(round(y_px))
        h, w = mask.shape
        H, W = self.local.shape
        sx0, sy0 = max(0, -x), max(0, -y)
        dx0, dy0 = max(0, x), max(0, y)
        dx1, dy1 = min(W, x + w), min(H, y + h)
        if dx1 <= dx0 or dy1 <= dy0:
            return
        region = self.local[dy0:dy1, dx0:dx1]
        np.maximum(region, mask[sy0 : sy0 + dy1 - dy0, sx0 : sx0 + dx1 - dx0], out=region)

    def glyphs(self, placed: list[Placed], hand: Hand, rng: np.random.Generator, rot=0.0):
        for p in placed:
            if p.ch == " ":
                continue
            mask, tx, ty = _glyph_instance(hand, p.ch, p.em * PX_PER_MM, rng, rot)
            lx, ly = self._local_px(p.x, p.baseline)
            self.paste(mask, lx - tx, ly - ty)

    def stroke(self, pts_mm: np.ndarray, width_mm: float, rng: np.random.Generator) -> None:
        """A pen stroke through points (mm) with a slowly varying width."""
        if self.local.size == 0:
            return
        pts = np.array([self._local_px(x, y) for x, y in pts_mm], np.float64)
        n = len(pts)
        widths = (
            width_mm
            * PX_PER_MM
            * (0.8 + 0.4 * np.abs(np.sin(np.linspace(0, 3, n) + rng.uniform(0, 3))))
        )
        shift = 4  # sub-pixel precision for cv2
        f = float(1 << shift)
        for i in range(n - 1):
            t = max(1, int(round(widths[i])))
            p0 = (int(round(pts[i, 0] * f)), int(round(pts[i, 1] * f)))
            p1 = (int(round(pts[i + 1, 0] * f)), int(round(pts[i + 1, 1] * f)))
            cv2.line(self.local, p0, p1, 255, t, cv2.LINE_AA, shift)

    def done(self) -> None:
        if self.local.size:
            self.canvas.merge(self.local, self.box, self.ink)


def layout_text(
    text: str,
    r: Rect,
    hand: Hand,
    rng: np.random.Generator,
    *,
    may_wrap: bool,
    multiline: bool = False,
    align: str = "left",
    glyph_mm: float | None = None,
    tight: bool = False,
) -> list[Placed]:
    """Where each character goes when `hand` writes `text` in the area `r` (mm)."""
    adv = hand.advance
    if glyph_mm is None:
        glyph_mm = hand.ml_glyph_mm if multiline else min(hand.size_frac * r.h, hand.max_glyph_mm)
    em = glyph_mm / CJK_INK
    spacing = hand.spacing * 1.02
    slant = abs(hand.slant)
    if tight:  # digits squeezed into a narrow slot: closer, upright
        spacing, slant = min(spacing, 0.98), min(slant, 0.05)
    pad_l = 0.3 if align == "center" else min(hand.left_pad_mm, max(0.3, r.w * 0.08))
    h = r.h - 0.8
    wrap = may_wrap or multiline
    fitted = fit_lines(text, r.w - pad_l - 0.5, h, em, spacing, slant, wrap, adv, min_em=1.6)
    if fitted is None or fitted[1] < 0.8 * em:  # short of room: start nearer the edge
        pad_l = 0.3
        fitted = fit_lines(text, r.w - 0.6, h, em, spacing, slant, wrap, adv, min_em=1.6)
    if fitted is None:
        fitted = ([text], 1.6)
    lines, em = fitted
    pitch = LINE_GAP * em
    block = (len(lines) - 1) * pitch + (CJK_INK + 0.1) * em
    if multiline:
        top = r.y + 0.4 + float(rng.uniform(0, max(0.0, min(1.5, h - block) * 0.5)))
    else:
        spare = max(0.0, h - block)
        top = r.y + 0.4 + spare / 2 + float(rng.uniform(-0.3, 0.3)) * spare
    out: list[Placed] = []
    drift = math.tan(math.radians(hand.drift_deg))
    for i, line in enumerate(lines):
        base = top + i * pitch + ASCENT * em
        line_w = _width(line, em, spacing / 1.02, adv)
        if align == "center":
            x = (
                r.x
                + (r.w - line_w - hand.slant * ASCENT * em) / 2
                + float(rng.uniform(-0.15, 0.15)) * max(0.0, r.w - line_w)
            )
        else:
            x = r.x + pad_l + (float(rng.uniform(0, 1.2)) if i else 0.0)
        x0 = x
        for ch in line:
            jitter_y = _clipped_normal(rng, hand.jitter, 0.1) * em
            y = base + jitter_y + (x - x0) * drift
            e = em * float(rng.uniform(0.95, 1.04))
            # a phrase mark stands clear of the character before it, in its own cell
            lead = PHRASE_MARK_LEAD * em if ch in PHRASE_MARKS and hand.source else 0.0
            out.append(Placed(ch, x + lead, y, e))
            x += adv(ch) * em * spacing / 1.02 * float(rng.uniform(0.95, 1.04))
    return _contain(out, r)


def _contain(placed: list[Placed], r: Rect) -> list[Placed]:
    """Shifts the whole text so its estimated ink lies inside `r`."""
    if not placed:
        return placed
    top = min(p.baseline - ASCENT * p.em for p in placed)
    bottom = max(p.baseline + 0.13 * p.em for p in placed)
    right = max(p.x + 1.05 * p.em for p in placed)
    dy = 0.0
    if bottom > r.bottom - 0.3:
        dy = r.bottom - 0.3 - bottom
    if top + dy < r.y + 0.3:
        dy = r.y + 0.3 - top
    dx = min(0.0, r.right - 0.3 - right)
    left = min(p.x for p in placed)
    if left + dx < r.x + 0.2:
        dx = r.x + 0.2 - left
    if dx == 0 and dy == 0:
        return placed
    return [Placed(p.ch, p.x + dx, p.baseline + dy, p.em) for p in placed]


def write_text(
    canvas: InkCanvas,
    text: str,
    r: Rect,
    hand: Hand,
    rng: np.random.Generator,
    *,
    may_wrap: bool = True,
    multiline: bool = False,
    align: str = "left",
    clip: Rect | None = None,
    glyph_mm: float | None = None,
    tight: bool = False,
) -> None:
    if not text:
        return
    if tight:
        hand = replace(hand, slant=max(-0.05, min(hand.slant, 0.05)))
    placed = layout_text(
        text, r, hand, rng, may_wrap=may_wrap, multiline=multiline, align=align,
        glyph_mm=glyph_mm, tight=tight,
    )  # fmt: skip
    pen = FieldPen(canvas, clip or r, hand.ink)
    pen.glyphs(placed, hand, rng)
    pen.done()


def write_signature(
    canvas: InkCanvas, name: str, r: Rect, hand: Hand, rng: np.random.Generator
) -> None:
    """A name in a quick slanted hand, sometimes with a flourish underneath."""
    glyph = min(0.78 * r.h, 8.5) * float(rng.uniform(0.85, 1.05))
    sub = Rect(r.x + float(rng.uniform(0.5, max(0.6, r.w * 0.25))), r.y, 0, r.h)
    sub = Rect(sub.x, r.y, r.right - sub.x, r.h)
    placed = layout_text(name, sub, hand, rng, may_wrap=False, glyph_mm=glyph)
    pen = FieldPen(canvas, r, hand.ink)
    pen.glyphs(placed, hand, rng, rot=float(rng.uniform(-4, 2)))
    if placed and rng.random() < 0.45:
        x0 = placed[0].x - 0.5
        x1 = placed[-1].x + placed[-1].em * 1.2
        y = max(p.baseline for p in placed) + placed[0].em * 0.12
        y = min(y, r.bottom - 0.6)
        t = np.linspace(0, 1, 24)
        xs = x0 + (x1 - x0) * t
        ys = (
            y
            - 0.6 * np.sin(t * math.pi * float(rng.uniform(0.8, 1.6)))
            + t * float(rng.uniform(-1.2, 0.3))
        )
        pen.stroke(np.stack([xs, ys], 1), hand.pen_mm * 0.8, rng)
    pen.done()


def tick(canvas: InkCanvas, square: Rect, clip: Rect, hand: Hand, rng: np.random.Generator) -> None:
    """A ✓ through a printed square; often bigger than the square, never out of its field."""
    s = square.w * float(rng.uniform(1.0, 1.6))
    cx = square.x + square.w * float(rng.uniform(0.3, 0.5))
    cy = square.y + square.h * float(rng.uniform(0.75, 0.95))
    start = (cx - s * float(rng.uniform(0.28, 0.42)), cy - s * float(rng.uniform(0.3, 0.45)))
    end = (cx + s * float(rng.uniform(0.45, 0.7)), cy - s * float(rng.uniform(0.75, 1.0)))
    t1 = np.linspace(0, 1, 6)[:, None]
    t2 = np.linspace(0, 1, 10)[1:, None]
    a = np.array(start) + (np.array([cx, cy]) - np.array(start)) * t1
    b = np.array([cx, cy]) + (np.array(end) - np.array([cx, cy])) * (t2**0.9)
    b[:, 1] += np.sin(t2[:, 0] * math.pi) * s * 0.06  # a slight curve
    pts = np.vstack([a, b]) + rng.normal(0, 0.05, (len(a) + len(b), 2))
    pen = FieldPen(canvas, clip, hand.ink)
    pen.stroke(pts, hand.pen_mm * float(rng.uniform(1.0, 1.35)), rng)
    pen.done()


def circle(
    canvas: InkCanvas, around: Rect, clip: Rect, hand: Hand, rng: np.random.Generator
) -> None:
    """A hand-drawn ellipse around an option, its ends overlapping."""
    cx = around.x + around.w / 2 + float(rng.normal(0, 0.25))
    cy = around.y + around.h / 2 + float(rng.normal(0, 0.15))
    rx = around.w / 2 * float(rng.uniform(0.95, 1.1))
    ry = around.h / 2 * float(rng.uniform(0.85, 1.05))
    start = float(rng.uniform(0, 2 * math.pi))
    sweep = 2 * math.pi + math.radians(float(rng.uniform(10, 45)))
    t = np.linspace(0, 1, 60)
    ang = start + sweep * t
    grow = 1 + float(rng.uniform(-0.08, 0.08)) * t
    tilt = math.radians(float(rng.uniform(-5, 5)))
    ex, ey = rx * grow * np.cos(ang), ry * grow * np.sin(ang)
    xs = cx + ex * math.cos(tilt) - ey * math.sin(tilt)
    ys = cy + ex * math.sin(tilt) + ey * math.cos(tilt)
    pts = np.stack([xs, ys], 1) + rng.normal(0, 0.04, (len(t), 2))
    pen = FieldPen(canvas, clip, hand.ink)
    pen.stroke(pts, hand.pen_mm, rng)
    pen.done()


# -- seals ------------------------------------------------------------------------------------
@cache
def _seal_font(px: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(seal_font_path(), px, index=0)


def seal_mask(name: str, d_px: int, rng: np.random.Generator) -> np.ndarray:
    """A round company stamp: ring, the name along the upper arc, a star in the middle."""
    size = d_px + 8
    img = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(img)
    c = size / 2
    R = d_px / 2
    ring = max(2, int(R * 0.07))
    draw.ellipse([c - R, c - R, c + R, c + R], outline=255, width=ring)
    # the star
    rs = R * 0.26
    pts = []
    for i in range(10):
        a = -math.pi / 2 + i * math.pi / 5
        rr = rs if i % 2 == 0 else rs * 0.4
        pts.append((c + rr * math.cos(a), c + rr * math.sin(a) + R * 0.02))
    draw.polygon(pts, fill=255)
    # the name, characters upright towards the centre, over up to 250 degrees
    n = max(1, len(name))
    ch_px = int(min(R * 0.36, (R - ring) * 2 * math.pi * (250 / 360) / n * 0.95))
    ch_px = max(6, ch_px)
    r_text = R - ring - ch_px * 0.62
    span = min(math.radians(250), n * ch_px * 1.02 / max(r_text, 1))
    font = _seal_font(ch_px)
    for i, ch in enumerate(name):
        a = -math.pi / 2 - span / 2 + span * (i + 0.5) / n
        glyph = Image.new("L", (ch_px * 2, ch_px * 2), 0)
        ImageDraw.Draw(glyph).text((ch_px, ch_px), ch, font=font, fill=255, anchor="mm")
        glyph = glyph.rotate(-math.degrees(a + math.pi / 2), resample=Image.BILINEAR)
        gx = c + r_text * math.cos(a) - ch_px
        gy = c + r_text * math.sin(a) - ch_px
        img.paste(255, (int(gx), int(gy)), glyph)
    m = np.asarray(img, dtype=np.float32) / 255.0
    # uneven stamp ink: blotches and speckle
    lo = rng.uniform(0.55, 1.0, (6, 6)).astype(np.float32)
    lo = cv2.resize(lo, (size, size), interpolation=cv2.INTER_CUBIC)
    speck = (rng.random((size, size)) > float(rng.uniform(0.03, 0.12))).astype(np.float32)
    m = m * np.clip(lo, 0, 1) * speck
    m = cv2.GaussianBlur(m, (0, 0), 0.7)
    angle = float(rng.uniform(-25, 25))
    M = cv2.getRotationMatrix2D((c, c), angle, 1.0)
    m = cv2.warpAffine(m, M, (size, size), flags=cv2.INTER_LINEAR)
    return np.clip(m * 255, 0, 255).astype(np.uint8)


def stamp_seal(canvas: InkCanvas, name: str, r: Rect, rng: np.random.Generator) -> None:
    d = min(r.w - 1.0, r.h - 1.0, 40.0) * float(rng.uniform(0.88, 1.0))
    d_px = int(d * PX_PER_MM)
    mask = seal_mask(name, d_px, rng)
    size = mask.shape[0]
    cx = r.x + r.w / 2 + float(rng.uniform(-1, 1)) * max(0.0, (r.w - d) / 2 - 0.5)
    cy = r.y + r.h / 2 + float(rng.uniform(-1, 1)) * max(0.0, (r.h - d) / 2 - 0.5)
    gx, gy = canvas.px(cx, cy)
    x, y = int(gx - size / 2), int(gy - size / 2)
    # clip to the field's box
    x0, y0, x1, y1 = canvas.clip_box(r)
    clipped = np.zeros_like(mask)
    sx0, sy0 = max(0, x0 - x), max(0, y0 - y)
    sx1, sy1 = min(size, x1 - x), min(size, y1 - y)
    if sx1 > sx0 and sy1 > sy0:
        clipped[sy0:sy1, sx0:sx1] = mask[sy0:sy1, sx0:sx1]
    canvas.seals.append((clipped, x, y, float(rng.uniform(0.7, 0.92))))
