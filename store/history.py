"""Values people confirmed on earlier records, as the reader's history lists (issue 10,
point 2: corroboration by "the list of … known from claims and earlier records").

A value a reviewer kept (已确认) or typed (已更正) in a text field is what that field held on
a real form.  Fields such as 用途 (表格11), 责任 (表格09/13) or 备注 repeat a few phrases
from form to form; the reader reads such a field against the phrases people confirmed in
the same field of the same form before (extract/lexicon.py, `history_list`), so a phrase
read once by a person is read right the next time.  Only words without figures are kept
(`lexicon.rememberable`): numbers, dates and codes are not repeated from form to form.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable
from typing import Any

from formdesk.extract.lexicon import (
    HISTORY_TYPES,
    NEAR_TIMES,
    frequent_list,
    has_history,
    history_list,
    list_items,
    rememberable,
)
from formdesk.model.history import HistoryExclusion, HistoryValue
from formdesk.templates import Template, load_catalog

HISTORY_VALUES = 400  # most values kept per list, the most often confirmed first


def latest_reviews(
    corrections: Iterable[tuple[str, str, str, int | None, str | None, Any]],
) -> list[tuple[str, str, str | None, Any]]:
    """The value each field or cell was last set to, of corrections given oldest first as
    (record id, form code, field key, row, column, value): a value a reviewer changed again
    later was a slip, not what the form held.  As (form code, field key, column, value)."""
    last: dict[tuple[str, str, int | None, str | None], tuple[str, str, str | None, Any]] = {}
    for record_id, code, key, row, column, value in corrections:
        last[(record_id, key, row, column)] = (code, key, column, value)
    return list(last.values())


Reviewed = tuple[str, str, str | None, Any]  # (form code, field key, column, value)


def confirmed_counts(reviewed: Iterable[Reviewed]) -> dict[tuple[str, str], Counter[str]]:
    """How many records last held each value, per (form code, field key — the column key
    for a table's cells), of reviewed values (`latest_reviews`).  Values of unknown forms
    or fields, of types other than text and multiline, of fields read against a catalog
    list instead (`has_history`), or not `rememberable`, are left out."""
    catalog = load_catalog()
    counts: dict[tuple[str, str], Counter[str]] = {}
    for code, key, column, value in reviewed:
        if not isinstance(value, str) or not rememberable(value):
            continue
        template = catalog.get(code)
        if template is None:
            continue
        try:
            field = template.field(key)
        except KeyError:
            continue
        if column is not None:
            spec = next((c for c in field.columns or () if c.key == column), None)
        else:
            spec = field
        if spec is None or spec.type not in HISTORY_TYPES or not has_history(spec.key):
            continue
        counts.setdefault((code, spec.key), Counter())[value.strip()] += 1
    return counts


def history_lists(
    reviewed: Iterable[Reviewed], excluded: Collection[tuple[str, str, str]] = ()
) -> dict[str, list[str]]:
    """History lists from reviewed values (`latest_reviews`), each (form code, field key,
    table column or None, value as stored): {``history:表格11:purpose``: [values, most
    often confirmed first]}, and beside each its values confirmed at least
    lexicon.NEAR_TIMES times, ``frequent:表格11:purpose`` (only when there is one).  Left
    out: what `confirmed_counts` leaves out, and the (form code, field key, value) in
    `excluded` (停用 by the back office); at most HISTORY_VALUES per list."""
    out: dict[str, list[str]] = {}
    for (code, key), c in sorted(confirmed_counts(reviewed).items()):
        kept = [(v, n) for v, n in c.items() if (code, key, v) not in excluded]
        ranked = sorted(kept, key=lambda kv: (-kv[1], kv[0]))[:HISTORY_VALUES]
        if not ranked:
            continue
        out[history_list(code, key)] = [v for v, _n in ranked]
        frequent = [v for v, n in ranked if n >= NEAR_TIMES]
        # the items of values listing several (随车物品: 千斤顶、备胎、…) recur more than
        # their combinations: an item confirmed NEAR_TIMES times is frequent too
        items: Counter[str] = Counter()
        for v, n in kept:
            parts = list_items(v)
            if len(parts) > 1:
                for part in set(parts):
                    items[part] += n
        frequent += sorted(
            (v for v, n in items.items() if n >= NEAR_TIMES and v not in frequent),
            key=lambda v: (-items[v], v),
        )
        if frequent:
            out[frequent_list(code, key)] = frequent
    return out


def history_values(
    reviewed: Iterable[Reviewed], exclusions: Iterable[HistoryExclusion], template: Template
) -> list[HistoryValue]:
    """Every value of `template`'s history (`confirmed_counts`) and every one excluded
    from it, in the order of the form's fields (a table's columns in theirs), most often
    confirmed first; each with its field's Chinese label and its exclusion if any."""
    counts = confirmed_counts(r for r in reviewed if r[0] == template.code)
    off = {(e.field, e.value): e for e in exclusions if e.template == template.code}
    specs: list[tuple[str, str]] = []
    for f in template.fields:
        specs += [(c.key, c.label) for c in f.columns or ()] if f.columns else [(f.key, f.label)]
    out = []
    for key, label in dict(specs).items():
        c = counts.get((template.code, key), Counter())
        values = set(c) | {v for k, v in off if k == key}
        for value in sorted(values, key=lambda v: (-c[v], v)):
            e = off.get((key, value))
            out.append(
                HistoryValue(
                    template=template.code, field=key, label=label, value=value, times=c[value],
                    excluded_by=e.excluded_by if e else None,
                    excluded_at=e.excluded_at if e else None,
                )
            )  # fmt: skip
    return out
