"""Readers on the job queue (PostgreSQL + procrastinate): `formdesk worker` processes read
what the service queued, each job once; a worker killed with kill -9 mid-job loses
nothing — its job is handed on when its heartbeat stops and read once, into one record per
document. Real worker processes, the real reader, a real database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from formdesk.services.samples import load_samples
from formdesk.settings import signing_key
from formdesk.store import open_store

from .conftest import RECORDS
from .pg import fresh_database

STALLED_S = 6


def start_worker(data: Path, url: str, processes: int = 1) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FORMDESK_")}
    env |= {
        "FORMDESK_DATABASE_URL": url,
        "FORMDESK_DATA_DIR": str(data),
        "FORMDESK_WORKER_STALLED_S": str(STALLED_S),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "formdesk.api", "worker", "--processes", str(processes)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,  # its own process group: kill -9 takes readers too
    )  # fmt: skip


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


def wait_for(check, timeout: float, what: str):
    end = time.time() + timeout
    while time.time() < end:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"{what}: not within {timeout} s")


@pytest.fixture
def queued(tmp_path):
    """A fresh database with the sample forms printed, scanned and queued (one batch)."""
    with fresh_database() as url:
        store = open_store(tmp_path, database_url=url)
        try:
            n = load_samples(store, signing_key(tmp_path), RECORDS)
            assert n > 10
            [batch] = store.list_batches()
            yield tmp_path, url, store, batch
        finally:
            store.close()


def health_of(client, status: int, timeout: float = 30) -> dict:
    """/health once it answers `status` (the web machine counts heartbeats every 2 s)."""
    return wait_for(
        lambda: (r := client.get("/health")).status_code == status and r.json(),
        timeout, f"/health {status}",
    )  # fmt: skip


def test_workers_read_every_queued_scan_once(queued):
    data, url, store, batch = queued
    from fastapi.testclient import TestClient

    from formdesk.api.app import create_app
    from formdesk.model.accounts import User
    from formdesk.settings import Settings

    store.add_user(User(username="office", password_hash="-", role="back_office"))
    # the web machine of `serve --no-reader`: no reader here; /health watches the others
    web = create_app(settings=Settings.from_env(data, database_url=url), start_worker=False)
    with TestClient(web) as client:
        _read_by_workers(client, data, url, store, batch)
    web.state.store.close()


def _read_by_workers(client, data, url, store, batch):
    down = health_of(client, 503)
    assert "没有识读进程在运行" in " ".join(down["reasons"]) and down["worker"] == "stopped"
    with psycopg.connect(url) as db:  # deferred with the batch, in its transaction
        todo = db.execute(
            "select count(*) from procrastinate_jobs where task_name = 'formdesk.read_scan'"
        ).fetchone()[0]
    assert todo == len(store.list_jobs(batch.batch_id))
    worker = start_worker(data, url, processes=2)
    try:
        done = wait_for(
            lambda: (b := store.get_batch(batch.batch_id)).state == "done" and b,
            240, "batch read",
        )  # fmt: skip
        assert health_of(client, 200)["worker"] == "running"  # two workers heartbeating
    finally:
        stop(worker)
    assert worker.returncode == 0, worker.stderr.read()[-2000:]
    jobs = store.list_jobs(batch.batch_id)
    assert all(j.state == "done" and j.attempts == 1 for j in jobs), jobs
    assert done.pages_done == done.pages_total and not done.errors
    items, total = store.list_records(limit=100, duplicates=True)
    docs = [(r.document_id, r.copy_index) for r in items]
    assert total >= len(jobs) and len(docs) == len(set(docs))  # one record per document


def test_a_worker_killed_mid_job_loses_nothing_and_reads_nothing_twice(queued):
    data, url, store, batch = queued
    first = start_worker(data, url)
    try:
        job = wait_for(
            lambda: next((j for j in store.list_jobs(batch.batch_id) if j.state == "processing"),
                         None),
            120, "a job being read",
        )  # fmt: skip
        os.killpg(first.pid, signal.SIGKILL)  # the worker and its reader, mid-job
        first.wait(10)
    finally:
        stop(first)
    left = {j.job_id: j for j in store.list_jobs(batch.batch_id)}[job.job_id]
    assert left.state == "processing"  # as the kill left it
    second = start_worker(data, url)
    try:
        wait_for(lambda: store.get_batch(batch.batch_id).state == "done", 300, "batch read")
    finally:
        stop(second)
    jobs = {j.job_id: j for j in store.list_jobs(batch.batch_id)}
    assert all(j.state == "done" for j in jobs.values()), jobs
    assert jobs[job.job_id].attempts == 2  # taken up again once
    items, total = store.list_records(limit=100, duplicates=True)
    docs = [(r.document_id, r.copy_index) for r in items]
    assert len(docs) == len(set(docs)) == total  # nothing read twice into two records
    assert {r.scan_id for r in items} == {j.scan_id for j in jobs.values()}


def test_worker_needs_postgresql_and_serve_no_reader_too(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("FORMDESK_")}
    for args in (["worker"], ["serve", "--no-reader", "--data-dir", str(tmp_path)]):
        res = subprocess.run(
            [sys.executable, "-m", "formdesk.api", *args],
            env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert res.returncode == 1 and len(res.stderr.strip().splitlines()) == 1, res.stderr
        assert "PostgreSQL" in res.stderr


def test_a_machine_with_another_signing_key_is_refused_in_one_line(tmp_path):
    """The first process on a database records its key's fingerprint (never the key); a
    worker or a server of another data folder, with a key of its own, is refused in one
    line saying what to copy; with the first folder's secret.key copied over it starts."""
    import shutil

    from formdesk.api.app import create_app
    from formdesk.services.stores import SigningKeyMismatch, key_fingerprint
    from formdesk.settings import Settings

    first, other = tmp_path / "first", tmp_path / "other"
    with fresh_database() as url:
        app = create_app(settings=Settings.from_env(first, database_url=url), start_worker=False)
        app.state.runtime.close()
        app.state.store.close()
        key = signing_key(first)
        with psycopg.connect(url) as db:
            [(recorded,)] = db.execute("SELECT value FROM installation").fetchall()
        assert recorded == key_fingerprint(key) and key.decode() not in recorded
        with pytest.raises(SigningKeyMismatch, match="secret.key"):
            create_app(settings=Settings.from_env(other, database_url=url), start_worker=False)
        proc = start_worker(other, url)
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 1 and len(err.strip().splitlines()) == 1, err
        assert "签名密钥与数据库中登记的不同" in err and "secret.key" in err
        shutil.copy(first / "secret.key", other / "secret.key")
        proc = start_worker(other, url)
        try:
            line = proc.stdout.readline()
            assert "识读进程 1 个已启动" in line, (line, proc.stderr.read() if proc.poll() else "")
        finally:
            stop(proc)


def test_a_print_batch_is_rendered_by_a_worker_and_answered_by_any_web_server(tmp_path):
    """Two web machines (`serve --no-reader`) on one database, and one reader machine: a
    batch submitted on the first is rendered by the worker; its progress and its PDF come
    from the second; its documents are registered with its PDF; a user's third unfinished
    job is refused whichever machine it is sent to."""
    import shutil

    from fastapi.testclient import TestClient

    from formdesk.api.app import create_app
    from formdesk.model.accounts import User
    from formdesk.services.passwords import hash_password
    from formdesk.settings import Settings

    from .conftest import finished_print_job

    first, second = tmp_path / "web1", tmp_path / "web2"
    rows = "来件单位,零部件名称\n长沙顺达,机油泵总成\n衡阳广汇,水泵总成\n".encode()
    with fresh_database() as url:
        a = create_app(settings=Settings.from_env(first, database_url=url), start_worker=False)
        second.mkdir()  # the second web machine holds the first one's key (README)
        shutil.copy(first / "secret.key", second / "secret.key")
        b = create_app(settings=Settings.from_env(second, database_url=url), start_worker=False)
        a.state.store.add_user(
            User(username="office", password_hash=hash_password("correct horse 7"),
                 role="back_office")
        )  # fmt: skip

        def login(app) -> TestClient:
            client = TestClient(app)
            res = client.post(
                "/api/login", data={"username": "office", "password": "correct horse 7"}
            )
            assert res.status_code == 200, res.text
            client.headers["X-CSRF-Token"] = res.json()["csrf"]
            return client

        with TestClient(a), TestClient(b):
            on_a, on_b = login(a), login(b)
            sent = [
                on_a.post("/api/print/sh-zh-bd-27/batch", files={"file": ("tags.csv", rows)})
                for _ in range(2)
            ]
            assert [r.status_code for r in sent] == [202, 202], sent[0].text
            third = on_b.post("/api/print/sh-zh-bd-27/batch", files={"file": ("tags.csv", rows)})
            assert third.status_code == 429 and "2 个打印任务在进行" in third.json()["reason"]
            job = on_b.get(sent[0].json()["status_url"]).json()  # the other machine knows it
            assert job["state"] == "queued" and job["total"] == 2
            worker = start_worker(first, url)
            try:
                jobs = [finished_print_job(on_b, r.json(), timeout=180) for r in sent]
            finally:
                stop(worker)
            assert all(j["state"] == "done" and len(j["document_ids"]) == 2 for j in jobs), jobs
            pdf = on_b.get(jobs[0]["file_url"])
            assert pdf.status_code == 200 and pdf.content[:4] == b"%PDF"
            assert pdf.headers["x-document-ids"].split(",") == jobs[0]["document_ids"]
            for doc in jobs[0]["document_ids"]:  # registered, so a scan of them is known
                assert on_a.get(f"/api/documents/{doc}").json()["issued_by"] == "office"
        a.state.store.close()
        b.state.store.close()


def test_a_print_job_that_cannot_print_fails_with_its_reason_and_registers_nothing(tmp_path):
    """The worker's task body on a row that cannot be printed legibly: the job says why
    (the record and the field), keeps no PDF and registers no document; a job finished
    already is left as it is when the queue hands it on again."""
    from formdesk.model.print_jobs import PrintJob
    from formdesk.services.pools import LimitedPool
    from formdesk.services.print_jobs import run_print_job

    with fresh_database() as url:
        store = open_store(tmp_path, database_url=url)
        pool = LimitedPool("print-test", 1, 2048)
        try:
            rows = [{"part_name": "机油泵总成"}, {"part_name": "机油泵总成" * 40}]
            job = PrintJob(job_id="j1", template="SH-ZH/BD-27", slug="sh-zh-bd-27",
                           filename="tags.csv", created_by="office", station=None, total=2)  # fmt: skip
            store.add_print_job(job, rows, max_unfinished=2, keep_s=3600)
            run_print_job(store, b"k" * 32, pool, "j1")
            failed = store.get_print_job("j1")
            assert failed.state == "failed" and "第2条记录" in failed.error, failed
            assert "零部件名称" in failed.error and store.print_job_pdf("j1") is None
            assert store.print_job_records("j1") is None and failed.document_ids == []
            with store.engine.connect() as db:
                assert db.exec_driver_sql("SELECT count(*) FROM documents").scalar_one() == 0
            run_print_job(store, b"k" * 32, pool, "j1")  # handed on again: nothing changes
            assert store.get_print_job("j1") == failed
        finally:
            pool.close()
            store.close()
