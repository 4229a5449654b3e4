"""Layout variants (issue 13): a catalog form as another printer laid it out — a print
shop's pad, a station's Word template — registered from a scan of it.

A variant holds where each field of the template is written on that layout, in mm of its
reference image (the registered scan rectified to the paper size at 200 dpi, origin
top-left), and a fingerprint of its printed ruled lines (extract/ruling.py), so a page
without marks can be told apart from other variants of the same form.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, Field, field_validator

from .time import Timestamp

Box = tuple[float, float, float, float]  # x, y, w, h in mm of the reference image
VARIANT_NAME = re.compile(r"^[\w\u4e00-\u9fff.\-]{1,40}$")


class FieldBox(BaseModel):
    """Where one field is written on the layout.  `source`: how the box was found —
    `label` (right of / below the printed label), `options` (the printed options),
    `manual` (a person drew or moved it).  `options`: where each option of a choice is
    printed (its text, mm), when found."""

    key: str
    box: Box
    source: str = "label"
    options: dict[str, Box] = {}


class TableLayout(BaseModel):
    """The form's table on the layout: its body rows (top of the first, height each, mm,
    how many) and each column's strip (x, width, mm)."""

    key: str
    top: float
    row_height: float = Field(gt=0)
    rows: int = Field(ge=1)
    columns: dict[str, tuple[float, float]]

    def column_box(self, key: str) -> Box:
        x, w = self.columns[key]
        return (x, self.top, w, self.rows * self.row_height)


class LayoutVariant(BaseModel):
    """A registered layout of template `template` (a form code), named `name` (unique per
    template).  The reference image is stored beside it (PNG, `reference_sha256`)."""

    template: str
    name: str
    paper_mm: tuple[float, float]
    fields: list[FieldBox]
    table: TableLayout | None = None
    fingerprint: list[float]
    reference_sha256: str
    created_by: str
    created_at: Timestamp

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        v = v.strip()
        if not VARIANT_NAME.match(v):
            raise ValueError(f"版式名称 {v!r} 不合适:1–40 个字母、数字、汉字或 . _ -")
        return v

    def box(self, key: str) -> FieldBox | None:
        return next((f for f in self.fields if f.key == key), None)


class LayoutDraft(BaseModel):
    """A registration proposal not saved yet (the 表单版式 page's 新建版式): what
    registration proposed from one uploaded scan of form `template`, held until the clerk
    has corrected its boxes and saves it as a variant.  Boxes in mm of the reference image
    (PNG beside it, `reference_sha256`; 200 dpi, the paper's size `paper_mm`).  `missing`:
    the keys of the template's fields the proposal did not find (the table's key when its
    headings were not found)."""

    draft_id: str
    template: str
    filename: str
    paper_mm: tuple[float, float]
    fields: list[FieldBox]
    table: TableLayout | None = None
    missing: list[str]
    fingerprint: list[float]
    reference_sha256: str
    created_by: str
    created_at: Timestamp
