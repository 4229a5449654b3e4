"""What Excel (and WPS, LibreOffice) do to long numbers, recognised so it is refused, never
stored as if it were the number typed.

Excel keeps 15 significant digits of a number (Microsoft, "Excel specifications and
limits": number precision 15 digits) and shows a number of more than 11 digits in a
General-format cell in scientific notation: a claim number 2026031500001234 typed into
an ordinary cell becomes 2.02603E+15 on screen and in a CSV saved from it, and the cell
holds 2026031500001000 — the last digits are gone. Codes (claim, part, engine numbers,
VINs, phone numbers) must be typed into cells formatted as text.
"""

from __future__ import annotations

import re
from decimal import Decimal

# how Excel writes a number in scientific notation: one digit, up to 14 decimals, E+nn;
# a sign on the exponent is required (a code such as 12E45 is left alone)
_SCIENTIFIC = re.compile(r"[+-]?\d(\.\d{1,14})?[eE][+-]\d{1,3}")
EXACT_DIGITS = 15
LIMIT = Decimal(10) ** EXACT_DIGITS  # from here on a spreadsheet number may not be exact

# what a cell shows when its formula fails (Microsoft, "How to correct a #… error"); a CSV
# saved from the sheet holds the same text
EXCEL_ERRORS = frozenset(
    {"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#SPILL!", "#CALC!"}
)

FORMAT_AS_TEXT = "请在 Excel 中把这一列设为“文本”格式,重新输入完整的号码后再保存"


def is_scientific(text: str) -> bool:
    """Whether `text` (trimmed) is a number as Excel writes it in scientific notation."""
    return _SCIENTIFIC.fullmatch(text.strip()) is not None


def is_inexact_number(value: object) -> bool:
    """Whether a numeric spreadsheet cell (int or float) may have lost digits: 16 digits
    or more before the point, beyond what Excel keeps (EXACT_DIGITS)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return abs(Decimal(value)) >= LIMIT
    except (ValueError, ArithmeticError):  # inf, nan
        return False


def scientific_reason(text: str) -> str:
    """The refusal of a value Excel turned into scientific notation (Chinese)."""
    return (
        f"“{text.strip()}”是科学计数法:Excel 把长数字显示成了科学计数法,后面的位数已丢失;"
        + FORMAT_AS_TEXT
    )


def inexact_reason(value: int | float) -> str:
    """The refusal of a numeric cell too long for Excel to hold exactly (Chinese)."""
    shown = format(value, ".6G") if isinstance(value, float) else str(value)
    return (
        f"数字 {shown} 超过 {EXACT_DIGITS} 位,Excel 把长数字存成了数值(科学计数法),"
        f"后面的位数已丢失;" + FORMAT_AS_TEXT
    )


def is_excel_error(text: str) -> bool:
    """Whether `text` (trimmed, any case) is one of Excel's formula error values."""
    return text.strip().upper() in EXCEL_ERRORS


def excel_error_reason(text: str) -> str:
    """The refusal of a formula error value (#N/A, #VALUE! …) in a cell (Chinese)."""
    return f"“{text.strip()}”是 Excel 公式出错时显示的错误值,不是数据;请改正公式或填写实际的值"
