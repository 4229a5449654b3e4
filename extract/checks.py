"""Checks across fields once a whole document is read: date order, 大写/小写 agreement,
sums (合计), required fields, and a table's rows summarised into one field.

The form's own arithmetic is evidence both ways (issue 10, point 2): a sum that holds
settles readings that were only doubtful (evidence `sum`, `words`); one that does not
sends every reading in it to review."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from decimal import Decimal, InvalidOperation

from formdesk.model.record import FieldReading
from formdesk.templates.schema import CrossCheck, FormField, Template
from formdesk.templates.values.money import MoneyValueError, parse_amount_words

from .evidence import settle


def summarise_table(table: FormField, rows: list[dict[str, FieldReading]]) -> FieldReading:
    """The table as one field (`FieldReading.summarise_rows`): its rows' values, the worst
    cell status, the least confidence."""
    field = FieldReading(
        key=table.key,
        label=table.label,
        type=table.type.value,
        raw=f"{len(rows)} 行",
        status="empty",
        box=[round(v, 2) for v in table.box],
        rows=rows,
    )
    field.summarise_rows()
    return field


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
        if check.rule in ("sum", "product"):
            _apply_sum(check, by_key)
    unread = {k for k, f in by_key.items() if f.value is None} | {
        f.key for f in template.fields if f.key not in by_key
    }
    for check in [*template.checks, *implied_spans(template, unread)]:
        if check.rule in ("sum", "product"):
            continue
        if check.rule != "equals_words":
            _apply_order(check, by_key)
            continue
        a, b = by_key.get(check.field), by_key.get(check.other or "")
        if a is None or b is None or a.value is None or b.value is None:
            continue
        words, figures = (a, b) if a.type == "money_words" else (b, a)
        if not _words_agree(words, figures):
            _flag(a, check.message)
            _flag(b, check.message)
        else:
            settle(a, "words", unread_ok=_one_unread([a, b]))
            settle(b, "words", unread_ok=_one_unread([a, b]))
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
            elif words and figures and words.value and figures.value:
                settle(words, "words", unread_ok=_one_unread([words, figures]))
                settle(figures, "words", unread_ok=_one_unread([words, figures]))
    for spec in template.table_fields:  # cells a check settled or flagged
        f = by_key.get(spec.key)
        if f is not None and f.rows is not None:
            fresh = summarise_table(spec, f.rows)
            f.status, f.reason, f.confidence = fresh.status, fresh.reason, fresh.confidence


def implied_spans(template: Template, missing: Collection[str] = ()) -> list[CrossCheck]:
    """The `within_days` rules a template's own imply through a date not read: |a − b| ≤ m
    and |b − c| ≤ n give |a − c| ≤ m + n when b, a plain date or date-time field named in
    `missing`, has no value on this document — for each pair of dates no rule of the
    template's own joins, at the least such bound in days.  A chain's middle date unread
    no longer hides a misread year at its end: 表格06's 进厂时间 read 9024年3月2日
    (refused), its 更改后预计交车时间 2024-03-21 13:20 read 2014-03-21 13:20 at 0.998, both
    views and both models agreeing (MNIST figures, calibration seed 53), 3,652 days from
    the 原约定交车时间 read 2024-03-21 17:15, which two rules through 进厂时间 bound to 62
    days.  Only through a missing date: with every date read, a year misread at one end
    already breaks its own rules, and an implied rule would send the right dates around
    it to review too.  A table's columns are never the middle (a row's dates are the
    rows', and a table may be empty), nor a month (it stands for its days, so the two
    bounds do not add).  [] when `missing` is empty."""
    edges = [c for c in template.checks if c.rule == "within_days"]
    through = [
        k
        for k in sorted(set(missing))
        if "." not in k
        and any(k in (c.field, c.other) for c in edges)
        and template.spec(k).type.value != "month"
    ]
    if len(edges) < 2 or not through:
        return []
    nodes = sorted({r for c in edges for r in (c.field, c.other or "")})
    far = float("inf")
    dist = {(a, b): 0.0 if a == b else far for a in nodes for b in nodes}
    own = set()
    for c in edges:
        a, b = c.field, c.other or ""
        dist[a, b] = dist[b, a] = min(dist[a, b], float(c.days or 0))
        own |= {(a, b), (b, a)}
    for k in through:
        for i in nodes:
            for j in nodes:
                if dist[i, k] + dist[k, j] < dist[i, j]:
                    dist[i, j] = dist[i, k] + dist[k, j]
    implied = []
    for n, a in enumerate(nodes):
        for b in nodes[n + 1 :]:
            if (a, b) in own or dist[a, b] == far or a in through or b in through:
                continue
            field, other = (b, a) if "." in b and "." not in a else (a, b)
            if "." in other and other.split(".")[0] != field.split(".")[0]:
                continue
            days = int(dist[a, b])
            message = f"{template.spec(field).label}与{template.spec(other).label}相隔超过{days}天"
            implied.append(
                CrossCheck(rule="within_days", field=field, other=other, days=days, message=message)
            )
    return implied


def _apply_order(check: CrossCheck, by_key: dict[str, FieldReading]) -> None:
    """A date order rule (`not_before` / `not_after`), on plain fields or row by row: both
    readings of a broken one go to review with the check's message (a row's 维修日期 read
    2026-11-16 outside the period 2025-12-23–2026-01-14 of its 表格08: 2026-01-06 with
    its slashes read as 1s, MNIST figures, seed 283)."""

    def rows(table: str) -> list[dict[str, FieldReading]]:
        t = by_key.get(table)
        return (t.rows or []) if t is not None else []

    for _row, a, b in check.order_operands(by_key, rows):
        if a is None or b is None or a.value is None or b.value is None:
            continue
        if check.broken(a.value, b.value):
            _flag(a, check.message)
            _flag(b, check.message)


def _one_unread(readings: list[FieldReading]) -> bool:
    """At most one of the readings of a holding check left ink unread: a figure dropped
    in one amount breaks the check, so that reading is whole (evidence.settle)."""
    return sum("unread" in f.evidence for f in readings) <= 1


def _words_agree(words: FieldReading, figures: FieldReading) -> bool:
    try:
        return parse_amount_words(str(words.value)) == Decimal(str(figures.value))
    except (MoneyValueError, ArithmeticError):
        return False


POINTED = ("money", "decimal")  # amounts whose decimal point a reading may lose


def _number(f: FieldReading) -> Decimal | None:
    """A reading's value as a number; an empty field is 0 (a blank 外出费 on paper);
    None when it has no value to add (unreadable)."""
    if f.status == "empty":
        return Decimal(0)
    if f.value is None or isinstance(f.value, bool):
        return None
    try:
        return Decimal(str(f.value).replace(",", ""))
    except (InvalidOperation, ValueError):
        return None


def _sum_groups(
    check: CrossCheck, by_key: dict[str, FieldReading]
) -> Iterator[tuple[FieldReading, list[FieldReading]]]:
    """(total, its parts) for each place the check applies: once for a plain total, once
    per table row for a row total.  A part that is a column stands for all its cells."""
    if "." in check.field:
        table, column = check.field.split(".", 1)
        t = by_key.get(table)
        for row in (t.rows or []) if t is not None else []:
            parts = [row.get(p.split(".", 1)[1]) for p in check.parts]
            if column in row and all(p is not None for p in parts):
                yield row[column], [p for p in parts if p is not None]
        return
    total = by_key.get(check.field)
    if total is None:
        return
    parts: list[FieldReading] = []
    for ref in check.parts:
        if "." in ref:
            table, column = ref.split(".", 1)
            t = by_key.get(table)
            if t is None or t.rows is None:
                return
            parts += [row[column] for row in t.rows if column in row]
        elif ref in by_key:
            parts.append(by_key[ref])
        else:
            return
    yield total, parts


def _apply_sum(check: CrossCheck, by_key: dict[str, FieldReading]) -> None:
    """合计 = Σ parts (or 金额 = Π parts, to the cent), compared exactly: holding, it is
    evidence `sum` for every reading in it; broken, all of them go to review with the
    check's message.  Skipped where the total is blank, no part is written, or a part has
    no value.  A holding sum does not settle an amount read without its decimal point:
    a point lost in every figure of a sum (34130.00 read 3413000) keeps the sum."""
    for total, parts in _sum_groups(check, by_key):
        t = _number(total)
        ps = [_number(p) for p in parts]
        if total.status == "empty" or t is None or any(p is None for p in ps):
            continue
        if all(p.status == "empty" for p in parts):
            continue
        if check.rule == "product" and any(p.status == "empty" for p in parts):
            continue
        if check.rule == "product":
            got = Decimal(1)
            for p in ps:
                got *= p  # type: ignore[operator]
            holds = got.quantize(Decimal("0.01")) == t.quantize(Decimal("0.01"))
        else:
            holds = sum(ps, Decimal(0)) == t  # type: ignore[arg-type]
        if holds:
            group = [f for f in (total, *parts) if f.status != "empty"]
            whole = _one_unread(group)
            for f in group:
                if f.type not in POINTED or "." in f.raw:
                    settle(f, "sum", unread_ok=whole)
        else:
            for f in (total, *parts):
                if f.status != "empty":
                    _flag(f, check.message)
