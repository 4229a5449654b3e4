"""`formdesk db migrate-from-tinydb`: an installation that ran on TinyDB — real printed
documents, real scans read by the real reader, a correction, a verification, claims, a
token and a sign-in — is moved to a real PostgreSQL database and compared kind by kind;
the service then runs on the database with everything there."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
import psycopg
import pytest

from formdesk.api.app import create_app
from formdesk.model.accounts import ApiToken, UserSession
from formdesk.model.history import HistoryExclusion
from formdesk.model.layouts import FieldBox, LayoutVariant
from formdesk.services.claims import import_claims_file
from formdesk.services.samples import load_samples
from formdesk.services.stores import key_fingerprint
from formdesk.settings import Settings, signing_key
from formdesk.store import TinyStore, open_store
from formdesk.store.sql.migrate import compare_stores

from .conftest import RECORDS, ROOT
from .pg import fresh_database


def migrate(data: Path, url: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FORMDESK_")}
    return subprocess.run(
        [sys.executable, "-m", "formdesk.api", "db", "migrate-from-tinydb", str(data),
         "--database-url", url],
        capture_output=True, text=True, timeout=300, env=env,
    )  # fmt: skip


@pytest.fixture(scope="module")
def installation(tmp_path_factory) -> Path:
    """A TinyDB data folder as a few days of work leave it."""
    data = tmp_path_factory.mktemp("tiny")
    app = create_app(settings=Settings.from_env(data, database_url=None), start_worker=False)
    store = app.state.store
    assert load_samples(store, app.state.key, RECORDS) > 2
    for _ in range(3):  # three scans read by the real reader; the rest stay queued
        assert app.state.reader.run_one()
    items, total = store.list_records(duplicates=True)
    assert total >= 3
    first = store.get_record(items[0].record_id)
    key = next(f["key"] for f in first.record["fields"] if f.get("kind") != "table")
    store.correct_field(first.summary.record_id, key, "人工更正值", "admin")
    store.exclude_history_value(  # 识读词库: a value the back office took out of the history
        HistoryExclusion(template="表格11", field="purpose", value="测量缸压",
                         excluded_by="admin", excluded_at=datetime.now(UTC))
    )  # fmt: skip
    store.verify_record(items[1].record_id, "admin")
    if total > 2:  # a voided record and its audit line move too (issue 12)
        store.void_records([items[2].record_id], "admin", "重复上传")
    store.record_page_outcomes(items[0].scan_id, None, "b0", "x.jpg", {3: "页面上没有找到表单"}, {})
    import_claims_file(store, (ROOT / "samples" / "claims.csv").read_bytes(), "claims.csv", "admin")
    store.add_token(ApiToken(token_hash="ab" * 32, username="admin", label="扫描仪"))
    png = cv2.imencode(".png", np.full((30, 20), 240, np.uint8))[1].tobytes()
    store.add_layout(  # a layout registered from a scan (issue 13) and its image
        LayoutVariant(
            template="SH-ZH/BD-27", name="印刷厂", paper_mm=(105.0, 148.0),
            fields=[FieldBox(key="vin", box=(23.0, 49.0, 72.0, 8.5))], fingerprint=[1.0, 1.0, 0.5, 0.5],
            reference_sha256=hashlib.sha256(png).hexdigest(), created_by="admin",
            created_at=datetime.now(UTC),
        ),
        png,
    )  # fmt: skip
    store.add_session(
        UserSession(
            session_hash="cd" * 32,
            username="admin",
            csrf="x",
            expires_at=datetime.now(UTC) + timedelta(hours=1),
        )
    )
    store.close()
    return data


def test_every_row_moves_and_compares_equal(installation, tmp_path):
    before = {p.name: p.read_bytes() for p in (installation / "db").iterdir()}
    with fresh_database() as url:
        res = migrate(installation, url)
        assert res.returncode == 0, res.stderr
        assert "全部一致" in res.stdout
        for kind in (
            "records: ", "corrections: 1", "claims: ", "scans: ", "tokens: 1", "layouts: 1",
            "history exclusions: 1",
        ):  # fmt: skip
            assert kind in res.stdout
        # the service on the database: the same records, the correction, the sign-in
        tiny = TinyStore(installation)
        sql = open_store(tmp_path, database_url=url)
        try:
            a, total = tiny.list_records(limit=100, duplicates=True)
            b, total_b = sql.list_records(limit=100, duplicates=True)
            assert total == total_b and a == b
            corrected = [r for r in a if tiny.list_corrections(r.record_id)]
            assert sql.list_corrections(corrected[0].record_id)[0].new_value == "人工更正值"
            assert sql.get_session("cd" * 32).username == "admin"
            assert sql.user_for_token("ab" * 32).username == "admin"
            assert sql.list_claims() == tiny.list_claims() and sql.list_claims()
            assert sql.known_values() == tiny.known_values()
            (layout,) = sql.list_layouts()
            assert layout == tiny.get_layout("SH-ZH/BD-27", "印刷厂")
            assert sql.layout_reference(layout.reference_sha256) == tiny.layout_reference(
                layout.reference_sha256
            )
            voided = tiny.list_records(status="voided", duplicates=True)[0]
            assert sql.list_records(status="voided", duplicates=True)[0] == voided
            for r in voided:
                assert sql.list_record_events(r.record_id) == tiny.list_record_events(r.record_id)
            assert sql.list_page_refusals() == tiny.list_page_refusals() != []
            pending = [j for b_ in sql.list_batches() for j in sql.list_jobs(b_.batch_id)]
            assert any(j.state == "pending" for j in pending)  # the queue moved too
            with sql.engine.connect() as db:  # each waiting job is on the workers' queue
                queued = db.exec_driver_sql(
                    "SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'formdesk.read_scan'"
                ).scalar_one()
            assert queued == sum(j.state in ("pending", "processing") for j in pending) > 0
            # the comparison sees a difference (here: a record changed after the copy)
            with sql.engine.begin() as db:
                db.exec_driver_sql("UPDATE records SET body = '{}' WHERE record_id = %s",
                                   (a[0].record_id,))  # fmt: skip
            assert compare_stores(tiny, sql) == [f"记录 {a[0].record_id} 不一致"]
            assert sql.restore_history_value("表格11", "purpose", "测量缸压")  # it moved
            assert sql.claim_job() is not None
            # the folder's key signed what moved: the database takes it as the installation's
            mine = key_fingerprint(signing_key(installation))
            assert sql.signing_key_fingerprint("another machine's") == mine
        finally:
            sql.close()
            tiny.close()
        # a second run into the database, now full, is refused in one line
        again = migrate(installation, url)
        assert again.returncode == 1 and len(again.stderr.strip().splitlines()) == 1
        assert "不是空的" in again.stderr
    after = {p.name: p.read_bytes() for p in (installation / "db").iterdir()}
    assert after == before  # the TinyDB folder is only read


def test_a_folder_that_is_no_installation_or_a_database_not_there(tmp_path):
    res = migrate(tmp_path, "postgresql://postgres@127.0.0.1:1/none")
    assert res.returncode == 1 and "不是 formdesk 的数据目录" in res.stderr
    TinyStore(tmp_path).close()
    res = migrate(tmp_path, "postgresql://postgres@127.0.0.1:1/none")
    assert res.returncode == 1 and res.stderr.startswith("错误:无法连接数据库")
    assert len(res.stderr.strip().splitlines()) == 1


def test_users_that_differ_only_in_case_are_named_before_anything_is_copied(tmp_path):
    from formdesk.store.jsondb import JsonDB

    store = TinyStore(tmp_path)
    store.close()
    meta = JsonDB(tmp_path / "db" / "meta.json")  # old data: names unique only by case
    with meta.transaction():
        for name in ("Li", "li"):
            meta.table("users").put(
                name,
                {"username": name, "password_hash": "x", "role": "auditor", "station": None,
                 "created_at": "2026-01-01T00:00:00+00:00"},
            )  # fmt: skip
    with fresh_database() as url:
        res = migrate(tmp_path, url)
        assert res.returncode == 1 and "只差大小写" in res.stderr
        with psycopg.connect(url) as db:
            assert db.execute("select count(*) from users").fetchone()[0] == 0
