"""Local re-alignment per field: a bowed or folded page (issue 10, point 4).

The marks in the corners fix a homography for the whole page, but a page that bows 3–6 mm
between them, or lies folded, is out of place in the middle while the marks still fit to
0.2 mm: a tick lands beside its square, a value beside its box.  Around each field the
printed frame lines are known exactly (the blank form, `reference.blank_gray`), so the
shift that lays them onto the scan's dark pixels is found by correlation, first at half
resolution over ±SEARCH_MM, then refined at full resolution.

A field is read on the form image moved by that shift (`FormImage.shifted`).  How well the
lines then lie on the scan (`LocalFit.match`) is the field's local residual: where it is
poor (a fold, a crease, a torn corner) the field cannot be ok, ticks included.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from formdesk.templates.geometry import Rect

from .align import PX_PER_MM
from .ink import INK_LEVEL, FormImage, px_slices

SEARCH_MM = 6.0  # the largest local displacement looked for
WINDOW_MM = 3.0  # the field's box grown by this: its frame lines and the neighbours'
SHIFT_MIN_MM = 0.5  # smaller shifts are left alone (the global fit is that good)
MATCH_MIN = 0.55  # share of the window's print that must lie on dark pixels once shifted
MIN_PRINT_PX = 80  # a window with less print than this cannot be aligned locally
NEAR_BEST = 0.97  # correlation within this share of the best counts as a tie


@dataclass(frozen=True)
class LocalFit:
    """The shift (form px at PX_PER_MM; + is right/down in the scan) that lays the
    printed lines around a field on the scan, and how well they then lie (0..1)."""

    dx: int
    dy: int
    match: float
    measured: bool = True  # False: too little print around the field to tell

    @property
    def shift_mm(self) -> float:
        return float(np.hypot(self.dx, self.dy)) / PX_PER_MM

    @property
    def trusted(self) -> bool:
        return not self.measured or self.match >= MATCH_MIN


NOT_MEASURED = LocalFit(0, 0, 1.0, measured=False)


def local_fit(form: FormImage, print_mask: np.ndarray, box: Rect) -> LocalFit:
    """The local shift around `box` (mm).  `print_mask`: the blank form's print, not
    grown (bool, the size of the rectified form)."""
    h, w = print_mask.shape
    grow = WINDOW_MM * PX_PER_MM
    y0, y1 = max(0, int(box.y * PX_PER_MM - grow)), min(h, int(box.bottom * PX_PER_MM + grow))
    x0, x1 = max(0, int(box.x * PX_PER_MM - grow)), min(w, int(box.right * PX_PER_MM + grow))
    template = print_mask[y0:y1, x0:x1]
    n_print = int(template.sum())
    if n_print < MIN_PRINT_PX:
        return NOT_MEASURED
    m = int(SEARCH_MM * PX_PER_MM)
    dark = form.flat < INK_LEVEL
    sy0, sy1, sx0, sx1 = y0 - m, y1 + m, x0 - m, x1 + m
    area = np.zeros((sy1 - sy0, sx1 - sx0), np.uint8)
    cy0, cy1, cx0, cx1 = max(0, sy0), min(h, sy1), max(0, sx0), min(w, sx1)
    area[cy0 - sy0 : cy1 - sy0, cx0 - sx0 : cx1 - sx0] = dark[cy0:cy1, cx0:cx1]
    # coarse: half resolution, the whole search range
    small_t = cv2.resize(
        template.astype(np.float32), None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA
    )
    small_a = cv2.resize(
        area.astype(np.float32), None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA
    )
    if small_t.shape[0] > small_a.shape[0] or small_t.shape[1] > small_a.shape[1]:
        return NOT_MEASURED
    score = cv2.matchTemplate(small_a, small_t, cv2.TM_CCORR)
    # ruled forms repeat (table rows, boxes side by side): of the shifts that fit almost
    # as well as the best, the smallest is the page's
    near = np.argwhere(score >= NEAR_BEST * float(score.max()))
    centre = np.array([(score.shape[0] - 1) / 2, (score.shape[1] - 1) / 2])
    by, bx = (int(v) for v in near[np.argmin(((near - centre) ** 2).sum(axis=1))])
    # fine: full resolution, ±2 px around the coarse answer; ties again go to the smaller
    cx, cy = 2 * bx, 2 * by
    t = template.astype(np.float32)
    a = area.astype(np.float32)
    found = []
    for yy in range(max(0, cy - 2), min(a.shape[0] - t.shape[0], cy + 2) + 1):
        for xx in range(max(0, cx - 2), min(a.shape[1] - t.shape[1], cx + 2) + 1):
            s = float((a[yy : yy + t.shape[0], xx : xx + t.shape[1]] * t).sum())
            found.append((s, yy, xx))
    if not found:
        return NOT_MEASURED
    top = max(f[0] for f in found)
    s, yy, xx = min(
        (f for f in found if f[0] >= 0.99 * top),
        key=lambda f: (f[1] - m) ** 2 + (f[2] - m) ** 2,
    )
    if max(abs(yy - m), abs(xx - m)) >= m - 1:
        return NOT_MEASURED  # at the edge of the search: nothing fitted inside it
    # the scan's content at (x + dx, y + dy) is what the form has at (x, y)
    return LocalFit(xx - m, yy - m, s / n_print)


__all__ = ["LocalFit", "NOT_MEASURED", "local_fit"]


# -- the whole page: a displacement mesh -------------------------------------------------------
TILE_MM = 21.0  # about: the page is cut into columns and rows of this size
MESH_MATCH_MIN = 0.8  # a tile whose lines fit worse than this is not believed
RESIDUAL_DOUBT_MM = 0.8  # a tile the smooth mesh misses by more: a fold, not a bow


@dataclass
class Mesh:
    """Where the page is out of place: per tile (rows × cols, tiles evenly dividing the
    form), the measured shift (px) and how far the smoothed mesh misses it (mm)."""

    dx: np.ndarray  # float32 rows×cols, px
    dy: np.ndarray
    residual_mm: np.ndarray  # rows×cols; NaN where the tile could not be measured
    tile_w_mm: float
    tile_h_mm: float
    # rows×cols, mm: the correction a tile takes from its neighbours along a direction its
    # own print could not measure (_constrains); None: all measured
    inferred_mm: np.ndarray | None = None

    def _tiles(self, box: Rect) -> tuple[slice, slice]:
        rows, cols = self.dx.shape
        c0, c1 = int(box.x // self.tile_w_mm), int(box.right // self.tile_w_mm)
        r0, r1 = int(box.y // self.tile_h_mm), int(box.bottom // self.tile_h_mm)
        return slice(max(0, r0), min(rows, r1 + 1)), slice(max(0, c0), min(cols, c1 + 1))

    def worst_residual(self, box: Rect) -> float:
        """The largest residual (mm) of the tiles `box` touches (0 when none measured)."""
        sub = self.residual_mm[self._tiles(box)]
        sub = sub[~np.isnan(sub)]
        return float(sub.max()) if sub.size else 0.0

    def most_inferred(self, box: Rect) -> float:
        """The largest correction (mm) in the tiles `box` touches that no printed line
        there measured: taken from the neighbours, so not to be trusted for a reading."""
        if self.inferred_mm is None:
            return 0.0
        sub = self.inferred_mm[self._tiles(box)]
        return float(sub.max()) if sub.size else 0.0

    def largest_shift(self, box: Rect) -> float:
        """The largest correction (mm) applied in the tiles `box` touches."""
        sl = self._tiles(box)
        shift = np.hypot(self.dx[sl], self.dy[sl])
        return float(shift.max()) / PX_PER_MM if shift.size else 0.0


def page_mesh(form: FormImage, print_mask: np.ndarray) -> Mesh | None:
    """The page's displacement mesh from the printed lines, or None when the page lies
    flat (no tile out of place by SHIFT_MIN_MM): most pages, and then nothing changes."""
    h, w = print_mask.shape
    width_mm, height_mm = w / PX_PER_MM, h / PX_PER_MM
    cols, rows = max(1, round(width_mm / TILE_MM)), max(1, round(height_mm / TILE_MM))
    tw, th = width_mm / cols, height_mm / rows
    dx = np.full((rows, cols), np.nan, np.float32)
    dy = np.full((rows, cols), np.nan, np.float32)

    def measure(r: int, c: int) -> None:
        box = Rect(c * tw, r * th, tw, th)
        fit = local_fit(form, print_mask, box)
        if fit.measured and fit.match >= MESH_MATCH_MIN:
            across, down = _constrains(print_mask, box)
            if across:
                dx[r, c] = fit.dx
            if down:
                dy[r, c] = fit.dy

    # a bow or fold shows in the page's interior: nine probes there first
    probes = {(rows * i // 4, cols * j // 4) for i in (1, 2, 3) for j in (1, 2, 3)}
    for r, c in probes:
        measure(r, c)
    if not _out_of_place(dx, dy):
        return None
    for r in range(rows):
        for c in range(cols):
            if (r, c) not in probes:
                measure(r, c)
    known_x, known_y = ~np.isnan(dx), ~np.isnan(dy)
    if not _out_of_place(dx, dy):
        return None
    sx, sy = _filled(dx, known_x), _filled(dy, known_y)
    sx = cv2.GaussianBlur(sx, (3, 3), 0.8, borderType=cv2.BORDER_REPLICATE)
    sy = cv2.GaussianBlur(sy, (3, 3), 0.8, borderType=cv2.BORDER_REPLICATE)
    ex = np.where(known_x, np.abs(dx - sx), 0.0)
    ey = np.where(known_y, np.abs(dy - sy), 0.0)
    residual = np.where(known_x | known_y, np.hypot(ex, ey) / PX_PER_MM, np.nan)
    # the part of the correction no line in the tile measured (taken from its neighbours)
    inferred = np.hypot(np.where(known_x, 0.0, sx), np.where(known_y, 0.0, sy)) / PX_PER_MM
    return Mesh(sx, sy, residual.astype(np.float32), tw, th, inferred.astype(np.float32))


STROKE_MM = 1.2  # a printed stroke at least this long pins a tile in its cross direction


def _constrains(print_mask: np.ndarray, box: Rect) -> tuple[bool, bool]:
    """Whether the print inside `box` (mm) can fix a shift across (x) and down (y): x
    needs a vertical stroke at least STROKE_MM long (a ruled column line, a character's
    stroke), y a horizontal one.  A tile holding only a table's row lines fits any x shift
    equally well, up to the lines' slight tilt in a photo — a −5 mm x shift was taken so in
    a BD-23 photo and spread over the empty rows below, whose 车型 cells then read the
    printed serials at full confidence (held-out seed 47).  The aperture problem."""
    tile = print_mask[px_slices(box, print_mask.shape)]
    if tile.size == 0 or not tile.any():
        return False, False
    n = max(3, int(round(STROKE_MM * PX_PER_MM)))
    binary = (tile > 0).astype(np.uint8)
    vertical = cv2.morphologyEx(binary, cv2.MORPH_OPEN, np.ones((n, 1), np.uint8)).any()
    horizontal = cv2.morphologyEx(binary, cv2.MORPH_OPEN, np.ones((1, n), np.uint8)).any()
    return bool(vertical), bool(horizontal)


def _out_of_place(dx: np.ndarray, dy: np.ndarray) -> bool:
    shift = np.hypot(np.nan_to_num(dx), np.nan_to_num(dy))  # a direction not measured: 0
    return bool((shift >= SHIFT_MIN_MM * PX_PER_MM).any())


def _filled(grid: np.ndarray, known: np.ndarray) -> np.ndarray:
    """Unknown tiles take the mean of their known neighbours, repeatedly (then 0)."""
    out = np.where(known, grid, 0.0).astype(np.float32)
    have = known.copy()
    k = np.ones((3, 3), np.float32)
    for _ in range(max(grid.shape)):
        if have.all():
            break
        total = cv2.filter2D(out * have, -1, k, borderType=cv2.BORDER_CONSTANT)
        count = cv2.filter2D(have.astype(np.float32), -1, k, borderType=cv2.BORDER_CONSTANT)
        grow = ~have & (count > 0)
        out[grow] = total[grow] / count[grow]
        have |= grow
    return out


def dewarp(image: np.ndarray, mesh: Mesh) -> np.ndarray:
    """The rectified form with the mesh undone: each point takes what the scan shows at
    its shifted place (tile shifts interpolated bilinearly between tile centres)."""
    h, w = image.shape[:2]
    full_dx = cv2.resize(mesh.dx, (w, h), interpolation=cv2.INTER_LINEAR)
    full_dy = cv2.resize(mesh.dy, (w, h), interpolation=cv2.INTER_LINEAR)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    return cv2.remap(
        image,
        xx + full_dx,
        yy + full_dy,
        cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=(255, 255, 255),
    )
