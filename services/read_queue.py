"""Readers on any machine (PostgreSQL only): the procrastinate job queue on the same
database (`store/sql/queue.py` defers one job per reading job in the upload's own
transaction) and the processes that work it (`formdesk worker --processes N`, and the one
`formdesk serve` starts unless `--no-reader`).

- Each worker process reads one file at a time, with the service's reader
  (`ReaderWorker.run_job`: the reader child process with its memory and time limits, the
  records saved, the job settled).
- Retries, locks and stalled workers are procrastinate's: a worker sends a heartbeat every
  `worker_stalled_s / 3` seconds; every few seconds one worker looks for jobs whose worker
  has sent none for `worker_stalled_s` (killed, its machine gone) and hands them on. The
  store's `take_job` counts that as an attempt: a file that kills its reader
  `reader_attempts` times is set aside as failed, with its reason.
- A job that was read already (its worker died after saving) is skipped, and a second
  reading of a scan replaces its records: nothing is read twice into two records.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
from collections.abc import Callable
from typing import Any

from procrastinate import App, PsycopgConnector, RetryStrategy

from formdesk.settings import Settings, signing_key
from formdesk.store import open_store
from formdesk.store.sql.queue import PRINT_QUEUE, PRINT_TASK, QUEUE, READ_TASK

from .pools import LimitedPool
from .print_jobs import run_print_job
from .reading import ReaderWorker
from .stores import check_signing_key

log = logging.getLogger("formdesk.queue")

_runner: ReaderWorker | None = None  # the reader of this worker process
_printer: LimitedPool | None = None  # this worker process's render process (print batches)


class ReadAgain(Exception):
    """One attempt at a job failed (the reader ran out of memory or time, or died): the
    job went back to pending in the store and the queue tries it again."""


def _conninfo(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def queue_app(settings: Settings) -> App:
    """The procrastinate app of this installation: the reading task and the periodic
    hand-over of stalled workers' jobs. Needs `settings.database_url`."""
    if not settings.database_url:
        raise ValueError("the job queue needs FORMDESK_DATABASE_URL (PostgreSQL)")
    app = App(connector=PsycopgConnector(conninfo=_conninfo(settings.database_url)))
    stalled_s = settings.worker_stalled_s

    @app.task(
        name=READ_TASK,
        queue=QUEUE,
        retry=RetryStrategy(
            max_attempts=settings.reader_attempts + 1, wait=1, retry_exceptions={ReadAgain}
        ),
    )
    def read_scan(job_id: str) -> None:
        assert _runner is not None, "a worker process sets its reader first"
        if _runner.run_job(job_id) == "retry":
            raise ReadAgain(job_id)

    @app.task(
        name=PRINT_TASK,
        queue=PRINT_QUEUE,
        retry=RetryStrategy(max_attempts=2, wait=1, retry_exceptions={OSError}),
    )
    def print_batch(job_id: str) -> None:
        global _printer
        assert _runner is not None, "a worker process sets its reader first"
        if _printer is None:  # made when this process takes its first print job
            _printer = LimitedPool("print-batch", 1, 2048, nice=4)
        run_print_job(_runner.store, _runner.key, _printer, job_id)

    @app.periodic(cron=f"* * * * * */{max(1, stalled_s // 3)}", periodic_id="stalled")
    @app.task(
        name="formdesk.hand_on_stalled_jobs",
        queue=QUEUE,
        queueing_lock="formdesk.hand_on_stalled_jobs",
        pass_context=True,
    )
    async def hand_on_stalled_jobs(context: Any, timestamp: int) -> None:
        manager = context.app.job_manager
        for job in await manager.get_stalled_jobs(seconds_since_heartbeat=stalled_s):
            log.warning("job %s: its worker stopped sending heartbeats; handing it on", job.id)
            await manager.retry_job(job)

    return app


def run_worker_process(settings: Settings) -> None:
    """One reader process: works the `reading` queue, one file at a time, until SIGTERM or
    SIGINT (a job being read is finished first)."""
    global _runner
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    store = open_store(settings.data_dir, database_url=settings.database_url)
    key = signing_key(settings.data_dir)
    check_signing_key(store, key)  # `formdesk worker` checked it already; a changed key file
    _runner = ReaderWorker(store, key, settings)
    try:
        queue_app(settings).run_worker(
            queues=[QUEUE, PRINT_QUEUE],
            concurrency=1,
            delete_jobs="successful",
            update_heartbeat_interval=max(1.0, settings.worker_stalled_s / 3),
            stalled_worker_timeout=float(settings.worker_stalled_s),
            shutdown_graceful_timeout=float(settings.reader_timeout(1)),
        )
    finally:
        _runner.pool.close()
        if _printer is not None:
            _printer.close()
        store.close()


class QueueWorkers:
    """`processes` worker processes of this machine (spawned, so each has its own
    connections and reader), restarted if one dies; what `formdesk serve` runs on
    PostgreSQL in place of its reader thread, with the same surface (`start`, `stop`,
    `alive`, `problems`, `wake`)."""

    def __init__(
        self,
        settings: Settings,
        processes: int = 1,
        live: Callable[[], int] | None = None,
    ):
        self.settings = settings
        self.processes = processes
        self._live = live  # workers heartbeating in the database, on any machine
        self.live: int | None = None  # as last counted (None: not counted, or no database)
        self.live_error: str | None = None
        self.wake = threading.Event()  # uploads wake nobody: the queue notifies (LISTEN)
        self._procs: list[multiprocessing.Process] = []
        self._stop = threading.Event()
        self._watchdog: threading.Thread | None = None
        self.restarts = 0

    def _spawn(self) -> multiprocessing.Process:
        ctx = multiprocessing.get_context("spawn")
        proc = ctx.Process(
            target=run_worker_process, args=(self.settings,), name="formdesk-worker", daemon=False
        )
        proc.start()
        return proc

    def start(self) -> None:
        """Spawns the processes (none: this machine only watches the others' heartbeats)."""
        self._stop.clear()
        self._procs = [self._spawn() for _ in range(self.processes)]
        self._count_live()
        self._watchdog = threading.Thread(target=self._watch, name="formdesk-workers", daemon=True)
        self._watchdog.start()

    def _count_live(self) -> None:
        if self._live is None:
            return
        try:
            self.live, self.live_error = self._live(), None
        except Exception as exc:  # the database is down: /health says so
            self.live, self.live_error = None, str(exc).strip().splitlines()[0]

    def _watch(self) -> None:
        while not self._stop.wait(2.0):
            self._count_live()
            for i, proc in enumerate(self._procs):
                if not proc.is_alive() and not self._stop.is_set():
                    self.restarts += 1
                    log.error("worker process %s ended (%s); restarting", proc.pid, proc.exitcode)
                    self._procs[i] = self._spawn()

    @property
    def alive(self) -> bool:
        """This machine's processes all run, or (none here) some worker heartbeats."""
        if self._procs:
            return all(p.is_alive() for p in self._procs)
        return bool(self.live)

    def problems(self) -> list[str]:
        """Why reading is not healthy (Chinese), empty when it is: a process of this
        machine that is not running, no worker heartbeating anywhere, the database."""
        out = []
        dead = sum(1 for p in self._procs if not p.is_alive())
        if dead:
            out.append(f"本机有 {dead} 个识读进程未在运行")
        if self.live_error is not None:
            out.append(f"无法查询识读进程:{self.live_error}")
        elif self.live == 0 and not self._procs:
            out.append("没有识读进程在运行:请在识读机器上运行 formdesk worker")
        return out

    def stop(self, timeout: float = 60) -> None:
        """SIGTERM to every process (each finishes the file it reads), then waits."""
        self._stop.set()
        for proc in self._procs:
            if proc.is_alive() and proc.pid:
                os.kill(proc.pid, signal.SIGTERM)
        for proc in self._procs:
            proc.join(timeout)
            if proc.is_alive():
                proc.kill()
        if self._watchdog is not None:
            self._watchdog.join(timeout=5)

    def wait(self) -> None:
        """Blocks until every process has ended (the `formdesk worker` command)."""
        while not self._stop.is_set() and any(p.is_alive() for p in self._procs):
            self._stop.wait(1.0)


def queue_workers_for(store: Any, settings: Settings, *, processes: int) -> QueueWorkers:
    """The queue workers `formdesk serve` runs on PostgreSQL: `processes` here (0 with
    --no-reader: this machine only counts the heartbeats of the workers elsewhere, through
    `store`, for /health)."""
    from formdesk.store.sql.queue import live_workers

    def live() -> int:
        with store.engine.connect() as db:
            return live_workers(db, settings.worker_stalled_s)

    return QueueWorkers(settings, processes=processes, live=live)
