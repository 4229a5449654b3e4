"""What a reconciliation produces: one outcome per claim and per returned part, each
difference pointing at the scan where it was seen."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field, computed_field

from .time import Timestamp, utcnow

OutcomeKind = Literal[
    "matched",  # claim and returned part agree
    "missing",  # claimed, not returned (neither on a manifest nor tagged)
    "unexpected",  # returned (manifest line or tag), matches no claim
    "quantity",  # claim, manifest and tag count disagree on how many
    "mismatch",  # VIN, engine no., model or mileage differ between tag, manifest and claim
    "duplicate",  # a part claimed twice, or returned on two manifests / tagged twice
    "outside_warranty",  # repair outside the model's 三包期 (months or kilometres)
]

KIND_LABELS: dict[str, str] = {
    "matched": "一致",
    "missing": "索赔件未返回",
    "unexpected": "返回件无索赔",
    "quantity": "数量不符",
    "mismatch": "信息不符",
    "duplicate": "重复",
    "outside_warranty": "超出三包期",
}

# the fields compared between tag, manifest line and claim, with their labels
COMPARED_FIELDS: dict[str, str] = {
    "vin": "车架号",
    "engine_no": "发动机号",
    "vehicle_model": "车型",
    "mileage_km": "行驶里程",
}

ItemSource = Literal["manifest_line", "tag"]


class Evidence(BaseModel):
    """One field (or manifest row) on a read scan; the API serves its crop."""

    record_id: str
    document_id: str
    template: str  # SH-ZH/BD-31, -27 or -30
    field_key: str  # the field, or the table (returned_parts) for a manifest cell/row
    row: int | None = None  # manifest row within the record read (for its crop), 1-based
    line: int | None = None  # that row's number on the manifest (序号), across its pages
    column: str | None = None  # a cell of that row; None = the whole row
    label: str  # 返厂清单 M-2611-03 第3行 车架号 / 故障标签 车架号
    value: str | None = None  # what was read (or corrected) there
    confidence: float = 1.0
    status: str = "ok"  # the field's reading status: ok / check / empty / invalid
    record_station: str | None = None  # the station the record is filed under (who may open it)
    scan_file: str | None = None  # the uploaded file it was read from
    scan_page: int | None = None  # 1-based page of that file
    received_on: date | None = None  # the day (Beijing) the file was uploaded


class ReturnedItem(BaseModel):
    """A part that came back: one manifest line, or one tag on a part."""

    source: ItemSource
    record_id: str
    document_id: str
    template: str
    station: str | None = None
    record_verified: bool = False
    manifest_no: str | None = None
    manifest_date: date | None = None
    manifest_total: int | None = None  # 合计数量 as written on its manifest
    row: int | None = None  # manifest row number (序号), counted across its pages
    record_row: int | None = None  # the same row within the record read (a page scanned alone)
    claim_no: str | None = None
    vin: str | None = None
    engine_no: str | None = None
    vehicle_model: str | None = None
    mileage_km: int | None = None
    part_no: str | None = None
    part_name: str | None = None
    quantity: int = 1  # a tag is one part
    repair_date: date | None = None
    received_on: date | None = None  # the day (Beijing) its scan was uploaded
    record_station: str | None = None  # the station its record is filed under (who may open it)
    scan_file: str | None = None  # the uploaded file it was read from
    scan_page: int | None = None  # 1-based page of that file
    # per field key: (confidence, status) as read, for doubting a difference
    reading: dict[str, tuple[float, str]] = Field(default_factory=dict)

    @property
    def written_day(self) -> date | None:
        """The date the form gives: its manifest's date, or the repair date on a tag."""
        return self.manifest_date if self.source == "manifest_line" else self.repair_date

    @property
    def title(self) -> str:
        if self.source == "manifest_line":
            return f"返厂清单 {self.manifest_no or self.document_id} 第{self.row}行"
        kind = "故障标签" if self.template.endswith("30") else "鉴别标签"
        return f"{kind} {self.document_id}"

    @property
    def scan_text(self) -> str:
        """Which scan it was read from: 扫描件 a.jpg 第1页,2026-03-31 上传 (what is known)."""
        parts = []
        if self.scan_file:
            page = f" 第{self.scan_page}页" if self.scan_page else ""
            parts.append(f"扫描件 {self.scan_file}{page}")
        if self.received_on:
            parts.append(f"{self.received_on.isoformat()} 上传")
        return ",".join(parts)

    def evidence(self, column: str | None = None) -> Evidence:
        """The crop proving what this item says in `column` (None: the whole manifest row or
        the tag's part number)."""
        value = getattr(self, column) if column else None
        confidence, status = self.reading.get(column or "", (1.0, "ok"))
        scan = {
            "record_station": self.record_station,
            "scan_file": self.scan_file,
            "scan_page": self.scan_page,
            "received_on": self.received_on,
        }
        if self.source == "manifest_line":
            return Evidence(
                **scan,
                record_id=self.record_id,
                document_id=self.document_id,
                template=self.template,
                field_key="returned_parts",
                row=self.record_row or self.row,
                line=self.row,
                column=column,
                label=self.title + (f" {COLUMN_LABELS.get(column, column)}" if column else ""),
                value=None if value is None else str(value),
                confidence=confidence,
                status=status,
            )
        key = column or "part_no"
        confidence, status = self.reading.get(key, (1.0, "ok"))
        return Evidence(
            **scan,
            record_id=self.record_id,
            document_id=self.document_id,
            template=self.template,
            field_key=key,
            label=f"{self.title} {COLUMN_LABELS.get(key, key)}",
            value=None if getattr(self, key) is None else str(getattr(self, key)),
            confidence=confidence,
            status=status,
        )

    def doubtful(self, column: str) -> bool:
        """The value in `column` may be a misreading: not verified and not read as ok."""
        if self.record_verified:
            return False
        _, status = self.reading.get(column, (1.0, "ok"))
        return status != "ok"


COLUMN_LABELS: dict[str, str] = {
    **COMPARED_FIELDS,
    "claim_no": "索赔单号",
    "part_no": "零件编号",
    "part_name": "零件名称",
    "quantity": "数量",
}


class Outcome(BaseModel):
    """One finding about one claim or one returned part."""

    kind: OutcomeKind
    field: str | None = None  # for kind "mismatch": vin / engine_no / vehicle_model / mileage_km
    claim_no: str | None = None
    vin: str | None = None
    part_no: str | None = None
    part_name: str | None = None
    claim_value: str | None = None  # what the claim says (mismatch, quantity)
    returned_values: list[str] = Field(default_factory=list)  # what tags/manifest say
    message: str  # Chinese, one line, for the auditor and the station letter
    evidence: list[Evidence] = Field(default_factory=list)
    doubtful: bool = False  # rests on a reading not yet confirmed: check the crop first
    undated: bool = False  # 日期未识别: counted in the month its scan was uploaded

    @computed_field  # type: ignore[prop-decorator]  # in the JSON, so pages need no label table
    @property
    def label(self) -> str:
        if self.kind == "mismatch" and self.field:
            return f"{COMPARED_FIELDS[self.field]}不符"
        return KIND_LABELS[self.kind]


class ManifestCount(BaseModel):
    """One manifest (返厂清单) with lines counted in the month: the 合计数量 written on it
    beside what its read lines add up to, so a manifest that disagrees with what was
    scanned shows as such."""

    document_id: str
    manifest_no: str | None = None
    manifest_date: date | None = None
    written_total: int | None = None  # 合计数量 as written (None: not read)
    lines: int = 0  # its read lines (every page)
    listed_quantity: int = 0  # their 数量 added up
    counted_lines: int = 0  # of them, the lines of this month's parts

    @computed_field  # type: ignore[prop-decorator]
    @property
    def agrees(self) -> bool:
        """合计 equals the lines' quantities (an unread 合计 says nothing)."""
        return self.written_total is None or self.written_total == self.listed_quantity


class Reconciliation(BaseModel):
    """A station's month: every claim and every returned part with its outcome."""

    station: str
    station_name: str
    month: str  # 2026-11
    period_start: date
    period_end: date
    generated_at: Timestamp = Field(default_factory=utcnow)
    claims: int = 0  # claims of the month
    claimed_quantity: int = 0
    manifest_lines: int = 0
    returned_quantity: int = 0  # what the month's manifest lines list, each line counted
    tags: int = 0  # tags read (a part may carry a BD-27 and a BD-30)
    returned_parts: int = 0  # 返厂件数: parts that came back, each once (reconcile/parts.py)
    manifests: list[ManifestCount] = Field(default_factory=list)
    outcomes: list[Outcome] = Field(default_factory=list)

    @property
    def differences(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.kind != "matched"]

    def counts(self) -> dict[str, int]:
        out = dict.fromkeys(KIND_LABELS, 0)
        for o in self.outcomes:
            out[o.kind] += 1
        return out
