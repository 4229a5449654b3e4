"""How long a value of each field type may be, and which numbers each numeric type holds.

Every value is checked against these before it is parsed, so no input, typed, OCR'd or
sent by a script, costs more than its type allows or reaches a parser it could break.
A field's own constraints (catalog `max_length`, `min`, `max`) narrow these further; they
never widen them.

The bounds come from the paper: a single-line box holds well under 200 characters at the
smallest print size, a multi-line box well under 2,000; a date, a VIN or an amount typed
with separators and units stays under 40. Amounts: under one billion yuan (the largest
form figure is a station's monthly revenue, SH-ZH/BD-24); counts under one billion;
serial numbers (table rows) 1–9999.
"""

from __future__ import annotations

from decimal import Decimal

from ..schema import Column, FieldType, FormField

Spec = FormField | Column

SHORT = 40
MAX_CHARS: dict[FieldType, int] = {
    FieldType.text: 200,
    FieldType.multiline: 2000,
    FieldType.integer: SHORT,
    FieldType.decimal: SHORT,
    FieldType.money: SHORT,
    FieldType.money_words: 50,
    FieldType.date: SHORT,
    FieldType.month: SHORT,
    FieldType.datetime: SHORT,
    FieldType.time: SHORT,
    FieldType.vin: SHORT,
    FieldType.engine_no: SHORT,
    FieldType.plate: SHORT,
    FieldType.phone: SHORT,
    FieldType.choice: 100,
    FieldType.circle_choice: 100,
    FieldType.checkbox: 20,
    FieldType.signature: 100,
    FieldType.seal: 100,
    FieldType.serial: SHORT,
    FieldType.table: 0,  # a table is rows, never text
}
MULTILINE_TYPES = frozenset({FieldType.multiline})

BILLION = Decimal(10) ** 9
# (lowest, highest) a number of the type may be, whatever the catalog says
NUMBER_LIMITS: dict[FieldType, tuple[Decimal, Decimal]] = {
    FieldType.integer: (-BILLION + 1, BILLION - 1),
    FieldType.decimal: (-BILLION + 1, BILLION - 1),
    FieldType.money: (-BILLION + Decimal("0.01"), BILLION - Decimal("0.01")),
    FieldType.serial: (Decimal(1), Decimal(9999)),
}


def max_chars(spec: Spec) -> int:
    """The most characters a raw value of this field may have (before normalising)."""
    limit = MAX_CHARS[spec.type]
    if spec.constraints.max_length is not None and spec.type in (
        FieldType.text,
        FieldType.multiline,
    ):
        # a little room for what normalising removes (spaces, a closing full stop)
        return min(limit, spec.constraints.max_length * 2 + 10)
    return limit


def number_bounds(spec: Spec) -> tuple[Decimal, Decimal]:
    """(lowest, highest) for a numeric field: the catalog's min/max within the type's own
    limits (NUMBER_LIMITS). KeyError for a type that is not a number."""
    low, high = NUMBER_LIMITS[spec.type]
    c = spec.constraints
    if c.min is not None:
        low = max(low, Decimal(str(c.min)))
    if c.max is not None:
        high = min(high, Decimal(str(c.max)))
    return low, high


def plain(d: Decimal) -> str:
    """A bound as people write it: 2000000, 999999999.99 (never 2e+06)."""
    text = format(d, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
