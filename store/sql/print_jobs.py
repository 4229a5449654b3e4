"""Print batches on PostgreSQL (issue 11, point 3: the job queue prints big batches too):
the job, its rows and its progress and PDF live in the database, so any web server answers
for a job and any `formdesk worker` renders it; the procrastinate job is deferred in the
transaction that creates the row (`queue.defer_printing`)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, delete, func, select, text, update

from formdesk.model.documents import IssuedDocument
from formdesk.model.print_jobs import PrintJob, TooManyPrintJobs

from .documents import SqlDocumentStore
from .queue import defer_printing
from .schema import print_jobs

UNFINISHED = ("queued", "rendering")


def _job(row: Any) -> PrintJob:
    return PrintJob(
        job_id=row.job_id, template=row.template, slug=row.slug, filename=row.filename,
        created_by=row.created_by, station=row.station, total=row.total,
        created_at=row.created_at.timestamp(), state=row.state, done=row.done,
        error=row.error, document_ids=json.loads(row.document_ids),
        skipped=json.loads(row.skipped), paper=row.paper,
    )  # fmt: skip


_HEAD = [c for c in print_jobs.c if c.name not in ("records", "pdf")]


class SqlPrintJobStore:
    """Print jobs in the database of `engine` (schema at the head revision)."""

    engine: Engine

    def add_print_job(
        self,
        job: PrintJob,
        records: list[dict[str, Any] | None],
        *,
        max_unfinished: int,
        keep_s: float,
    ) -> PrintJob:
        """Stores `job` with its `records` (normalised values, one form each) and queues
        its rendering, in one transaction; finished jobs older than `keep_s` seconds go
        (their PDFs with them).  TooManyPrintJobs (429) when `job.created_by` has
        `max_unfinished` jobs queued or rendering, on any machine (counted under a lock
        per user, so two web servers cannot both let a third in)."""
        old = datetime.fromtimestamp(time.time() - keep_s, UTC)
        with self.engine.begin() as db:
            db.execute(
                text("SELECT pg_advisory_xact_lock(hashtext(:k))"),
                {"k": f"formdesk.print_jobs:{job.created_by}"},
            )
            db.execute(
                delete(print_jobs).where(
                    print_jobs.c.state.in_(("done", "failed")), print_jobs.c.created_at < old
                )
            )
            running = db.execute(
                select(func.count()).where(
                    print_jobs.c.created_by == job.created_by, print_jobs.c.state.in_(UNFINISHED)
                )
            ).scalar_one()
            if running >= max_unfinished:
                raise TooManyPrintJobs(f"您已有 {running} 个打印任务在进行,请等它们完成后再提交")
            db.execute(
                print_jobs.insert().values(
                    job_id=job.job_id, template=job.template, slug=job.slug,
                    filename=job.filename, created_by=job.created_by, station=job.station,
                    total=job.total, created_at=datetime.fromtimestamp(job.created_at, UTC),
                    state="queued", done=0, error=None, document_ids="[]",
                    skipped=json.dumps(job.skipped, ensure_ascii=False),
                    paper=job.paper,
                    records=json.dumps(records, ensure_ascii=False, default=str),
                )
            )  # fmt: skip
            defer_printing(db, job.job_id)
        return job

    def get_print_job(self, job_id: str) -> PrintJob | None:
        """The job as it stands (state, progress, documents), or None."""
        with self.engine.connect() as db:
            row = db.execute(select(*_HEAD).where(print_jobs.c.job_id == job_id)).first()
        return _job(row) if row else None

    def print_job_records(self, job_id: str) -> list[dict[str, Any] | None] | None:
        """The records a job prints (None once it finished, or for no such job)."""
        with self.engine.connect() as db:
            raw = db.execute(
                select(print_jobs.c.records).where(print_jobs.c.job_id == job_id)
            ).scalar_one_or_none()
        return json.loads(raw) if raw else None

    def print_job_progress(self, job_id: str, done: int) -> None:
        """`done` forms rendered so far (the job is rendering); a finished job stays so."""
        with self.engine.begin() as db:
            db.execute(
                update(print_jobs)
                .where(print_jobs.c.job_id == job_id, print_jobs.c.state.in_(UNFINISHED))
                .values(state="rendering", done=done)
            )

    def finish_print_job(self, job_id: str, pdf: bytes, docs: list[IssuedDocument]) -> None:
        """The job's PDF kept and its documents registered in one transaction: a PDF is
        never handed out whose documents a scan could not be checked against."""
        with self.engine.begin() as db:
            SqlDocumentStore.register_in(db, docs)
            db.execute(
                update(print_jobs)
                .where(print_jobs.c.job_id == job_id)
                .values(
                    state="done", done=print_jobs.c.total, pdf=pdf, records=None,
                    document_ids=json.dumps([d.document_id for d in docs]),
                )
            )  # fmt: skip

    def fail_print_job(self, job_id: str, reason: str) -> None:
        """The job failed; `reason` (Chinese) is what the clerk is told."""
        with self.engine.begin() as db:
            db.execute(
                update(print_jobs)
                .where(print_jobs.c.job_id == job_id)
                .values(state="failed", error=reason, records=None)
            )

    def print_job_pdf(self, job_id: str) -> bytes | None:
        """The finished job's PDF, or None (not finished, failed, or forgotten)."""
        with self.engine.connect() as db:
            return db.execute(
                select(print_jobs.c.pdf).where(print_jobs.c.job_id == job_id)
            ).scalar_one_or_none()
