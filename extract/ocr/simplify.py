"""PP-OCR often answers in Traditional characters (順達, 索賠): convert to Simplified."""

from __future__ import annotations

from functools import cache

import opencc


@cache
def _converter() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    return _converter().convert(text) if text else text


@cache
def _to_traditional() -> opencc.OpenCC:
    return opencc.OpenCC("s2t")


def to_traditional(text: str) -> str:
    """The same text in Traditional characters (to score a known value against a model
    that may have seen it written either way)."""
    return _to_traditional().convert(text) if text else text
