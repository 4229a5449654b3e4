"""The store's behaviour, each test on both stores (issue 11: TinyDB files and PostgreSQL):
round trips, write-once scans, the reading queue, records and corrections, other
instances' and processes' writes, concurrency, and listing speed with 10,000 records.
What is about the TinyDB files themselves — snapshots, a failed write, a crash before the
commit — runs on the TinyDB store only."""

from __future__ import annotations

import json
import multiprocessing
import os
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from formdesk.model.accounts import ApiToken, User
from formdesk.model.claims import Station
from formdesk.model.documents import IssuedDocument
from formdesk.model.record import FieldReading, FormRecord, PageSource
from formdesk.store import ConflictError, NotFoundError, Store, TinyStore, open_store
from formdesk.store import tinydb_store as tinydb_store_module
from formdesk.store.jsondb import JsonDB
from formdesk.store.sql import records as sql_records_module

from .pg import database_url, reopened

VIN = "LSVAU2180N2183294"


def reading(key: str, value, status: str = "ok", confidence: float = 0.95, **extra) -> FieldReading:
    raw = extra.pop("raw", "" if value is None else str(value))
    return FieldReading(
        key=key,
        label=extra.pop("label", key),
        type=extra.pop("type", "text"),
        value=value,
        raw=raw,
        confidence=confidence,
        status=status,
        **extra,
    )


def parts_table(qty_status: str = "check") -> FieldReading:
    rows = [
        {
            "part": reading("part", "机油滤清器", label="配件"),
            "qty": reading("qty", 2, label="数量"),
        },
        {
            "part": reading("part", "空气滤芯", label="配件"),
            "qty": reading("qty", 7, qty_status, 0.4, label="数量", raw="7?"),
        },
    ]
    return FieldReading(
        key="parts",
        label="配件清单",
        type="table",
        value=[{"part": "机油滤清器", "qty": 2}, {"part": "空气滤芯", "qty": 7}],
        raw="2 行",
        confidence=0.4,
        status=qty_status,
        rows=rows,
    )


def make_record(
    document_id: str,
    *,
    copy_index: int = 1,
    template: str = "SH-ZH/BD-27",
    customer: str = "张三",
    vin_status: str = "check",
    vin_confidence: float = 0.6,
    table: bool = False,
    file_page: int = 0,
) -> dict:
    fields = [
        reading("customer", customer, confidence=0.9),
        reading(
            "vin",
            VIN,
            vin_status,
            vin_confidence,
            reason="识别把握不大,请核对" if vin_status == "check" else None,
        ),
        reading("phone", None, "empty", 1.0),
    ]
    if table:
        fields.append(parts_table())
    return FormRecord(
        template=template,
        template_version=3,
        document_id=document_id,
        copy_index=copy_index,
        identified_by="qr",
        authentic=True,
        residual_mm=0.4,
        pages=[PageSource(file="scan.pdf", file_page=file_page)],
        fields=fields,
    ).model_dump(mode="json")


def field(record: dict, key: str) -> dict:
    return next(f for f in record["fields"] if f["key"] == key)


@pytest.fixture
def store(any_store) -> Store:
    """An empty store of each kind (TinyDB, PostgreSQL)."""
    return any_store


def tinydb(store: Store) -> bool:
    """The TinyDB store: its data files may be looked at too."""
    return isinstance(store, TinyStore)


def new_scan(store: Store, content: bytes = b"%PDF-1.7 scan", station: str | None = "S01"):
    scan, _ = store.put_scan(content, "scan.pdf", "application/pdf", "alice", station)
    return scan


def db_files(data_dir: Path) -> dict[str, bytes]:
    paths = [*(data_dir / "db").iterdir(), *(data_dir / "records").iterdir()]
    return {p.name: p.read_bytes() for p in sorted(paths)}


# -- round trips ------------------------------------------------------------------------------


# TinyDB only: the data folder is the TinyDB store's (the PostgreSQL store's URL is
# test_pg_store's)
def test_open_store_uses_data_dir_setting(tmp_path, monkeypatch):
    monkeypatch.setenv("FORMDESK_DATA_DIR", str(tmp_path / "elsewhere"))
    s = open_store()
    assert isinstance(s, Store) and isinstance(s, TinyStore)
    assert (tmp_path / "elsewhere" / "db").is_dir()
    assert isinstance(open_store(tmp_path / "given"), Store)


def test_stations_users_and_tokens_round_trip(store):
    store.add_station(Station(code="S02", name="浦东站"))
    store.add_station(Station(code="S01", name="徐汇站"))
    with pytest.raises(ConflictError, match="已存在"):
        store.add_station(Station(code="S01", name="重复"))
    assert [s.code for s in store.list_stations()] == ["S01", "S02"]
    assert store.get_station("S02").name == "浦东站"
    assert store.get_station("S09") is None

    bob = store.add_user(User(username="bob", password_hash="h1", role="station", station="S01"))
    store.add_user(User(username="amy", password_hash="h2", role="back_office"))
    with pytest.raises(ValueError, match="用户名“bob”已存在"):
        store.add_user(User(username="bob", password_hash="x", role="auditor"))
    assert store.get_user("bob") == bob
    assert [u.username for u in store.list_users()] == ["amy", "bob"]
    assert store.set_password_hash("bob", "h3").password_hash == "h3"
    with pytest.raises(NotFoundError):
        store.set_password_hash("nobody", "x")

    store.add_token(ApiToken(token_hash="t" * 64, username="bob", label="扫描仪"))
    with pytest.raises(ConflictError):
        store.add_token(ApiToken(token_hash="t" * 64, username="bob"))
    with pytest.raises(NotFoundError):
        store.add_token(ApiToken(token_hash="u" * 64, username="nobody"))
    assert store.user_for_token("t" * 64).username == "bob"
    assert store.user_for_token("nope") is None

    with reopened(store) as again:  # persisted, and read back equal
        assert again.get_user("bob").password_hash == "h3"
        assert again.get_user("bob").created_at == bob.created_at
        assert again.list_stations() == store.list_stations()


def test_documents_round_trip(store):
    printed = IssuedDocument(
        document_id="260105-AAAA", template="SH-ZH/BD-27", template_version=3, pages=1,
        copies=2, values={"date": date(2026, 1, 5)},
    )  # fmt: skip
    doc = printed.registered(station="S01", issued_by="amy")
    other = IssuedDocument(document_id="260105-BBBB", template="表格04", template_version=1)
    store.register_documents([doc, other])
    got = store.get_document("260105-AAAA")
    assert got.values == {"date": "2026-01-05"}
    assert (got.template, got.template_version, got.copies, got.station) == (
        "SH-ZH/BD-27",
        3,
        2,
        "S01",
    )
    assert got.issued_at == doc.issued_at
    got.values["date"] = "changed"  # a caller's copy, not the store's
    assert store.get_document("260105-AAAA").values == {"date": "2026-01-05"}
    store.register_documents([other.model_copy(update={"pages": 4})])
    assert store.get_document("260105-BBBB").pages == 4
    assert store.get_document("nope") is None


def test_identical_scan_bytes_are_stored_once(store, tmp_path):
    data = bytes(range(256)) * 1000
    scan, new = store.put_scan(data, "a.pdf", "application/pdf", "alice", "S01")
    assert new and scan.size == len(data)
    again, new_again = store.put_scan(data, "b.pdf", "application/pdf", "al2", "S01")
    assert not new_again and again == scan  # the station had it: the first upload's metadata
    with reopened(store) as other:
        other_process, new_other = other.put_scan(data, "c.pdf", "x", "c", None)
    # another uploader (the back office) owns its own upload of the same bytes
    assert new_other and other_process.sha256 == scan.sha256
    assert [(o.station, o.filename) for o in other_process.owners] == [
        ("S01", "a.pdf"),
        (None, "c.pdf"),
    ]
    assert other_process.owner("S01").uploaded_by == "alice" and other_process.owner("S02") is None
    scan = store.get_scan(scan.sha256)

    if tinydb(store):  # one file, read-only
        files = [p for p in (tmp_path / "data" / "scans").rglob("*") if p.is_file()]
        assert files == [tmp_path / "data" / "scans" / scan.sha256[:2] / scan.sha256]
        assert files[0].stat().st_mode & 0o222 == 0
    assert store.scan_bytes(scan.sha256) == data
    assert store.get_scan(scan.sha256) == scan
    assert store.get_scan("0" * 64) is None
    with pytest.raises(NotFoundError):
        store.scan_bytes("0" * 64)
    with pytest.raises(NotFoundError):
        store.scan_bytes("../../db/meta.json")


# -- batches and jobs ---------------------------------------------------------------------------


def test_batches_and_jobs(store):
    a, b = new_scan(store, b"a"), new_scan(store, b"b")
    batch = store.create_batch("alice", "S01", [a.sha256, b.sha256, a.sha256], pages_total=3)
    assert batch.scan_ids == [a.sha256, b.sha256] and batch.state == "queued"
    jobs = store.list_jobs(batch.batch_id)
    assert [(j.scan_id, j.state) for j in jobs] == [(a.sha256, "pending"), (b.sha256, "pending")]
    later = store.create_batch("bob", "S02", [b.sha256], pages_total=1)
    assert [x.batch_id for x in store.list_batches()] == [later.batch_id, batch.batch_id]
    assert [x.batch_id for x in store.list_batches(station="S01")] == [batch.batch_id]
    both = [later.batch_id, batch.batch_id]
    assert [x.batch_id for x in store.list_batches(scan_id=b.sha256)] == both
    assert [x.batch_id for x in store.list_batches(scan_id=a.sha256)] == [batch.batch_id]
    assert store.list_batches(station="S02", scan_id=a.sha256) == []

    first = store.claim_job()
    assert (first.scan_id, first.state, first.attempts) == (a.sha256, "processing", 1)
    assert store.get_batch(batch.batch_id).state == "reading"
    assert store.finish_job(first.job_id, None, pages_done=2).state == "done"
    turn = store.claim_job()  # station S02 has not been served yet: its turn
    assert turn.batch_id == later.batch_id
    store.finish_job(turn.job_id, None, pages_done=1)
    second = store.claim_job()
    assert second.scan_id == b.sha256 and second.batch_id == batch.batch_id
    failed = store.finish_job(second.job_id, "无法识别", pages_done=0)
    assert (failed.state, failed.error) == ("failed", "无法识别")
    done = store.get_batch(batch.batch_id)
    assert (done.state, done.pages_done, done.pages_total, done.errors) == (
        "done",
        2,
        3,
        ["无法识别"],
    )
    with pytest.raises(ConflictError):
        store.finish_job(second.job_id, None, 1)
    with pytest.raises(NotFoundError):
        store.finish_job("nope", None, 1)
    assert store.claim_job() is None
    with pytest.raises(NotFoundError):
        store.create_batch("alice", None, ["f" * 64], 1)
    assert store.create_batch("alice", None, [], 0).state == "done"


def test_requeue_stale_jobs_after_a_crash(store):
    scans = [new_scan(store, bytes([i])) for i in range(3)]
    batch = store.create_batch("alice", "S01", [s.sha256 for s in scans], pages_total=3)
    claimed = [store.claim_job(), store.claim_job()]
    store.close()  # the process dies with two jobs processing

    restarted = reopened(store)
    assert restarted.requeue_stale_jobs() == 2
    assert restarted.requeue_stale_jobs() == 0
    jobs = restarted.list_jobs(batch.batch_id)
    assert [j.state for j in jobs] == ["pending"] * 3
    assert [j.attempts for j in jobs] == [1, 1, 0]
    assert restarted.get_batch(batch.batch_id).state == "queued"
    never_tried = restarted.claim_job()  # a job never tried goes before those that were
    assert never_tried.scan_id == scans[2].sha256 and never_tried.attempts == 1
    again = restarted.claim_job()
    assert again.job_id == claimed[0].job_id and again.attempts == 2
    restarted.close()  # dies again, two jobs processing: one on its second attempt

    third = reopened(store)
    assert third.requeue_stale_jobs(max_attempts=2) == 1  # the one tried once
    jobs = {j.job_id: j for j in third.list_jobs(batch.batch_id)}
    gave_up = jobs[claimed[0].job_id]
    assert gave_up.state == "failed" and "不再重试" in gave_up.error
    assert jobs[never_tried.job_id].state == "pending"
    batch_now = third.get_batch(batch.batch_id)
    assert batch_now.files_done == 1 and batch_now.errors == [gave_up.error]
    assert third.requeue_stale_jobs(max_attempts=2) == 0  # nothing is picked up again
    third.close()


def test_stations_take_turns_at_the_reader(store):
    scans = [new_scan(store, f"s{i}".encode()) for i in range(5)]
    a = store.create_batch("a", "HN01", [s.sha256 for s in scans[:3]])  # three long files
    b = store.create_batch("b", "HN02", [scans[3].sha256])  # sent a moment later
    c = store.create_batch("c", "HN01", [scans[4].sha256])
    order = []
    while (job := store.claim_job()) is not None:
        order.append(job.batch_id)
        store.finish_job(job.job_id, None, 1)
        time.sleep(0.002)  # stored times are to the microsecond
    assert order == [a.batch_id, b.batch_id, a.batch_id, a.batch_id, c.batch_id]


def test_a_failed_attempt_waits_behind_untried_jobs_and_files_count_duplicates(store):
    a, b = new_scan(store, b"a"), new_scan(store, b"b")
    batch = store.create_batch(
        "alice", "S01", [a.sha256, a.sha256, b.sha256], pages={a.sha256: 2, b.sha256: 1}
    )
    assert (batch.files_total, batch.pages_total) == (3, 3)
    first = store.claim_job()
    assert first.scan_id == a.sha256 and first.pages == 2 and first.files == 2
    released = store.release_job(first.job_id, "a.jpg:识读超时")
    assert (released.state, released.error) == ("pending", "a.jpg:识读超时")
    assert store.claim_job().scan_id == b.sha256  # the untried one first
    with pytest.raises(ConflictError):
        store.release_job(first.job_id, "x")  # pending, not processing
    second = store.claim_job()
    assert second.job_id == first.job_id and second.attempts == 2
    store.finish_job(second.job_id, None, pages_done=2)
    progress = store.get_batch(batch.batch_id)
    assert (progress.files_done, progress.pages_done, progress.state) == (2, 2, "reading")


def test_claim_job_never_hands_a_job_to_two_threads(store):
    scans = [new_scan(store, f"scan {i}".encode()) for i in range(60)]
    store.create_batch("alice", None, [s.sha256 for s in scans], pages_total=60)
    stores = [store, reopened(store)]  # two instances: TinyDB's flock path too
    claimed: list[str] = []

    def worker(n: int) -> None:
        s = stores[n % 2]
        while (job := s.claim_job()) is not None:
            claimed.append(job.job_id)
            s.finish_job(job.job_id, None, 1)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stores[1].close()
    assert len(claimed) == 60 and len(set(claimed)) == 60
    [batch] = store.list_batches()
    assert (batch.state, batch.pages_done) == ("done", 60)


# -- records ---------------------------------------------------------------------------------------


def test_save_records_summarises_and_is_idempotent(store):
    scan = new_scan(store)
    first = store.save_records(
        scan.sha256, [make_record("D1"), make_record("D1", copy_index=2, file_page=1)], "S01"
    )
    assert len(first) == 2 and first[0].record_id != first[1].record_id
    s = first[0]
    assert (s.template, s.template_version, s.document_id, s.copy_index) == (
        "SH-ZH/BD-27",
        3,
        "D1",
        1,
    )
    # the doubted VIN (0.6, status check) counts as at most 0.5 for the review queue
    assert (s.status, s.min_confidence, s.fields_to_check) == ("needs_review", 0.5, 1)
    assert (s.scan_id, s.station, s.file_pages) == (scan.sha256, "S01", [0])
    for word in ("SH-ZH/BD-27", "D1", "S01", "张三", VIN):
        assert word in s.search_text
    stored = store.get_record(s.record_id)
    assert stored.record == make_record("D1") and stored.summary == s
    assert store.get_record("nope") is None and store.get_record("../db") is None

    again = store.save_records(scan.sha256, [make_record("D1")], "S01")
    assert again == [s]  # the same reading: untouched
    reread = store.save_records(
        scan.sha256, [make_record("D1", vin_status="ok", vin_confidence=0.99)], "S01"
    )
    assert reread[0].record_id == s.record_id and reread[0].created_at == s.created_at
    assert (reread[0].status, reread[0].fields_to_check, reread[0].min_confidence) == (
        "ready",
        0,
        0.9,
    )
    assert field(store.get_record(s.record_id).record, "vin")["status"] == "ok"
    assert store.list_records()[1] == 2

    other = new_scan(store, b"another scan of the same form")
    assert store.save_records(other.sha256, [make_record("D1")], "S01")[0].record_id != s.record_id
    assert store.list_records()[1] == 3
    with pytest.raises(NotFoundError):
        store.save_records("f" * 64, [make_record("D2")], None)
    with pytest.raises(ValueError, match="识读结果格式不对"):
        store.save_records(scan.sha256, [{"template": "x"}], None)


def test_summary_status_is_the_readers(store):
    cases = [
        make_record("A"),
        make_record("B", vin_status="ok"),
        make_record("C", vin_status="ok", table=True),
        {**make_record("D", vin_status="ok"), "problems": ["第2页缺失"]},
        {**make_record("E", vin_status="ok"), "authentic": False},
    ]
    scan = new_scan(store)
    summaries = store.save_records(scan.sha256, cases, None)
    assert [x.status for x in summaries] == [
        "needs_review",
        "ready",
        "needs_review",
        "needs_review",
        "needs_review",
    ]
    assert summaries[2].fields_to_check == 1 and summaries[2].min_confidence == 0.4


def test_correct_field_keeps_an_append_only_audit_trail(store, tmp_path):
    scan = new_scan(store)
    [s] = store.save_records(scan.sha256, [make_record("D1", table=True)], "S01")
    assert s.fields_to_check == 2

    c1 = store.correct_field(s.record_id, "vin", "LSVAU2180N2183295", "amy")
    assert (c1.old_value, c1.new_value, c1.user, c1.field_key) == (
        VIN,
        "LSVAU2180N2183295",
        "amy",
        "vin",
    )
    rec = store.get_record(s.record_id)
    vin = field(rec.record, "vin")
    assert (vin["value"], vin["status"], vin["confidence"], vin["raw"]) == (
        "LSVAU2180N2183295",
        "ok",
        1.0,
        VIN,
    )
    assert rec.summary.fields_to_check == 1 and rec.summary.status == "needs_review"
    trail_before = store.list_corrections(s.record_id)
    if tinydb(store):
        rows_before = json.loads((tmp_path / "data" / "db" / "records.json").read_text())[
            "corrections"
        ]

    c2 = store.correct_field(s.record_id, "vin", "LSVAU2180N2183296", "bob")
    c3 = store.correct_field(s.record_id, "parts", 8, "bob", row=2, column="qty")  # 第2行
    assert c2.old_value == "LSVAU2180N2183295" and c3.old_value == 7
    rec = store.get_record(s.record_id)
    parts = field(rec.record, "parts")
    assert parts["value"][1] == {"part": "空气滤芯", "qty": 8} and parts["status"] == "ok"
    assert parts["rows"][1]["qty"]["raw"] == "7?"
    assert (rec.summary.status, rec.summary.fields_to_check) == ("ready", 0)
    assert store.list_records(status="ready")[1] == 1
    assert store.list_corrections(s.record_id) == [c1, c2, c3]
    assert store.list_corrections(s.record_id)[:1] == trail_before  # earlier ones untouched
    if tinydb(store):  # their stored rows too
        rows_after = json.loads((tmp_path / "data" / "db" / "records.json").read_text())
        assert all(rows_after["corrections"][k] == v for k, v in rows_before.items())

    for bad in (
        {"field_key": "nope"},
        {"field_key": "parts"},  # a table needs row and column
        {"field_key": "parts", "row": 3, "column": "qty"},
        {"field_key": "parts", "row": 0, "column": "qty"},
        {"field_key": "parts", "row": 1, "column": "nope"},
        {"field_key": "vin", "row": 1, "column": "qty"},
        {"field_key": "vin", "column": "qty"},
    ):
        with pytest.raises(ValueError):
            store.correct_field(s.record_id, new_value="x", user="amy", **bad)
    with pytest.raises(NotFoundError):
        store.correct_field("nope", "vin", "x", "amy")
    assert len(store.list_corrections(s.record_id)) == 3

    # Reading the scan again keeps the people's corrections.
    [reread] = store.save_records(scan.sha256, [make_record("D1", table=True)], "S01")
    assert reread.record_id == s.record_id and reread.status == "ready"
    assert field(store.get_record(s.record_id).record, "vin")["value"] == "LSVAU2180N2183296"
    assert len(store.list_corrections(s.record_id)) == 3


def test_verify_record(store):
    scan = new_scan(store)
    [s] = store.save_records(scan.sha256, [make_record("D1")], "S01")
    v = store.verify_record(s.record_id, "auditor1")
    assert (v.status, v.verified_by) == ("verified", "auditor1") and v.verified_at is not None
    assert store.list_records(status="verified")[0] == [v]
    assert store.save_records(scan.sha256, [make_record("D1")], "S01") == [v]  # same reading
    store.correct_field(s.record_id, "customer", "李四", "amy")
    after = store.get_record(s.record_id).summary
    assert (after.status, after.verified_by) == ("needs_review", None)
    with pytest.raises(NotFoundError):
        store.verify_record("nope", "x")


def test_list_records_filters_and_orders(store, monkeypatch):
    clock = {"now": datetime(2026, 1, 1, 12, tzinfo=UTC)}
    for module in (tinydb_store_module, sql_records_module):  # both stores' clock
        monkeypatch.setattr(module, "_now", lambda: clock["now"])
    scan_a, scan_b = new_scan(store, b"a", "S01"), new_scan(store, b"b", "S02")
    ids = {}
    specs = [  # day, scan, station, document, template, vin confidence, customer
        (1, scan_a, "S01", "D1", "SH-ZH/BD-27", 0.45, "张三"),
        (2, scan_a, "S01", "D2", "表格04", 0.95, "李四"),
        (3, scan_b, "S02", "D3", "SH-ZH/BD-27", 0.3, "王五"),
        (4, scan_b, "S02", "D4", "表格04", 0.48, "Zhao Liu"),
    ]
    for day, scan, station, doc, template, conf, customer in specs:
        clock["now"] = datetime(2026, 1, day, 12, tzinfo=UTC)
        status = "check" if conf < 0.9 else "ok"
        record = make_record(
            doc, template=template, customer=customer, vin_status=status, vin_confidence=conf
        )
        [summary] = store.save_records(scan.sha256, [record], station)
        ids[doc] = summary.record_id

    def docs(**kw) -> list[str]:
        return [r.document_id for r in store.list_records(**kw)[0]]

    assert docs() == ["D4", "D3", "D2", "D1"]
    assert docs(order="least_confident") == ["D3", "D1", "D4", "D2"]
    assert docs(template="表格04") == ["D4", "D2"]
    assert docs(station="S01") == ["D2", "D1"]
    assert docs(status="ready") == ["D2"]
    assert docs(status="needs_review", order="least_confident") == ["D3", "D1", "D4"]
    assert docs(date_from=date(2026, 1, 2), date_to=date(2026, 1, 3)) == ["D3", "D2"]
    assert docs(date_from="2026-01-03") == ["D4", "D3"]
    assert docs(date_to=datetime(2026, 1, 2, 12, tzinfo=UTC)) == ["D2", "D1"]
    assert docs(date_to=datetime(2026, 1, 2, 11, 59, tzinfo=UTC)) == ["D1"]
    assert docs(text="王五") == ["D3"]
    assert docs(text="zhao") == ["D4"]
    assert docs(text="bd-27 s02") == ["D3"]
    assert docs(text=ids["D2"][:0] + "D2") == ["D2"]
    assert docs(text="nobody") == []
    page, total = store.list_records(offset=1, limit=2)
    assert [r.document_id for r in page] == ["D3", "D2"] and total == 4
    assert store.list_records(station="S02", limit=1)[1] == 2
    with pytest.raises(ValueError):
        store.list_records(order="oldest")
    with pytest.raises(ValueError, match="日期格式不对"):
        store.list_records(date_from="yesterday")


# TinyDB only: the JsonDB tables behind the TinyDB store
def test_tables_never_change_a_snapshot_in_place(tmp_path):
    db = JsonDB(tmp_path / "t.json")
    table = db.table("rows")
    with pytest.raises(RuntimeError):
        table.put("a", {"n": 1})  # writes only inside a transaction
    with db.transaction():
        table.put_many({"a": {"n": 1, "tags": ["x"]}, "b": {"n": 2, "tags": []}})
    snapshot = table.rows()
    with db.transaction():  # TinyDB's own in-place operations
        table.update({"n": 10}, doc_ids=["a"])
        table.update(lambda row: row["tags"].append("y"), doc_ids=["a"])
        table.remove(doc_ids=["b"])
        table.insert_new("c", {"n": 3, "tags": []})
        with pytest.raises(ValueError):
            table.insert_new("c", {"n": 4})
    assert snapshot == {"a": {"n": 1, "tags": ["x"]}, "b": {"n": 2, "tags": []}}
    expected = {"a": {"n": 10, "tags": ["x", "y"]}, "c": {"n": 3, "tags": []}}
    assert table.rows() == expected
    on_disk = json.loads((tmp_path / "t.json").read_text())
    assert on_disk["rows"] == expected and set(on_disk) == {"_commit", "rows"}
    with db.transaction():  # only "c" changes: the cached JSON of "a" is reused
        table.put("c", {"n": 30, "tags": []})
    assert JsonDB(tmp_path / "t.json").table("rows").rows() == {
        **expected,
        "c": {"n": 30, "tags": []},
    }


# -- crash safety and other processes ----------------------------------------------------------------


class DiskError(OSError):
    pass


# TinyDB only: a write failing half-way through its files (a PostgreSQL write is one
# transaction), and pending record files left by a crash
@pytest.mark.parametrize(
    "operation", ["save_records", "correct_field", "verify_record", "add_user"]
)
def test_a_failed_write_leaves_the_previous_state(tmp_path, monkeypatch, operation):
    data_dir = tmp_path / "data"
    store = TinyStore(data_dir)
    scan = new_scan(store)
    [s] = store.save_records(scan.sha256, [make_record("D1")], "S01")
    store.add_user(User(username="amy", password_hash="h", role="auditor"))
    before = db_files(data_dir)

    def run(st: TinyStore) -> None:
        if operation == "save_records":
            st.save_records(
                scan.sha256, [make_record("D1", vin_status="ok", vin_confidence=1.0)], "S01"
            )
        elif operation == "correct_field":
            st.correct_field(s.record_id, "vin", "LSVAU2180N2183295", "amy")
        elif operation == "verify_record":
            st.verify_record(s.record_id, "amy")
        else:
            st.add_user(User(username="bob", password_hash="h", role="station"))

    def changed(st: TinyStore) -> bool:
        rec = st.get_record(s.record_id)
        return {
            "save_records": field(rec.record, "vin")["status"] == "ok",
            "correct_field": field(rec.record, "vin")["value"] == "LSVAU2180N2183295",
            "verify_record": rec.summary.status == "verified",
            "add_user": st.get_user("bob") is not None,
        }[operation]

    real_replace = os.replace
    for fail_at in range(1, 10):
        calls = {"n": 0}

        def flaky(src, dst, fail_at=fail_at, calls=calls):
            calls["n"] += 1
            if calls["n"] == fail_at:
                raise DiskError("disk full")
            return real_replace(src, dst)

        monkeypatch.setattr(os, "replace", flaky)
        try:
            run(store)
        except DiskError:
            monkeypatch.setattr(os, "replace", real_replace)
            assert db_files(data_dir) == before  # nothing half-written, nothing left over
            assert not changed(store) and not changed(TinyStore(data_dir))
            continue
        monkeypatch.setattr(os, "replace", real_replace)
        # Committed: visible now, and to a fresh open (which tidies a file left pending).
        assert changed(store)
        pending = [p for p in (data_dir / "records").iterdir() if "pending" in p.name]
        if operation in ("save_records", "correct_field"):  # failed after the commit
            assert fail_at == 3 and len(pending) == 1
        reopened = TinyStore(data_dir)
        assert changed(reopened)
        assert not [p for p in (data_dir / "records").iterdir() if "pending" in p.name]
        assert json.loads((data_dir / "records" / f"{s.record_id}.json").read_text())["rev"] >= 1
        break
    else:
        pytest.fail("the write never succeeded")
    assert fail_at > 1  # at least one failure was exercised


def test_a_crash_before_the_commit_leaves_no_trace(tmp_path):
    data_dir = tmp_path / "data"
    store = TinyStore(data_dir)
    scan = new_scan(store)
    [s] = store.save_records(scan.sha256, [make_record("D1")], "S01")
    # A process died after staging revision 2 of the record and before committing it.
    orphan = data_dir / "records" / f"{s.record_id}.json.pending-2"
    orphan.write_text(json.dumps({"record_id": s.record_id, "rev": 2, "record": {}}))
    (data_dir / "db" / ".records.json.x1.tmp").write_text("{")
    assert store.get_record(s.record_id).record == make_record("D1")
    TinyStore(data_dir)
    assert not orphan.exists() and not list((data_dir / "db").glob(".*.tmp"))
    assert TinyStore(data_dir).get_record(s.record_id).record == make_record("D1")


def test_a_second_store_sees_the_first_ones_writes(store):
    a, b = store, reopened(store)
    scan = new_scan(a)
    for i in range(30):  # quick successive writes: several within one mtime tick
        a.add_user(User(username=f"u{i}", password_hash="h", role="station"))
        assert b.get_user(f"u{i}") is not None
        b.add_station(Station(code=f"S{i}", name="站"))
        assert len(a.list_stations()) == i + 1
    [s] = b.save_records(scan.sha256, [make_record("D1")], "S01")
    assert a.list_records()[1] == 1  # the listing index follows too
    a.correct_field(s.record_id, "customer", "李四", "amy")
    assert field(b.get_record(s.record_id).record, "customer")["value"] == "李四"
    assert b.list_records(text="李四")[1] == 1
    assert len(b.list_corrections(s.record_id)) == 1
    b.close()


def test_twenty_threads_creating_batches_and_saving_records(store, tmp_path):
    stores = [store, reopened(store)]
    errors: list[BaseException] = []
    stop = threading.Event()

    def client(n: int) -> None:
        s = stores[n % 2]
        try:
            for k in range(3):
                scan, _ = s.put_scan(
                    f"client {n} file {k}".encode(), "f.jpg", "image/jpeg", f"u{n}", "S01"
                )
                s.create_batch(f"u{n}", "S01", [scan.sha256], pages_total=1)
                records = [make_record(f"D{n}-{k}-{j}") for j in range(2)]
                s.save_records(scan.sha256, records, "S01")
                s.save_records(scan.sha256, records, "S01")  # a retry: no duplicates
        except BaseException as exc:
            errors.append(exc)

    def reader() -> None:
        try:
            while not stop.is_set():
                stores[0].list_records(text="张三", order="least_confident")
                stores[1].list_batches()
                time.sleep(0.002)  # a client between requests, not a busy loop holding the GIL
        except BaseException as exc:
            errors.append(exc)

    watcher = threading.Thread(target=reader)
    watcher.start()
    threads = [threading.Thread(target=client, args=(n,)) for n in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stop.set()
    watcher.join()
    assert not errors, errors

    stores[1].close()
    with reopened(store) as check:
        assert len(check.list_batches()) == 60
        summaries, total = check.list_records(limit=1000)
        assert total == 120
        assert len({r.document_id for r in summaries}) == 120
        assert all(check.get_record(r.record_id) is not None for r in summaries)
        assert sum(len(check.list_jobs(b.batch_id)) for b in check.list_batches()) == 60
    if tinydb(store):
        jobs = json.loads((tmp_path / "data" / "db" / "queue.json").read_text())["jobs"]
        assert len(jobs) == 60


def _process_writer(data_dir: str, url: str | None, name: str, scan_id: str, count: int) -> None:
    store = open_store(Path(data_dir), database_url=url)
    for i in range(count):
        store.add_user(User(username=f"{name}-{i}", password_hash="h", role="station"))
        store.save_records(scan_id, [make_record(f"{name}-D{i}")], name)
    store.close()


def test_two_processes_writing_at_once(store, tmp_path):
    data_dir, url = tmp_path / "data", database_url(store)
    scan = new_scan(store)
    ctx = multiprocessing.get_context("spawn")
    procs = [
        ctx.Process(target=_process_writer, args=(str(data_dir), url, name, scan.sha256, 25))
        for name in ("p1", "p2")
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
    assert [p.exitcode for p in procs] == [0, 0]
    with reopened(store) as check:
        assert len(check.list_users()) == 50
        assert check.list_records(station="p1")[1] == 25
        assert check.list_records(station="p2")[1] == 25
    if tinydb(store):
        for path in (data_dir / "db").glob("*.json"):
            json.loads(path.read_text())  # whole, valid JSON
        assert len(list((data_dir / "records").glob("*.json"))) == 50


# -- speed -----------------------------------------------------------------------------------------------


@pytest.mark.exclusive  # times itself (tests/exclusive.py)
def test_listing_with_10000_records_stays_fast(store):
    scans = [new_scan(store, f"scan {i}".encode(), f"S{i:02d}") for i in range(20)]
    base = datetime(2026, 1, 1, tzinfo=UTC)
    templates = ["SH-ZH/BD-27", "SH-ZH/BD-20", "表格04", "表格11"]
    items = []
    for i in range(10_000):
        conf = 0.5 + (i * 37 % 50) / 100
        record = make_record(
            f"D{i:05d}",
            template=templates[i % 4],
            customer=f"客户{i}",
            vin_status="check" if conf < 0.9 else "ok",
            vin_confidence=conf,
        )
        items.append((scans[i % 20].sha256, record, f"S{i % 20:02d}", base + timedelta(minutes=i)))
    t0 = time.perf_counter()
    store.bulk_load_records(items)
    load_s = time.perf_counter() - t0

    queries = [
        {},
        {"order": "least_confident"},
        {"template": "表格04"},
        {"station": "S07", "status": "needs_review"},
        {"date_from": "2026-01-03", "date_to": "2026-01-05"},
        {"text": "客户4242"},
        {"text": "bd-27 s04", "order": "least_confident"},
        {"offset": 9000, "limit": 50},
    ]
    with reopened(store) as fresh:  # another process: (TinyDB) loads the file and the index
        t0 = time.perf_counter()
        assert fresh.list_records()[1] == 10_000
        cold_ms = (time.perf_counter() - t0) * 1000

    timings = []
    for _ in range(5):
        for q in queries:
            t0 = time.perf_counter()
            page, total = store.list_records(**q)
            timings.append((time.perf_counter() - t0) * 1000)
            assert total > 0 and len(page) <= 50
    timings.sort()
    p95 = timings[int(len(timings) * 0.95) - 1]

    t0 = time.perf_counter()
    [one] = store.save_records(scans[0].sha256, [make_record("NEW")], "S00")
    write_ms = (time.perf_counter() - t0) * 1000
    t0 = time.perf_counter()
    assert store.get_record(one.record_id) is not None
    get_ms = (time.perf_counter() - t0) * 1000
    t0 = time.perf_counter()
    assert store.list_records()[0][0].document_id == "NEW"
    after_write_ms = (time.perf_counter() - t0) * 1000
    print(
        f"\n{type(store).__name__}, 10,000 records: bulk load {load_s:.1f} s; list p95 {p95:.1f} ms, max {timings[-1]:.1f} ms;"
        f" cold open+list {cold_ms:.0f} ms; save_records {write_ms:.0f} ms;"
        f" first list after a write {after_write_ms:.1f} ms; get_record {get_ms:.1f} ms"
    )
    assert p95 < 500 and after_write_ms < 500


def test_the_store_is_its_roles(store):
    """The Store protocol is the union of its roles (issue 11), each a protocol of its own
    that each store meets, no method in two roles."""
    import inspect

    from formdesk.store import (
        AccountStore,
        ClaimStore,
        DocumentStore,
        HistoryStore,
        InstallationStore,
        LayoutStore,
        RecordStore,
        ScanStore,
        StationStore,
        Store,
    )

    roles = [
        StationStore,
        AccountStore,
        InstallationStore,
        DocumentStore,
        ScanStore,
        RecordStore,
        ClaimStore,
        HistoryStore,
        LayoutStore,
    ]

    def methods(proto):
        return {
            n for n, _ in inspect.getmembers(proto, inspect.isfunction) if not n.startswith("_")
        }

    assert all(isinstance(store, role) for role in roles)
    names = [methods(r) for r in roles]
    assert sum(map(len, names)) == len(set().union(*names))  # disjoint
    assert set().union(*names) == methods(Store)
