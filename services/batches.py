"""Uploading scans in batches (issue 11): each file checked and its pages counted without
parsing it in the service (a PDF or TIFF in the inspection process), stored once by its
sha256, then the batch queued for the reader; its progress read back."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import anyio.to_thread

from formdesk.ingest import IngestError, IngestLimits, count_pages, precheck
from formdesk.model.scans import Batch
from formdesk.store import Store

from .pools import LimitedPool, TaskFailed
from .records import not_found
from .viewers import Viewer

INSPECT_SECONDS = 30.0  # counting the pages of one file in the inspection process


@dataclass(frozen=True)
class StoredUpload:
    """An uploaded file taken: its name as shown, sha256, page count, and `new` (False
    when this station, or the back office, uploaded the same bytes before)."""

    filename: str
    sha256: str
    pages: int
    new: bool


@dataclass(frozen=True)
class RefusedUpload:
    """An uploaded file not taken, and why (Chinese, for the user)."""

    filename: str
    reason: str


async def count_upload_pages(
    pool: LimitedPool, data: bytes, filename: str, limits: IngestLimits
) -> int:
    """Pages of one uploaded file, off the event loop.  A JPEG or PNG is counted from its
    header in a thread; a PDF or TIFF is parsed in the inspection process `pool`, which
    a hostile file can only take down with itself (at most INSPECT_SECONDS).  Raises
    IngestError (the file's problem, Chinese) or TaskFailed (out of time or memory)."""
    if precheck(data, limits) in ("jpeg", "png"):  # size and type first, in this process
        return await anyio.to_thread.run_sync(count_pages, data, filename, limits)
    return await pool.run(count_pages, data, filename, limits, timeout=INSPECT_SECONDS)


async def take_upload(
    store: Store,
    pool: LimitedPool,
    limits: IngestLimits,
    data: bytes,
    filename: str,
    content_type: str | None,
    *,
    uploaded_by: str,
    station: str | None,
) -> StoredUpload | RefusedUpload:
    """One uploaded file: its pages counted (`count_upload_pages`), then stored (in a
    thread) as `station`'s upload (None: the back office's) by `uploaded_by`.  A file
    that fails the checks is a RefusedUpload with the reason (the IngestError's, or
    ``文件过于复杂,无法检查:<why>``), never an exception; the store's errors propagate."""
    try:
        pages = await count_upload_pages(pool, data, filename, limits)
    except IngestError as exc:
        return RefusedUpload(filename, str(exc))
    except TaskFailed as exc:
        return RefusedUpload(filename, f"文件过于复杂,无法检查:{exc.reason}")
    scan, new = await anyio.to_thread.run_sync(
        store.put_scan,
        data,
        filename,
        content_type or "application/octet-stream",
        uploaded_by,
        station,
    )
    return StoredUpload(filename, scan.sha256, pages, new)


async def start_batch(
    store: Store, created_by: str, station: str | None, files: list[StoredUpload]
) -> Batch:
    """The batch of the files taken (in the order sent; a file sent twice counts twice),
    queued for reading with each file's page count (in a thread).  The store's errors
    propagate; the caller wakes the reader."""
    pages = {f.sha256: f.pages for f in files}
    create = functools.partial(store.create_batch, pages=pages)
    return await anyio.to_thread.run_sync(create, created_by, station, [f.sha256 for f in files])


def visible_batch(store: Store, who: Viewer, batch_id: str) -> Batch:
    """The batch and its progress (pages_done of pages_total; state queued, reading or
    done) if `who` sees its station; NotFoundError (404, ``找不到这个批次``) otherwise."""
    batch = store.get_batch(batch_id)
    if batch is None or not who.sees(batch.station):
        raise not_found("这个批次")
    return batch


def list_batches(store: Store, who: Viewer) -> list[Batch]:
    """The batches `who` sees (a station user its own station's), newest first."""
    return store.list_batches(station=who.station_filter)
