"""The service as a real process: `formdesk serve` on loopback, many clients at once, and a
`kill -9` in the middle of a batch (on each store: TinyDB, PostgreSQL)."""

from __future__ import annotations

import random
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, closing

import pytest

from .pg import STORES, fresh_database
from .served import PASSWORD, Server, tag_scans, wait_batches


@pytest.fixture
def server(request, tmp_path):
    """`formdesk serve` (not started) with the back office's user, on the TinyDB store of
    its data folder; a test marked `parametrize("server", STORES, indirect=True)` runs on
    each store, the PostgreSQL one a fresh database of its own (FORMDESK_DATABASE_URL in
    the environment of the process and of its commands)."""
    with ExitStack() as stack:
        env = {}
        if getattr(request, "param", "tinydb") == "postgresql":
            env["FORMDESK_DATABASE_URL"] = stack.enter_context(fresh_database())
        s = Server(tmp_path / "data", env=env)
        stack.callback(s.stop)
        s.cli("user", "add", "office", "--role", "back_office", "--password", PASSWORD)
        yield s


# TinyDB only: forty uploads of 10 scans read (about half a minute on one core); what it shows of
# PostgreSQL — uploads and the reading queue under concurrent clients — test_api and
# test_sql_scans show on each store, and the kill -9 below on PostgreSQL too
@pytest.mark.slow
def test_twenty_clients_uploading_at_once(server, tmp_path):
    server.start()
    scans = tag_scans(tmp_path, 10)
    rng = random.Random(7)
    plans = [
        rng.sample(scans, 2) for _ in range(20)
    ]  # overlapping: the same file from several clients

    def client_run(files):
        with closing(server.client()) as c:
            res = c.post(
                "/api/uploads", files=[("files", (n, data, "image/jpeg")) for n, data, _ in files]
            )
            assert res.status_code == 202, res.text
            return res.json()

    with ThreadPoolExecutor(20) as pool:
        results = list(pool.map(client_run, plans))
    with closing(server.client()) as c:
        wait_batches(c, [r["batch_id"] for r in results], timeout=300)
        uploaded = {name for plan in plans for name, _, _ in plan}
        stored = {a["sha256"] for r in results for a in r["accepted"]}
        assert len(stored) == len(uploaded)  # every distinct file stored once
        records = c.get("/api/records", params={"limit": 500}).json()
        docs = [item["document_id"] for item in records["items"]]
        expected = {doc for name, _, doc in scans if name in uploaded}
        assert sorted(docs) == sorted(expected)  # every page read, none lost, none twice


@pytest.mark.slow
@pytest.mark.parametrize("server", STORES, indirect=True)
def test_kill_9_in_the_middle_of_a_batch(server, tmp_path):
    server.start()
    scans = tag_scans(tmp_path, 10)
    with closing(server.client()) as c:
        res = c.post("/api/uploads", files=[("files", (n, d, "image/jpeg")) for n, d, _ in scans])
        batch_id = res.json()["batch_id"]
        end = time.time() + 60
        while c.get(f"/api/batches/{batch_id}").json()["pages_done"] < 2 and time.time() < end:
            time.sleep(0.1)
    server.kill9()  # mid-batch: some scans read, one probably half-read, the rest queued
    server.start()  # the same store: it must open, re-queue, and finish
    with closing(server.client()) as c:
        [batch] = wait_batches(c, [batch_id], timeout=240)
        assert batch["pages_done"] >= len(scans) and not batch["errors"]
        docs = [
            i["document_id"] for i in c.get("/api/records", params={"limit": 100}).json()["items"]
        ]
        assert sorted(docs) == sorted(doc for _, _, doc in scans)
