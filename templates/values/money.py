"""Money amounts: 小写 figures and 大写 words (壹仟贰佰元整), and their agreement."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation

import cn2an

_EXACT = Context(prec=60)
_FIGURES = re.compile(r"^[¥￥]?\s*-?[\d,]+(\.\d+)?\s*元?$")


class MoneyValueError(ValueError):
    """An amount that cannot be read; message in Chinese."""


def parse_amount(value: str | int | float | Decimal, decimals: int = 2) -> Decimal:
    """The amount `value` (figures, optional ¥/￥, thousands commas, 元) with exactly
    `decimals` decimals (2: 元 to 分). Nothing is changed silently: more decimals than that
    are refused unless they are zeros (`0.001` is no amount of money, `1.500` is 1.50), and
    a negative zero is zero. A float (a spreadsheet cell, a JSON number) is taken as the
    15 significant digits a double holds and spreadsheets show (`135.60000000000002`, the
    binary rest of 135.6, is 135.6). Raises MoneyValueError (Chinese reason)."""
    if isinstance(value, bool):
        raise MoneyValueError(f"金额无效:{value}")
    s = format(value, ".15g") if isinstance(value, float) else str(value).strip()
    if not _FIGURES.match(s):
        raise MoneyValueError(f"金额无效:{value}(应为数字,如 1200.00)")
    try:
        amount = Decimal(s.strip("¥￥元 ").replace(",", ""))
        # exact up to 60 digits (a field's range check then refuses what is too big);
        # beyond, InvalidOperation: refused here
        rounded = amount.quantize(
            Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP, context=_EXACT
        )
    except InvalidOperation:
        raise MoneyValueError(f"金额无效:{value}(位数过多)") from None
    if rounded != amount:
        unit = ",即到分" if decimals == 2 else ""
        raise MoneyValueError(f"金额无效:{value}(最多 {decimals} 位小数{unit})")
    return abs(rounded) if rounded == 0 else rounded


def amount_in_words(amount: Decimal) -> str:
    """壹仟贰佰元整 for 1200: the 大写 form cheques and invoices use."""
    return cn2an.an2cn(format(amount, "f"), "rmb")


_UNITS = {"元": Decimal(1), "圆": Decimal(1), "角": Decimal("0.1"), "分": Decimal("0.01")}


def parse_amount_words(words: str) -> Decimal:
    """Reads a 大写 amount back into figures (壹仟贰佰元伍角 -> 1200.50)."""
    s = re.sub(r"[\s人民币整正]", "", words)
    if not s:
        raise MoneyValueError("大写金额为空")
    total, rest = Decimal(0), s
    for m in re.finditer(r"([^元圆角分]+)([元圆角分])", s):
        part = m[1].lstrip("零")
        if part:
            try:
                total += Decimal(str(cn2an.cn2an(part, "strict"))) * _UNITS[m[2]]
            except ValueError:
                raise MoneyValueError(f"无法识别的大写金额:{words}") from None
        rest = rest.replace(m[0], "", 1)
    if rest:
        raise MoneyValueError(f"无法识别的大写金额:{words}")
    return total.quantize(Decimal("0.01"))
