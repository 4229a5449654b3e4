"""The background reader: takes queued scans from the store, reads them, stores records.

Runs in the server process; a job left `processing` by a crash is queued again at start
(`Store.requeue_stale_jobs`), so every accepted scan is either read or waiting.
"""

from __future__ import annotations

import logging
import threading

from formdesk.extract.reader import FormReader
from formdesk.ingest import IngestError
from formdesk.store import Store
from formdesk.store.placing import save_read_records

log = logging.getLogger("formdesk.worker")


class ReaderWorker:
    def __init__(self, store: Store, reader: FormReader):
        self.store = store
        self.reader = reader
        self.wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="formdesk-reader", daemon=True)

    def start(self) -> None:
        self.store.requeue_stale_jobs()
        self._thread.start()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def stop(self) -> None:
        self._stop.set()
        self.wake.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stop.is_set():
            if not self.run_one():
                self.wake.wait(timeout=1.0)
                self.wake.clear()

    def run_one(self) -> bool:
        """Reads one queued scan; False when the queue is empty."""
        job = self.store.claim_job()
        if job is None:
            return False
        scan = self.store.get_scan(job.scan_id)
        try:
            result = self.reader.read_file(self.store.scan_bytes(job.scan_id), scan.filename)
        except IngestError as exc:
            self.store.finish_job(job.job_id, error=f"{scan.filename}:{exc}", pages_done=0)
            return True
        except Exception as exc:  # a bug must not stop the queue; the job says what happened
            log.exception("reading %s failed", scan.filename)
            self.store.finish_job(
                job.job_id, error=f"{scan.filename}:识读失败({type(exc).__name__})", pages_done=0
            )
            return True
        save_read_records(
            self.store,
            job.scan_id,
            [r.model_dump(mode="json") for r in result.records],
            scan.station,
        )
        problems = "; ".join(
            f"{scan.filename} 第{p.file_page + 1}页:{p.reason}" for p in result.problems
        )
        pages = len(
            {p.file_page for r in result.records for p in r.pages}
            | {p.file_page for p in result.problems}
        )
        self.store.finish_job(job.job_id, error=problems or None, pages_done=pages)
        return True
