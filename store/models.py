"""What the store keeps: small JSON-friendly rows, one pydantic model per kind.

Timestamps are UTC and serialise (mode="json") to one fixed-width ISO form,
``2026-01-05T07:00:00.000000Z``, so stored strings sort and compare in time order.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field, PlainSerializer

if TYPE_CHECKING:
    from formdesk.render.document import IssuedDocument

TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def utcnow() -> datetime:
    return datetime.now(UTC)


def _as_utc(value: datetime) -> datetime:
    """Naive datetimes are taken as UTC; aware ones are converted to it."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def format_time(value: datetime) -> str:
    return _as_utc(value).strftime(TIME_FORMAT)


Timestamp = Annotated[
    datetime,
    AfterValidator(_as_utc),
    PlainSerializer(format_time, return_type=str, when_used="json"),
]

Role = Literal["back_office", "station", "auditor"]
BatchState = Literal["queued", "reading", "done"]
JobState = Literal["pending", "processing", "done", "failed"]
SummaryStatus = Literal["ready", "needs_review", "verified"]


class Station(BaseModel):
    code: str
    name: str


class User(BaseModel):
    username: str
    password_hash: str
    role: Role
    station: str | None = None  # the station a station user belongs to
    created_at: Timestamp = Field(default_factory=utcnow)


class ApiToken(BaseModel):
    token_hash: str  # only the hash is stored, never the token
    username: str
    created_at: Timestamp = Field(default_factory=utcnow)
    label: str = ""


class IssuedDoc(BaseModel):
    """A printed document, registered when rendered so a scan can be checked against it."""

    document_id: str
    template: str
    template_version: int
    station: str | None = None
    values: dict[str, Any] = Field(default_factory=dict)  # the prefilled values
    pages: int = 1
    copies: int = 1
    issued_by: str | None = None
    issued_at: Timestamp = Field(default_factory=utcnow)

    @classmethod
    def from_issued(
        cls, doc: IssuedDocument, *, station: str | None = None, issued_by: str | None = None
    ) -> IssuedDoc:
        """From what `render` returns (values made JSON-friendly on dump)."""
        return cls(
            document_id=doc.document_id,
            template=doc.template_code,
            template_version=doc.template_version,
            station=station,
            values=doc.values,
            pages=doc.pages,
            copies=doc.copies,
            issued_by=issued_by,
        )


class Scan(BaseModel):
    """An uploaded file; its bytes live once under scans/, named by their sha256."""

    sha256: str
    filename: str
    content_type: str
    size: int
    station: str | None = None
    uploaded_by: str
    uploaded_at: Timestamp = Field(default_factory=utcnow)


class Batch(BaseModel):
    batch_id: str
    station: str | None = None
    created_by: str
    created_at: Timestamp = Field(default_factory=utcnow)
    scan_ids: list[str] = Field(default_factory=list)
    state: BatchState = "queued"  # queued until a job is claimed, done when every job ended
    pages_total: int = 0
    pages_done: int = 0
    errors: list[str] = Field(default_factory=list)


class Job(BaseModel):
    """Reading one scan of a batch."""

    job_id: str
    batch_id: str
    scan_id: str
    state: JobState = "pending"
    attempts: int = 0  # how many times it was claimed
    error: str | None = None
    updated_at: Timestamp = Field(default_factory=utcnow)


class RecordSummary(BaseModel):
    """The small, listable part of a record; the fields themselves live in its own file."""

    record_id: str
    template: str
    template_version: int
    document_id: str
    copy_index: int = 1
    station: str | None = None
    status: SummaryStatus
    min_confidence: float  # over the fields that were read (empty ones excluded)
    fields_to_check: int  # fields (table cells counted one by one) a reviewer should look at
    scan_id: str
    file_pages: list[int] = Field(default_factory=list)  # 0-based pages of the scan
    created_at: Timestamp
    updated_at: Timestamp
    verified_by: str | None = None
    verified_at: Timestamp | None = None
    search_text: str = ""  # template, document id, station and the text values


class StoredRecord(BaseModel):
    summary: RecordSummary
    record: dict[str, Any]  # FormRecord.model_dump(mode="json"), corrections applied
    damaged: str | None = None  # why the record's file cannot be read (Chinese); record is {}


class Correction(BaseModel):
    """One reviewer's change of one value: appended, never edited or deleted."""

    correction_id: str
    record_id: str
    field_key: str
    row: int | None = None  # table row number, 1 = the first row (第1行), as printed
    column: str | None = None  # the column key within that row
    old_value: Any = None
    new_value: Any = None
    user: str
    at: Timestamp = Field(default_factory=utcnow)


class Claim(BaseModel):
    """One warranty claim (三包索赔单) as the warranty system or a read SH-ZH/BD-25 row
    gives it; the service center pays it only against a returned part that matches."""

    claim_no: str  # 索赔单号, unique
    station: str  # 维修站 code
    vin: str  # 车架号/VIN
    engine_no: str | None = None  # 发动机号
    vehicle_model: str  # 车型
    part_no: str  # 零件编号
    part_name: str  # 零件名称
    quantity: int = Field(ge=1)  # 数量
    purchase_date: date  # 购买日期
    repair_date: date  # 维修日期
    mileage_km: int = Field(ge=0)  # 行驶里程
    fault_description: str = ""  # 故障描述
    labor_fee: Decimal = Decimal("0")  # 工时费, 元
    material_fee: Decimal = Decimal("0")  # 材料费, 元
    source: str  # "import:<import id>" or "record:<record id>"
    source_line: int | None = None  # line of the file (header = 1) or row of the form
    imported_at: Timestamp = Field(default_factory=utcnow)

    @property
    def amount(self) -> Decimal:
        return self.labor_fee + self.material_fee


class ClaimImport(BaseModel):
    """One accepted claims file (or BD-25 record): what it brought in, by whom."""

    import_id: str
    filename: str
    sha256: str
    imported_by: str
    imported_at: Timestamp = Field(default_factory=utcnow)
    claims: int  # rows added or replaced
    replaced: int = 0  # of `claims`, those that replaced a stored claim (import with replace)
    unchanged: int = 0  # rows already stored with the same content
    stations_added: list[str] = Field(default_factory=list)
