"""The reader as a hostile or unlucky day meets it, on a real `formdesk serve` process: a file
too big for the reader's memory, a file that took the whole service down, store errors
and a full disk while saving, the reading loop itself dying."""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from contextlib import closing
from pathlib import Path

import httpx
import pytest
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from formdesk.store import TinyStore

from ..served import PASSWORD, Server, tag_scans, wait_batches
from .faults import launcher


def huge_page_pdf(path: Path) -> bytes:
    """One 1600 × 1000 mm page: 99 M pixels at 200 dpi, under the 120 M pixel limit of
    uploads, so it is accepted — and rendering it needs ~0.9 GB more than reading a form."""
    c = Canvas(str(path), pagesize=(1600 * mm, 1000 * mm))
    c.drawString(100, 100, "not a form")
    c.showPage()
    c.save()
    return path.read_bytes()


def new_server(tmp_path: Path, **kwargs) -> Server:
    server = Server(tmp_path / "data", **kwargs)
    server.cli("user", "add", "office", "--role", "back_office", "--password", PASSWORD)
    return server


def upload(c: httpx.Client, name: str, data: bytes, kind: str = "image/jpeg") -> str:
    res = c.post("/api/uploads", files=[("files", (name, data, kind))])
    assert res.status_code == 202, res.text
    return res.json()["batch_id"]


def records_of(c: httpx.Client, doc_id: str) -> list[dict]:
    return c.get("/api/records", params={"q": doc_id}).json()["items"]


def wait_for(check, timeout: float, what: str):
    end = time.time() + timeout
    while time.time() < end:
        value = check()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"not within {timeout} s: {what}")


@pytest.mark.slow
def test_a_file_too_big_for_the_reader_fails_alone_and_is_not_read_again(tmp_path):
    server = new_server(tmp_path, env={"FORMDESK_READER_MEMORY_MB": "1200"})
    server.start()
    try:
        [(name, jpeg, doc_id)] = tag_scans(tmp_path, 1)
        with closing(server.client()) as c:
            poison = upload(c, "huge.pdf", huge_page_pdf(tmp_path / "huge.pdf"), "application/pdf")
            [batch] = wait_batches(c, [poison], timeout=180)
            [error] = batch["errors"]
            assert error.startswith("huge.pdf:识读失败:文件过于复杂"), error
            assert "内存" in error and "已尝试 2 次,不再重试" in error
            assert (batch["files_done"], batch["files_total"]) == (1, 1)
            assert c.get("/health").json()["status"] == "ok"  # the service is fine
            good = upload(c, name, jpeg)  # and reads the next file as usual
            [done] = wait_batches(c, [good], timeout=120)
            assert not done["errors"] and len(records_of(c, doc_id)) == 1
        server.stop()
        server.start()
        time.sleep(3)  # a restart would have picked a requeued job up by now
        with TinyStore(server.data) as store:
            [job] = store.list_jobs(poison)
            assert (job.state, job.attempts) == ("failed", 2)
    finally:
        server.stop()


@pytest.mark.slow
def test_a_file_that_took_the_service_down_twice_is_set_aside_at_start(tmp_path):
    server = new_server(tmp_path)
    [(name, jpeg, doc_id)] = tag_scans(tmp_path, 1)
    with TinyStore(server.data) as store:  # as the service left it, killed while reading
        scan, _ = store.put_scan(jpeg, name, "image/jpeg", "office", None)
        batch = store.create_batch("office", None, [scan.sha256], pages={scan.sha256: 1})
        store.claim_job()  # attempt 1: the service dies
        assert store.requeue_stale_jobs(max_attempts=2) == 1  # the restart queues it again
        store.claim_job()  # attempt 2: dies again
    server.start()
    try:
        with closing(server.client()) as c:
            [done] = wait_batches(c, [batch.batch_id], timeout=30)
            [error] = done["errors"]
            assert error.startswith(f"{name}:识读失败:服务在识读这个文件时中断(已尝试 2 次)")
            assert records_of(c, doc_id) == []  # not read a third time
            assert c.get("/health").status_code == 200
    finally:
        server.stop()


@pytest.mark.slow
def test_the_reader_survives_store_errors_and_says_when_it_cannot_save(tmp_path):
    faults = tmp_path / "faults"
    faults.mkdir()
    server = new_server(tmp_path, env={"FORMDESK_TEST_FAULTS": str(faults)}, launcher=launcher())
    server.start()
    scans = tag_scans(tmp_path, 4)
    try:
        with closing(server.client()) as c:
            # a store error while saving one scan's records fails that job, nothing more
            (faults / "save").write_text("store")
            [failed] = wait_batches(c, [upload(c, *scans[0][:2])], timeout=120)
            assert failed["errors"] == [f"{scans[0][0]}:识读结果未能保存(记录文件缺失(注入的故障))"]
            assert c.get("/health").status_code == 200
            (faults / "save").unlink()
            [ok] = wait_batches(c, [upload(c, *scans[1][:2])], timeout=120)
            assert not ok["errors"] and len(records_of(c, scans[1][2])) == 1

            # disk full while saving, and again while marking the job failed: said on /health
            (faults / "save").write_text("enospc")
            (faults / "finish").write_text("enospc")
            stuck = upload(c, *scans[2][:2])
            health = wait_for(
                lambda: (h := c.get("/health")).status_code == 503 and h.json(),
                60,
                "/health degraded while jobs cannot be settled",
            )
            assert any("无法写入" in r for r in health["reasons"]), health
            (faults / "save").unlink()
            (faults / "finish").unlink()
            [settled] = wait_batches(c, [stuck], timeout=60)
            assert "识读结果未能保存" in settled["errors"][0]
            wait_for(lambda: c.get("/health").status_code == 200, 30, "/health ok again")

            # the reading loop itself dies: the watchdog starts it again
            (faults / "claim").write_text("exit")
            wait_for(lambda: not (faults / "claim").exists(), 30, "the loop died")
            [after] = wait_batches(c, [upload(c, *scans[3][:2])], timeout=120)
            assert not after["errors"] and len(records_of(c, scans[3][2])) == 1
            assert c.get("/health").json()["status"] == "ok"
        assert "restarting it" in server.output()
    finally:
        server.stop()


@contextlib.contextmanager
def small_disk(folder: Path, size_mb: int):
    """A tmpfs of `size_mb` MB mounted at `folder` (root only, as CI runs)."""
    folder.mkdir(parents=True)
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_mb}m", "tmpfs", str(folder)], check=True
    )
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


@pytest.mark.slow
@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a tmpfs needs root (CI runs as root)")
def test_health_is_degraded_while_the_disk_is_nearly_full(tmp_path):
    with small_disk(tmp_path / "disk", 96) as disk:
        server = Server(disk / "data", env={"FORMDESK_MIN_FREE_MB": "24"})
        server.cli("user", "add", "office", "--role", "back_office", "--password", PASSWORD)
        server.start()
        try:
            assert httpx.get(f"{server.url}/health").json()["status"] == "ok"
            filler = disk / "filler"
            filler.write_bytes(b"\0" * (80 * 1024 * 1024))
            res = httpx.get(f"{server.url}/health")
            assert res.status_code == 503, res.text
            body = res.json()
            assert body["status"] == "degraded" and body["disk_free_mb"] < 24
            assert any("剩余空间不足" in r for r in body["reasons"])
            filler.unlink()
            assert httpx.get(f"{server.url}/health").status_code == 200
        finally:
            server.stop()
