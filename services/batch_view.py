"""The batch page (issue 12, point 2): an upload's files, each with its pages, the records
read from it (which page of which file) and the pages refused with their reasons; page
thumbnails drawn in the inspection process."""

from __future__ import annotations

from pydantic import BaseModel, Field

from formdesk.ingest import IngestError, IngestLimits
from formdesk.ingest.thumbnails import page_thumbnail
from formdesk.model.scans import Batch, JobState, PageRefusal
from formdesk.model.stored import RecordSummary
from formdesk.store import Store

from .batches import visible_batch
from .pools import LimitedPool, TaskFailed
from .record_actions import batch_records
from .records import not_found
from .refusals import Refused, Unavailable
from .viewers import Viewer

THUMB_SECONDS = 30.0  # drawing one page's thumbnail in the inspection process


class BatchFile(BaseModel):
    """One file of an upload: its name as its uploader gave it, sha256, pages, reading
    state and file-level error (Chinese), the records read from it (voided and second
    scans included, in page order) and its refused pages."""

    scan_id: str
    filename: str
    pages: int
    state: JobState
    error: str | None = None
    records: list[RecordSummary] = Field(default_factory=list)
    refusals: list[PageRefusal] = Field(default_factory=list)


class BatchView(BaseModel):
    """An upload as its page shows it: the batch (progress, who, when) and its files in
    the order sent."""

    batch: Batch
    files: list[BatchFile]


def batch_view(store: Store, who: Viewer, batch_id: str) -> BatchView:
    """The batch `who` sees with its files, records and refused pages; NotFoundError
    (404, ``找不到这个批次``) otherwise."""
    batch = visible_batch(store, who, batch_id)
    jobs = {j.scan_id: j for j in store.list_jobs(batch_id)}
    refusals = store.list_page_refusals(scan_ids=list(jobs))
    files = []
    for scan_id in dict.fromkeys(batch.scan_ids):
        job = jobs.get(scan_id)
        scan = store.get_scan(scan_id)
        owner = scan.owner(batch.station) if scan else None
        mine = sorted(
            (r for r in refusals if r.scan_id == scan_id and r.station == batch.station),
            key=lambda r: r.file_page,
        )
        failed = job is not None and job.state == "failed"
        files.append(
            BatchFile(
                scan_id=scan_id,
                filename=owner.filename if owner else (scan.filename if scan else scan_id[:16]),
                pages=job.pages if job else 0,
                state=job.state if job else "pending",
                # the file's own failure; refused pages say theirs, each on its card
                error=job.error if failed and not mine else None,
                records=batch_records(store, who, scan_id),
                refusals=mine,
            )
        )
    return BatchView(batch=batch, files=files)


def _seen_scan(store: Store, who: Viewer, sha256: str) -> str:
    """The file name `who` knows scan `sha256` by, if one of its uploads is of a station
    `who` sees; NotFoundError (404, ``找不到这个扫描件``) otherwise."""
    scan = store.get_scan(sha256)
    if scan is None or not any(who.sees(s) for s in scan.stations()):
        raise not_found("这个扫描件")
    mine = scan.owner(who.station_filter) if who.role == "station" else None
    return mine.filename if mine else scan.filename


async def scan_page_thumbnail(
    store: Store,
    who: Viewer,
    pool: LimitedPool,
    limits: IngestLimits,
    sha256: str,
    page: int,
) -> bytes:
    """PNG of page `page` (0-based) of an uploaded file `who` sees, 480 px wide, drawn in
    the inspection process `pool` (at most THUMB_SECONDS).  NotFoundError (404),
    Refused (422: a page the file has not), Unavailable (503: out of time or memory)."""
    name = _seen_scan(store, who, sha256)
    data = store.scan_bytes(sha256)
    try:
        return await pool.run(page_thumbnail, data, name, page, 480, limits, timeout=THUMB_SECONDS)
    except IngestError as exc:
        raise Refused(str(exc)) from None
    except TaskFailed as exc:
        raise Unavailable(f"无法生成缩略图:{exc.reason}") from None
