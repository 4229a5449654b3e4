"""The record store's rules (`RecordStore`, store/interface.py) on both stores, through the
same tests: the TinyDB store and the PostgreSQL one (store/sql/records.py). Then what only
a server shows: corrections made at once, readings saved at once, and a bulk load
compared query by query with the TinyDB store's answers."""

from __future__ import annotations

import hashlib
import threading
from datetime import UTC, date, datetime, timedelta

import pytest

from formdesk.store import NotFoundError, TinyStore
from formdesk.store import tinydb_store as tinydb_store_module
from formdesk.store.sql import records as sql_records_module
from formdesk.store.sql.records import SqlRecordStore
from formdesk.store.sql.schema import scans

from .test_store import VIN, field, make_record


class Records:
    """A record store under test and how to give it what records need: a stored scan."""

    def __init__(self, kind: str, store, engine=None):
        self.kind, self.store, self.engine = kind, store, engine

    def scan(self, content: bytes, station: str | None = "S01") -> str:
        """The sha256 of a stored scan of `content` (uploaded by `station`)."""
        if self.kind == "tinydb":
            scan, _ = self.store.put_scan(content, "scan.pdf", "application/pdf", "alice", station)
            return scan.sha256
        sha = hashlib.sha256(content).hexdigest()
        now = datetime.now(UTC)
        owner = {"station": station, "uploaded_by": "alice", "filename": "scan.pdf"}
        with self.engine.begin() as db:
            db.execute(
                scans.insert().values(
                    sha256=sha, filename="scan.pdf", content_type="application/pdf",
                    size=len(content), station=station, uploaded_by="alice", uploaded_at=now,
                    owners=[{**owner, "uploaded_at": now.isoformat()}],
                )
            )  # fmt: skip
        return sha

    def bulk(self, items):
        if self.kind == "tinydb":
            return self.store._bulk_load_records(items)
        return self.store.bulk_load_records(items)


@pytest.fixture(params=["tinydb", "postgresql"])
def rs(request, tmp_path) -> Records:
    if request.param == "tinydb":
        with TinyStore(tmp_path) as store:
            yield Records("tinydb", store)
    else:
        engine = request.getfixturevalue("pg_engine")
        yield Records("postgresql", SqlRecordStore(engine), engine)


class Clock:
    def __init__(self):
        self.at = datetime(2026, 1, 1, 12, tzinfo=UTC)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    """Both stores' clock, set by the test."""
    c = Clock()
    for module in (tinydb_store_module, sql_records_module):
        monkeypatch.setattr(module, "_now", lambda: c.at)
    return c


def docs(rs: Records, **kw) -> list[str]:
    return [r.document_id for r in rs.store.list_records(**kw)[0]]


# -- saving and reading again -------------------------------------------------------------------


def test_save_and_get_round_trip(rs):
    store = rs.store
    scan = rs.scan(b"scan one")
    first = store.save_records(
        scan, [make_record("D1"), make_record("D1", copy_index=2, file_page=1, table=True)], "S01"
    )
    assert len(first) == 2 and first[0].record_id != first[1].record_id
    s, t = first
    assert (s.template, s.template_version, s.document_id, s.copy_index) == (
        "SH-ZH/BD-27", 3, "D1", 1,
    )  # fmt: skip
    assert (s.status, s.min_confidence, s.fields_to_check) == ("needs_review", 0.5, 1)
    assert (s.scan_id, s.station, s.file_pages, s.verified_by) == (scan, "S01", [0], None)
    assert (t.copy_index, t.file_pages, t.fields_to_check, t.min_confidence) == (2, [1], 2, 0.4)
    assert s.reasons == ["1 栏需核对"] and s.duplicate_of is None
    for word in ("SH-ZH/BD-27", "D1", "S01", "张三", VIN):
        assert word in s.search_text
    got = store.get_record(s.record_id)
    assert (got.summary, got.record, got.damaged) == (s, make_record("D1"), None)
    got = store.get_record(t.record_id)
    assert got.summary == t and got.damaged is None
    assert got.record == make_record("D1", copy_index=2, file_page=1, table=True)
    assert store.list_records()[1] == 2
    assert store.get_record("nope") is None and store.get_record("") is None

    with pytest.raises(NotFoundError):
        store.save_records("f" * 64, [make_record("D2")], None)
    with pytest.raises(ValueError, match="识读结果格式不对"):
        store.save_records(scan, [{"template": "x"}], None)
    assert store.list_records()[1] == 2


def test_reading_again_replaces_the_same_reading_keeping_id_and_corrections(rs, clock):
    store = rs.store
    scan = rs.scan(b"scan one")
    [s] = store.save_records(scan, [make_record("D1")], "S01")
    fix = store.correct_field(s.record_id, "customer", "李四", "amy")

    clock.at += timedelta(hours=1)
    again = store.save_records(scan, [make_record("D1")], "S01")
    unchanged = store.get_record(s.record_id).summary
    assert again == [unchanged]  # the corrected record: the same reading changes nothing
    assert unchanged.updated_at == fix.at  # the correction's time, not this save's

    clock.at += timedelta(hours=1)
    [reread, new] = store.save_records(
        scan, [make_record("D1", vin_status="ok", vin_confidence=0.99), make_record("D9")], "S01"
    )
    assert (reread.record_id, reread.created_at) == (s.record_id, s.created_at)
    assert reread.updated_at == clock.at and new.record_id != s.record_id
    assert (reread.status, reread.fields_to_check, reread.min_confidence) == ("ready", 0, 0.99)
    body = store.get_record(s.record_id).record
    assert field(body, "customer")["value"] == "李四"  # the person's correction reapplied
    assert field(body, "vin")["status"] == "ok"  # the new reading
    assert "李四" in reread.search_text and "张三" not in reread.search_text
    assert store.list_corrections(s.record_id) == [fix]
    assert store.list_records()[1] == 2

    other = rs.scan(b"another scan of the same form")
    [elsewhere] = store.save_records(other, [make_record("D1")], "S01")
    assert elsewhere.record_id not in (s.record_id, new.record_id)
    assert store.list_records()[1] == 3
    # one reading listing the same document twice: one record, the last reading kept
    twice = store.save_records(
        other, [make_record("D1", customer="甲"), make_record("D1", customer="乙")], "S01"
    )
    assert [x.record_id for x in twice] == [elsewhere.record_id]
    assert field(store.get_record(elsewhere.record_id).record, "customer")["value"] == "乙"


def test_an_unchanged_reading_keeps_the_verification_a_changed_one_clears_it(rs):
    store = rs.store
    scan = rs.scan(b"scan one")
    [s] = store.save_records(scan, [make_record("D1")], "S01")
    v = store.verify_record(s.record_id, "auditor1")
    assert (v.status, v.verified_by, v.record_id) == ("verified", "auditor1", s.record_id)
    assert v.verified_at is not None and v.updated_at == v.verified_at
    assert store.get_record(s.record_id).summary == v
    assert store.list_records(status="verified") == ([v], 1)
    assert store.save_records(scan, [make_record("D1")], "S01") == [v]
    [changed] = store.save_records(scan, [make_record("D1", customer="王五")], "S01")
    assert (changed.status, changed.verified_by, changed.verified_at) == (
        "needs_review", None, None,
    )  # fmt: skip
    assert store.list_records(status="verified") == ([], 0)
    with pytest.raises(NotFoundError):
        store.verify_record("nope", "x")


def test_two_stations_reading_one_scan_keep_their_own_records(rs):
    store = rs.store
    scan = rs.scan(b"shared bytes", "S01")
    [a] = store.save_records(scan, [make_record("D1")], "S01")
    [b] = store.save_records(scan, [make_record("D1")], "S02")
    [c] = store.save_records(scan, [make_record("D1")], None)  # the back office
    assert len({a.record_id, b.record_id, c.record_id}) == 3
    assert (a.station, b.station, c.station) == ("S01", "S02", None)
    store.correct_field(b.record_id, "customer", "S02 的更正", "amy")
    [a2] = store.save_records(scan, [make_record("D1", customer="重读")], "S01")
    [c2] = store.save_records(scan, [make_record("D1", customer="后台")], None)
    assert (a2.record_id, c2.record_id) == (a.record_id, c.record_id)
    values = {
        x.record_id: field(store.get_record(x.record_id).record, "customer")["value"]
        for x in (a, b, c)
    }
    assert values == {a.record_id: "重读", b.record_id: "S02 的更正", c.record_id: "后台"}
    assert store.list_corrections(a.record_id) == [] and store.list_records()[1] == 3
    assert docs(rs, station="S02") == ["D1"]


# -- listing --------------------------------------------------------------------------------------


def test_list_records_filters_orders_ties_and_pages(rs, clock):
    store = rs.store
    scan_a, scan_b = rs.scan(b"a", "S01"), rs.scan(b"b", "S02")
    ids = {}
    specs = [  # day, scan, station, document, template, vin confidence, customer
        (1, scan_a, "S01", "D1", "SH-ZH/BD-27", 0.45, "张三"),
        (2, scan_a, "S01", "D2", "表格04", 0.95, "李四"),
        (3, scan_b, "S02", "D3", "SH-ZH/BD-27", 0.3, "王五"),
        (4, scan_b, "S02", "D4", "表格04", 0.48, "Zhao Liu"),
    ]
    for day, scan, station, doc, template, conf, customer in specs:
        clock.at = datetime(2026, 1, day, 12, tzinfo=UTC)
        record = make_record(
            doc,
            template=template,
            customer=customer,
            vin_status="check" if conf < 0.9 else "ok",
            vin_confidence=conf,
        )
        [summary] = store.save_records(scan, [record], station)
        ids[doc] = summary.record_id

    assert docs(rs) == ["D4", "D3", "D2", "D1"]
    assert docs(rs, order="least_confident") == ["D3", "D1", "D4", "D2"]
    assert docs(rs, template="表格04") == ["D4", "D2"]
    assert docs(rs, station="S01") == ["D2", "D1"]
    assert docs(rs, status="ready") == ["D2"]
    assert docs(rs, status="needs_review", order="least_confident") == ["D3", "D1", "D4"]
    assert docs(rs, template="SH-ZH/BD-27", station="S02", status="needs_review") == ["D3"]
    assert docs(rs, status="verified") == []
    assert docs(rs, date_from=date(2026, 1, 2), date_to=date(2026, 1, 3)) == ["D3", "D2"]
    assert docs(rs, date_from="2026-01-03") == ["D4", "D3"]
    assert docs(rs, date_to="2026-01-01") == ["D1"]
    assert docs(rs, date_to=datetime(2026, 1, 2, 12, tzinfo=UTC)) == ["D2", "D1"]  # inclusive
    assert docs(rs, date_to=datetime(2026, 1, 2, 11, 59, tzinfo=UTC)) == ["D1"]
    assert docs(rs, date_from=datetime(2026, 1, 3, 12, tzinfo=UTC)) == ["D4", "D3"]
    assert docs(rs, date_from=datetime(2026, 1, 3, 12, 0, 1)) == ["D4"]  # naive: UTC
    assert docs(rs, date_from="2026-01-02T12:00:00+00:00", date_to="2026-01-03T12:00Z") == [
        "D3", "D2",
    ]  # fmt: skip
    assert docs(rs, date_from=date(2026, 1, 5)) == []

    # ties: three records saved at one instant, as confident as D1
    clock.at = datetime(2026, 1, 5, 12, tzinfo=UTC)
    tied = store.save_records(
        scan_a,
        [make_record(f"T{i}", vin_confidence=0.45) for i in range(3)],
        "S01",
    )
    tie_docs = [x.document_id for x in sorted(tied, key=lambda x: x.record_id, reverse=True)]
    assert docs(rs) == [*tie_docs, "D4", "D3", "D2", "D1"]
    assert docs(rs, order="least_confident") == ["D3", *tie_docs, "D1", "D4", "D2"]

    page, total = store.list_records(offset=1, limit=2)
    assert [r.document_id for r in page] == tie_docs[1:3] and total == 7
    page, total = store.list_records(order="least_confident", offset=3, limit=3)
    assert [r.document_id for r in page] == [tie_docs[2], "D1", "D4"] and total == 7
    assert store.list_records(station="S02", limit=1) == (
        [store.get_record(ids["D4"]).summary],
        2,
    )
    assert store.list_records(offset=7) == ([], 7)
    assert store.list_records(limit=0) == ([], 7)
    assert store.list_records(offset=100, template="表格04") == ([], 2)
    with pytest.raises(ValueError, match="不支持的排序"):
        store.list_records(order="oldest")
    with pytest.raises(ValueError, match="分页参数不能为负数"):
        store.list_records(offset=-1)
    with pytest.raises(ValueError, match="分页参数不能为负数"):
        store.list_records(limit=-1)
    with pytest.raises(ValueError, match="日期格式不对"):
        store.list_records(date_from="yesterday")


def test_text_search_every_term_any_case_wildcards_literal(rs):
    store = rs.store
    scan = rs.scan(b"scan")
    customers = {
        "D1": "Zhao Liu",
        "D2": "100%纯正",
        "D3": "a_b",
        "D4": "axb",
        "D5": "back\\slash",
        "D6": "Straße 7号",
        "D7": "张三",
    }
    store.save_records(scan, [make_record(d, customer=c) for d, c in customers.items()], "S01")
    store.save_records(rs.scan(b"other", "S02"), [make_record("D8", customer="ZHAO")], "S02")

    def found(text: str) -> set[str]:
        return set(docs(rs, text=text))

    assert found("zhao") == {"D1", "D8"}
    assert found("ZHAO liu") == {"D1"}  # every term, any case
    assert found("  liu\tZhao ") == {"D1"}  # any order, any whitespace
    assert found("zhao s02") == {"D8"}  # the station is searched too
    assert found("zhao nobody") == set()
    assert found("bd-27 d3") == {"D3"}  # the template and the document id
    assert found("strasse") == {"D6"} and found("STRASSE 7号") == {"D6"}  # casefolded
    assert found("%") == {"D2"}  # % and _ are characters here, not wildcards
    assert found("0%纯") == {"D2"} and found("0%正") == set()
    assert found("_") == {"D3"}
    assert found("a_b") == {"D3"}
    assert found("\\") == {"D5"} and found("k\\s") == {"D5"}
    assert found("张三") == {"D7"} and found("张 三") == {"D7"}
    assert found(VIN.lower()) == set(customers) | {"D8"}
    assert found("") == found("   ") == set(customers) | {"D8"}
    assert store.list_records(text="zhao", limit=1)[1] == 2


def test_second_scans_are_left_out_unless_asked(rs):
    store = rs.store
    scan_a, scan_b = rs.scan(b"first"), rs.scan(b"second")
    [first] = store.save_records(scan_a, [make_record("D1")], "S01")
    dup = make_record("D1", customer="张三重扫")
    dup["filing"]["duplicate_of"] = first.record_id
    [second] = store.save_records(scan_b, [dup], "S01")
    assert second.duplicate_of == first.record_id and "重复扫描" in second.reasons
    assert store.list_records() == ([first], 1)
    assert store.list_records(text="重扫") == ([], 0)
    page, total = store.list_records(duplicates=True)
    assert {r.record_id for r in page} == {first.record_id, second.record_id} and total == 2
    assert store.list_records(duplicates=True, text="重扫") == ([second], 1)
    assert store.get_record(second.record_id).summary == second


# -- corrections -------------------------------------------------------------------------------------


def test_corrections_of_fields_and_table_cells(rs):
    store = rs.store
    scan = rs.scan(b"scan")
    [s] = store.save_records(scan, [make_record("D1", table=True)], "S01")
    assert s.fields_to_check == 2

    c1 = store.correct_field(s.record_id, "vin", "LSVAU2180N2183295", "amy")
    assert (c1.record_id, c1.field_key, c1.row, c1.column) == (s.record_id, "vin", None, None)
    assert (c1.old_value, c1.new_value, c1.user) == (VIN, "LSVAU2180N2183295", "amy")
    assert len(c1.correction_id) == 10
    rec = store.get_record(s.record_id)
    vin = field(rec.record, "vin")
    assert (vin["value"], vin["status"], vin["confidence"], vin["raw"]) == (
        "LSVAU2180N2183295", "ok", 1.0, VIN,
    )  # fmt: skip
    assert vin["evidence"] == ["corrected"]
    assert (rec.summary.fields_to_check, rec.summary.status) == (1, "needs_review")
    assert rec.summary.created_at == s.created_at and rec.summary.updated_at == c1.at

    c2 = store.correct_field(s.record_id, "vin", "LSVAU2180N2183296", "bob")
    c3 = store.correct_field(s.record_id, "parts", 8, "bob", row=2, column="qty")  # 第2行
    c4 = store.correct_field(s.record_id, "phone", "  ", "bob")  # blank: empty
    assert c2.old_value == "LSVAU2180N2183295" and (c3.old_value, c3.new_value) == (7, 8)
    assert (c3.row, c3.column) == (2, "qty") and (c4.old_value, c4.new_value) == (None, "  ")
    rec = store.get_record(s.record_id)
    parts = field(rec.record, "parts")
    assert parts["value"][1] == {"part": "空气滤芯", "qty": 8} and parts["status"] == "ok"
    assert parts["rows"][1]["qty"]["raw"] == "7?"
    assert (field(rec.record, "phone")["value"], field(rec.record, "phone")["status"]) == (
        None, "empty",
    )  # fmt: skip
    assert (rec.summary.status, rec.summary.fields_to_check) == ("ready", 0)
    assert store.list_records(status="ready") == ([rec.summary], 1)
    assert store.list_corrections(s.record_id) == [c1, c2, c3, c4]
    assert len({c.correction_id for c in (c1, c2, c3, c4)}) == 4

    before = store.get_record(s.record_id)
    for bad, message in (
        ({"field_key": "nope"}, "没有栏目"),
        ({"field_key": "parts"}, "是表格"),
        ({"field_key": "parts", "row": 3, "column": "qty"}, "没有第3行"),
        ({"field_key": "parts", "row": 0, "column": "qty"}, "没有第0行"),
        ({"field_key": "parts", "row": 1, "column": "nope"}, "这一列"),
        ({"field_key": "parts", "row": 1}, "这一列"),
        ({"field_key": "vin", "row": 1, "column": "qty"}, "不是表格"),
        ({"field_key": "vin", "column": "qty"}, "同时指定行和列"),
    ):
        with pytest.raises(ValueError, match=message):
            store.correct_field(s.record_id, new_value="x", user="amy", **bad)
    with pytest.raises(NotFoundError):
        store.correct_field("nope", "vin", "x", "amy")
    assert store.get_record(s.record_id) == before  # refusals change nothing
    assert store.list_corrections(s.record_id) == [c1, c2, c3, c4]
    assert store.list_corrections("nope") == []

    # Reading the scan again keeps the people's corrections.
    [reread] = store.save_records(scan, [make_record("D1", table=True)], "S01")
    assert reread.record_id == s.record_id and reread.status == "ready"
    assert field(store.get_record(s.record_id).record, "vin")["value"] == "LSVAU2180N2183296"
    assert store.list_corrections(s.record_id) == [c1, c2, c3, c4]


def test_a_correction_clears_the_verification(rs):
    store = rs.store
    [s] = store.save_records(rs.scan(b"scan"), [make_record("D1", vin_status="ok")], "S01")
    assert s.status == "ready"
    v = store.verify_record(s.record_id, "auditor1")
    assert v.status == "verified"
    store.correct_field(s.record_id, "customer", "李四", "amy")
    after = store.get_record(s.record_id).summary
    assert (after.status, after.verified_by, after.verified_at) == ("ready", None, None)
    again = store.verify_record(s.record_id, "auditor2")
    assert (again.status, again.verified_by) == ("verified", "auditor2")
    assert again.verified_at >= v.verified_at


# -- PostgreSQL only ---------------------------------------------------------------------------------


@pytest.fixture
def pg(pg_engine) -> Records:
    return Records("postgresql", SqlRecordStore(pg_engine), pg_engine)


def test_corrections_made_at_once_all_stay(pg):
    """Each correction locks the record's row from reading to rewriting: of corrections
    to different fields made at once, none overwrites another's."""
    store = pg.store
    scan = pg.scan(b"scan")
    changes = [
        ("customer", "客户改", None, None),
        ("vin", "LSVAU2180N2183299", None, None),
        ("phone", "13800000000", None, None),
        ("parts", "机油泵", 1, "part"),
        ("parts", 3, 1, "qty"),
        ("parts", 9, 2, "qty"),
    ]
    for round_ in range(3):
        [s] = store.save_records(scan, [make_record(f"D{round_}", table=True)], "S01")
        start = threading.Barrier(len(changes))
        errors: list[BaseException] = []

        def correct(key, value, row, column, s=s, start=start, errors=errors):
            start.wait()
            try:
                store.correct_field(s.record_id, key, value, "amy", row=row, column=column)
            except BaseException as exc:  # noqa: BLE001 (reported below)
                errors.append(exc)

        threads = [threading.Thread(target=correct, args=c) for c in changes]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        rec = store.get_record(s.record_id)
        body = rec.record
        assert field(body, "customer")["value"] == "客户改"
        assert field(body, "vin")["value"] == "LSVAU2180N2183299"
        assert field(body, "phone")["value"] == "13800000000"
        assert field(body, "parts")["value"] == [
            {"part": "机油泵", "qty": 3},
            {"part": "空气滤芯", "qty": 9},
        ]
        assert (rec.summary.status, rec.summary.fields_to_check) == ("ready", 0)
        trail = store.list_corrections(s.record_id)
        assert sorted((c.field_key, c.row, c.column) for c in trail) == sorted(
            (k, r, c) for k, _, r, c in changes
        )
        assert [c.at for c in trail] == sorted(c.at for c in trail)  # oldest first


def test_two_readings_of_one_scan_saved_at_once_make_one_record(pg):
    store = pg.store
    scan = pg.scan(b"scan")
    start = threading.Barrier(4)
    out, errors = [], []

    def save(n: int) -> None:
        start.wait()
        try:
            out.append(store.save_records(scan, [make_record("D1", customer=f"第{n}次")], "S01"))
        except BaseException as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)

    threads = [threading.Thread(target=save, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len({s.record_id for [s] in out}) == 1
    assert store.list_records()[1] == 1


def test_bulk_load_answers_as_the_tinydb_store(pg, tmp_path):
    """5,000 records loaded in one go into both stores: every listing the same."""
    with TinyStore(tmp_path) as tiny_store:
        _bulk_load_answers_as_the_tinydb_store(pg, Records("tinydb", tiny_store))


def _bulk_load_answers_as_the_tinydb_store(pg: Records, tiny: Records) -> None:
    stations = [f"S{i:02d}" for i in range(5)]
    scan_ids = {}
    for rs in (tiny, pg):
        scan_ids[rs.kind] = [rs.scan(f"scan {i}".encode(), st) for i, st in enumerate(stations)]
    base = datetime(2026, 1, 1, tzinfo=UTC)
    templates = ["SH-ZH/BD-27", "SH-ZH/BD-20", "表格04", "表格11"]

    def items(kind: str):
        out = []
        for i in range(5000):
            conf = 0.5 + (i * 37 % 50) / 100
            record = make_record(
                f"D{i:05d}",
                template=templates[i % 4],
                customer=f"客户{i}",
                vin_status="check" if conf < 0.9 else "ok",
                vin_confidence=conf,
                table=i % 10 == 0,
            )
            if i % 500 == 7:
                record["filing"]["duplicate_of"] = "0123456789"
            out.append(
                (scan_ids[kind][i % 5], record, stations[i % 5], base + timedelta(minutes=i))
            )
        return out

    loaded = {rs.kind: rs.bulk(items(rs.kind)) for rs in (tiny, pg)}
    assert len(loaded["postgresql"]) == 5000
    assert [s.document_id for s in loaded["postgresql"]] == [
        s.document_id for s in loaded["tinydb"]
    ]
    queries = [
        {},
        {"order": "least_confident"},
        {"duplicates": True, "limit": 200},
        {"template": "表格04", "order": "least_confident", "offset": 40},
        {"station": "S03", "status": "needs_review"},
        {"status": "ready", "limit": 500},
        {"date_from": "2026-01-02", "date_to": "2026-01-03"},
        {"date_from": datetime(2026, 1, 3, 5, 17, tzinfo=UTC), "limit": 10},
        {"text": "客户4242"},
        {"text": "客户42", "order": "least_confident"},
        {"text": "bd-27 s04", "order": "least_confident"},
        {"offset": 4900, "limit": 50},
        {"offset": 4990, "limit": 50, "duplicates": True},
    ]
    for q in queries:
        answers = {}
        for rs in (tiny, pg):
            page, total = rs.store.list_records(**q)
            answers[rs.kind] = ([(r.document_id, r.status, r.min_confidence) for r in page], total)
            assert total > 0, q
        assert answers["postgresql"] == answers["tinydb"], q
    page, total = pg.store.list_records()
    assert total == 4990 and page[0].document_id == "D04999" and len(page) == 50
    one = loaded["postgresql"][4242]
    assert pg.store.get_record(one.record_id).record == items("postgresql")[4242][1]
    # loading the same readings again changes nothing and makes no new record
    again = pg.bulk(items("postgresql")[:100])
    assert again == loaded["postgresql"][:100]
    assert pg.store.list_records(duplicates=True)[1] == 5000


def test_the_totals_kept_by_the_trigger_match_a_count_through_every_write(pg):
    """list_records' total without a date or text filter comes from record_counts (kept by
    a trigger, migration 0003): after saves, a changed re-reading, a second scan, a
    correction, a verification and a record moved to another station, every combination
    of filters must total what a count over the records gives."""
    from sqlalchemy import func, select

    from formdesk.store.sql.schema import records

    store = pg.store
    a, b, c = pg.scan(b"a"), pg.scan(b"b"), pg.scan(b"c", station=None)
    first = store.save_records(a, [make_record(f"D{i}") for i in range(6)], "S01")
    store.save_records(b, [make_record("E1", template="SH-ZH/BD-30", vin_status="ok",
                                       vin_confidence=0.99)], "S02")  # fmt: skip
    store.save_records(c, [make_record("F1")], None)  # the back office's
    dup = make_record("D0", customer="重扫")
    dup["filing"]["duplicate_of"] = first[0].record_id
    store.save_records(b, [dup], "S01")
    store.save_records(a, [make_record("D1", vin_status="ok", vin_confidence=0.99)], "S01")
    store.correct_field(first[2].record_id, "vin", "LFV2A21K8G3060015", "alice")
    store.verify_record(first[3].record_id, "alice")
    store.save_records(a, [make_record("D4")], "S02")  # another station's reading
    with pg.engine.connect() as db:
        assert db.execute(select(func.count()).select_from(records)).scalar_one() == 10
    for template in (None, "SH-ZH/BD-27", "SH-ZH/BD-30"):
        for station in (None, "S01", "S02"):
            for status in (None, "ready", "needs_review", "verified"):
                kw = {"template": template, "station": station, "status": status}
                kw = {k: v for k, v in kw.items() if v is not None}
                where = [records.c.duplicate_of.is_(None)] + [
                    records.c[k] == v for k, v in kw.items()
                ]
                with pg.engine.connect() as db:
                    expected = db.execute(
                        select(func.count()).select_from(records).where(*where)
                    ).scalar_one()
                assert store.list_records(limit=0, **kw)[1] == expected, kw
    assert store.list_records(limit=0)[1] == 9  # the second scan left out
