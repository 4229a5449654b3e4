"""The small poison files of issue 9 sent to a real `formdesk serve` whose whole process is
held to 4 GB of address space: each is refused with its reason, the service stays up and
small, reads the next good file, and a restart finds nothing of them to pick up."""

from __future__ import annotations

import time
from contextlib import closing

import pytest

from formdesk.store import TinyStore

from ..served import PASSWORD, Server, tag_scans, wait_batches
from .test_bounded_inputs import (
    BOMB_REASON,
    CHAR_BOMB,
    TJ_BOMB,
    char_bomb,  # noqa: F401 - fixtures
    shared_strings_bomb,  # noqa: F401
    tiff_frames,
    tj_bomb,  # noqa: F401
)


@pytest.mark.slow
def test_poison_uploads_and_claims_files_leave_the_service_up(
    tmp_path,
    char_bomb,  # noqa: F811
    tj_bomb,  # noqa: F811
    shared_strings_bomb,  # noqa: F811
):
    server = Server(tmp_path / "data", memory_mb=4096)
    server.cli("user", "add", "office", "--role", "back_office", "--password", PASSWORD)
    server.start()
    [(name, jpeg, doc_id)] = tag_scans(tmp_path, 1)
    try:
        with closing(server.client()) as c:
            res = c.post(
                "/api/uploads",
                files=[
                    ("files", ("chars.pdf", char_bomb, "application/pdf")),
                    ("files", ("operators.pdf", tj_bomb, "application/pdf")),
                    ("files", ("frames.tif", tiff_frames(10_000), "image/tiff")),
                    ("files", (name, jpeg, "image/jpeg")),
                ],
            )
            assert res.status_code == 202, res.text
            refused = {r["filename"]: r["reason"] for r in res.json()["refused"]}
            assert refused["chars.pdf"] == CHAR_BOMB
            assert refused["operators.pdf"] == TJ_BOMB
            assert "页数过多" in refused["frames.tif"]
            assert [a["filename"] for a in res.json()["accepted"]] == [name]
            [batch] = wait_batches(c, [res.json()["batch_id"]], timeout=120)
            assert not batch["errors"]
            assert len(c.get("/api/records", params={"q": doc_id}).json()["items"]) == 1

            claims = c.post(
                "/api/claims/import",
                files={"file": ("bomb.xlsx", shared_strings_bomb, "application/octet-stream")},
            )
            assert claims.status_code == 422, claims.text
            assert BOMB_REASON in claims.json()["reason"]
            assert c.get("/api/claims").json()["total"] == 0  # nothing stored

            assert c.get("/health").json()["status"] == "ok"
            assert server.proc.poll() is None
            assert server.peak_rss_mb() < 1500, server.peak_rss_mb()
        server.stop()
        server.start()
        time.sleep(2)
        with closing(server.client()) as c:
            assert c.get("/health").status_code == 200
        with TinyStore(server.data) as store:
            assert all(
                j.state == "done" for b in store.list_batches() for j in store.list_jobs(b.batch_id)
            )
    finally:
        server.stop()
