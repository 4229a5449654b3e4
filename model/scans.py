"""Uploaded files, the batches they came in and the reading jobs queued for them."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from .time import Timestamp, utcnow

BatchState = Literal["queued", "reading", "done"]
JobState = Literal["pending", "processing", "done", "failed"]


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


RefusalState = Literal["open", "requeued", "resolved", "discarded"]
REFUSAL_STATE_LABELS = {
    "open": "待处理",
    "requeued": "重新识读中",
    "resolved": "已识读",
    "discarded": "已放弃",
}


class PageRefusal(BaseModel):
    """A page of an uploaded file the reader could not take (no form found, a form it
    could not identify …), kept until a person settles it (issue 12, point 3): they choose
    the form and page and have it read again (requeued, then resolved with the records it
    gave, or open again with the new reason), or discard it with a reason.

    One per (scan, file page, uploading station): `refusal_id` is derived from those
    (`refusal_id_of`), so reading the same file again updates it instead of adding one."""

    refusal_id: str
    scan_id: str
    file_page: int  # 0-based page of the file
    filename: str  # as the uploader named the file
    station: str | None = None  # the uploader's station (None: the back office)
    batch_id: str  # the upload it was last seen in
    reason: str  # Chinese: why the reader refused it
    state: RefusalState = "open"
    created_at: Timestamp = Field(default_factory=utcnow)
    updated_at: Timestamp = Field(default_factory=utcnow)
    template: str | None = None  # the form a person chose (requeued, resolved)
    form_page: int | None = None  # and which of its pages this is (from 1)
    settled_by: str | None = None  # who chose the form, or discarded it
    note: str | None = None  # why it was discarded
    record_ids: list[str] = Field(default_factory=list)  # what reading it again gave


def refusal_id_of(scan_id: str, file_page: int, station: str | None) -> str:
    """The id of the refusal of page `file_page` (0-based) of scan `scan_id` as uploaded
    by `station`: ten hex digits of sha256 over the three."""
    import hashlib

    key = f"{scan_id}\n{file_page}\n{station or ''}".encode()
    return hashlib.sha256(key).hexdigest()[:10]
