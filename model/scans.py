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
