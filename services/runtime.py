"""What the web service runs on, built from one `Settings` (issue 11): the store, the
signing key, the OCR engine, the reader (a thread on TinyDB, queue worker processes on
PostgreSQL), the process pools that keep hostile files and big jobs off the event loop,
and the print-batch jobs.  `api.app` builds one `Runtime` and keeps its parts on
`app.state`; it opens nothing itself."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from formdesk.extract.ocr import default_engine
from formdesk.ingest import IngestLimits
from formdesk.settings import Settings, signing_key
from formdesk.store import PrintJobStore, Store, open_store

from .layout_drafts import LayoutDrafts
from .pools import LimitedPool
from .print_jobs import PrintJobs, QueuedPrintJobs
from .reading import ReaderWorker
from .stores import check_signing_key


@dataclass
class Runtime:
    """The service's long-lived parts.  `worker` is what runs reading (`start`/`stop`,
    `alive`, `problems`, `wake`): the `reader` thread on TinyDB, `QueueWorkers` on
    PostgreSQL.  Pools: `inspect` (page counts of uploads, 1 GiB), `tables` (claims and
    print-data spreadsheets, 1 GiB), `render` (forms printed while a request waits,
    2 GiB), `batch` (print batches, 2 GiB, lowest priority); `layout_drafts` proposes
    layouts from uploaded scans in its own pool (OCR: the reader's memory limit)."""

    settings: Settings
    store: Store
    key: bytes
    engine: Any
    ingest_limits: IngestLimits
    reader: ReaderWorker
    worker: Any
    inspect_pool: LimitedPool
    tables_pool: LimitedPool
    render_pool: LimitedPool
    batch_pool: LimitedPool
    print_jobs: PrintJobs | QueuedPrintJobs
    layout_drafts: LayoutDrafts
    start_worker: bool = True

    @property
    def reads_here(self) -> bool:
        """Whether `start` starts reading: always on PostgreSQL (the worker object also
        counts other machines' heartbeats), on TinyDB unless the reader was left off."""
        return self.start_worker or self.settings.database_url is not None

    def start(self) -> None:
        """Starts reading (see `reads_here`)."""
        if self.reads_here:
            self.worker.start()

    def close(self) -> None:
        """Stops reading (each reader finishes its file) and every pool."""
        if self.reads_here:
            self.worker.stop()
        for pool in (
            self.reader.pool,
            self.inspect_pool,
            self.tables_pool,
            self.render_pool,
            self.batch_pool,
            self.layout_drafts.pool,
        ):
            pool.close()


def build_runtime(settings: Settings, *, start_worker: bool = True) -> Runtime:
    """Opens the store `settings` name (users required: a TinyDB folder whose user file is
    lost is refused, DamagedFileError 503), reads the signing key (SigningKeyMismatch 503
    when it is not the one the database recorded: `stores.check_signing_key`), loads the OCR engine
    and makes the reader, pools and print jobs; nothing runs until `Runtime.start`.  On
    PostgreSQL `start_worker=False` (serve --no-reader) starts no worker process here."""
    folder = settings.data_dir
    store = open_store(folder, users="required", database_url=settings.database_url)
    key = signing_key(folder)
    try:
        check_signing_key(store, key)  # every machine of a database holds one key
    except Exception:
        store.close()
        raise
    reader = ReaderWorker(store, key, settings)
    worker: Any = reader
    if settings.database_url:
        from .read_queue import queue_workers_for

        worker = queue_workers_for(store, settings, processes=int(start_worker))
    batch_pool = LimitedPool("print-batch", 1, 2048, nice=4)
    ingest_limits = IngestLimits()
    layout_pool = LimitedPool("layouts", 1, settings.reader_memory_mb, nice=3)
    return Runtime(
        settings=settings,
        store=store,
        key=key,
        engine=default_engine(),
        ingest_limits=ingest_limits,
        reader=reader,
        worker=worker,
        inspect_pool=LimitedPool("inspect", 1, 1024),
        tables_pool=LimitedPool("tables", 1, 1024),
        render_pool=LimitedPool("render", 1, 2048, nice=2),
        batch_pool=batch_pool,
        print_jobs=(
            QueuedPrintJobs(store)  # any worker renders, any web server answers
            if isinstance(store, PrintJobStore)
            else PrintJobs(folder / "prints", batch_pool, store, key)
        ),
        layout_drafts=LayoutDrafts(folder / "layout-drafts", layout_pool, ingest_limits),
        start_worker=start_worker,
    )
