"""Full-width characters typed by a Chinese input method, turned into what the value means.

A Chinese IME in full-width mode types digits, Latin letters and punctuation as their
full-width forms (U+FF01–U+FF5E, and U+3000 for a space): ``２０２６－０３－１５``,
``ＬＧＡＸ２Ａ１３７６Ｋ１２３４５６``, ``１，２００．５０``. They are the same characters to the
person typing, so every typed value (print data from the web page, the API and CSV/XLSX
files; claims files; corrections) passes through this module before its type is parsed
(`templates.values.normalize.normalize`, `ingest.claims`):

- code-like types (numbers, money, dates and times, VIN, engine and plate numbers, phone
  numbers, ticks: `CODE_LIKE`) get Unicode NFKC (UAX #15) of the whole value, which maps
  every compatibility form (full-width, ideographic space, ￥ → ¥, ① → 1 …) to the plain
  character the parser understands; Chinese characters in them (年月日, a plate's province)
  are unchanged by NFKC;
- free text keeps what was typed, except the full-width forms of ASCII (and the
  ideographic space), which become ASCII, so a typed ``（ＡＢＳ）`` and a handwritten
  ``(ABS)`` read back compare equal; other compatibility characters (…, ①, ㍿, Kangxi
  radicals, half-width katakana) are kept as typed, never rewritten.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from ..schema import FieldType

CODE_LIKE = frozenset(
    {
        FieldType.integer,
        FieldType.decimal,
        FieldType.money,
        FieldType.date,
        FieldType.month,
        FieldType.datetime,
        FieldType.time,
        FieldType.vin,
        FieldType.engine_no,
        FieldType.plate,
        FieldType.phone,
        FieldType.checkbox,
        FieldType.serial,
    }
)

IDEOGRAPHIC_SPACE = "\u3000"
# U+FF01 ！ … U+FF5E ～ are U+0021 ! … U+007E ~ shifted by 0xFEE0 (Unicode chart FF00)
_FULL_TO_ASCII = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)} | {
    ord(IDEOGRAPHIC_SPACE): ord(" ")
}


def ascii_forms(text: str) -> str:
    """`text` with full-width ASCII (U+FF01–U+FF5E) and the ideographic space (U+3000)
    as ASCII; every other character as typed. Never changes the length."""
    return text.translate(_FULL_TO_ASCII) if not text.isascii() else text


def code_form(text: str) -> str:
    """NFKC of `text`: what a code, number, date or amount is parsed from."""
    return unicodedata.normalize("NFKC", text) if not text.isascii() else text


def typed_form(kind: FieldType, raw: Any) -> Any:
    """A raw value of a field of type `kind` as its parser gets it: text through
    `code_form` for `CODE_LIKE` types, `ascii_forms` for the others (free text, choices,
    signatures, seals); anything that is not text unchanged."""
    if not isinstance(raw, str):
        return raw
    return code_form(raw) if kind in CODE_LIKE else ascii_forms(raw)
