"""Stored data is never lost silently.

- Every db file, deleted, emptied, truncated, garbage or valid JSON of the wrong shape: the
  CLI and a served `formdesk serve` refuse with one line naming the file and the way back;
  `formdesk check` finds it, `--repair` restores it from its `.prev` copy and the service
  starts again with every user.
- Users lost next to stored data are never a fresh start; db/records.json lost with its
  copy is rebuilt from the record files.
- A truncated record file: the record answers 200 marked damaged (its scan downloadable),
  lists and exports answer 200 with the row marked, the review page says why.
- A full disk (a small tmpfs under a served process): uploads, corrections and a claims
  import answer 507 JSON and leave every file as it was; after freeing space all work.
"""

from __future__ import annotations

import csv
import errno
import hashlib
import io
import json
import os
import shutil
import statistics
import subprocess
import time
from contextlib import closing
from pathlib import Path

import cv2
import numpy as np
import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from formdesk.api.app import create_app
from formdesk.model.accounts import User
from formdesk.model.claims import Station
from formdesk.model.documents import IssuedDocument
from formdesk.model.layouts import FieldBox, LayoutVariant
from formdesk.model.time import utcnow
from formdesk.services.claims import import_claims_file
from formdesk.services.passwords import hash_password
from formdesk.store import DamagedFileError, DiskFullError, StoreError, TinyStore, open_store
from formdesk.store.files import atomic_write, write_once
from formdesk.store.fsck import check_folder
from formdesk.store.integrity import TABLES
from formdesk.templates import get_template

from ..conftest import ROOT, sample_values
from ..served import PASSWORD, Server
from ..test_store import make_record

DB_FILES = sorted(TABLES)
KINDS = ["deleted", "emptied", "truncated", "garbage", "wrong shape"]
SCAN = b"%PDF-1.7 a scan that is only bytes here\n"
NEW_VIN = sample_values(get_template("SH-ZH/BD-27"))["vin"]  # a valid VIN, not the one read
STATION_NAME = "长沙顺达汽车维修站"  # as in samples/claims.csv
USERS = (("office", "back_office", None), ("s1", "station", "HN01"), ("audit", "auditor", None))


# -- the data folder every test starts from ------------------------------------------------------


LAYOUT_PNG = b"\x89PNG\r\n\x1a\n" + b"a reference image, only bytes here"


def layout_variant(name: str, png: bytes) -> LayoutVariant:
    """A registered layout of SH-ZH/BD-27 (issue 13) with one box."""
    return LayoutVariant(
        template="SH-ZH/BD-27",
        name=name,
        paper_mm=(105.0, 148.0),
        fields=[FieldBox(key="vin", box=(23.0, 49.0, 72.0, 8.5), options={})],
        fingerprint=[2.0, 1.0, 0.5],
        reference_sha256=hashlib.sha256(png).hexdigest(),
        created_by="office",
        created_at=utcnow(),
    )


def build(data: Path) -> dict[str, str]:
    """A data folder as the service leaves it: users, a scan read into two records (one
    corrected, one verified), a printed document, imported claims, two layout variants;
    the last write of
    db/meta.json adds station HN09 (so its `.prev` holds every user but not HN09)."""
    with TinyStore(data) as store:
        store.add_station(Station(code="HN01", name=STATION_NAME))
        for username, role, station in USERS:
            store.add_user(
                User(
                    username=username,
                    password_hash=hash_password(PASSWORD),
                    role=role,
                    station=station,
                )
            )
        scan, _ = store.put_scan(SCAN, "tag.pdf", "application/pdf", "s1", "HN01")
        store.create_batch("s1", "HN01", [scan.sha256], 1)
        job = store.claim_job()
        doc = IssuedDocument(document_id="D1", template="SH-ZH/BD-27", template_version=3)
        store.register_documents([doc])
        first, second = store.save_records(
            scan.sha256, [make_record("D1"), make_record("D2")], "HN01"
        )
        store.finish_job(job.job_id, error=None, pages_done=1)
        store.correct_field(first.record_id, "customer", "李四", "office")
        store.verify_record(second.record_id, "office")
        import_claims_file(store, (ROOT / "samples" / "claims.csv").read_bytes(), "c.csv", "office")
        for name in ("印刷厂", "站内Word"):  # two writes of db/layouts.json: its .prev exists
            store.add_layout(layout_variant(name, LAYOUT_PNG), LAYOUT_PNG)
        store.add_station(Station(code="HN09", name="最后写入的维修站"))
    return {"scan": scan.sha256, "first": first.record_id, "second": second.record_id}


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    data = tmp_path_factory.mktemp("built") / "data"
    return data, build(data)


def copy_of(built: tuple[Path, dict[str, str]], where: Path) -> Path:
    data = where / "data"
    shutil.copytree(built[0], data)
    return data


def damage(path: Path, kind: str) -> None:
    """Deleted, emptied, cut to two thirds, overwritten with bytes, or turned into valid
    JSON of another shape (each table a list of its rows)."""
    if kind == "deleted":
        path.unlink()
    elif kind == "emptied":
        path.write_bytes(b"")
    elif kind == "truncated":
        raw = path.read_bytes()
        path.write_bytes(raw[: len(raw) * 2 // 3])
    elif kind == "garbage":
        path.write_bytes(bytes(range(256)) * 4)
    else:
        tables = json.loads(path.read_bytes())
        tables.pop("_commit")
        path.write_text(json.dumps({name: list(rows.values()) for name, rows in tables.items()}))


def one_error_line(output: str, path: Path) -> str:
    lines = output.strip().splitlines()
    assert len(lines) == 1, output
    assert lines[0].startswith(f"错误:数据文件 {path} "), output
    return lines[0]


def db_snapshot(data: Path) -> dict[str, bytes]:
    """Every file under the data folder (the lock aside) with its bytes."""
    return {
        str(p.relative_to(data)): p.read_bytes()
        for p in sorted(data.rglob("*"))
        if p.is_file() and p.name != ".lock"
    }


# -- kept copies and the store's own checks (in process) ----------------------------------------


def test_every_write_keeps_the_replaced_version_linked_not_copied(tmp_path):
    path = tmp_path / "db" / "t.json"
    path.parent.mkdir()
    prev = path.with_name("t.json.prev")
    atomic_write(path, b"one", keep_prev=True)
    assert prev.read_bytes() == b"one"  # a first write copies itself: its loss is noticed
    assert os.stat(prev).st_ino != os.stat(path).st_ino
    for new in (b"two", b"three"):
        old_inode = os.stat(path).st_ino
        atomic_write(path, new, keep_prev=True)
        assert os.stat(prev).st_ino == old_inode  # the replaced file itself, no copy made
    assert path.read_bytes() == b"three" and prev.read_bytes() == b"two"
    path.write_bytes(b"")  # damaged in place: the kept copy is another file
    assert prev.read_bytes() == b"two"
    assert sorted(p.name for p in path.parent.iterdir()) == ["t.json", "t.json.prev"]


def test_a_failed_write_leaves_the_file_and_its_copy_as_they_were(tmp_path, monkeypatch):
    path = tmp_path / "t.json"
    for body in (b"one", b"two"):
        atomic_write(path, body, keep_prev=True)
    real_replace, real_rename = os.replace, os.rename

    def full(src, dst):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "replace", full)
    with pytest.raises(DiskFullError) as caught:
        atomic_write(path, b"three", keep_prev=True)
    assert "磁盘空间已满" in str(caught.value) and isinstance(caught.value, StoreError)
    assert path.read_bytes() == b"two" and (tmp_path / "t.json.prev").read_bytes() == b"one"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.json", "t.json.prev"]

    # the copy cannot be moved into place: the write is committed all the same
    monkeypatch.setattr(os, "replace", real_replace)
    monkeypatch.setattr(os, "rename", full)
    atomic_write(path, b"three", keep_prev=True)
    monkeypatch.setattr(os, "rename", real_rename)
    assert path.read_bytes() == b"three" and (tmp_path / "t.json.prev").read_bytes() == b"one"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.json", "t.json.prev"]


def test_a_full_disk_leaves_no_scan_file(tmp_path, monkeypatch):
    real_fdopen = os.fdopen

    class FullFile(io.BufferedWriter):
        def write(self, data):
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fdopen", lambda fd, mode: FullFile(io.FileIO(fd, "w")))
    target = tmp_path / "ab" / ("ab" + "0" * 62)
    with pytest.raises(DiskFullError):
        write_once(target, b"bytes")
    monkeypatch.setattr(os, "fdopen", real_fdopen)
    assert not target.exists() and list((tmp_path / "ab").iterdir()) == []


@pytest.mark.exclusive  # times itself (tests/exclusive.py): the other worker's writes skewed it
def test_keeping_the_copy_does_not_slow_big_writes(tmp_path):
    """db/records.json with 10,000 records is about 8 MB: write one that size again and
    again, with and without keeping the previous version."""
    body = json.dumps({"records": {f"r{i:05d}": {"x": "张" * 300} for i in range(10_000)}})
    data = body.encode()
    timings: dict[bool, list[float]] = {True: [], False: []}
    for _ in range(6):
        for keep in (False, True):
            t0 = time.perf_counter()
            atomic_write(tmp_path / f"{keep}.json", data, keep_prev=keep)
            timings[keep].append(time.perf_counter() - t0)
    plain, kept = statistics.median(timings[False]), statistics.median(timings[True])
    print(
        f"\n{len(data) / 1e6:.1f} MB write: {plain * 1000:.1f} ms plain, {kept * 1000:.1f} ms kept"
    )
    assert kept < plain * 1.25 + 0.005


@pytest.mark.parametrize("name", DB_FILES)
@pytest.mark.parametrize("kind", KINDS)
def test_the_store_refuses_to_open_a_damaged_db_file(built, tmp_path, name, kind):
    data = copy_of(built, tmp_path)
    damage(data / "db" / name, kind)
    with pytest.raises(DamagedFileError) as caught:
        TinyStore(data)
    error = caught.value
    assert error.path == data / "db" / name
    assert str(error).startswith(f"数据文件 {data / 'db' / name} ")
    assert f"{name}.prev" in error.hint and "formdesk check --repair" in error.hint


def test_an_unknown_db_file_is_checked_and_sessions_may_go(built, tmp_path):
    data = copy_of(built, tmp_path)
    sessions = data / "db" / "sessions.json"
    atomic_write(sessions, b'{"sessions":{"a":{"user":"office"}}}', keep_prev=True)
    TinyStore(data).close()
    sessions.write_bytes(b'{"sessions": ')
    with pytest.raises(DamagedFileError) as caught:
        TinyStore(data)
    assert caught.value.path == sessions and "sessions.json.prev" in caught.value.hint
    sessions.unlink()  # with its .prev still there: losing sessions loses nothing
    TinyStore(data).close()
    sessions.write_bytes(b"\0")
    sessions.with_name("sessions.json.prev").unlink()
    with pytest.raises(DamagedFileError) as caught:
        TinyStore(data)
    assert "重新登录" in caught.value.hint
    assert check_folder(data, repair=True).clean and not sessions.exists()
    later = data / "db" / "later.json"  # any other file the store may add is not disposable
    atomic_write(later, b'{"t":{}}', keep_prev=True)
    later.unlink()
    with pytest.raises(DamagedFileError, match="later.json 不见了"):
        TinyStore(data)


def test_records_index_lost_with_its_copy_is_an_error_not_an_empty_list(built, tmp_path):
    data = copy_of(built, tmp_path)
    (data / "db" / "records.json").unlink()
    (data / "db" / "records.json.prev").unlink()
    with pytest.raises(DamagedFileError, match="records/ 中有记录文件") as caught:
        TinyStore(data)
    assert "可由记录文件重建" in caught.value.hint


def test_a_fresh_folder_gets_its_admin_and_a_used_one_never(built, tmp_path):
    fresh = create_app(tmp_path / "fresh", start_worker=False)
    assert fresh.state.first_password and fresh.state.store.get_user("admin")
    data = copy_of(built, tmp_path)
    meta = data / "db" / "meta.json"
    for path in (meta, meta.with_name("meta.json.prev")):
        path.unlink()
    with pytest.raises(DamagedFileError, match="不见了,但数据目录里已有记录 2 条"):
        create_app(data, start_worker=False)
    assert not meta.exists()  # nothing written, no admin made


@pytest.mark.exclusive  # times itself (tests/exclusive.py)
def test_a_missing_record_file_is_damaged_at_once(built, tmp_path):
    data = copy_of(built, tmp_path)
    ids = built[1]
    (data / "records" / f"{ids['first']}.json").unlink()
    store = TinyStore(data)
    t0 = time.perf_counter()
    stored = store.get_record(ids["first"])
    assert time.perf_counter() - t0 < 0.5
    assert stored.damaged == "记录文件缺失" and stored.record == {}
    assert stored.summary.scan_id == ids["scan"]
    with pytest.raises(ValueError, match="无法读取,不能更正"):
        store.correct_field(ids["first"], "customer", "王五", "office")
    # reading the scan again writes the record anew
    store.save_records(ids["scan"], [make_record("D1")], "HN01")
    assert store.get_record(ids["first"]).damaged is None


def test_an_unexpected_error_is_json_in_chinese(tmp_path):
    app = create_app(tmp_path / "d", start_worker=False)
    app.state.store.add_user(
        User(username="office", password_hash=hash_password(PASSWORD), role="back_office")
    )
    client = TestClient(app, raise_server_exceptions=False)
    res = client.post("/api/login", data={"username": "office", "password": PASSWORD})
    assert res.status_code == 200

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    app.state.store.list_batches = broken
    res = client.get("/api/batches")
    assert res.status_code == 500 and res.headers["content-type"] == "application/json"
    assert res.json()["status"] == 500 and "服务器内部错误" in res.json()["reason"]


# -- formdesk check's repairs (in process) -----------------------------------------------------------


def test_check_brings_the_index_in_step_after_a_copy_one_write_behind(built, tmp_path):
    data = copy_of(built, tmp_path)
    ids = built[1]
    with TinyStore(data) as store:
        store.correct_field(ids["first"], "customer", "王五", "office")  # row and file: rev 3
        [new] = store.save_records(ids["scan"], [make_record("D3")], "HN01")
    index = data / "db" / "records.json"
    index.write_bytes(index.with_name("records.json.prev").read_bytes())  # before D3 went in
    report = check_folder(data)
    assert [(f.path.name, f.problem, f.fixable) for f in report.findings] == [
        (f"{new.record_id}.json", "不在索引中", True)
    ]
    index.write_bytes(b"")  # damaged: restored from the copy, then put in step
    report = check_folder(data, repair=True)
    assert report.clean, report.findings
    assert [f.repaired for f in report.findings] == [
        "已从 " + str(index) + ".prev 恢复(它是上一版本:对该文件的最后一次写入会丢失)",
        "已据记录文件补回索引行",
    ]
    with TinyStore(data) as store:
        assert store.list_records()[1] == 3
        customer = [
            f for f in store.get_record(ids["first"]).record["fields"] if f["key"] == "customer"
        ]
        assert customer[0]["value"] == "王五" and store.get_record(new.record_id).damaged is None

    stale = data / "records" / f"{ids['first']}.json"  # the index ahead of its record file
    body = json.loads(stale.read_bytes())
    body["rev"] = body["summary"]["rev"] = 1
    stale.write_text(json.dumps(body))
    with TinyStore(data) as store:
        assert store.get_record(ids["first"]).damaged == "记录文件是旧版本(第 1 版,索引为第 3 版)"
    report = check_folder(data, repair=True)
    assert [f.repaired for f in report.findings] == [
        "已将索引按记录文件改为第 1 版(第 3 版的内容已丢失)"
    ]
    with TinyStore(data) as store:
        assert store.get_record(ids["first"]).damaged is None


def test_check_rebuilds_the_scans_index_and_deep_finds_a_changed_byte(built, tmp_path):
    data = copy_of(built, tmp_path)
    sha = built[1]["scan"]
    for name in ("scans.json", "scans.json.prev"):
        damage(data / "db" / name, "garbage")
    report = check_folder(data, repair=True)
    assert report.clean and "已由 1 个扫描件文件重建" in report.findings[0].repaired
    with TinyStore(data) as store:
        scan = store.get_scan(sha)
        assert (scan.station, scan.content_type, scan.size) == (
            "HN01",
            "application/pdf",
            len(SCAN),
        )
        assert scan.filename == f"{sha[:12]}.pdf" and store.scan_bytes(sha) == SCAN
    path = data / "scans" / sha[:2] / sha
    path.chmod(0o644)
    path.write_bytes(SCAN.replace(b"only", b"ONLY"))  # same size
    assert check_folder(data).clean
    deep = check_folder(data, deep=True)
    assert [(f.path, f.problem) for f in deep.unresolved] == [
        (path, "内容与校验值不符(文件已损坏)")
    ]


def test_check_says_which_jobs_point_at_nothing(built, tmp_path):
    data = copy_of(built, tmp_path)
    with TinyStore(data) as store:
        scan, _ = store.put_scan(b"%PDF-1.7 other", "o.pdf", "application/pdf", "s1", "HN01")
        store.create_batch("s1", "HN01", [scan.sha256], 1)
    scans = data / "db" / "scans.json"
    tables = json.loads(scans.read_bytes())
    del tables["scans"][scan.sha256]
    scans.write_text(json.dumps(tables))
    # the bytes are still there: the row is put back, the job can be read
    report = check_folder(data)
    assert [(f.problem, f.fixable) for f in report.unresolved][0] == (
        "扫描件文件没有登记,但有记录或任务用到它",
        True,
    )
    assert f"指向的扫描件 {scan.sha256[:16]}… 不存在" in report.unresolved[1].problem
    assert check_folder(data, repair=True).clean
    with TinyStore(data) as store:
        assert store.get_scan(scan.sha256).uploaded_by == "formdesk-check"
    # bytes and row gone: said, nothing to repair
    scans.write_text(json.dumps(tables))
    (data / "scans" / scan.sha256[:2] / scan.sha256).unlink()
    report = check_folder(data, repair=True)
    assert [(f.path.name, f.advice) for f in report.unresolved] == [
        ("queue.json", "该任务无法识读")
    ]


# -- damaged db files: the CLI, a served process, formdesk check ---------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("name", DB_FILES)
def test_a_damaged_db_file_stops_cli_and_service_until_repaired(built, tmp_path, name):
    """Every kind of damage to `name` is repaired from its kept copy (in process); through
    the processes — `formdesk serve` and the CLI refusing in one line, `formdesk check
    --repair` — with one kind per file, the kinds taken in turn over DB_FILES so that each
    kind goes through them on some file (that each kind is refused on each file is
    test_the_store_refuses_to_open_a_damaged_db_file, in process)."""
    served_kind = KINDS[DB_FILES.index(name) % len(KINDS)]
    for kind in KINDS:
        if kind == served_kind:
            continue
        data = copy_of(built, tmp_path / kind.replace(" ", "-"))
        path = data / "db" / name
        kept = path.with_name(f"{name}.prev").read_bytes()
        damage(path, kind)
        report = check_folder(data, repair=True)
        assert report.clean and path.read_bytes() == kept, kind
    for kind in [served_kind]:
        data = copy_of(built, tmp_path / kind.replace(" ", "-"))
        path = data / "db" / name
        kept = path.with_name(f"{name}.prev").read_bytes()
        damage(path, kind)
        server = Server(data)
        proc = server.spawn()  # refuses while the CLI runs beside it
        listing = server.cli("claims", "list", check=False)
        check = server.cli("check", check=False)
        assert proc.wait(timeout=120) != 0, (kind, server.output())
        for output in (server.output(), listing.stderr):
            line = one_error_line(output, path)
            assert f"{path}.prev" in line and "formdesk check --repair" in line, (kind, line)
        assert listing.returncode == 1
        assert check.returncode == 1 and f"问题    {path}:" in check.stdout, (kind, check.stdout)
        repair = server.cli("check", "--repair", check=False)
        assert repair.returncode == 0, (kind, repair.stdout)
        assert f"已修复  {path}:" in repair.stdout and "已从" in repair.stdout
        assert path.read_bytes() == kept, kind  # the kept copy, byte for byte
        assert server.cli("check").stdout.strip().endswith("数据完好"), kind
    server.start()  # on the last repaired folder: every user signs in, records listed
    try:
        for username, *_ in USERS:
            with closing(server.client(username)) as client:
                assert client.get("/api/records").json()["total"] == 2
        assert "首次启动" not in server.output()
    finally:
        server.stop()
    store = TinyStore(data)
    assert [u.username for u in store.list_users()] == sorted(u for u, *_ in USERS)
    if name == "meta.json":  # the copy is the version before the last write
        assert store.get_station("HN01") and store.get_station("HN09") is None


@pytest.mark.slow
def test_users_lost_next_to_data_are_never_a_fresh_start(built, tmp_path):
    data = copy_of(built, tmp_path)
    meta = data / "db" / "meta.json"
    tables = json.loads(meta.read_bytes())
    tables["users"] = {}
    meta.write_text(json.dumps(tables))  # valid, but no users
    server = Server(data)
    proc = server.spawn()
    assert proc.wait(timeout=120) != 0
    line = one_error_line(server.output(), meta)
    assert "没有任何用户" in line and f"{meta}.prev" in line
    res = server.cli("user", "add", "back", "--role", "back_office", check=False)
    assert res.returncode == 1 and "formdesk check --repair" in res.stderr  # restore first

    meta.unlink()  # and its copy: the users are gone for good
    meta.with_name("meta.json.prev").unlink()
    proc = server.spawn()
    assert proc.wait(timeout=120) != 0
    line = one_error_line(server.output(), meta)
    assert "不见了,但数据目录里已有记录 2 条" in line and "formdesk user add" in line
    check = server.cli("check", check=False)
    assert check.returncode == 1 and "formdesk user add" in check.stdout
    res = server.cli("user", "add", "office", "--role", "back_office", "--password", PASSWORD)
    assert res.returncode == 0, res.stderr
    server.start()
    try:
        with closing(server.client("office")) as client:
            assert client.get("/api/records").json()["total"] == 2
    finally:
        server.stop()
    assert "首次启动" not in server.output()
    assert [u.username for u in TinyStore(data).list_users()] == ["office"]  # no admin made


@pytest.mark.slow
def test_records_index_without_a_good_copy_is_rebuilt_from_record_files(built, tmp_path):
    data = copy_of(built, tmp_path)
    before, _ = TinyStore(data).list_records()
    index = data / "db" / "records.json"
    damage(index, "garbage")
    damage(index.with_name("records.json.prev"), "truncated")
    server = Server(data)
    proc = server.spawn()
    assert proc.wait(timeout=120) != 0
    assert "可由记录文件重建" in one_error_line(server.output(), index)
    repair = server.cli("check", "--repair", check=False)
    assert repair.returncode == 0, repair.stdout
    assert "已由 2 个记录文件重建(更正历史和确认状态无法恢复)" in repair.stdout
    store = TinyStore(data)
    after, _ = store.list_records()
    lost = {"status", "verified_by", "verified_at", "updated_at"}  # a verification: index only
    assert [s.model_dump(exclude=lost) for s in after] == [
        s.model_dump(exclude=lost) for s in before
    ]
    corrected = store.get_record(built[1]["first"])
    assert next(f for f in corrected.record["fields"] if f["key"] == "customer")["value"] == "李四"
    assert store.list_corrections(built[1]["first"]) == []

    # a record file written before files kept their summary cannot give its row: said
    old = data / "records" / f"{built[1]['second']}.json"
    body = json.loads(old.read_bytes())
    del body["summary"]
    old.write_text(json.dumps(body))
    damage(index, "emptied")
    damage(index.with_name("records.json.prev"), "emptied")
    report = check_folder(data, repair=True)
    assert not report.clean
    assert [(f.path, f.problem) for f in report.unresolved] == [
        (old, "不在索引中,文件中也没有摘要(旧格式),无法据此重建索引行")
    ]
    assert [s.record_id for s in TinyStore(data).list_records()[0]] == [built[1]["first"]]


# -- a damaged record file through the served service ---------------------------------------------

CHROMIUM = Path("/usr/bin/chromium")


@pytest.mark.slow
def test_a_truncated_record_file_shows_as_damaged_and_breaks_nothing(built, tmp_path):
    data = copy_of(built, tmp_path)
    ids = built[1]
    record_file = data / "records" / f"{ids['first']}.json"
    raw = record_file.read_bytes()
    record_file.write_bytes(raw[: len(raw) // 2])
    server = Server(data).start()
    try:
        with closing(server.client()) as c:
            res = c.get(f"/api/records/{ids['first']}")
            assert res.status_code == 200, res.text
            detail = res.json()
            assert detail["damaged"].startswith("记录文件已损坏") and detail["record"] == {}
            assert detail["summary"]["scan_id"] == ids["scan"]
            assert c.get(f"/api/scans/{ids['scan']}").content == SCAN
            assert c.get(f"/review/{ids['first']}").status_code == 200
            for query in ("", "?order=least_confident&status=needs_review", "?q=张三"):
                assert c.get(f"/api/records{query}").status_code == 200, query
            assert c.get("/api/records").json()["total"] == 2

            rows = list(
                csv.reader(io.StringIO(c.get("/api/export.csv").content.decode("utf-8-sig")))
            )
            header, by_id = rows[0], {r[0]: dict(zip(rows[0], r, strict=True)) for r in rows[1:]}
            customer = "customer"  # the test record's own field (an older form's), its label
            assert by_id[ids["first"]]["状态"] == "文件损坏"
            assert by_id[ids["first"]][customer] == "" and by_id[ids["second"]][customer] == "张三"
            sheet = load_workbook(io.BytesIO(c.get("/api/export.xlsx").content)).active
            cells = {r[0]: r for r in sheet.iter_rows(min_row=2, values_only=True)}
            assert cells[ids["first"]][header.index("状态")] == "文件损坏"
            assert cells[ids["first"]][header.index(customer)] is None
            docs = {d["summary"]["record_id"]: d for d in c.get("/api/export.json").json()}
            assert docs[ids["first"]]["damaged"] == detail["damaged"]
            assert docs[ids["first"]]["values"] == {}

            refusals = [
                c.patch(f"/api/records/{ids['first']}/fields/vin", json={"value": NEW_VIN}),
                c.post(f"/api/records/{ids['first']}/verify"),
                c.get(f"/api/records/{ids['first']}/page.png"),
                c.get(f"/api/records/{ids['first']}/crop.png?key=customer"),
                c.post(f"/api/records/{ids['first']}/reprint.pdf"),
                c.post(f"/api/claims/from-record/{ids['first']}"),
            ]
            for res in refusals:
                assert res.status_code == 409, (res.request.url, res.text)
                assert "无法读取" in res.json()["reason"]
            assert c.get("/api/reconcile?station=HN01&month=2026-03").status_code == 200
        review_page_shows_the_damage(server, ids, detail["damaged"])
        check = server.cli("check", check=False)
        assert check.returncode == 1
        assert (
            f"问题    {record_file}:记录文件已损坏" in check.stdout and "重新上传" in check.stdout
        )
    finally:
        server.stop()
    assert "Traceback" not in server.output()


def review_page_shows_the_damage(server: Server, ids: dict[str, str], reason: str) -> None:
    if not CHROMIUM.exists():
        pytest.fail("Chromium is missing at /usr/bin/chromium: run `apt-get install chromium`")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            page = browser.new_page(base_url=server.url)
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(f"/review/{ids['first']}")
            page.fill("#username", "s1")
            page.fill("#password", PASSWORD)
            page.press("#password", "Enter")
            page.wait_for_selector("#damaged-scan")
            assert reason in page.text_content("#rec-problems")
            assert page.text_content("#rec-status") == "已损坏"
            assert page.get_attribute("#damaged-scan", "href") == f"/api/scans/{ids['scan']}"
            assert not errors, errors
        finally:
            browser.close()


# -- a full disk ------------------------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path):
    """An 8 MB tmpfs (CI runs as root); unmounted after the test."""
    mount = tmp_path / "disk"
    mount.mkdir()
    res = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mount)], capture_output=True
    )
    if res.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {res.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=True)


def fill(disk: Path) -> Path:
    """Writes a file until the disk is full; removing it frees the space."""
    filler = disk / "filler"
    with open(filler, "wb", buffering=0) as fh:
        for size in (1 << 20, 1 << 12, 1):
            try:
                while True:
                    fh.write(b"\0" * size)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
    return filler


def jpeg() -> bytes:
    image = np.full((400, 300, 3), 255, np.uint8)
    cv2.putText(image, "scan", (40, 200), cv2.FONT_HERSHEY_SIMPLEX, 2, (0, 0, 0), 3)
    return cv2.imencode(".jpg", image)[1].tobytes()


@pytest.mark.slow
def test_a_full_disk_answers_507_and_writes_nothing_half(built, small_disk):
    data = small_disk  # the server's log goes beside the data folder: off the small disk
    shutil.copytree(built[0], data, dirs_exist_ok=True)
    ids = built[1]
    claims = (ROOT / "samples" / "claims.csv").read_text(encoding="utf-8").splitlines()
    new_claim = "\n".join([claims[0], claims[1].replace("SP2026031502", "SP2099")]) + "\n"
    server = Server(data).start()
    try:
        with closing(server.client()) as c:
            filler = fill(small_disk)
            before = db_snapshot(data)
            answers = [
                c.post("/api/uploads", files={"files": ("new.jpg", jpeg(), "image/jpeg")}),
                c.patch(f"/api/records/{ids['first']}/fields/vin", json={"value": NEW_VIN}),
                c.post(
                    "/api/claims/import", files={"file": ("c.csv", new_claim.encode(), "text/csv")}
                ),
            ]
            for res in answers:
                assert res.status_code == 507, (res.request.url, res.text)
                assert res.headers["content-type"] == "application/json"
                assert res.json() == {
                    "reason": "服务器磁盘空间已满,无法保存;请联系管理员清理磁盘后重试",
                    "status": 507,
                }
            assert db_snapshot(data) == before  # no temporary file, no changed byte
            assert c.get(f"/api/records/{ids['first']}").json()["damaged"] is None

            filler.unlink()
            res = c.post("/api/uploads", files={"files": ("new.jpg", jpeg(), "image/jpeg")})
            assert res.status_code == 202, res.text
            res = c.patch(f"/api/records/{ids['first']}/fields/vin", json={"value": NEW_VIN})
            assert res.status_code == 200, res.text
            res = c.post(
                "/api/claims/import", files={"file": ("c.csv", new_claim.encode(), "text/csv")}
            )
            assert res.status_code == 200, res.text
    finally:
        server.stop()
    assert check_folder(data).clean
    with open_store(data) as store:  # closed: the disk is unmounted after the test
        assert store.get_claim("SP2099") is not None
        record = store.get_record(ids["first"]).record
    assert {f["key"]: f["value"] for f in record["fields"]}["vin"] == NEW_VIN
