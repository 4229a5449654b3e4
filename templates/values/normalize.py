"""One entry point per field type: turn what a user typed into the value a record stores.

Stored values are JSON-friendly and canonical: dates as ISO strings, money as a string
with fixed decimals, choices as the option text, checkboxes as booleans.
"""

from __future__ import annotations

import math
import re
import unicodedata
from decimal import Decimal
from typing import Any

from formdesk.templates.errors import FormdeskError

from ..schema import Column, FieldType, FormField, Template
from .bounds import MULTILINE_TYPES, max_chars, number_bounds, plain
from .dates import (
    chinese_date,
    chinese_datetime,
    chinese_month,
    chinese_time,
    parse_date,
    parse_datetime,
    parse_month,
    parse_time,
)
from .identifiers import canonical_phone, engine_no_problem, phone_problem, plate_problem
from .money import MoneyValueError, amount_in_words, parse_amount, parse_amount_words
from .spreadsheet import (
    excel_error_reason,
    inexact_reason,
    is_excel_error,
    is_inexact_number,
    is_scientific,
    scientific_reason,
)
from .text import shown, text_problem
from .vin import vin_problem
from .width import ascii_forms, typed_form

Spec = FormField | Column


class FieldValueError(FormdeskError, ValueError):
    """One field (or table cell) whose value is not acceptable; message in Chinese
    (HTTP 422; `details()` names the field, and the row of a table cell)."""

    status = 422

    def details(self) -> dict[str, Any]:
        """The field's key (a table cell's as ``table.column``) and the table row (from 1),
        for a page to put the message at the field; `record` when several were sent."""
        out: dict[str, Any] = {"field": self.key, "row": self.row}
        if self.record is not None:
            out["record"] = self.record
        return out

    def of_record(self, n: int) -> FieldValueError:
        """The same refusal said of the `n`th of several records: ``第n条记录 `` first."""
        copy = FieldValueError(self.key, self.reason, row=self.row, label=self.label)
        copy.args = (f"第{n}条记录 {self}",)
        copy.record = n
        return copy

    def __init__(self, key: str, reason: str, row: int | None = None, label: str = ""):
        self.key, self.reason, self.row, self.label = key, reason, row, label
        self.record: int | None = None  # which of several records sent, when prefixed
        where = f"第{row}行 " if row is not None else ""
        # the clerk's words: the field's Chinese label (the key only when there is none,
        # e.g. a key the template does not have); programs read `details()`
        super().__init__(f"{where}{label or key}:{reason}")


def fold(text: str) -> str:
    """NFKC, no whitespace, casefolded: how a name written by different people or systems
    (a station's name on a form, in a claims export) is compared."""
    return "".join(unicodedata.normalize("NFKC", text).split()).casefold()


_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")
_CONTAINERS = (list, tuple, set, frozenset, dict, bytes, bytearray)
_INT_DIGITS = 40  # a Python int with more digits is refused before it is turned into text


def _number(raw: Any, integer: bool) -> Decimal:
    """A plain decimal number (digits, optional sign, point and thousands commas): no
    exponent, infinity or NaN, which Decimal would otherwise accept."""
    if isinstance(raw, bool):
        raise ValueError(f"应为数字,而不是 {raw}")
    s = str(raw).strip().replace(",", "")
    if isinstance(raw, float) and raw.is_integer():
        s = str(int(raw))  # 48260.0 from a JSON body or a spreadsheet is 48260
    if not _PLAIN_NUMBER.fullmatch(s):
        raise ValueError(f"应为{'整数' if integer else '数字'},而不是 {shown(raw)}")
    d = Decimal(s)
    if integer and d != d.to_integral_value():
        raise ValueError(f"应为整数,而不是 {shown(raw)}")
    return d


def _check_range(d: Decimal, spec: Spec) -> None:
    """The number within its field's bounds (catalog min/max within the type's own
    limits, see bounds.NUMBER_LIMITS)."""
    low, high = number_bounds(spec)
    if d < low:
        raise ValueError(f"不能小于 {plain(low)}")
    if d > high:
        raise ValueError(f"不能大于 {plain(high)}")


def check_raw(spec: Spec, raw: Any) -> None:
    """Refuses what no value of the field's type can be, before any parsing: a list or an
    object, a non-finite or absurdly long number, text longer than the type allows
    (bounds.MAX_CHARS), and characters no field accepts (text.refused_char: lone
    surrogates, NUL and other controls, tab/newline outside multi-line text, bidi
    controls). Raises ValueError with the Chinese reason."""
    if isinstance(raw, _CONTAINERS):
        kind = "对象" if isinstance(raw, dict) else "列表"
        raise ValueError(f"应为一个值(文字或数字),而不是{kind}")
    if isinstance(raw, float) and not math.isfinite(raw):
        raise ValueError(f"数字无效:{raw}(无穷大或非数字)")
    if isinstance(raw, int) and not isinstance(raw, bool) and abs(raw) >= 10**_INT_DIGITS:
        raise ValueError(f"数字位数过多(最多 {_INT_DIGITS} 位)")
    text = raw if isinstance(raw, str) else str(raw)
    limit = max_chars(spec)
    if len(text) > limit:
        raise ValueError(f"内容太长:最多 {limit} 个字符,实际 {len(text)} 个")
    if problem := text_problem(text, multiline=spec.type in MULTILINE_TYPES):
        raise ValueError(problem)


def _code(raw: Any) -> str:
    return re.sub(r"\s+", "", str(raw)).upper()


NUMBER_TYPES = frozenset({FieldType.integer, FieldType.decimal, FieldType.money, FieldType.serial})


def check_kind(spec: Spec, raw: Any) -> None:
    """Refuses a value of a kind the field cannot hold, before it is turned into text:
    true/false anywhere but a tick box (`str(True)` would print "True"), a number too
    long to be exact for a code or text field (16 digits or more: a spreadsheet or a JSON
    double has lost its last digits, `spreadsheet.is_inexact_number`), and text in Excel's scientific notation
    (2.02603E+15: the digits after the sixth are gone) or one of its formula error values
    (#N/A, #VALUE! …). ValueError with the reason."""
    t = spec.type
    if isinstance(raw, bool):
        if t != FieldType.checkbox:
            raise ValueError(f"应为{'数字' if t in NUMBER_TYPES else '文字'},而不是 {raw}")
        return
    if t not in NUMBER_TYPES and is_inexact_number(raw):  # numbers: their range says more
        raise ValueError(inexact_reason(raw))
    text = raw if isinstance(raw, str) else str(raw) if isinstance(raw, float) else ""
    if t != FieldType.multiline and text and is_scientific(typed_form(FieldType.integer, text)):
        raise ValueError(scientific_reason(text))
    if isinstance(raw, str) and is_excel_error(raw):
        raise ValueError(excel_error_reason(raw))


def normalize(spec: Spec, raw: Any) -> Any:
    """The canonical value of `raw` for this field or column; raises ValueError(reason).

    `raw` is first checked against its type's bounds (`check_raw`); numbers must then lie
    within the field's range (`_check_range`). Full-width digits, letters and punctuation
    are read as ASCII (`width.typed_form`: NFKC for code-like types) before any parsing."""
    check_raw(spec, raw)
    check_kind(spec, raw)
    raw = typed_form(spec.type, raw)
    t, c = spec.type, spec.constraints
    if t in (FieldType.checkbox,):
        if isinstance(raw, bool):
            return raw
        s = str(raw).strip().lower()
        if s in {"1", "true", "yes", "y", "是", "√", "✓", "x", "on"}:
            return True
        if s in {"0", "false", "no", "n", "否", "", "off"}:
            return False
        raise ValueError(f"应为 是/否,而不是 {shown(raw)}")
    if t == FieldType.integer:
        d = _number(raw, integer=True)
        _check_range(d, spec)
        return int(d)
    if t in (FieldType.decimal, FieldType.money):
        d = parse_amount(raw, c.decimals if c.decimals is not None else 2)
        _check_range(d, spec)
        return format(d, "f")
    if t == FieldType.money_words:
        s = str(raw).strip()
        try:
            parse_amount_words(s)
        except MoneyValueError as exc:
            raise ValueError(f"{exc}(应如 壹仟贰佰元整)") from None
        return s
    if t == FieldType.date:
        return parse_date(str(raw)).isoformat()
    if t == FieldType.month:
        return parse_month(str(raw)).isoformat()[:7]
    if t == FieldType.datetime:
        return parse_datetime(str(raw)).isoformat(sep=" ", timespec="minutes")
    if t == FieldType.time:
        return parse_time(str(raw)).isoformat(timespec="minutes")
    if t in (FieldType.vin, FieldType.engine_no, FieldType.plate):
        s = _code(raw)
        problem = {
            FieldType.vin: vin_problem,
            FieldType.engine_no: engine_no_problem,
            FieldType.plate: plate_problem,
        }[t](s)
        if problem:
            raise ValueError(problem)
        return s
    if t == FieldType.phone:
        s = str(raw).strip()
        if problem := phone_problem(s):
            raise ValueError(problem)
        return canonical_phone(s)
    if t in (FieldType.choice, FieldType.circle_choice):
        s = str(raw).strip()
        if s not in spec.options:
            raise ValueError(f"应为 {' / '.join(spec.options)} 之一,而不是 {shown(raw)}")
        return s
    if t == FieldType.serial:
        d = _number(raw, integer=True)
        _check_range(d, spec)
        return int(d)
    # text, multiline, signature, seal: full-width punctuation (，：（）), letters and
    # digits have become their ASCII forms (typed_form), so a typed and a handwritten
    # value compare equal; every other character stays as typed
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)  # 1200.0 from a JSON body or a spreadsheet is 1200
    s = ascii_forms(str(raw)).strip()
    if t in (FieldType.text, FieldType.multiline):
        s = s.rstrip("。.")  # a closing full stop is punctuation, not data
    if c.max_length is not None and len(s) > c.max_length:
        raise ValueError(f"最多 {c.max_length} 个字,实际 {len(s)} 个")
    if c.pattern and s and not re.fullmatch(c.pattern, s):
        raise ValueError(f"格式不对:{shown(s)}")
    return s


PRESENCE_TYPES = frozenset({FieldType.signature, FieldType.seal})
# what a person may say of a signature or a seal on a read form: there, or not there
_PRESENT = {FieldType.signature: "已签字", FieldType.seal: "已盖章"}
_ABSENT = {FieldType.signature: "未签字", FieldType.seal: "未盖章"}


def correction_value(spec: Spec, raw: Any) -> Any:
    """What a person's correction of a read form's field stores; raises ValueError(reason).

    A signature or a seal on a scan is read as there or not (extract.fields measures ink,
    it never reads a name), so its correction is the same presence flag: JSON true or its
    label (已签字 / 已盖章) is True, false or 未签字 / 未盖章 clears it (None, as an empty
    box reads); any other value (`yes`, `0`, a name) is refused with the reason. Every
    other field is checked as typed values are (`normalize`)."""
    if spec.type not in PRESENCE_TYPES:
        return normalize(spec, raw)
    present, absent = _PRESENT[spec.type], _ABSENT[spec.type]
    if raw is True or (isinstance(raw, str) and raw.strip() == present):
        return True
    if raw is False or (isinstance(raw, str) and raw.strip() == absent):
        return None
    raise ValueError(f"只能更正为“{present}”(true)或“{absent}”(false),而不是 {shown(raw)}")


def display(spec: Spec, value: Any) -> str:
    """How a stored value is printed on the form."""
    t = spec.type
    if value is None or value == "":
        return ""
    if t == FieldType.date:
        return chinese_date(parse_date(value))
    if t == FieldType.month:
        return chinese_month(parse_month(value))
    if t == FieldType.datetime:
        return chinese_datetime(parse_datetime(value))
    if t == FieldType.time:
        return chinese_time(parse_time(value))
    return str(value)


def _is_blank(raw: Any) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip())


def normalize_record(template: Template, values: dict[str, Any]) -> dict[str, Any]:
    """Checks and normalises a (possibly partial) record; raises the first bad field.

    Unknown keys are errors, so a typo in a data file never silently prints nothing.
    A 大写 amount is derived from its 小写 field, or must agree with it when given.  The
    template's date order checks (`not_before`/`not_after`, e.g. the seed's 修理日期不能早于
    购买日期) hold when both values are given: a form is never printed that its own reading
    would flag (extract/checks.py applies the same comparison to a scan).
    """
    known = {f.key: f for f in template.fields}
    for key in values:
        if key not in known:
            raise FieldValueError(key, f"模板 {template.code} 没有这个栏目")
    out: dict[str, Any] = {}
    for f in template.fields:
        raw = values.get(f.key)
        if f.type == FieldType.table:
            out[f.key] = _normalize_rows(f, raw)
        elif not _is_blank(raw):
            try:
                out[f.key] = normalize(f, raw)
            except ValueError as exc:
                raise FieldValueError(f.key, str(exc), label=f.label) from None
    for f in template.fields:
        if f.type == FieldType.money_words and f.words_of in out:
            words = amount_in_words(Decimal(out[f.words_of]))
            given = out.get(f.key)
            if given and parse_amount_words(given) != Decimal(out[f.words_of]):
                raise FieldValueError(
                    f.key, f"大写金额 {given} 与小写 {out[f.words_of]} 不符", label=f.label
                )
            out[f.key] = words
    for check in template.checks:
        if check.rule not in ("not_before", "not_after"):
            continue
        for row, a, b in check.order_operands(out, lambda table: out.get(table) or []):
            if a is not None and b is not None and check.broken(a, b):
                raise FieldValueError(
                    check.field, check.message, row=row, label=template.spec(check.field).label
                )
    return out


def record_problems(template: Template, values: dict[str, Any]) -> list[FieldValueError]:
    """Every bad field of a record, not only the first (the 打印 page shows them all for
    one row): each unknown key, each field or table cell that `normalize_record` would
    refuse, in the template's order; when every field is good, the record-level checks
    (大写金额, date order) as `normalize_record` makes them.  [] for a good record."""
    known = {f.key: f for f in template.fields}
    out = [
        FieldValueError(k, f"模板 {template.code} 没有这个栏目") for k in values if k not in known
    ]
    for f in template.fields:
        raw = values.get(f.key)
        if _is_blank(raw):
            continue
        if f.type == FieldType.table and isinstance(raw, list):
            for n, row in enumerate(raw, start=1):
                if not isinstance(row, dict):
                    continue
                for key, cell in row.items():
                    try:
                        _normalize_rows(f, [{key: cell}])
                    except FieldValueError as exc:
                        out.append(FieldValueError(exc.key, exc.reason, row=n, label=exc.label))
            if not all(isinstance(r, dict) for r in raw):
                out.append(FieldValueError(f.key, "表格应为若干行(每行一个对象)", label=f.label))
            continue
        try:
            normalize_record(template, {f.key: raw})
        except FieldValueError as exc:
            out.append(exc)
    if not out:
        try:
            normalize_record(template, values)
        except FieldValueError as exc:
            out.append(exc)
    return out


def _normalize_rows(table: FormField, raw: Any) -> list[dict[str, Any]]:
    if _is_blank(raw):
        return []
    if not isinstance(raw, list) or not all(isinstance(r, dict) for r in raw):
        raise FieldValueError(table.key, "表格应为若干行(每行一个对象)", label=table.label)
    cols = {c.key: c for c in table.columns}
    rows = []
    for n, row in enumerate(raw, start=1):
        clean: dict[str, Any] = {}
        for key, cell in row.items():
            col = cols.get(key)
            if col is None:
                raise FieldValueError(
                    f"{table.key}.{key}", "表格没有这一列", row=n, label=table.label
                )
            if _is_blank(cell):
                continue
            try:
                clean[key] = normalize(col, cell)
            except ValueError as exc:
                raise FieldValueError(
                    f"{table.key}.{key}", str(exc), row=n, label=col.label
                ) from None
        rows.append(clean)
    return rows
