"""Checks across fields once a whole document is read: date order, 大写/小写 agreement,
required fields, and a table's rows summarised into one field."""

from __future__ import annotations

from decimal import Decimal

from formdesk.templates.schema import FormField, Template
from formdesk.templates.values.money import MoneyValueError, parse_amount_words

from .record import FieldReading

_STATUS_RANK = {"ok": 0, "empty": 0, "check": 1, "invalid": 2}


def summarise_table(table: FormField, rows: list[dict[str, FieldReading]]) -> FieldReading:
    """The table as one field: its rows' values, the worst cell status, the least confidence."""
    cells = [c for row in rows for c in row.values()]
    worst = max((c.status for c in cells), key=_STATUS_RANK.__getitem__, default="empty")
    status = "empty" if not rows else ("ok" if worst == "empty" else worst)
    bad = [
        f"第{i}行{c.label}"
        for i, row in enumerate(rows, 1)
        for c in row.values()
        if c.status in ("check", "invalid")
    ]
    return FieldReading(
        key=table.key,
        label=table.label,
        type=table.type.value,
        value=[{k: c.value for k, c in row.items() if c.value is not None} for row in rows] or None,
        raw=f"{len(rows)} 行",
        status=status,
        confidence=min((c.confidence for c in cells), default=1.0),
        reason=("请核对:" + "、".join(bad[:6]) + ("…" if len(bad) > 6 else "")) if bad else None,
        box=[round(v, 2) for v in table.box],
        rows=rows,
    )


def _flag(f: FieldReading, reason: str) -> None:
    if f.status == "ok":
        f.status = "check"
    f.reason = reason if not f.reason else f"{f.reason};{reason}"


def apply_cross_checks(template: Template, fields: list[FieldReading]) -> None:
    by_key = {f.key: f for f in fields}
    for spec in template.fields:
        f = by_key.get(spec.key)
        if f is not None and spec.required and f.status == "empty":
            f.reason = "必填栏目未填写"
    for check in template.checks:
        a, b = by_key.get(check.field), by_key.get(check.other)
        if a is None or b is None or a.value is None or b.value is None:
            continue
        if check.rule == "equals_words":
            words, figures = (a, b) if a.type == "money_words" else (b, a)
            if not _words_agree(words, figures):
                _flag(a, check.message)
                _flag(b, check.message)
            continue
        x, y = str(a.value), str(b.value)
        n = min(len(x), len(y))  # a month (2026-03) compares with a date by its prefix
        broken = x[:n] < y[:n] if check.rule == "not_before" else x[:n] > y[:n]
        if broken:
            _flag(a, check.message)
            _flag(b, check.message)
    for spec in template.fields:
        if spec.type.value == "money_words" and spec.words_of:
            words, figures = by_key.get(spec.key), by_key.get(spec.words_of)
            if (
                words
                and figures
                and words.value
                and figures.value
                and not _words_agree(words, figures)
            ):
                _flag(words, "大写金额与小写金额不符")
                _flag(figures, "大写金额与小写金额不符")


def _words_agree(words: FieldReading, figures: FieldReading) -> bool:
    try:
        return parse_amount_words(str(words.value)) == Decimal(str(figures.value))
    except (MoneyValueError, ArithmeticError):
        return False
