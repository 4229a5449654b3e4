"""The embedded Chinese font (WenQuanYi Micro Hei, TrueType outlines, subset into every PDF)."""

from __future__ import annotations

from functools import cache
from importlib import resources

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

FONT_NAME = "WQYMicroHei"


def font_file() -> str:
    """The packaged font's path (for drawing on images, e.g. a layout's preview)."""
    return str(resources.files(__package__).joinpath("fonts", "wqy-microhei.ttc"))


@cache
def font_name() -> str:
    """Registers the packaged font once per process; no system font is ever assumed."""
    pdfmetrics.registerFont(TTFont(FONT_NAME, font_file(), subfontIndex=0))
    return FONT_NAME


def string_width_mm(text: str, size_pt: float) -> float:
    return pdfmetrics.stringWidth(text, font_name(), size_pt) * 25.4 / 72
