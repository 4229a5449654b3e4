"""Printing off the event loop: forms are rendered in the render process (services/pools.py).

- One request's forms (blank, prefilled, reprint: at most a few hundred pages) are rendered
  while the request waits (`render_now`).
- A batch from a spreadsheet becomes a `PrintJob` with progress, like an upload: the
  request answers 202 at once, `GET /api/print-jobs/{id}` tells how far it is, and the PDF
  is fetched when done. Its documents are registered when the PDF is complete.

With TinyDB, jobs live in this process's memory and their PDFs under <data>/prints/ for a
day; a restart forgets unfinished jobs (the clerk submits the file again).  On PostgreSQL
they are on the job queue (`QueuedPrintJobs`): the job, its progress and its PDF in the
database, rendered by any `formdesk worker` (`run_print_job`), answered by any web server.
"""

from __future__ import annotations

import logging
import os
import secrets
import tempfile
import threading
import time
from concurrent.futures import Future, wait
from pathlib import Path
from typing import Any

from formdesk.model.documents import IssuedDocument
from formdesk.model.print_jobs import DEFAULT_PAPER, PrintJob, TooManyPrintJobs, ganged
from formdesk.render.document import plan_pages, render_documents
from formdesk.render.fit import ValueDoesNotFitError
from formdesk.services.printing import register_printed
from formdesk.store import Store
from formdesk.templates import Template, get_template

from .installation import print_names
from .pools import LimitedPool, TaskFailed

log = logging.getLogger("formdesk.print")

MAX_BATCH_FORMS = 5_000  # one spreadsheet; ~70 A4 pages/s, so about two minutes of work
MAX_BATCH_PAGES = 5_000  # form pages (copies 联 counted) of one batch job
MAX_NOW_PAGES = 300  # form pages one request may print while it waits (a few seconds)
MAX_JOBS_PER_USER = 2  # unfinished print jobs one user may have at once
KEEP_SECONDS = 24 * 3600  # a finished job's PDF is kept this long
PROGRESS_EVERY = 10  # forms between progress reports


def render_in_child(
    key: bytes,
    template_code: str,
    records: list[dict[str, Any] | None],
    copies: int,
    out: str,
    progress: str | None = None,
    paper: str = DEFAULT_PAPER,
    names: dict[str, str] | None = None,
) -> list[dict[str, Any]]:
    """Runs in the render process: every record (None = blank) `copies` times into the PDF
    `out` (written whole or not at all), small tags on `paper` (model.print_jobs.PAPERS:
    "a4x4" four to an A4 sheet, "a6" one per A6 page); the documents printed, as dicts of
    IssuedDocument. Raises ValueDoesNotFitError naming the record (第n条记录) whose value
    cannot be printed legibly. `progress`, when given, is a file rewritten with the number
    of records done; `names` printed instead of the seed's placeholders
    (`installation.print_names`)."""
    template = get_template(template_code)

    def report(n: int) -> None:
        if progress and (n % PROGRESS_EVERY == 0 or n == len(records)):
            _write_progress(Path(progress), n)

    try:
        docs = render_documents(
            Path(out),
            key,
            template,
            records,
            copies=copies,
            gang=ganged(paper),
            progress=report,
            names=names,
        )
    except ValueDoesNotFitError as exc:
        where = f"第{exc.record}条记录 " if len(records) > 1 and exc.record else ""
        raise ValueDoesNotFitError(f"{where}{exc}") from None
    return [d.model_dump() for d in docs]


def _write_progress(path: Path, done: int) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(str(done))
    os.replace(tmp, path)


def _issued(rows: list[dict[str, Any]]) -> list[IssuedDocument]:
    return [IssuedDocument.model_validate(row) for row in rows]


def form_pages(template: Template, records: list[dict[str, Any] | None], copies: int) -> int:
    """Pages the records would print (continuation pages and copies 联 counted; tags ganged
    on one sheet still count one page each): the measure of a print's work."""
    per_copy = len(template.copies) or 1
    return sum(len(plan_pages(template, values or {})) for values in records) * per_copy * copies


async def render_now(
    pool: LimitedPool,
    key: bytes,
    template: Template,
    records: list[dict[str, Any] | None],
    copies: int,
    paper: str = DEFAULT_PAPER,
    names: dict[str, str] | None = None,
) -> tuple[bytes, list[IssuedDocument]]:
    """The PDF of a few forms (at most MAX_NOW_PAGES, the caller checks), small tags on
    `paper` (see `render_in_child`), rendered in the render process while the request
    waits on the event loop (no worker thread is held). Values must be normalised
    already. Raises ValueDoesNotFitError, or TaskFailed when rendering ran out of time or
    memory."""
    with tempfile.TemporaryDirectory(prefix="formdesk-print-") as tmp:
        out = Path(tmp) / "forms.pdf"
        timeout = 60.0 + 0.5 * len(records) * copies
        rows = await pool.run(
            render_in_child, key, template.code, records, copies, str(out), None, paper,
            names, timeout=timeout,
        )  # fmt: skip
        return out.read_bytes(), _issued(rows)


TooManyJobs = TooManyPrintJobs  # the name the routes and tests know


class PrintJobs:
    """The print jobs of this process; results under `folder` (<data>/prints)."""

    def __init__(self, folder: Path, pool: LimitedPool, store: Store, key: bytes):
        self.folder = Path(folder)
        self.pool = pool
        self.store = store
        self.key = key
        self._jobs: dict[str, PrintJob] = {}
        self._lock = threading.Lock()

    def submit(
        self,
        template: Template,
        records: list[dict[str, Any]],
        *,
        filename: str,
        created_by: str,
        station: str | None,
        skipped: list[str] | None = None,
        paper: str = DEFAULT_PAPER,
    ) -> PrintJob:
        """Queues the rendering of `records` (normalised values, one form each; `skipped`:
        the file's bad rows left out, said with the job; small tags on `paper`). Raises
        TooManyJobs when `created_by` has MAX_JOBS_PER_USER jobs unfinished."""
        self.folder.mkdir(parents=True, exist_ok=True)
        self._forget_old()
        with self._lock:
            running = [
                j
                for j in self._jobs.values()
                if j.created_by == created_by and j.state in ("queued", "rendering")
            ]
        if len(running) >= MAX_JOBS_PER_USER:
            raise TooManyJobs(f"您已有 {len(running)} 个打印任务在进行,请等它们完成后再提交")
        job = PrintJob(
            job_id=secrets.token_hex(8),
            template=template.code,
            slug=template.slug,
            filename=filename,
            created_by=created_by,
            station=station,
            total=len(records),
            skipped=list(skipped or []),
            paper=paper,
        )
        out = self.folder / f"{job.job_id}.pdf"
        timeout = 120.0 + 0.2 * len(records)
        future = self.pool.submit(
            render_in_child,
            self.key,
            template.code,
            records,
            1,
            str(out),
            str(self._progress_path(job)),
            paper,
            print_names(self.store, station),
            timeout=timeout,
        )
        with self._lock:
            self._jobs[job.job_id] = job
        future.add_done_callback(lambda f: self._finished(job, f, out, timeout))
        return job

    def get(self, job_id: str) -> PrintJob | None:
        with self._lock:
            job = self._jobs.get(job_id)
        if job is not None and job.state in ("queued", "rendering"):
            try:
                job.done = int(self._progress_path(job).read_text() or 0)
                job.state = "rendering"
            except (OSError, ValueError):
                pass
        return job

    def pdf(self, job: PrintJob) -> bytes:
        """The finished job's PDF; FileNotFoundError once it is gone (after a day, or a
        restart of the service)."""
        if job.path is None:
            raise FileNotFoundError(job.job_id)
        return job.path.read_bytes()

    def _progress_path(self, job: PrintJob) -> Path:
        return self.folder / f"{job.job_id}.progress"

    def _finished(self, job: PrintJob, future: Future, out: Path, timeout: float) -> None:
        try:
            rows = self.pool.outcome(future, timeout)
            docs = register_printed(
                self.store, _issued(rows), station=job.station, issued_by=job.created_by
            )
        except ValueDoesNotFitError as exc:
            self._fail(job, str(exc), out)
        except TaskFailed as exc:
            self._fail(job, f"打印失败:{exc.reason}", out)
        except Exception as exc:  # store error (disk full …) or a bug: said, not hidden
            log.exception("print job %s", job.job_id)
            self._fail(job, f"打印失败({type(exc).__name__}:{exc})", out)
        else:
            job.document_ids = [d.document_id for d in docs]
            job.path = out
            job.done = job.total
            job.state = "done"
        finally:
            self._progress_path(job).unlink(missing_ok=True)

    @staticmethod
    def _fail(job: PrintJob, reason: str, out: Path) -> None:
        out.unlink(missing_ok=True)
        job.error = reason
        job.state = "failed"

    def _forget_old(self) -> None:
        now = time.time()
        with self._lock:
            old = [
                j
                for j in self._jobs.values()
                if j.state in ("done", "failed") and now - j.created_at > KEEP_SECONDS
            ]
            for j in old:
                self._jobs.pop(j.job_id, None)
        for j in old:
            if j.path is not None:
                j.path.unlink(missing_ok=True)
        for path in self.folder.glob("*.pdf"):  # left by an earlier run of the service
            try:
                if now - path.stat().st_mtime > KEEP_SECONDS:
                    path.unlink(missing_ok=True)
            except OSError:
                pass


class QueuedPrintJobs:
    """Print jobs on the job queue (PostgreSQL): the job and its PDF in the database, its
    rendering by whichever `formdesk worker` takes it (`run_print_job`), so every web server
    of the installation answers for every job.  The same surface as `PrintJobs`."""

    def __init__(self, store: Store):
        self.store = store

    def submit(
        self,
        template: Template,
        records: list[dict[str, Any]],
        *,
        filename: str,
        created_by: str,
        station: str | None,
        skipped: list[str] | None = None,
        paper: str = DEFAULT_PAPER,
    ) -> PrintJob:
        """Stores and queues the rendering of `records` (`skipped`, `paper` as in
        `PrintJobs.submit`); TooManyJobs (429) when `created_by` has MAX_JOBS_PER_USER
        jobs unfinished on any machine."""
        job = PrintJob(
            job_id=secrets.token_hex(8), template=template.code, slug=template.slug,
            filename=filename, created_by=created_by, station=station, total=len(records),
            skipped=list(skipped or []), paper=paper,
        )  # fmt: skip
        return self.store.add_print_job(
            job, records, max_unfinished=MAX_JOBS_PER_USER, keep_s=KEEP_SECONDS
        )

    def get(self, job_id: str) -> PrintJob | None:
        """The job as the database has it (progress written by the worker), or None."""
        return self.store.get_print_job(job_id)

    def pdf(self, job: PrintJob) -> bytes:
        """The finished job's PDF; FileNotFoundError once it is forgotten."""
        data = self.store.print_job_pdf(job.job_id)
        if data is None:
            raise FileNotFoundError(job.job_id)
        return data


def run_print_job(store: Store, key: bytes, pool: LimitedPool, job_id: str) -> None:
    """The job queue's print task (a `formdesk worker` process): renders the job's forms
    in the render process `pool` (its memory and time bounded as on the service), writing
    the progress to the database every second, then keeps the PDF and registers the
    documents in one transaction; a refusal (a value that does not fit, a render out of
    memory or time) marks the job failed with the reason.  A job already finished is left
    as it is (a job handed on after its worker died is rendered again from the start)."""
    job = store.get_print_job(job_id)
    records = store.print_job_records(job_id)
    if job is None or records is None or job.state in ("done", "failed"):
        return
    store.print_job_progress(job_id, 0)
    with tempfile.TemporaryDirectory(prefix="formdesk-print-") as tmp:
        out, progress = Path(tmp) / "forms.pdf", Path(tmp) / "progress"
        timeout = 120.0 + 0.2 * len(records)
        future = pool.submit(
            render_in_child, key, job.template, records, 1, str(out), str(progress), job.paper,
            print_names(store, job.station), timeout=timeout,
        )  # fmt: skip
        reported = 0
        while not wait([future], timeout=1.0).done:
            try:
                done = int(progress.read_text() or 0)
            except (OSError, ValueError):
                continue
            if done != reported:
                store.print_job_progress(job_id, done)
                reported = done
        try:
            rows = pool.outcome(future, timeout)
            docs = [
                d.registered(station=job.station, issued_by=job.created_by) for d in _issued(rows)
            ]
            store.finish_print_job(job_id, out.read_bytes(), docs)
        except ValueDoesNotFitError as exc:
            store.fail_print_job(job_id, str(exc))
        except TaskFailed as exc:
            store.fail_print_job(job_id, f"打印失败:{exc.reason}")
        except Exception as exc:  # a store error or a bug: said to the clerk, not hidden
            log.exception("print job %s", job_id)
            store.fail_print_job(job_id, f"打印失败({type(exc).__name__}:{exc})")


PrintJobQueue = PrintJobs | QueuedPrintJobs  # what the service holds: in-process or queued
