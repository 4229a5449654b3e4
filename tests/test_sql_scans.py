"""Scans, batches and the reading queue (`ScanStore`) on both stores through the same
tests — the TinyDB store and the PostgreSQL one (`SqlScanStore`) — and what only a server
shows: many workers claiming at once, jobs of one batch ending at once."""

from __future__ import annotations

import re
import threading
import time
from collections import Counter

import pytest
from sqlalchemy import func, select, text

from formdesk.store import ConflictError, NotFoundError, TinyStore
from formdesk.store.sql.scans import SqlScanStore
from formdesk.store.sql.schema import scan_contents


@pytest.fixture(params=["tinydb", "postgresql"])
def store(request, tmp_path):
    """A store with the ScanStore role; the PostgreSQL database is asked for only here."""
    if request.param == "tinydb":
        with TinyStore(tmp_path / "data") as s:
            yield s
    else:
        yield SqlScanStore(request.getfixturevalue("pg_engine"))


@pytest.fixture
def sql(pg_engine) -> SqlScanStore:
    return SqlScanStore(pg_engine)


def new_scan(store, content: bytes, station: str | None = "S01", name: str = "scan.pdf"):
    scan, _ = store.put_scan(content, name, "application/pdf", "alice", station)
    return scan


def stored_copies(store, sha: str) -> int:
    """How many copies of the bytes the store keeps."""
    if isinstance(store, TinyStore):
        return sum(1 for p in (store.data_dir / "scans").rglob("*") if p.is_file())
    with store.engine.connect() as db:
        return db.execute(select(func.count()).select_from(scan_contents)).scalar_one()


def tick() -> None:
    """Stored times are to the microsecond: the next change is later."""
    time.sleep(0.002)


# -- scans ------------------------------------------------------------------------------------


def test_bytes_are_stored_once_and_read_back(store):
    data = bytes(range(256)) * 1000
    scan, new = store.put_scan(data, "a.pdf", "application/pdf", "alice", "S01")
    assert new and scan.size == len(data) and (scan.station, scan.filename) == ("S01", "a.pdf")
    again, new_again = store.put_scan(data, "b.pdf", "application/pdf", "al2", "S01")
    assert not new_again and again == scan  # the station had it: the first upload's metadata
    assert store.get_scan(scan.sha256) == scan
    assert store.scan_bytes(scan.sha256) == data
    assert stored_copies(store, scan.sha256) == 1
    assert store.get_scan("0" * 64) is None


def test_the_same_bytes_from_two_stations_are_two_uploads(store):
    data = b"%PDF-1.7 the same form"
    first, new = store.put_scan(data, "a.pdf", "application/pdf", "alice", "S01")
    other, new_other = store.put_scan(data, "c.pdf", "image/png", "carol", None)
    assert new and new_other and other.sha256 == first.sha256
    assert [(o.station, o.filename, o.uploaded_by) for o in other.owners] == [
        ("S01", "a.pdf", "alice"),
        (None, "c.pdf", "carol"),
    ]
    # the first upload's metadata stays the scan's own
    assert (other.filename, other.content_type, other.station) == ("a.pdf", "application/pdf", "S01")  # fmt: skip
    assert store.get_scan(first.sha256) == other
    third, new_third = store.put_scan(data, "d.pdf", "application/pdf", "bob", "S02")
    assert new_third and third.stations() == {"S01", None, "S02"}
    assert store.put_scan(data, "e.pdf", "x", "x", None) == (store.get_scan(first.sha256), False)
    assert len(store.get_scan(first.sha256).owners) == 3
    assert stored_copies(store, first.sha256) == 1


def test_scan_bytes_of_an_unknown_or_malformed_id_is_not_found(store):
    with pytest.raises(NotFoundError, match="扫描件“0000000000000000…”不存在"):
        store.scan_bytes("0" * 64)
    for bad in ("../../db/meta.json", "A" * 64, "0" * 63, ""):
        with pytest.raises(NotFoundError, match="不存在"):
            store.scan_bytes(bad)


# -- batches ----------------------------------------------------------------------------------


def test_a_batch_with_a_file_sent_twice(store):
    a, b = new_scan(store, b"a"), new_scan(store, b"b")
    batch = store.create_batch(
        "alice", "S01", [a.sha256, a.sha256, b.sha256], pages={a.sha256: 2, b.sha256: 1}
    )
    assert batch.scan_ids == [a.sha256, b.sha256] and batch.state == "queued"
    assert (batch.files_total, batch.pages_total, batch.files_done, batch.pages_done) == (3, 3, 0, 0)  # fmt: skip
    assert (batch.created_by, batch.station, batch.errors) == ("alice", "S01", [])
    assert store.get_batch(batch.batch_id) == batch
    jobs = store.list_jobs(batch.batch_id)
    assert [(j.scan_id, j.state, j.attempts, j.files, j.pages) for j in jobs] == [
        (a.sha256, "pending", 0, 2, 2),
        (b.sha256, "pending", 0, 1, 1),
    ]
    assert len({j.job_id for j in jobs}) == 2
    assert all(len(j.job_id) == 10 and int(j.job_id, 16) >= 0 for j in jobs)
    assert len(batch.batch_id) == 10 and int(batch.batch_id, 16) >= 0
    # pages_total, when given, is taken as it is
    assert store.create_batch("bob", None, [b.sha256, b.sha256], pages_total=7).pages_total == 7
    assert store.create_batch("bob", None, [a.sha256]).pages_total == 0  # pages not known


def test_an_empty_batch_is_done_and_unknown_ids_are_not_found(store):
    empty = store.create_batch("alice", None, [], 0)
    assert (empty.state, empty.files_total) == ("done", 0)
    assert store.list_jobs(empty.batch_id) == []
    a = new_scan(store, b"a")
    with pytest.raises(NotFoundError, match="扫描件“ffffffffffffffff…”不存在"):
        store.create_batch("alice", None, [a.sha256, "f" * 64, "e" * 64], 1)
    assert [x.batch_id for x in store.list_batches()] == [empty.batch_id]  # nothing written
    assert store.get_batch("nope") is None
    assert store.list_jobs("nope") == []


def test_list_batches_newest_first_by_station(store):
    a = new_scan(store, b"a")
    made = []
    for station in ("S01", "S02", "S01", None):
        made.append(store.create_batch("u", station, [a.sha256], pages_total=1))
        tick()
    assert [x.batch_id for x in store.list_batches()] == [b.batch_id for b in reversed(made)]
    assert [x.batch_id for x in store.list_batches(station="S01")] == [
        made[2].batch_id,
        made[0].batch_id,
    ]
    assert store.list_batches(station="S09") == []


# -- the reading queue ------------------------------------------------------------------------


def test_claim_finish_and_the_batch_progress(store):
    a, b = new_scan(store, b"a"), new_scan(store, b"b")
    batch = store.create_batch("alice", "S01", [a.sha256, b.sha256, a.sha256], pages_total=3)
    later = store.create_batch("bob", "S02", [b.sha256], pages_total=1)

    first = store.claim_job()
    assert (first.scan_id, first.state, first.attempts) == (a.sha256, "processing", 1)
    assert store.get_batch(batch.batch_id).state == "reading"
    assert store.get_batch(later.batch_id).state == "queued"
    done = store.finish_job(first.job_id, None, pages_done=2)
    assert (done.state, done.error, done.attempts) == ("done", None, 1)
    progress = store.get_batch(batch.batch_id)
    assert (progress.state, progress.files_done, progress.pages_done) == ("reading", 2, 2)
    tick()
    turn = store.claim_job()  # station S02 has not been served yet: its turn
    assert turn.batch_id == later.batch_id
    store.finish_job(turn.job_id, None, pages_done=-5)  # never counted below zero
    assert store.get_batch(later.batch_id).pages_done == 0
    assert store.get_batch(later.batch_id).state == "done"
    tick()
    second = store.claim_job()
    assert second.scan_id == b.sha256 and second.batch_id == batch.batch_id
    failed = store.finish_job(second.job_id, "b.pdf:无法识别", pages_done=0)
    assert (failed.state, failed.error) == ("failed", "b.pdf:无法识别")
    end = store.get_batch(batch.batch_id)
    assert (end.state, end.pages_done, end.pages_total, end.files_done, end.files_total) == (
        "done",
        2,
        3,
        3,
        3,
    )
    assert end.errors == ["b.pdf:无法识别"]
    assert [j.state for j in store.list_jobs(batch.batch_id)] == ["done", "failed"]
    assert store.claim_job() is None

    with pytest.raises(
        ConflictError, match=re.escape(f"任务“{second.job_id}”不在识读中(现为 failed)")
    ):
        store.finish_job(second.job_id, None, 1)
    with pytest.raises(ConflictError):
        store.release_job(first.job_id, "x")
    with pytest.raises(NotFoundError, match="任务“nope”不存在"):
        store.finish_job("nope", None, 1)
    with pytest.raises(NotFoundError):
        store.release_job("nope", "x")
    assert store.get_batch(batch.batch_id) == end  # a refused change changes nothing


def test_claim_order_untried_first_then_stations_in_turn_then_oldest(store):
    scans = [new_scan(store, f"s{i}".encode()) for i in range(7)]
    a = store.create_batch("a", "HN01", [s.sha256 for s in scans[:3]])  # three long files
    b = store.create_batch("b", "HN02", [scans[3].sha256])  # sent a moment later
    c = store.create_batch("c", "HN01", [scans[4].sha256])
    d = store.create_batch("d", None, [scans[5].sha256, scans[6].sha256])  # the back office
    order = []
    while (job := store.claim_job()) is not None:
        order.append((job.batch_id, job.scan_id))
        store.finish_job(job.job_id, None, 1)
        tick()
    assert order == [
        (a.batch_id, scans[0].sha256),  # nobody served: the oldest
        (b.batch_id, scans[3].sha256),  # HN02, never served
        (d.batch_id, scans[5].sha256),  # the back office, never served
        (a.batch_id, scans[1].sha256),  # HN01 served longest ago
        (d.batch_id, scans[6].sha256),  # the back office, served before HN01 last was
        (a.batch_id, scans[2].sha256),
        (c.batch_id, scans[4].sha256),  # HN01 only left: its oldest first
    ]


def test_a_released_attempt_waits_behind_untried_jobs(store):
    a, b, c = (new_scan(store, x) for x in (b"a", b"b", b"c"))
    batch = store.create_batch(
        "alice", "S01", [a.sha256, a.sha256, b.sha256], pages={a.sha256: 2, b.sha256: 1}
    )
    other = store.create_batch("bob", "S02", [c.sha256])
    first = store.claim_job()
    assert first.scan_id == a.sha256 and first.pages == 2 and first.files == 2
    tick()
    released = store.release_job(first.job_id, "a.jpg:识读超时")
    assert (released.state, released.error, released.attempts) == ("pending", "a.jpg:识读超时", 1)
    assert store.get_batch(batch.batch_id).state == "queued"  # every job pending again
    tick()
    # untried jobs first, S02 (never served) before S01
    assert store.claim_job().batch_id == other.batch_id
    tick()
    assert store.claim_job().scan_id == b.sha256
    with pytest.raises(ConflictError):
        store.release_job(first.job_id, "x")  # pending, not processing
    second = store.claim_job()
    assert second.job_id == first.job_id and second.attempts == 2
    assert second.error == "a.jpg:识读超时"  # the last attempt's reason stays until it ends
    done = store.finish_job(second.job_id, None, pages_done=2)
    assert (done.state, done.error) == ("done", None)
    progress = store.get_batch(batch.batch_id)
    assert (progress.files_done, progress.pages_done, progress.state) == (2, 2, "reading")
    assert progress.errors == []  # a released attempt is no error of the batch


def test_requeue_stale_jobs_after_a_crash(store):
    scans = [new_scan(store, bytes([i]), name=f"f{i}.pdf") for i in range(3)]
    batch = store.create_batch("alice", "S01", [s.sha256 for s in scans], pages_total=3)
    claimed = [store.claim_job(), store.claim_job()]
    # the process dies with two jobs processing
    assert store.requeue_stale_jobs() == 2
    assert store.requeue_stale_jobs() == 0
    jobs = store.list_jobs(batch.batch_id)
    assert [j.state for j in jobs] == ["pending"] * 3
    assert [j.attempts for j in jobs] == [1, 1, 0]
    assert store.get_batch(batch.batch_id).state == "queued"
    never_tried = store.claim_job()  # a job never tried goes before those that were
    assert never_tried.scan_id == scans[2].sha256 and never_tried.attempts == 1
    again = store.claim_job()
    assert again.job_id == claimed[0].job_id and again.attempts == 2
    # dies again, two jobs processing: one on its second attempt
    assert store.requeue_stale_jobs(max_attempts=2) == 1  # the one tried once
    jobs = {j.job_id: j for j in store.list_jobs(batch.batch_id)}
    gave_up = jobs[claimed[0].job_id]
    assert gave_up.state == "failed" and gave_up.error == (
        "f0.pdf:识读失败:服务在识读这个文件时中断(已尝试 2 次),不再重试;如文件无误,请重新上传"
    )
    assert jobs[never_tried.job_id].state == "pending"
    now = store.get_batch(batch.batch_id)
    assert (now.files_done, now.pages_done, now.errors) == (1, 0, [gave_up.error])
    assert now.state == "reading"  # one job ended, the others pending again
    assert store.requeue_stale_jobs(max_attempts=2) == 0  # nothing is picked up again
    while (job := store.claim_job()) is not None:
        store.finish_job(job.job_id, None, 1)
    end = store.get_batch(batch.batch_id)
    assert (end.state, end.files_done, end.pages_done) == ("done", 3, 2)


def test_requeue_stale_jobs_of_a_batch_all_given_up_ends_it(store):
    a = new_scan(store, b"a", name="a.pdf")
    batch = store.create_batch("alice", None, [a.sha256, a.sha256], pages_total=1)
    store.claim_job()
    assert store.requeue_stale_jobs(max_attempts=1) == 0
    end = store.get_batch(batch.batch_id)
    assert (end.state, end.files_done, len(end.errors)) == ("done", 2, 1)
    assert end.errors[0].startswith("a.pdf:识读失败") and "已尝试 1 次" in end.errors[0]


# -- PostgreSQL only: what a server shows ---------------------------------------------------


def test_many_workers_never_get_the_same_job(sql):
    scans = [new_scan(sql, f"scan {i}".encode(), station=f"S{i % 3}") for i in range(40)]
    for n in range(0, 40, 10):
        sql.create_batch("alice", f"S{n % 3}", [s.sha256 for s in scans[n : n + 10]], 10)
    claimed: list[str] = []
    start = threading.Barrier(8)
    failures: list[BaseException] = []

    def worker() -> None:
        try:
            start.wait()
            while (job := sql.claim_job()) is not None:
                claimed.append(job.job_id)
                sql.finish_job(job.job_id, None, 1)
        except BaseException as exc:  # reported below: a thread's exception is otherwise lost
            failures.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    assert len(claimed) == 40 and set(Counter(claimed).values()) == {1}
    batches = sql.list_batches()
    assert [(b.state, b.pages_done, b.files_done) for b in batches] == [("done", 10, 10)] * 4
    assert all(j.attempts == 1 for b in batches for j in sql.list_jobs(b.batch_id))


def test_jobs_of_one_batch_ending_at_once_are_both_counted(sql):
    for round_ in range(10):
        a = new_scan(sql, f"a{round_}".encode())
        b = new_scan(sql, f"b{round_}".encode())
        batch = sql.create_batch("alice", "S01", [a.sha256, b.sha256, b.sha256], pages_total=5)
        jobs = [sql.claim_job(), sql.claim_job()]
        start = threading.Barrier(2)
        failures: list[BaseException] = []

        def end(job, pages, error, start=start, failures=failures):
            try:
                start.wait()
                sql.finish_job(job.job_id, error, pages)
            except BaseException as exc:
                failures.append(exc)

        threads = [
            threading.Thread(target=end, args=(jobs[0], 2, None)),
            threading.Thread(target=end, args=(jobs[1], 3, "坏页")),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert failures == []
        got = sql.get_batch(batch.batch_id)
        assert (got.state, got.pages_done, got.files_done, got.errors) == ("done", 5, 3, ["坏页"])


def test_a_job_another_transaction_holds_is_skipped_not_waited_for(sql):
    scans = [new_scan(sql, f"x{i}".encode()) for i in range(2)]
    sql.create_batch("alice", "S01", [s.sha256 for s in scans], 2)
    first = sql.list_jobs(sql.list_batches()[0].batch_id)[0]
    with sql.engine.connect() as other, other.begin():
        other.execute(text("SELECT 1 FROM jobs WHERE job_id = :j FOR UPDATE"), {"j": first.job_id})
        got = []
        claimer = threading.Thread(target=lambda: got.append(sql.claim_job()))
        claimer.start()
        claimer.join(timeout=10)  # had it waited for the lock, it would still be waiting
        assert not claimer.is_alive() and got[0].scan_id == scans[1].sha256
    claimer.join()
    assert sql.claim_job().job_id == first.job_id
    assert sql.claim_job() is None
