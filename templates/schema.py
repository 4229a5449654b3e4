"""The template catalog's schema: one `Template` per paper form of the network.

A template is the single definition both printing and reading use: field boxes are the
places values are drawn into and, later, the places a scan is cropped at.
"""

from __future__ import annotations

import re
from calendar import monthrange
from collections.abc import Callable, Iterator, Mapping
from datetime import date
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .geometry import PageGeometry, Rect

KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")


class FieldType(StrEnum):
    """What a field holds; each type constrains the characters a reader may accept."""

    text = "text"  # 文字
    multiline = "multiline"  # 多行文字
    integer = "integer"  # 整数
    decimal = "decimal"  # 小数
    money = "money"  # 金额(小写)
    money_words = "money_words"  # 金额(大写), derived from a money field
    date = "date"  # 年月日
    month = "month"  # 年月
    datetime = "datetime"  # 年月日时分
    time = "time"  # 时分
    vin = "vin"  # 车架号/VIN (ISO 3779)
    engine_no = "engine_no"  # 发动机号
    plate = "plate"  # 车牌号
    phone = "phone"  # 电话
    choice = "choice"  # □ 单选
    circle_choice = "circle_choice"  # 画圈选择
    checkbox = "checkbox"  # □ 勾选
    signature = "signature"  # 签字
    seal = "seal"  # 盖章
    serial = "serial"  # 序号 (table rows only, printed by the renderer)
    table = "table"  # 表格(重复行)


SCALAR_TYPES = frozenset(FieldType) - {FieldType.table}
CHOICE_TYPES = frozenset({FieldType.choice, FieldType.circle_choice})


class Constraints(BaseModel):
    """Limits a value must meet, beyond what its type already implies."""

    model_config = ConfigDict(extra="forbid")

    min: float | None = None
    max: float | None = None
    max_length: int | None = None
    pattern: str | None = None  # a regular expression the whole value must match
    decimals: int | None = None  # digits after the point (decimal/money)
    unit: str | None = None  # printed after the value, e.g. km, 元


class Column(BaseModel):
    """One typed column of a table field."""

    model_config = ConfigDict(extra="forbid")

    key: str
    label: str
    type: FieldType = FieldType.text
    width: float = Field(gt=0, description="relative width; columns are scaled to the table box")
    aliases: list[str] = []  # other headings the column goes by on forms printed elsewhere
    required: bool = False
    options: list[str] = []
    constraints: Constraints = Constraints()
    # a text cell that holds a plate number or a word (表格02's time slots): a reading of
    # letters and figures there is judged as a plate (extract/charsets.plate_in_slot)
    holds_plates: bool = False

    @field_validator("key")
    @classmethod
    def _snake(cls, v: str) -> str:
        if not KEY_PATTERN.match(v):
            raise ValueError(f"column key {v!r} must be English snake_case")
        return v

    @model_validator(mode="after")
    def _scalar(self) -> Column:
        if self.type == FieldType.table:
            raise ValueError(f"column {self.key}: a table cannot nest inside a table")
        if self.type in CHOICE_TYPES and len(self.options) < 2:
            raise ValueError(f"column {self.key}: a choice needs at least two options")
        return self


class FormField(BaseModel):
    """A field: a labelled box on the page, holding one typed value (or rows, for tables)."""

    model_config = ConfigDict(extra="forbid")

    key: str
    label: str
    type: FieldType
    box: tuple[float, float, float, float] = Field(
        description="[x, y, w, h] in mm from the form's top-left corner; the whole cell, label included"
    )
    label_position: Literal["left", "top", "none"] = "left"
    frame: Literal["box", "underline", "none"] = "box"
    required: bool = False
    options: list[str] = []
    words_of: str | None = None  # money_words: key of the money field it spells out
    constraints: Constraints = Constraints()
    hint: str | None = None  # a short printed help text, e.g. 请在□内打√
    # other labels the field goes by on forms formdesk did not print (a station's Word
    # template, a print shop's pad): matched when a layout is registered from a scan
    aliases: list[str] = []
    # set only on a layout variant's copy of the template (extract/variants.py): where a
    # pen marks each option — the printed □, or the option's text to circle — or a
    # checkbox's □, mm; empty: laid out from the box (layout.py)
    marks: list[tuple[float, float, float, float]] = []
    # tables only
    columns: list[Column] = []
    row_height: float = 8.0

    @field_validator("key")
    @classmethod
    def _snake(cls, v: str) -> str:
        if not KEY_PATTERN.match(v):
            raise ValueError(f"field key {v!r} must be English snake_case")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> FormField:
        t = self.type
        if t in CHOICE_TYPES and len(self.options) < 2:
            raise ValueError(f"field {self.key}: a choice needs at least two options")
        if t == FieldType.table:
            if not self.columns:
                raise ValueError(f"field {self.key}: a table needs columns")
            keys = [c.key for c in self.columns]
            if len(set(keys)) != len(keys):
                raise ValueError(f"field {self.key}: duplicate column keys")
            if self.rows_per_page < 1:
                raise ValueError(f"field {self.key}: box too small for one row")
        elif self.columns:
            raise ValueError(f"field {self.key}: only tables have columns")
        if t == FieldType.money_words and not self.words_of:
            raise ValueError(f"field {self.key}: money_words needs words_of")
        if t == FieldType.serial:
            raise ValueError(f"field {self.key}: serial is for table columns only")
        return self

    @property
    def rect(self) -> Rect:
        return Rect(*self.box)

    @property
    def header_height(self) -> float:
        """Tables: height of the column-header row (mm)."""
        return max(self.row_height, 7.0)

    @property
    def title_height(self) -> float:
        """Tables with a printed title above the header (mm)."""
        return 5.0 if self.label_position == "top" else 0.0

    @property
    def rows_per_page(self) -> int:
        usable = self.box[3] - self.header_height - self.title_height
        return int(usable // self.row_height + 1e-6)

    def column_rects(self, table_rect: Rect | None = None) -> list[Rect]:
        """Column strips (x, width) of a table, spanning its whole height."""
        r = table_rect or self.rect
        total = sum(c.width for c in self.columns)
        x, out = r.x, []
        for c in self.columns:
            w = r.w * c.width / total
            out.append(Rect(x, r.y, w, r.h))
            x += w
        return out


class Paper(BaseModel):
    model_config = ConfigDict(extra="forbid")

    size: Literal["A4", "A5", "A6"] = "A4"
    orientation: Literal["portrait", "landscape"] = "portrait"

    @property
    def geometry(self) -> PageGeometry:
        return PageGeometry.for_paper(self.size, self.orientation)


def _day_span(text: str) -> tuple[date, date] | None:
    """The first and last day (Beijing calendar) an ISO value covers: a date or a
    date-time its day, a month YYYY-MM its first to its last day; None for anything else
    (an impossible day, a time)."""
    try:
        if len(text) == 7:
            first = date.fromisoformat(text + "-01")
            return first, first.replace(day=monthrange(first.year, first.month)[1])
        day = date.fromisoformat(text[:10])
    except ValueError:
        return None
    return day, day


class CrossCheck(BaseModel):
    """A rule between fields, checked after reading (e.g. 修理日期不早于购买日期).

    `sum`: `field` equals the sum of `parts` (合计 = 工时费 + 材料费, the forms' own
    arithmetic). A reference is a field key or `table.column`: a column summed over the
    table's rows when `field` is a plain field, or cell by cell in each row when `field`
    is a column of the same table (小计 = 工时费 + 材料费 per row). An empty part counts
    as 0, as on paper.  `product`: `field` equals the product of `parts` rounded to the
    cent, cell by cell in each row (金额 = 数量 × 单价).  `not_before` / `not_after` on a
    `table.column` apply row by row, against another column of the row or a plain field
    (`order_operands`): a monthly list's dates lie in its month.  `within_days`: `field`
    and `other`, two dates of one job (a car's reception and its promised delivery), lie at
    most `days` apart; applied as the order rules are, but to readings only (a value typed
    for printing is not refused by it): a year misread (2025-12-06 read 2026-12-06)
    breaks it."""

    model_config = ConfigDict(extra="forbid")

    rule: Literal["not_before", "not_after", "within_days", "equals_words", "sum", "product"]
    field: str
    other: str | None = None  # every rule but `sum` and `product`
    parts: list[str] = []  # `sum` and `product` only
    days: int | None = Field(default=None, ge=1)  # `within_days` only
    message: str  # Chinese, shown to the reviewer

    @model_validator(mode="after")
    def _operands(self) -> CrossCheck:
        if self.rule in ("sum", "product"):
            if len(self.parts) < 1 or self.other is not None:
                raise ValueError(f"{self.rule} check on {self.field}: give parts, not other")
            if self.rule == "product" and "." not in self.field:
                raise ValueError(f"product check on {self.field}: a row rule, give table.column")
        elif self.other is None or self.parts:
            raise ValueError(f"{self.rule} check on {self.field}: give other, not parts")
        elif "." in self.other and self.other.split(".")[0] != self.field.split(".")[0]:
            raise ValueError(f"{self.rule} check on {self.field}: a column of another table")
        elif self.rule == "equals_words" and "." in self.field + self.other:
            raise ValueError(f"equals_words check on {self.field}: plain fields only")
        if (self.rule == "within_days") != (self.days is not None):
            raise ValueError(f"{self.rule} check on {self.field}: days with within_days only")
        return self

    @property
    def refs(self) -> list[str]:
        """Every field or `table.column` the check names."""
        return [self.field, *([self.other] if self.other else []), *self.parts]

    def broken(self, x: Any, y: Any) -> bool:
        """Whether values `x` (of `field`) and `y` (of `other`) break a `not_before` /
        `not_after` rule, compared as ISO text: a month (2026-03) against a date or a
        date-time by its prefix, so a date in March 2026 is neither before nor after 2026-03;
        or a `within_days` rule: their days (ISO YYYY-MM-DD, of a date or a date-time; a
        month YYYY-MM stands for its days, first to last) more than `days` apart — a
        monthly report filled 2025-12-03 for 2025-01 (its 11 read 01) is ten months late,
        where BD-24's note asks for it by the 5th of the next month (seed 000, line 9).
        Never broken when either is no such day."""
        a, b = str(x), str(y)
        if self.rule == "within_days":
            spans = _day_span(a), _day_span(b)
            if spans[0] is None or spans[1] is None:
                return False
            (a0, a1), (b0, b1) = spans
            gap = max((b0 - a1).days, (a0 - b1).days, 0)
            return gap > (self.days or 0)
        n = min(len(a), len(b))
        return a[:n] < b[:n] if self.rule == "not_before" else a[:n] > b[:n]

    def order_operands(
        self, top: Mapping[str, Any], rows: Callable[[str], list[Mapping[str, Any]]]
    ) -> Iterator[tuple[int | None, Any, Any]]:
        """For a `not_before` / `not_after` check: (row number from 1 or None, the value
        of `field`, the value of `other`) at each place the check applies, either None
        where not given.  Plain fields are looked up in `top`; a `table.column` in each row
        of `rows(table)`, against `other` in the same row when it is a column of that
        table, else against the plain field `other` (a row's 维修日期 within the report's
        统计月份: the row rules of the templates)."""
        if "." not in self.field:
            yield None, top.get(self.field), top.get(self.other or "")
            return
        table, column = self.field.split(".", 1)
        other = self.other or ""
        for n, row in enumerate(rows(table), start=1):
            b = row.get(other.split(".", 1)[1]) if "." in other else top.get(other)
            yield n, row.get(column), b


class Template(BaseModel):
    """One paper form of the network (an SH-ZH/BD report or a workshop 表格)."""

    model_config = ConfigDict(extra="forbid")

    code: str  # printed form code, e.g. SH-ZH/BD-27 or 表格04
    name: str  # English snake_case name, e.g. warranty_part_tag
    title: str  # Chinese title exactly as the seed gives it
    version: int = 1
    series: Literal["SH-ZH/BD", "表格"]
    paper: Paper = Paper()
    per_sheet: int = 1  # small tags may be ganged several to an A4 sheet
    copies: list[str] = []  # 联, e.g. 第一联维修单位存
    notes: list[str] = []  # seed notes, printed verbatim at the bottom of the form
    fields_source: Literal["seed", "designed", "mixed"]
    source_note: str  # what the seed gave and what was designed
    fields: list[FormField]
    checks: list[CrossCheck] = []

    @field_validator("name")
    @classmethod
    def _snake(cls, v: str) -> str:
        if not KEY_PATTERN.match(v):
            raise ValueError(f"template name {v!r} must be English snake_case")
        return v

    @property
    def geometry(self) -> PageGeometry:
        return self.paper.geometry

    @property
    def slug(self) -> str:
        """File-system and URL friendly code: SH-ZH/BD-27 -> sh-zh-bd-27, 表格04 -> form-04."""
        if self.series == "表格":
            return "form-" + self.code.removeprefix("表格")
        return self.code.lower().replace("/", "-")

    @property
    def notes_rect(self) -> Rect:
        c = self.geometry.content_rect
        h = len(self.notes) * self.note_line_height
        return Rect(c.x, c.bottom - h, c.w, h)

    @property
    def note_line_height(self) -> float:
        return 3.6 if self.geometry.is_small else 4.5

    @property
    def fields_rect(self) -> Rect:
        """The content area left to fields once the notes have their lines."""
        c = self.geometry.content_rect
        return Rect(c.x, c.y, c.w, c.h - self.notes_rect.h - (1.0 if self.notes else 0.0))

    @property
    def table_fields(self) -> list[FormField]:
        return [f for f in self.fields if f.type == FieldType.table]

    def field(self, key: str) -> FormField:
        for f in self.fields:
            if f.key == key:
                return f
        raise KeyError(key)

    def spec(self, ref: str) -> FormField | Column:
        """The field, or the column of a `table.column`, a check names.  KeyError when
        there is none."""
        if "." not in ref:
            return self.field(ref)
        table, column = ref.split(".", 1)
        for c in self.field(table).columns:
            if c.key == column:
                return c
        raise KeyError(ref)

    def continuation_rect(self, table: FormField) -> Rect:
        """Where a table that overflows its first page continues on the next pages."""
        area = self.fields_rect
        return Rect(table.rect.x, area.y, table.rect.w, area.h)

    @model_validator(mode="after")
    def _layout(self) -> Template:
        keys = [f.key for f in self.fields]
        dupes = {k for k in keys if keys.count(k) > 1}
        if dupes:
            raise ValueError(f"{self.code}: duplicate field keys {sorted(dupes)}")
        if len(self.table_fields) > 1:
            raise ValueError(f"{self.code}: at most one table per template (it may span pages)")
        area = self.fields_rect
        for f in self.fields:
            if not area.contains(f.rect):
                raise ValueError(
                    f"{self.code}: field {f.key} box {list(f.box)} leaves the content area "
                    f"[{area.x:.1f}, {area.y:.1f}, {area.w:.1f}, {area.h:.1f}]"
                )
            if f.words_of and f.words_of not in keys:
                raise ValueError(f"{self.code}: {f.key}.words_of names unknown field {f.words_of}")
        for i, a in enumerate(self.fields):
            for b in self.fields[i + 1 :]:
                if a.rect.overlaps(b.rect):
                    raise ValueError(f"{self.code}: fields {a.key} and {b.key} overlap")
        columns = {
            f"{f.key}.{c.key}" for f in self.fields if f.type == FieldType.table for c in f.columns
        }
        for c in self.checks:
            for k in c.refs:
                if k not in keys and not (c.rule != "equals_words" and k in columns):
                    raise ValueError(f"{self.code}: check names unknown field {k}")
            if c.rule in ("sum", "product") and "." in c.field:
                table = c.field.split(".")[0]
                if any(not p.startswith(table + ".") for p in c.parts):
                    raise ValueError(f"{self.code}: a row total adds columns of its own table")
        if self.per_sheet > 1 and not self.geometry.is_small:
            raise ValueError(f"{self.code}: only small forms are ganged on a sheet")
        return self
