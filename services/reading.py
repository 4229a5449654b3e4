"""The background reader: takes queued scans from the store, reads them in a child process,
stores the records.

- Reading runs in a `LimitedPool` worker (address-space and wall-clock limits): a file that
  makes the reader run out of memory or time, or kills it, costs one attempt. A job whose
  attempts fail `Settings.reader_attempts` times is set aside as failed with its reason
  (识读失败:…), shown on its batch; a refused file (IngestError) fails at once.
- Any error while saving or settling one job fails that job, and the loop goes on; a job
  that cannot even be marked failed (disk full) is retried until it can.
- A watchdog restarts the loop if it ever stops; `problems()` says why the reader is not
  healthy, for /health.
- At start, a job left `processing` by a crash is queued again — unless it was already
  claimed `reader_attempts` times: a file that took the whole service down is not read again
  at every start.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from formdesk.ingest import IngestError
from formdesk.model.scans import Job
from formdesk.settings import Settings
from formdesk.store import ConflictError, NotFoundError, Store
from formdesk.store.placing import save_read_records

from .pools import LimitedPool, TaskFailed

log = logging.getLogger("formdesk.worker")

# -- in the reader process ---------------------------------------------------------------------

_reader: Any = None


def read_in_child(
    key: bytes,
    data: bytes,
    filename: str,
    printed: Callable[[str], Any] | None = None,
    known: dict[str, list[str]] | None = None,
    forced: dict[int, tuple[str, int]] | None = None,
    layouts: Callable[[str], Any] | None = None,
) -> dict[str, Any]:
    """Runs in a reader process: the file's records and page problems as JSON-ready dicts.
    The OCR engine is loaded on the first call and kept; `printed` (the store's
    `document_values_reader()`) lets prefilled fields be verified instead of read;
    `known` (the store's `known_values()`) lets stations, models and parts be read
    against what the installation knows (extract/lexicon.py); `forced` maps a 0-based
    file page to the (form code, form page) a person chose for it after the reader had
    refused it (issue 12, point 3); `layouts` (the store's `layout_reader()`) gives the
    layout variants registered from scans, for pages without marks (issue 13).
    Raises IngestError for a refused file (its reason is the job's)."""
    global _reader
    from formdesk.extract.lexicon import Lexicon
    from formdesk.extract.reader import FormReader
    from formdesk.extract.variants import StoredLayouts

    if _reader is None or _reader.key != key:
        _reader = FormReader(key)
    _reader.printed = printed
    _reader.lexicon = Lexicon.of(**known) if known else None
    _reader.layouts = StoredLayouts(layouts) if layouts is not None else None
    result = _reader.read_file(data, filename, forced=forced)
    return {
        "records": [r.model_dump(mode="json") for r in result.records],
        "problems": [p.model_dump(mode="json") for p in result.problems],
    }


def warm_up_child() -> bool:
    """Loads the OCR engine in a reader process before the first job needs it."""
    from formdesk.extract.ocr import default_engine

    default_engine()
    return True


# -- in the service ------------------------------------------------------------------------------


class ReaderWorker:
    """The reading loop of one service process (a thread) and its reader processes."""

    def __init__(
        self,
        store: Store,
        key: bytes,
        settings: Settings,
        pool: LimitedPool | None = None,
    ):
        self.store = store
        self.key = key
        self.settings = settings
        self.pool = pool or LimitedPool("reader", 1, settings.reader_memory_mb, nice=5)
        self.wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._watchdog: threading.Thread | None = None
        self._unsettled: dict[str, tuple[str | None, int]] = {}  # job id -> (error, pages)
        self.last_error: str | None = None  # the loop's last failure, cleared by a success
        self._printed = store.document_values_reader()
        self._layouts = store.layout_reader()
        self.restarts = 0

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> None:
        """Requeues what a crash left (giving up on jobs out of attempts), then starts the
        loop and its watchdog."""
        try:
            self.store.requeue_stale_jobs(self.settings.reader_attempts)
        except Exception as exc:  # the loop retries; /health says why meanwhile
            log.exception("requeueing stale jobs failed")
            self.last_error = f"重新排队失败:{exc}"
        self._stop.clear()
        self._start_loop()
        self._watchdog = threading.Thread(
            target=self._watch, name="formdesk-reader-watchdog", daemon=True
        )
        self._watchdog.start()
        self.pool.submit(warm_up_child, timeout=120)

    def _start_loop(self) -> None:
        self._thread = threading.Thread(target=self._run, name="formdesk-reader", daemon=True)
        self._thread.start()

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def stop(self) -> None:
        self._stop.set()
        self.wake.set()
        for t in (self._thread, self._watchdog):
            if t is not None:
                t.join(timeout=30)
        self.pool.close()

    def problems(self) -> list[str]:
        """Why the reader is not healthy (Chinese), empty when it is."""
        out = []
        if not self.alive:
            out.append(
                "后台识读未在运行" + (f"(最近的错误:{self.last_error})" if self.last_error else "")
            )
        elif self.last_error:
            out.append(f"后台识读出错:{self.last_error}")
        if self._unsettled:
            out.append(f"有 {len(self._unsettled)} 个识读任务的结果无法写入(磁盘已满?)")
        return out

    def _watch(self) -> None:
        while not self._stop.wait(2.0):
            try:
                if not self.alive and not self._stop.is_set():
                    self.restarts += 1
                    log.error("the reader loop stopped; restarting it (%d)", self.restarts)
                    self._start_loop()
            except Exception:  # never let the watchdog die of its own errors
                log.exception("reader watchdog")

    def _run(self) -> None:
        backoff = 1.0
        while not self._stop.is_set():
            try:
                self._settle()
                busy = self.run_one()
                self.last_error = None if not self._unsettled else self.last_error
                backoff = 1.0
            except Exception as exc:  # a store error outside one job: wait, then go on
                log.exception("reader loop")
                self.last_error = _describe(exc)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 30.0)
                continue
            if not busy:
                self.wake.wait(timeout=1.0)
                self.wake.clear()

    # -- one job ------------------------------------------------------------------------------
    def run_one(self) -> bool:
        """Reads one queued scan and settles its job; False when the queue is empty."""
        job = self.store.claim_job()
        if job is None:
            return False
        self._process(job)
        return True

    def run_job(self, job_id: str) -> str:
        """Reads the job a job queue handed this process (services/read_queue.py): "done" (read and
        settled, failed included), "retry" (this attempt failed, the job is pending again)
        or "skipped" (read already, or set aside after too many attempts)."""
        job = self.store.take_job(job_id, self.settings.reader_attempts)
        if job is None:
            return "skipped"
        return "retry" if self._process(job) is _RETRY else "done"

    def _process(self, job: Job) -> Any:
        """Reads a processing job and settles it; its error (None) or _RETRY."""
        try:
            error, pages = self._read(job)
        except Exception as exc:  # saving failed (a record file gone, disk full …)
            log.exception("saving what was read from job %s failed", job.job_id)
            error, pages = f"{self._filename(job)}:识读结果未能保存({_describe(exc)})", 0
        if error is not _RETRY:
            self._finish(job, error, pages)
        return error

    def _read(self, job: Job) -> tuple[Any, int]:
        """(error or None or _RETRY, pages read) of one job; saves the records it gave."""
        scan = self.store.get_scan(job.scan_id)
        if scan is None:
            return f"{job.scan_id[:16]}…:扫描件记录不存在", 0
        batch = self.store.get_batch(job.batch_id)
        station = batch.station if batch is not None else scan.station
        filename = self._filename(job)
        data = self.store.scan_bytes(job.scan_id)
        timeout = self.settings.reader_timeout(job.pages or 1)
        forced = forced_pages(self.store, job.scan_id, station)
        try:
            result = self.pool.call(
                read_in_child,
                self.key,
                data,
                filename,
                self._printed,
                self.store.known_values(),
                forced or None,
                self._layouts,
                timeout=timeout,
            )
        except IngestError as exc:
            return f"{filename}:{exc}", 0
        except TaskFailed as exc:
            return self._attempt_failed(job, f"{filename}:识读失败:{_complex(exc)}")
        except Exception as exc:  # a bug in reading: the job says so, the queue moves on
            log.error("reading %s failed: %r", filename, exc)
            return self._attempt_failed(job, f"{filename}:识读失败({type(exc).__name__})")
        save_read_records(self.store, job.scan_id, result["records"], station)
        keep_refusals(self.store, job, station, filename, result, forced)
        problems = "; ".join(
            f"{filename} 第{p['file_page'] + 1}页:{p['reason']}" for p in result["problems"]
        )
        pages = len(
            {p["file_page"] for r in result["records"] for p in r["pages"]}
            | {p["file_page"] for p in result["problems"]}
        )
        return problems or None, pages

    def _attempt_failed(self, job: Job, reason: str) -> tuple[Any, int]:
        if job.attempts >= self.settings.reader_attempts:
            return f"{reason}(已尝试 {job.attempts} 次,不再重试)", 0
        self.store.release_job(job.job_id, reason)
        return _RETRY, 0

    def _filename(self, job: Job) -> str:
        scan = self.store.get_scan(job.scan_id)
        if scan is None:
            return job.scan_id[:16]
        batch = self.store.get_batch(job.batch_id)
        owner = scan.owner(batch.station if batch else scan.station)
        return owner.filename if owner else scan.filename

    def _finish(self, job: Job, error: str | None, pages: int) -> None:
        try:
            self.store.finish_job(job.job_id, error=error, pages_done=pages)
        except Exception as exc:
            log.exception("settling job %s failed; will retry", job.job_id)
            self._unsettled[job.job_id] = (error, pages)
            self.last_error = _describe(exc)

    def _settle(self) -> None:
        """Jobs that could not be marked done or failed (disk full), tried again."""
        for job_id, (error, pages) in list(self._unsettled.items()):
            try:
                self.store.finish_job(job_id, error=error, pages_done=pages)
            except (NotFoundError, ConflictError):
                self._unsettled.pop(job_id, None)  # settled elsewhere (a restart)
                continue
            self._unsettled.pop(job_id, None)


_RETRY: Any = object()  # the job went back to the queue


def forced_pages(store: Store, scan_id: str, station: str | None) -> dict[int, tuple[str, int]]:
    """The pages of scan `scan_id` (uploaded by `station`) a person classified by hand and
    sent to be read again: 0-based file page → (form code, form page)."""
    return {
        r.file_page: (r.template, r.form_page or 1)
        for r in store.list_page_refusals(states=["requeued"], scan_ids=[scan_id])
        if r.station == station and r.template
    }


def keep_refusals(
    store: Store,
    job: Job,
    station: str | None,
    filename: str,
    result: dict[str, Any],
    forced: dict[int, tuple[str, int]],
) -> None:
    """The reading's refused pages kept for a person to settle (PageRefusal), and the
    pages classified by hand resolved with the records they now gave."""
    problems = {p["file_page"]: p["reason"] for p in result["problems"]}
    records: dict[int, list[str]] = {}
    if forced:
        rows, _ = store.list_records(scan_ids=[job.scan_id], duplicates=True, limit=500)
        for r in rows:
            for page in r.file_pages:
                if page in forced:
                    records.setdefault(page, []).append(r.record_id)
    if problems or records:
        store.record_page_outcomes(job.scan_id, station, job.batch_id, filename, problems, records)


def _complex(exc: TaskFailed) -> str:
    return f"文件过于复杂,{exc.reason}" if exc.kind in ("memory", "timeout", "died") else exc.reason


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return text if text else type(exc).__name__


def count_file_pages(data: bytes, name: str) -> int:
    """Pages of an uploaded file (PDF, JPEG, PNG, TIFF) without reading them; IngestError
    (422) with the Chinese reason for a file that cannot be read (`ingest.count_pages`)."""
    from formdesk.ingest import count_pages

    return count_pages(data, name)


def read_file_here(key: bytes, files: list[tuple[str, bytes]], on_page: Callable[[], None]):
    """Reads each (name, bytes) file in this process (`formdesk read`: nothing is stored)
    with one `extract.reader.FormReader` verifying document ids by `key`; yields
    (name, ReadResult) per file, or (name, IngestError) for a file refused as a whole.
    `on_page` is called once per page read."""
    from formdesk.extract.reader import FormReader

    reader = FormReader(key) if files else None
    for name, data in files:
        try:
            yield name, reader.read_file(data, name, on_page=lambda _i: on_page())  # type: ignore[union-attr]
        except IngestError as exc:
            yield name, exc
