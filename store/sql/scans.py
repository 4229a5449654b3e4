"""Uploaded files, their batches and the reading queue on PostgreSQL: `ScanStore` with the
TinyDB store's rules (store/interface.py).

The bytes live once in `scan_contents`, by sha256; their metadata and every station's
upload of them in `scans`. A job is claimed with `SELECT … FOR UPDATE SKIP LOCKED`, so two
workers (threads or processes) never get the same one; every change to a job and the
progress of its batch is one transaction, and the batch row is locked (`FOR UPDATE`) before
its counters and state are worked out, so jobs of one batch ending at once lose no count.
Lock order, everywhere: job rows first, then batch rows.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    Text,
    and_,
    any_,
    bindparam,
    column,
    func,
    literal,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, insert
from sqlalchemy.exc import IntegrityError

from formdesk.model.scans import Batch, Job, PageRefusal, Scan, ScanOwner

from ..interface import ConflictError, NotFoundError
from ..refusals import changed_refusal, page_outcomes
from ..summary import interrupted
from .queue import defer_reading
from .schema import batches, jobs, page_refusals, scan_contents, scans

_SHA256 = re.compile(r"[0-9a-f]{64}")


def _refusal_row(row: Any) -> dict[str, Any]:
    """A page_refusals row as the JSON-shaped dict store.refusals works on."""
    return PageRefusal.model_validate(dict(row)).model_dump(mode="json")


# The next job (`SqlScanStore.claim_job`): fewest attempts first (one never tried before one
# whose attempt failed); among those, a job of the station served longest ago — served: the
# latest change to a job of it that is not pending-never-tried, never served first — then
# the oldest. Rows another transaction holds are skipped, never waited for.
_NEXT_JOB = text(
    """
    WITH served AS (
        SELECT b.station, max(j.updated_at) AS at
        FROM jobs AS j JOIN batches AS b ON b.batch_id = j.batch_id
        WHERE j.state <> 'pending' OR j.attempts > 0
        GROUP BY b.station
    )
    SELECT j.job_id
    FROM jobs AS j
    JOIN batches AS b ON b.batch_id = j.batch_id
    LEFT JOIN served AS s ON s.station IS NOT DISTINCT FROM b.station
    WHERE j.state = 'pending'
    ORDER BY j.attempts, s.at ASC NULLS FIRST, j.seq
    LIMIT 1
    FOR UPDATE OF j SKIP LOCKED
    """
)


def _new_id() -> str:
    """Ten hex digits, as the TinyDB store's ids (checked against what is stored by the
    caller)."""
    return secrets.token_hex(5)


def _now(db: Connection) -> datetime:
    """The database's clock (the transaction's start): one clock for every process."""
    return db.execute(select(func.now())).scalar_one()


def _ids(values: Iterable[str]) -> Any:
    """A list of text ids as one array parameter (`= ANY(…)`)."""
    return bindparam("ids", list(values), ARRAY(Text))


class SqlScanStore:
    """Scans, batches and reading jobs in the database of `engine` (schema at the head
    revision: `store.sql.upgrade`)."""

    def __init__(self, engine: Engine):
        self.engine = engine

    # -- scans ----------------------------------------------------------------------------
    def put_scan(
        self,
        data: bytes,
        filename: str,
        content_type: str,
        uploaded_by: str,
        station: str | None,
    ) -> tuple[Scan, bool]:
        """Stores the bytes once, by sha256 (`scan_contents`, written once, never changed),
        and `station`'s upload of them (None: the back office's) among the scan's owners:
        (scan, True) when that upload is new, else (scan, False) with the scan as stored.
        Whether another station uploaded the same bytes is never told."""
        sha = hashlib.sha256(data).hexdigest()
        with self.engine.begin() as db:
            stored = db.execute(
                select(scan_contents.c.sha256).where(scan_contents.c.sha256 == sha)
            ).first()
            if stored is None:  # else the bytes are not sent to the server again
                db.execute(
                    insert(scan_contents)
                    .values(sha256=sha, data=data)
                    .on_conflict_do_nothing(index_elements=["sha256"])
                )
            now = _now(db)
            owner = ScanOwner(
                station=station, uploaded_by=uploaded_by, filename=filename, uploaded_at=now
            )
            new = Scan(
                sha256=sha,
                filename=filename,
                content_type=content_type,
                size=len(data),
                station=station,
                uploaded_by=uploaded_by,
                uploaded_at=now,
                owners=[owner],
            )
            row = (
                db.execute(
                    insert(scans)
                    .values(
                        **new.model_dump(exclude={"owners"}), owners=[owner.model_dump(mode="json")]
                    )
                    .on_conflict_do_nothing(index_elements=["sha256"])
                    .returning(*scans.c)
                )
                .mappings()
                .first()
            )
            if row is not None:
                return Scan.model_validate(dict(row)), True
            # stored before: its row locked, so one upload per station is ever added
            row = (
                db.execute(select(scans).where(scans.c.sha256 == sha).with_for_update())
                .mappings()
                .one()
            )
            scan = Scan.model_validate(dict(row))
            if scan.owner(station) is not None:
                return scan, False
            owners = [*scan.all_owners(), owner]
            db.execute(
                update(scans)
                .where(scans.c.sha256 == sha)
                .values(owners=[o.model_dump(mode="json") for o in owners])
            )
        return scan.model_copy(update={"owners": owners}), True

    def get_scan(self, sha256: str) -> Scan | None:
        """The scan's metadata and owners, None if no such scan."""
        with self.engine.connect() as db:
            row = db.execute(select(scans).where(scans.c.sha256 == sha256)).mappings().first()
        return Scan.model_validate(dict(row)) if row else None

    # -- refused pages ---------------------------------------------------------------------
    def record_page_outcomes(
        self,
        scan_id: str,
        station: str | None,
        batch_id: str,
        filename: str,
        problems: dict[int, str],
        records: dict[int, list[str]],
    ) -> None:
        """As `ScanStore.record_page_outcomes`; the scan's refusal rows locked meanwhile."""
        r = page_refusals
        with self.engine.begin() as db:
            q = select(r).where(r.c.scan_id == scan_id).with_for_update()
            rows = {x["refusal_id"]: _refusal_row(x) for x in db.execute(q).mappings()}
            out = page_outcomes(rows.get, scan_id, station, batch_id, filename, problems, records)
            for row in out:
                values = PageRefusal.model_validate(row).model_dump()
                stmt = insert(r).values(**values)
                stmt = stmt.on_conflict_do_update(
                    index_elements=["refusal_id"],
                    set_={k: stmt.excluded[k] for k in values if k != "refusal_id"},
                )
                db.execute(stmt)

    def list_page_refusals(
        self, states: list[str] | None = None, scan_ids: list[str] | None = None
    ) -> list[PageRefusal]:
        """As `ScanStore.list_page_refusals`."""
        r = page_refusals
        q = select(r).order_by(r.c.created_at.desc(), r.c.refusal_id.desc())
        if states is not None:
            q = q.where(r.c.state == any_(bindparam("states", list(states), ARRAY(Text))))
        if scan_ids is not None:
            q = q.where(r.c.scan_id == any_(bindparam("scan_ids", list(scan_ids), ARRAY(Text))))
        with self.engine.connect() as db:
            return [PageRefusal.model_validate(dict(x)) for x in db.execute(q).mappings()]

    def get_page_refusal(self, refusal_id: str) -> PageRefusal | None:
        """The refusal, None if there is none."""
        r = page_refusals
        with self.engine.connect() as db:
            row = db.execute(select(r).where(r.c.refusal_id == refusal_id)).mappings().first()
        return PageRefusal.model_validate(dict(row)) if row else None

    def update_page_refusal(
        self, refusal_id: str, from_states: list[str], **changes: Any
    ) -> PageRefusal:
        """As `ScanStore.update_page_refusal`; the row locked from reading to writing."""
        r = page_refusals
        with self.engine.begin() as db:
            q = select(r).where(r.c.refusal_id == refusal_id).with_for_update()
            found = db.execute(q).mappings().first()
            row = _refusal_row(found) if found else None
            new = PageRefusal.model_validate(changed_refusal(row, refusal_id, from_states, changes))
            values = new.model_dump()
            del values["refusal_id"]
            db.execute(update(r).where(r.c.refusal_id == refusal_id).values(**values))
        return new

    def find_scans(self, name: str, station: str | None = None, limit: int = 500) -> list[Scan]:
        """As `ScanStore.find_scans`: an owner (jsonb array element) whose filename holds
        `name`, ignoring case (ILIKE, its own % _ \\ taken literally)."""
        folded = name.strip()
        if not folded:
            return []
        escaped = folded.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        element = column("value", JSONB)
        owner = func.jsonb_array_elements(scans.c.owners).table_valued(element).alias("o")
        cond = [owner.c.value["filename"].astext.ilike(f"%{escaped}%")]
        if station is not None:
            cond.append(owner.c.value["station"].astext == station)
        match = select(literal(1)).select_from(owner).where(*cond).exists()
        # a row from before owners were kept: its first upload is the row itself
        bare = [
            func.jsonb_array_length(scans.c.owners) == 0,
            scans.c.filename.ilike(f"%{escaped}%"),
            *([scans.c.station == station] if station is not None else []),
        ]
        q = (
            select(scans)
            .where(or_(match, and_(*bare)))
            .order_by(scans.c.uploaded_at.desc(), scans.c.sha256.desc())
            .limit(limit)
        )
        with self.engine.connect() as db:
            return [Scan.model_validate(dict(r)) for r in db.execute(q).mappings()]

    def scan_bytes(self, sha256: str) -> bytes:
        """The stored bytes; NotFoundError for an id that is not a sha256 (lowercase hex)
        or bytes not stored."""
        if not _SHA256.fullmatch(sha256):
            raise NotFoundError(f"扫描件“{sha256[:16]}”不存在")
        with self.engine.connect() as db:
            row = db.execute(
                select(scan_contents.c.data).where(scan_contents.c.sha256 == sha256)
            ).first()
        if row is None:
            raise NotFoundError(f"扫描件“{sha256[:16]}…”不存在")
        return bytes(row[0])

    # -- batches and the reading queue ----------------------------------------------------
    def create_batch(
        self,
        created_by: str,
        station: str | None,
        scan_ids: list[str],
        pages_total: int | None = None,
        *,
        pages: Mapping[str, int] | None = None,
    ) -> Batch:
        """The batch (queued; done at once if it has no files) and one pending job per
        distinct scan, oldest first in the order sent, in one transaction. `scan_ids` lists
        the files sent (a file sent twice: files_total counts both, its one job has
        files=2); `pages` maps a scan to its page count (pages_total defaults to the sum
        over the distinct scans). NotFoundError names the first scan not stored."""
        ids = list(dict.fromkeys(scan_ids))
        counts = Counter(scan_ids)
        pages = pages or {}
        if pages_total is None:
            pages_total = sum(pages.get(s, 0) for s in ids)
        with self.engine.begin() as db:
            known = {
                r[0]
                for r in db.execute(select(scans.c.sha256).where(scans.c.sha256 == any_(_ids(ids))))
            }
            missing = [s for s in ids if s not in known]
            if missing:
                raise NotFoundError(f"扫描件“{missing[0][:16]}…”不存在")
            now = _now(db)
            while True:
                batch = Batch(
                    batch_id=_new_id(),
                    station=station,
                    created_by=created_by,
                    created_at=now,
                    scan_ids=ids,
                    state="queued" if ids else "done",
                    pages_total=pages_total,
                    files_total=len(scan_ids),
                )
                taken = db.execute(
                    insert(batches)
                    .values(**batch.model_dump())
                    .on_conflict_do_nothing(index_elements=["batch_id"])
                    .returning(batches.c.batch_id)
                ).first()
                if taken is not None:
                    break
            if ids:
                self._insert_jobs(db, batch.batch_id, ids, counts, pages, now)
        return batch

    @staticmethod
    def _insert_jobs(
        db: Connection,
        batch_id: str,
        ids: list[str],
        counts: Mapping[str, int],
        pages: Mapping[str, int],
        now: datetime,
    ) -> None:
        """One pending job per scan of `ids`, in that order (their `seq`), each under an id
        no other job has: ids found taken are drawn again; one taken by a transaction
        running at the same time (a unique violation) redraws them all (five tries)."""
        for attempt in range(5):
            job_ids: list[str] = []
            while len(job_ids) < len(ids):
                fresh = {_new_id() for _ in range(len(ids) - len(job_ids))} - set(job_ids)
                taken = {
                    r[0]
                    for r in db.execute(
                        select(jobs.c.job_id).where(jobs.c.job_id == any_(_ids(fresh)))
                    )
                }
                job_ids += sorted(fresh - taken)
            rows = [
                Job(
                    job_id=job_id,
                    batch_id=batch_id,
                    scan_id=scan_id,
                    pages=pages.get(scan_id, 0),
                    files=counts[scan_id],
                    updated_at=now,
                ).model_dump()
                for job_id, scan_id in zip(job_ids, ids, strict=True)
            ]
            try:
                with db.begin_nested():
                    db.execute(jobs.insert(), rows)
            except IntegrityError:
                if attempt == 4:  # not an id drawn twice: something else is wrong
                    raise
                continue
            defer_reading(db, job_ids)  # the job queue's jobs, in the same transaction
            return

    def get_batch(self, batch_id: str) -> Batch | None:
        """The batch, None if no such batch."""
        with self.engine.connect() as db:
            row = (
                db.execute(select(batches).where(batches.c.batch_id == batch_id)).mappings().first()
            )
        return Batch.model_validate(dict(row)) if row else None

    def list_batches(self, station: str | None = None, scan_id: str | None = None) -> list[Batch]:
        """Every batch (only `station`'s, only those that brought scan `scan_id`, when
        given), newest first (ties: the greater id)."""
        q = select(batches).order_by(
            batches.c.created_at.desc(), batches.c.batch_id.collate("C").desc()
        )
        if station is not None:
            q = q.where(batches.c.station == station)
        if scan_id is not None:
            q = q.where(batches.c.scan_ids.contains([scan_id]))  # jsonb @>
        with self.engine.connect() as db:
            return [Batch.model_validate(dict(r)) for r in db.execute(q).mappings()]

    def list_jobs(self, batch_id: str) -> list[Job]:
        """The batch's jobs, oldest first (the order of its distinct scans)."""
        q = select(jobs).where(jobs.c.batch_id == batch_id).order_by(jobs.c.seq)
        with self.engine.connect() as db:
            return [Job.model_validate(dict(r)) for r in db.execute(q).mappings()]

    def claim_job(self) -> Job | None:
        """The next pending job, now processing (attempts + 1), None if none is pending; never
        the same job to two workers (the row is taken `FOR UPDATE SKIP LOCKED`). Jobs never
        tried come first, then round robin by station (the station served longest ago),
        then the oldest. Its batch turns reading in the same transaction."""
        with self.engine.connect() as db:  # the idle poll locks nothing
            idle = db.execute(
                select(jobs.c.job_id).where(jobs.c.state == "pending").limit(1)
            ).first()
        if idle is None:
            return None
        with self.engine.begin() as db:
            job_id = db.execute(_NEXT_JOB).scalar()
            if job_id is None:
                return None
            row = (
                db.execute(
                    update(jobs)
                    .where(jobs.c.job_id == job_id)
                    .values(state="processing", attempts=jobs.c.attempts + 1, updated_at=func.now())
                    .returning(*jobs.c)
                )
                .mappings()
                .one()
            )
            self._update_batch(db, row["batch_id"])
        return Job.model_validate(dict(row))

    def finish_job(self, job_id: str, error: str | None, pages_done: int) -> Job:
        """Done (or failed with `error`, then also added to the batch's errors); adds
        `pages_done` (never below 0) to the batch's pages_done and the job's files to its
        files_done. NotFoundError for an unknown job, ConflictError unless it is
        processing."""
        with self.engine.begin() as db:
            row = self._end_job(db, self._processing_job(db, job_id), error, pages_done)
        return Job.model_validate(dict(row))

    def release_job(self, job_id: str, error: str) -> Job:
        """An attempt that failed goes back to pending with `error` kept on the job (behind
        the jobs never tried: it has more attempts). NotFoundError for an unknown job,
        ConflictError unless it is processing."""
        with self.engine.begin() as db:
            self._processing_job(db, job_id)
            row = (
                db.execute(
                    update(jobs)
                    .where(jobs.c.job_id == job_id)
                    .values(state="pending", error=error, updated_at=func.now())
                    .returning(*jobs.c)
                )
                .mappings()
                .one()
            )
            self._update_batch(db, row["batch_id"])
        return Job.model_validate(dict(row))

    def take_job(self, job_id: str, max_attempts: int | None = None) -> Job | None:
        """As `ScanStore.take_job`, in one transaction holding the job's row."""
        with self.engine.begin() as db:
            row = (
                db.execute(
                    select(jobs, scans.c.filename)
                    .join(scans, scans.c.sha256 == jobs.c.scan_id, isouter=True)
                    .where(jobs.c.job_id == job_id)
                    .with_for_update(of=jobs)
                )
                .mappings()
                .first()
            )
            if row is None:
                raise NotFoundError(f"任务“{job_id}”不存在")
            if row["state"] not in ("pending", "processing"):
                return None
            attempts = row["attempts"]
            gave_up = max_attempts is not None and attempts >= max_attempts
            if row["state"] == "processing" and gave_up:
                self._end_job(db, row, interrupted(row["filename"] or job_id, attempts), 0)
                return None
            taken = (
                db.execute(
                    update(jobs)
                    .where(jobs.c.job_id == job_id)
                    .values(state="processing", attempts=attempts + 1, updated_at=func.now())
                    .returning(*jobs.c)
                )
                .mappings()
                .one()
            )
            self._update_batch(db, taken["batch_id"])
        return Job.model_validate(dict(taken))

    def requeue_stale_jobs(self, max_attempts: int | None = None) -> int:
        """At start, after a crash: every processing job back to pending — except those
        already claimed `max_attempts` times, which fail (their reason names the file, and
        goes to the batch's errors); how many were requeued."""
        with self.engine.begin() as db:
            stale = (
                db.execute(
                    select(jobs, scans.c.filename)
                    .join(scans, scans.c.sha256 == jobs.c.scan_id, isouter=True)
                    .where(jobs.c.state == "processing")
                    .order_by(jobs.c.seq)
                    .with_for_update(of=jobs)
                )
                .mappings()
                .all()
            )
            requeued: list[Mapping[str, Any]] = []
            for j in stale:
                if max_attempts is not None and j["attempts"] >= max_attempts:
                    name = j["filename"] or j["scan_id"][:16]
                    self._end_job(db, j, interrupted(name, j["attempts"]), 0)
                else:
                    requeued.append(j)
            if requeued:
                db.execute(
                    update(jobs)
                    .where(jobs.c.job_id == any_(_ids(j["job_id"] for j in requeued)))
                    .values(state="pending", updated_at=func.now())
                )
                for batch_id in sorted({j["batch_id"] for j in requeued}):
                    self._update_batch(db, batch_id)
        return len(requeued)

    # -- inside a transaction -------------------------------------------------------------
    @staticmethod
    def _processing_job(db: Connection, job_id: str) -> Mapping[str, Any]:
        """The row of a job being read, locked; NotFoundError, ConflictError."""
        row = (
            db.execute(select(jobs).where(jobs.c.job_id == job_id).with_for_update())
            .mappings()
            .first()
        )
        if row is None:
            raise NotFoundError(f"任务“{job_id}”不存在")
        if row["state"] != "processing":
            raise ConflictError(f"任务“{job_id}”不在识读中(现为 {row['state']})")
        return row

    def _end_job(
        self, db: Connection, job: Mapping[str, Any], error: str | None, pages_done: int
    ) -> Mapping[str, Any]:
        """A (locked) job done, or failed with `error`, and its batch's progress."""
        row = (
            db.execute(
                update(jobs)
                .where(jobs.c.job_id == job["job_id"])
                .values(state="failed" if error else "done", error=error, updated_at=func.now())
                .returning(*jobs.c)
            )
            .mappings()
            .one()
        )
        self._update_batch(
            db, row["batch_id"], pages=max(0, pages_done), files=row["files"], error=error
        )
        return row

    @staticmethod
    def _update_batch(
        db: Connection, batch_id: str, *, pages: int = 0, files: int = 0, error: str | None = None
    ) -> None:
        """Adds `pages` and `files` to the batch's progress (and `error` to its errors) and
        sets the state its jobs now imply: done when every job ended, reading once one left
        pending, else queued. The batch row is locked first; the jobs' states are read after
        (a fresh snapshot), so a job another transaction ended just before counts."""
        row = (
            db.execute(select(batches).where(batches.c.batch_id == batch_id).with_for_update())
            .mappings()
            .first()
        )
        if row is None:
            return
        states = {
            r[0]
            for r in db.execute(select(jobs.c.state).where(jobs.c.batch_id == batch_id).distinct())
        }
        if states <= {"done", "failed"}:
            state = "done"
        elif states - {"pending"}:
            state = "reading"
        else:
            state = "queued"
        changes: dict[str, Any] = {"state": state}
        if pages:
            changes["pages_done"] = row["pages_done"] + pages
        if files:
            changes["files_done"] = row["files_done"] + files
        if error:
            changes["errors"] = [*row["errors"], error]
        if any(row[k] != v for k, v in changes.items()):
            db.execute(update(batches).where(batches.c.batch_id == batch_id).values(**changes))
