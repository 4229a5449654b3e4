"""JPEG, PNG and TIFF pages through Pillow: dimensions checked from the header before
anything is decoded, then one frame at a time turned into BGR uint8.

The file's type is already known from its content, so the matching Pillow plugin opens it
directly.  This skips `Image.open`'s own bomb check, whose limit is a process-wide global
(`Image.MAX_IMAGE_PIXELS`) that warns at 89 M pixels and fails at 179 M; ours is
`IngestLimits.max_pixels`, applied to every TIFF frame too (Pillow checks only the first).
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterator

import cv2
import numpy as np
from PIL import Image, JpegImagePlugin, PngImagePlugin, TiffImagePlugin

from .errors import IngestError
from .limits import IngestLimits
from .pages import PageImage
from .tiff_ifd import check_tiff_directories

_PLUGINS: dict[str, type[Image.Image]] = {
    "jpeg": JpegImagePlugin.JpegImageFile,
    "png": PngImagePlugin.PngImageFile,
    "tiff": TiffImagePlugin.TiffImageFile,
}
_NAMES = {"jpeg": "JPEG", "png": "PNG", "tiff": "TIFF"}

# Below this a "dpi" field holds an aspect ratio or a placeholder, not a resolution.
MIN_PLAUSIBLE_DPI = 20

ORIENTATION_TAG = 0x0112
_ORIENT = {
    2: lambda a: cv2.flip(a, 1),
    3: lambda a: cv2.rotate(a, cv2.ROTATE_180),
    4: lambda a: cv2.flip(a, 0),
    5: lambda a: cv2.transpose(a),
    6: lambda a: cv2.rotate(a, cv2.ROTATE_90_CLOCKWISE),
    7: lambda a: cv2.flip(cv2.transpose(a), -1),
    8: lambda a: cv2.rotate(a, cv2.ROTATE_90_COUNTERCLOCKWISE),
}


def image_page_count(data: bytes, kind: str, limits: IngestLimits) -> int:
    """Frames in the file (one unless a multi-page TIFF), each frame's size checked; a TIFF's
    directories are checked in its raw bytes first (`tiff_ifd`)."""
    if kind == "tiff":
        check_tiff_directories(data, limits.max_pages + 1)
    im = _open(data, kind)
    try:
        return _check(im, kind, limits)
    finally:
        im.close()


def iter_image_pages(
    data: bytes, kind: str, source: str, limits: IngestLimits, first: int = 0
) -> Iterator[PageImage]:
    """Each frame of an image file decoded in turn (all checked first), from frame
    `first` (0-based)."""
    if kind == "tiff":
        check_tiff_directories(data, limits.max_pages + 1)
    im = _open(data, kind)
    try:
        n = _check(im, kind, limits)
        for index in range(first, n):
            yield _decode(im, kind, index, n, source)
    finally:
        im.close()


def _open(data: bytes, kind: str) -> Image.Image:
    try:
        return _PLUGINS[kind](io.BytesIO(data))
    except Exception:  # Pillow's plugins raise many kinds for a broken header
        raise IngestError(_corrupt(kind)) from None


def _check(im: Image.Image, kind: str, limits: IngestLimits) -> int:
    n = _frame_count(im, kind, limits)
    for index in range(n):
        _seek(im, kind, index)
        w, h = im.size
        if w < 1 or h < 1:
            raise IngestError(_corrupt(kind))
        if w * h > limits.max_pixels:
            where = f"第 {index + 1} 页" if n > 1 else ""
            raise IngestError(f"{where}图片尺寸过大({w}×{h} 像素),可能是解压炸弹")
    return n


def _frame_count(im: Image.Image, kind: str, limits: IngestLimits) -> int:
    """Frames counted one directory at a time (Pillow reads them in a chain), stopping at
    `max_pages + 1`: enough to refuse, whether the file holds 201 frames or millions."""
    if kind != "tiff":
        return 1  # an MPO depth map or an APNG's later frames are not pages
    n = 1
    while n <= limits.max_pages:
        if not _has_frame(im, kind, n):
            return n
        n += 1
    more = _has_frame(im, kind, n)  # one more says whether n is the count or a floor
    many = f"超过 {n}" if more else str(n)
    raise IngestError(f"页数过多({many} 页,上限 {limits.max_pages} 页)")


def _has_frame(im: Image.Image, kind: str, index: int) -> bool:
    try:
        im.seek(index)
    except EOFError:
        return False
    except Exception:
        raise IngestError(_corrupt(kind)) from None
    return True


def _seek(im: Image.Image, kind: str, index: int) -> None:
    if kind == "tiff":
        try:
            im.seek(index)
        except Exception:
            raise IngestError(_corrupt(kind)) from None


def _decode(im: Image.Image, kind: str, index: int, n: int, source: str) -> PageImage:
    _seek(im, kind, index)
    try:
        im.load()
        bgr = to_bgr(im)
    except Image.DecompressionBombError:
        w, h = im.size
        raise IngestError(f"图片尺寸过大({w}×{h} 像素),可能是解压炸弹") from None
    except Exception as exc:  # truncated data, bad compressed stream, missing codec ...
        if isinstance(exc, OSError) and "not available" in str(exc):
            raise IngestError(f"{_NAMES[kind]} 图片的压缩方式不受支持") from None
        where = f"(第 {index + 1} 页)" if n > 1 else ""
        raise IngestError(_corrupt(kind) + where) from None
    orientation = _orientation(im, kind)
    if orientation in _ORIENT:
        bgr = _ORIENT[orientation](bgr)
    return PageImage(source, index, bgr, _dpi(im, orientation), text_layer=False)


def to_bgr(im: Image.Image) -> np.ndarray:
    """Any Pillow mode as BGR uint8: 16-bit scaled down (not clipped), transparency laid
    on white paper, palette/grey/CMYK expanded."""
    mode = im.mode
    if mode.startswith("I") or mode == "F":
        return cv2.cvtColor(_grey8(im), cv2.COLOR_GRAY2BGR)
    if mode in ("1", "L"):
        return cv2.cvtColor(np.asarray(im.convert("L")), cv2.COLOR_GRAY2BGR)
    if mode in ("RGBA", "RGBa", "LA", "La", "PA") or (mode == "P" and "transparency" in im.info):
        rgba = im.convert("RGBA")
        paper = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        rgb = Image.alpha_composite(paper, rgba).convert("RGB")
    else:
        rgb = im.convert("RGB")
    return cv2.cvtColor(np.asarray(rgb), cv2.COLOR_RGB2BGR)


def _grey8(im: Image.Image) -> np.ndarray:
    """16-bit and 32-bit grey to 8 bits by range: Pillow's own conversion clips at 255."""
    a = np.asarray(im)
    if im.mode == "F":
        a = np.nan_to_num(a.astype(np.float32))
        top = 1.0 if a.size and a.max() <= 1.0 else 255.0
        return np.clip(a * (255.0 / top), 0, 255).round().astype(np.uint8)
    a = a.astype(np.int64) if im.mode == "I" else a.astype(np.uint16)
    if im.mode == "I" and (not a.size or a.max() <= 255):
        return np.clip(a, 0, 255).astype(np.uint8)  # 8-bit values stored as 32-bit
    return (np.clip(a, 0, 65535).astype(np.uint16) >> 8).astype(np.uint8)


def _orientation(im: Image.Image, kind: str) -> int:
    try:
        if kind == "tiff":
            value = im.tag_v2.get(ORIENTATION_TAG, 1)  # this frame's own tag
        else:
            value = im.getexif().get(ORIENTATION_TAG, 1)
        return int(value)
    except Exception:  # malformed EXIF: better upright-as-stored than refused
        return 1


def _dpi(im: Image.Image, orientation: int) -> float:
    try:
        x, y = (float(v) for v in im.info["dpi"])
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        return 0.0
    if orientation in (5, 6, 7, 8):  # turned a quarter: the old y runs across
        x, y = y, x
    return x if math.isfinite(x) and x >= MIN_PLAUSIBLE_DPI else 0.0


def _corrupt(kind: str) -> str:
    return f"{_NAMES[kind]} 图片损坏或不完整"
