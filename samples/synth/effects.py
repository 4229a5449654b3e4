"""What a flatbed scanner or a phone camera does to a page.

Smooth fields (paper tone, light, shadows) are computed at low resolution and scaled up;
sensor noise comes from a fixed bank shifted by the random generator: both keep a page
well under a second while staying deterministic for a seed.
"""

from __future__ import annotations

import math
from functools import cache

import cv2
import numpy as np


def jpeg(img: np.ndarray, quality: int) -> np.ndarray:
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    assert ok
    return cv2.imdecode(buf, cv2.IMREAD_COLOR)


@cache
def _noise_bank() -> np.ndarray:
    return np.random.default_rng(12345).standard_normal((1024, 1024), dtype=np.float32)


@cache
def _noise_banks(sigma_tenths: int) -> tuple[np.ndarray, np.ndarray]:
    """(positive part, negative part) of N(0, sigma) noise, uint8, 3 equal channels."""
    n = _noise_bank() * (sigma_tenths / 10)
    pos = np.clip(np.round(n), 0, 255).astype(np.uint8)
    neg = np.clip(np.round(-n), 0, 255).astype(np.uint8)
    return cv2.merge([pos, pos, pos]), cv2.merge([neg, neg, neg])


def _tiled(bank: np.ndarray, h: int, w: int, dy: int, dx: int, flip: bool) -> np.ndarray:
    b = np.roll(bank, (dy, dx), (0, 1))
    if flip:
        b = b[::-1]
    return np.tile(b, (h // 1024 + 1, w // 1024 + 1, 1))[:h, :w]


def _smooth(rng: np.random.Generator, shape: tuple[int, int], cells: int) -> np.ndarray:
    """Low-frequency noise in [0, 1] over `shape`."""
    h, w = shape
    gh = max(2, int(cells * h / max(h, w)) + 1)
    gw = max(2, int(cells * w / max(h, w)) + 1)
    small = rng.random((gh, gw)).astype(np.float32)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC).clip(0, 1)


def _up(field: np.ndarray, h: int, w: int) -> np.ndarray:
    return cv2.resize(field.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)


def _add_noise(img: np.ndarray, rng: np.random.Generator, sigma: float, chroma: float = 0.0):
    """Sensor noise (grey, plus blotchy colour noise for phones), saturating uint8."""
    h, w = img.shape[:2]
    pos, neg = _noise_banks(max(1, int(round(sigma * 2)) * 5))
    dy, dx, flip = int(rng.integers(0, 1024)), int(rng.integers(0, 1024)), bool(rng.random() < 0.5)
    out = cv2.add(img, _tiled(pos, h, w, dy, dx, flip))
    out = cv2.subtract(out, _tiled(neg, h, w, dy, dx, flip))
    if chroma:
        small = rng.normal(0, chroma, (h // 4 + 1, w // 4 + 1, 3)).astype(np.float32)
        big = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
        out = cv2.add(out, big, dtype=cv2.CV_8U)
    return out


def _gain(img: np.ndarray, gain_small: np.ndarray, tint: np.ndarray) -> np.ndarray:
    """img x gain (a smooth field given at low resolution) x per-channel tint, uint8."""
    h, w = img.shape[:2]
    small = np.clip(gain_small[..., None] * tint * 128, 0, 255).astype(np.uint8)
    big = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    return cv2.multiply(img, big, scale=1 / 128)


def rotate_quarter(img: np.ndarray, rng: np.random.Generator, p: float) -> np.ndarray:
    """Sometimes the page went in sideways or upside down."""
    if rng.random() >= p:
        return img
    k = int(rng.choice([1, 2, 3], p=[0.3, 0.45, 0.25]))
    return np.ascontiguousarray(np.rot90(img, k))


def _finish(img: np.ndarray, rng: np.random.Generator, jpeg_quality: int | None) -> np.ndarray:
    if jpeg_quality is None:
        jpeg_quality = int(rng.integers(60, 91))
    return jpeg(img, jpeg_quality) if jpeg_quality else img


# -- scans --------------------------------------------------------------------------------------
def scan_effects(
    img: np.ndarray,
    rng: np.random.Generator,
    jpeg_quality: int | None = None,
    quarter_turns: float = 0.15,
) -> np.ndarray:
    """Flatbed scan: grey paper, small skew (up to 2 degrees) and keystone, blur, sensor
    noise, an occasional shadow band, sometimes greyscale, sometimes turned 90/180 degrees,
    JPEG at quality 60-90 (`jpeg_quality=0` leaves the JPEG step to the caller)."""
    h, w = img.shape[:2]
    # paper: a little grey or yellow, uneven; a shadow band now and then (lid, fold)
    sh, sw = max(8, h // 16), max(8, w // 16)
    light = float(rng.uniform(0.86, 0.98)) * (1 - 0.05 * _smooth(rng, (sh, sw), 6))
    if rng.random() < 0.3:
        width = max(2, int(rng.uniform(0.03, 0.1) * sw))
        ramp = np.linspace(float(rng.uniform(0.55, 0.85)), 1.0, width, dtype=np.float32)
        side = int(rng.integers(4))
        if side == 0:
            light[:, :width] *= ramp
        elif side == 1:
            light[:, sw - width :] *= ramp[::-1]
        elif side == 2:
            light[: min(width, sh), :] *= ramp[: min(width, sh), None]
        else:
            x = int(rng.uniform(0.3, 0.7) * sw)
            ramp2 = np.concatenate([ramp[::-1], ramp])
            lo, hi = max(0, x - width), min(sw, x + width)
            light[:, lo:hi] *= ramp2[: hi - lo]
    tint = np.array([rng.uniform(0.93, 1.0), rng.uniform(0.97, 1.0), 1.0], np.float32)
    out = _gain(img, light, tint)
    # dust and specks
    for _ in range(int(rng.integers(0, 12))):
        v = float(rng.uniform(60, 160))
        cv2.circle(
            out, (int(rng.integers(0, w)), int(rng.integers(0, h))), int(rng.integers(1, 3)),
            (v, v, v), -1,
        )  # fmt: skip
    # skew and a slight keystone
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    j = 0.004 * min(w, h)
    dst = src + rng.uniform(-j, j, (4, 2)).astype(np.float32)
    c = np.float32([w / 2, h / 2])
    rad = math.radians(float(rng.uniform(-2, 2)))
    rot = np.float32([[math.cos(rad), -math.sin(rad)], [math.sin(rad), math.cos(rad)]])
    dst = (dst - c) @ rot.T + c
    lid = float(rng.uniform(200, 250))
    out = cv2.warpPerspective(
        out, cv2.getPerspectiveTransform(src, dst), (w, h), flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT, borderValue=(lid, lid, lid),
    )  # fmt: skip
    out = cv2.GaussianBlur(out, (0, 0), float(rng.uniform(0.3, 0.9)))
    out = _add_noise(out, rng, float(rng.uniform(1.5, 5.0)))
    if rng.random() < 0.35:
        out = cv2.cvtColor(cv2.cvtColor(out, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
    out = rotate_quarter(out, rng, quarter_turns)
    return _finish(out, rng, jpeg_quality)


# -- photos -------------------------------------------------------------------------------------
def background(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """A desk, a workbench or a dark cloth (uint8 BGR)."""
    sh, sw = max(8, h // 4), max(8, w // 4)
    kind = int(rng.integers(4))
    if kind == 0:  # wood: stretched noise with a brown tint, grain along x or y
        shape = (
            (max(2, sh // 30), max(2, sw // 2))
            if rng.random() < 0.5
            else (max(2, sh // 2), max(2, sw // 30))
        )
        grain = cv2.resize(
            rng.random(shape).astype(np.float32), (sw, sh), interpolation=cv2.INTER_CUBIC
        )
        base = np.array(
            [rng.uniform(40, 90), rng.uniform(80, 130), rng.uniform(120, 180)], np.float32
        )
        img = base * (0.75 + 0.35 * grain)[..., None]
    elif kind == 1:  # grey or green workbench
        base = float(rng.uniform(80, 170)) * np.array(
            [1.0, rng.uniform(0.95, 1.15), rng.uniform(0.85, 1.0)], np.float32
        )
        img = base * (0.85 + 0.25 * _smooth(rng, (sh, sw), 12))[..., None]
    elif kind == 2:  # dark cloth
        v = float(rng.uniform(20, 60))
        img = (
            np.full((sh, sw, 3), v, np.float32)
            * (0.8 + 0.4 * _smooth(rng, (sh, sw), 30))[..., None]
        )
    else:  # light table top
        v = float(rng.uniform(170, 220))
        img = np.full((sh, sw, 3), v, np.float32) * np.array(
            [rng.uniform(0.85, 1.0), 0.97, 1.0], np.float32
        )
        img *= (0.9 + 0.12 * _smooth(rng, (sh, sw), 8))[..., None]
    img = cv2.resize(img, (w, h), interpolation=cv2.INTER_LINEAR)
    return np.clip(img, 0, 255).astype(np.uint8)


def _tilt_quad(w: float, h: float, rng: np.random.Generator, max_tilt: float) -> np.ndarray:
    """Corners (TL, TR, BR, BL) of a w x h page seen by a camera tilted up to `max_tilt`
    degrees about both axes and turned a little in plane."""
    ax = math.radians(float(rng.uniform(-max_tilt, max_tilt)))
    ay = math.radians(float(rng.uniform(-max_tilt, max_tilt)))
    az = math.radians(float(rng.uniform(-6, 6)))
    pts = np.array([[-w / 2, -h / 2, 0], [w / 2, -h / 2, 0], [w / 2, h / 2, 0], [-w / 2, h / 2, 0]])
    rx = np.array([[1, 0, 0], [0, math.cos(ax), -math.sin(ax)], [0, math.sin(ax), math.cos(ax)]])
    ry = np.array([[math.cos(ay), 0, math.sin(ay)], [0, 1, 0], [-math.sin(ay), 0, math.cos(ay)]])
    rz = np.array([[math.cos(az), -math.sin(az), 0], [math.sin(az), math.cos(az), 0], [0, 0, 1]])
    p = pts @ (rz @ ry @ rx).T
    f = 1.6 * max(w, h)
    z = p[:, 2] + f
    return np.stack([p[:, 0] * f / z, p[:, 1] * f / z], 1)


def place_on(
    scene: np.ndarray, page: np.ndarray, quad: np.ndarray, shadow: bool = True
) -> np.ndarray:
    """Warps `page` onto the uint8 `scene` (in place) at the quadrilateral `quad`
    (TL, TR, BR, BL), with a soft drop shadow."""
    ph, pw = page.shape[:2]
    ch, cw = scene.shape[:2]
    H = cv2.getPerspectiveTransform(
        np.float32([[0, 0], [pw, 0], [pw, ph], [0, ph]]), quad.astype(np.float32)
    )
    if shadow:
        x0, y0 = np.maximum(quad.min(0).astype(int) - 40, 0)
        x1, y1 = np.minimum(quad.max(0).astype(int) + 60, [cw, ch])
        rh, rw = y1 - y0, x1 - x0
        small = np.zeros((rh // 4 + 1, rw // 4 + 1), np.uint8)
        q = (quad - [x0, y0]) / 4 + [max(1, rw // 1300), max(1, rh // 1000)]
        cv2.fillConvexPoly(small, np.round(q * 16).astype(np.int32), 255, cv2.LINE_AA, 4)
        small = cv2.GaussianBlur(small, (0, 0), max(1.0, 0.0015 * max(cw, ch)))
        factor = 1 - 0.45 * _up(small, rh, rw) / 255.0
        region = scene[y0:y1, x0:x1]
        region[:] = (region * factor[..., None]).astype(np.uint8)
    cv2.warpPerspective(
        page, H, (cw, ch), dst=scene, flags=cv2.INTER_AREA, borderMode=cv2.BORDER_TRANSPARENT
    )
    return scene


def camera(
    scene: np.ndarray,
    rng: np.random.Generator,
    jpeg_quality: int | None = None,
    quarter_turns: float = 0.12,
) -> np.ndarray:
    """Phone optics on a composed scene: uneven light, colour cast, blur, noise,
    sharpening, sometimes turned 90/180 degrees, JPEG."""
    h, w = scene.shape[:2]
    sh, sw = max(8, h // 16), max(8, w // 16)
    yy, xx = np.mgrid[0:sh, 0:sw].astype(np.float32)
    a = float(rng.uniform(0, 2 * math.pi))
    g = (np.cos(a) * (xx / sw - 0.5) + np.sin(a) * (yy / sh - 0.5)) * float(rng.uniform(0.2, 0.5))
    r2 = ((xx / sw - 0.5) ** 2 + (yy / sh - 0.5) ** 2) * 2
    light = (1.0 + g) * (1 - float(rng.uniform(0.1, 0.3)) * r2) * float(rng.uniform(0.85, 1.08))
    if rng.random() < 0.35:  # a soft shadow: a hand, the phone
        blob = np.zeros((sh, sw), np.float32)
        axes = (int(rng.uniform(0.15, 0.4) * sw), int(rng.uniform(0.1, 0.3) * sh))
        centre = (int(rng.uniform(0, sw)), int(rng.uniform(0, sh)))
        cv2.ellipse(blob, centre, axes, float(rng.uniform(0, 180)), 0, 360, 1.0, -1)
        blob = cv2.GaussianBlur(blob, (0, 0), 0.05 * max(sw, sh))
        light *= 1 - float(rng.uniform(0.2, 0.4)) * blob
    cast = np.array(
        [rng.uniform(0.88, 1.05), rng.uniform(0.95, 1.03), rng.uniform(0.95, 1.1)], np.float32
    )
    out = _gain(scene, light, cast)
    out = cv2.GaussianBlur(out, (0, 0), float(rng.uniform(0.5, 1.3)))
    if rng.random() < 0.25:  # a little hand shake
        k = int(rng.integers(3, 7))
        kernel = np.zeros((k, k), np.float32)
        kernel[k // 2, :] = 1.0 / k
        M = cv2.getRotationMatrix2D((k / 2 - 0.5, k / 2 - 0.5), float(rng.uniform(0, 180)), 1)
        kernel = cv2.warpAffine(kernel, M, (k, k))
        out = cv2.filter2D(out, -1, kernel / kernel.sum())
    out = _add_noise(out, rng, float(rng.uniform(2.5, 6.0)), float(rng.uniform(1, 4)))
    if rng.random() < 0.6:  # phones sharpen
        out = cv2.addWeighted(out, 1.4, cv2.GaussianBlur(out, (0, 0), 1.5), -0.4, 0)
    out = rotate_quarter(out, rng, quarter_turns)
    return _finish(out, rng, jpeg_quality)


def _paper(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Paper under room light is never pure white."""
    return cv2.convertScaleAbs(img, alpha=float(rng.uniform(0.88, 0.99)))


def photo_effects(
    img: np.ndarray,
    rng: np.random.Generator,
    jpeg_quality: int | None = None,
    quarter_turns: float = 0.12,
) -> np.ndarray:
    """A phone photo of the page on a desk: perspective (up to 15 degrees of tilt), margins
    of background, uneven light, phone blur/noise/sharpening, JPEG at quality 60-90."""
    ph, pw = img.shape[:2]
    quad = _tilt_quad(pw, ph, rng, 15)
    margin = float(rng.uniform(0.05, 0.2))
    span = quad.max(0) - quad.min(0)
    cw, ch = int(span[0] * (1 + 2 * margin)), int(span[1] * (1 + 2 * margin))
    quad = quad - quad.min(0) + span * margin
    quad += rng.uniform(-0.5, 0.5, 2) * span * margin
    scene = place_on(background(rng, ch, cw), _paper(img, rng), quad)
    return camera(scene, rng, jpeg_quality, quarter_turns)


def photo_on_light_desk(
    img: np.ndarray, rng: np.random.Generator, degrees: float, jpeg_quality: int | None = 85
) -> np.ndarray:
    """A phone photo, taken square on, of the page turned `degrees` (counter-clockwise) on
    a light table top about as light as the paper (grey 218-238, the page 0.88-0.99 of
    white): no outline to square the page up by, and ruled lines that no longer run
    along the image's rows.  No drop shadow; the camera's light, blur and noise as
    `camera`, never turned a quarter."""
    ph, pw = img.shape[:2]
    a = math.radians(degrees)
    c, s = math.cos(a), math.sin(a)
    corners = np.array([[-pw / 2, -ph / 2], [pw / 2, -ph / 2], [pw / 2, ph / 2], [-pw / 2, ph / 2]])
    quad = corners @ np.array([[c, -s], [s, c]])  # image rows grow downwards
    margin = float(rng.uniform(0.04, 0.12))
    span = quad.max(0) - quad.min(0)
    cw, ch = int(span[0] * (1 + 2 * margin)), int(span[1] * (1 + 2 * margin))
    quad = quad - quad.min(0) + span * margin
    v = float(rng.uniform(218, 238))
    desk = (
        np.full((ch, cw, 3), v, np.float32) * (0.96 + 0.06 * _smooth(rng, (ch, cw), 8))[..., None]
    )
    scene = place_on(np.clip(desk, 0, 255).astype(np.uint8), _paper(img, rng), quad, False)
    return camera(scene, rng, jpeg_quality, quarter_turns=0.0)


def side_by_side(
    pages: list[np.ndarray],
    rng: np.random.Generator,
    jpeg_quality: int | None = None,
    quarter_turns: float = 0.0,
) -> np.ndarray:
    """Loose tags laid next to each other on a desk and photographed together (the camera
    tilted up to 8 degrees)."""
    gap = int(0.06 * pages[0].shape[1])
    cw = int(sum(p.shape[1] for p in pages) + gap * (len(pages) + 3))
    ch = int(max(p.shape[0] for p in pages) * 1.3)
    quads = []
    x = gap * 2
    for p in pages:
        h, w = p.shape[:2]
        ang = math.radians(float(rng.uniform(-7, 7)))
        c = np.array([x + w / 2, ch / 2 + rng.uniform(-0.06, 0.06) * h])
        corners = np.array([[-w / 2, -h / 2], [w / 2, -h / 2], [w / 2, h / 2], [-w / 2, h / 2]])
        rot = np.array([[math.cos(ang), -math.sin(ang)], [math.sin(ang), math.cos(ang)]])
        quads.append(corners @ rot.T + c)
        x += w + gap
    # the camera: the desk plane seen tilted; tags keep their place on it
    tilt = _tilt_quad(cw, ch, rng, 8)
    tilt -= tilt.min(0)
    H = cv2.getPerspectiveTransform(
        np.float32([[0, 0], [cw, 0], [cw, ch], [0, ch]]), tilt.astype(np.float32)
    )
    span = tilt.max(0)
    scene = background(rng, int(span[1]), int(span[0]))
    for p, q in zip(pages, quads, strict=True):
        seen = cv2.perspectiveTransform(q.reshape(1, 4, 2).astype(np.float32), H)[0]
        scene = place_on(scene, _paper(p, rng), seen.astype(np.float64))
    return camera(scene, rng, jpeg_quality, quarter_turns)
