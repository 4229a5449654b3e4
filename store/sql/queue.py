"""The reading queue's hand-over to procrastinate (the job queue on the same PostgreSQL,
schema by migration 0004): a reading job is deferred in the transaction that creates it,
so an accepted upload always has its queued job, and a rolled-back one none.

The procrastinate task itself (`formdesk.read_scan`, queue `reading`) and its workers are
`services/read_queue.py`'s; here only what the store writes: one procrastinate job per reading job,
`{"job_id": …}` as its arguments. The database function is procrastinate's own
(`procrastinate_defer_jobs_v1`, what `Task.defer` calls)."""

from __future__ import annotations

import json

from sqlalchemy import Connection, text

QUEUE = "reading"  # procrastinate queue of the readers
READ_TASK = "formdesk.read_scan"  # the task reading one job's scan (services/read_queue.py)
PRINT_QUEUE = "printing"  # procrastinate queue of the print batches (the same workers)
PRINT_TASK = "formdesk.print_batch"  # the task rendering one print job (services/read_queue.py)

_DEFER = text(
    "SELECT procrastinate_defer_jobs_v1(ARRAY(SELECT ROW(:queue, :task, 0, NULL, NULL,"
    " a::jsonb, NULL)::procrastinate_job_to_defer_v1 FROM unnest(CAST(:args AS text[])) AS a))"
)


def defer_reading(db: Connection, job_ids: list[str]) -> None:
    """Queues one procrastinate job per reading job, inside `db`'s transaction."""
    if job_ids:
        args = [json.dumps({"job_id": job_id}) for job_id in job_ids]
        db.execute(_DEFER, {"queue": QUEUE, "task": READ_TASK, "args": args})


def live_workers(db: Connection, within_s: float) -> int:
    """How many queue workers (on any machine) sent a heartbeat in the last `within_s`
    seconds (procrastinate's `procrastinate_workers`)."""
    q = text(
        "SELECT count(*) FROM procrastinate_workers"
        " WHERE last_heartbeat > now() - make_interval(secs => :s)"
    )
    return int(db.execute(q, {"s": float(within_s)}).scalar_one())


def defer_printing(db: Connection, job_id: str) -> None:
    """Queues the rendering of the print job `job_id`, inside `db`'s transaction."""
    args = [json.dumps({"job_id": job_id})]
    db.execute(_DEFER, {"queue": PRINT_QUEUE, "task": PRINT_TASK, "args": args})
