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


TokenScope = Literal["read", "write"]


class ApiToken(BaseModel):
    """A script's key: only its sha256 is stored, never the token itself.

    `token_id` names it for listing and revoking (rows from before ids get the first ten
    hex digits of their hash); `scope` None marks a row from before scopes: it may write
    if its user may (see `effective_scope`).
    """

    token_hash: str
    username: str
    created_at: Timestamp = Field(default_factory=utcnow)
    label: str = ""
    token_id: str | None = None
    scope: TokenScope | None = None

    def effective_scope(self, role: Role) -> TokenScope:
        """What the token may do for a user of `role`: an auditor's token only reads."""
        if role == "auditor":
            return "read"
        return self.scope or "write"


class UserSession(BaseModel):
    """A browser sign-in. The cookie carries a random id; only its sha256 is stored here,
    with the CSRF token of the session and when it ends (absolute, not sliding)."""

    session_hash: str
    username: str
    csrf: str
    created_at: Timestamp = Field(default_factory=utcnow)
    expires_at: Timestamp


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


class ScanOwner(BaseModel):
    """One station's (or the back office's, station None) upload of a stored file: the same
    bytes uploaded by two stations are stored once, but each upload is its uploader's own."""

    station: str | None = None
    uploaded_by: str
    filename: str
    uploaded_at: Timestamp = Field(default_factory=utcnow)


class Scan(BaseModel):
    """An uploaded file; its bytes live once under scans/, named by their sha256.

    `filename`, `station`, `uploaded_by` and `uploaded_at` are those of the first upload;
    `owners` lists every (station) upload of the same bytes, the first included.
    """

    sha256: str
    filename: str
    content_type: str
    size: int
    station: str | None = None
    uploaded_by: str
    uploaded_at: Timestamp = Field(default_factory=utcnow)
    owners: list[ScanOwner] = Field(default_factory=list)

    def owner(self, station: str | None) -> ScanOwner | None:
        """The upload of `station` (None: the back office's), if it made one."""
        for o in self.all_owners():
            if o.station == station:
                return o
        return None

    def all_owners(self) -> list[ScanOwner]:
        """Every upload; a row stored before owners were kept counts as its first upload."""
        if self.owners:
            return self.owners
        return [
            ScanOwner(
                station=self.station,
                uploaded_by=self.uploaded_by,
                filename=self.filename,
                uploaded_at=self.uploaded_at,
            )
        ]

    def stations(self) -> set[str | None]:
        return {o.station for o in self.all_owners()}


class Batch(BaseModel):
    batch_id: str
    station: str | None = None
    created_by: str
    created_at: Timestamp = Field(default_factory=utcnow)
    scan_ids: list[str] = Field(default_factory=list)
    state: BatchState = "queued"  # queued until a job is claimed, done when every job ended
    pages_total: int = 0  # pages of the distinct files
    pages_done: int = 0
    files_total: int = 0  # files sent, a file sent twice counted twice
    files_done: int = 0  # of those, read or failed
    errors: list[str] = Field(default_factory=list)


class Job(BaseModel):
    """Reading one scan of a batch."""

    job_id: str
    batch_id: str
    scan_id: str
    state: JobState = "pending"
    attempts: int = 0  # how many times it was claimed
    error: str | None = None  # why it failed, or why its last attempt failed (then pending)
    pages: int = 0  # pages of the file, counted at upload (0: not known)
    files: int = 1  # files of its batch that are this scan (the same file sent twice: 2)
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
    duplicate_of: str | None = None  # 重复扫描: the record of the first scan of this document
    reasons: list[str] = Field(default_factory=list)  # why it needs a look (summary.record_reasons)


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
