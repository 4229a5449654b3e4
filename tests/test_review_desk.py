"""The back-office desk's review rules (issue 12, point 4), on both stores: a field a person
changed is marked 已更正 (who, when) and one they kept 已确认, neither counting as the
reader's; a plain confirmation is not logged as a correction; bulk confirmation takes only
records whose every field is ok and whose reasons the clerk accepts, and refuses when the
queue changed since the clerk saw the count."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from formdesk.api.app import create_app
from formdesk.model.accounts import User
from formdesk.model.claims import Station
from formdesk.model.errors import ConflictError, NotFoundError
from formdesk.model.record import FormRecord, PageSource
from formdesk.services import records, review_bulk
from formdesk.services.passwords import hash_password
from formdesk.services.refusals import Refused

from .test_store import field, new_scan, reading

PASSWORD = "correct horse 7"


@dataclass(frozen=True)
class Who:
    """A viewer as the services take it (services.viewers.Viewer)."""

    username: str = "office"
    role: str = "back_office"
    station: str | None = None

    @property
    def station_filter(self) -> str | None:
        return self.station if self.role == "station" else None

    def sees(self, station: str | None) -> bool:
        return self.role != "station" or station == self.station


OFFICE = Who()


def make_record(doc: str, *, sender: str = "长沙顺达", mileage_status: str = "check") -> dict:
    """A BD-27 tag's record: 来件单位 and 车型 ok, 行驶里程 as `mileage_status` says."""
    return FormRecord(
        template="SH-ZH/BD-27",
        template_version=1,
        document_id=doc,
        identified_by="qr",
        authentic=True,
        residual_mm=0.4,
        pages=[PageSource(file="scan.pdf", file_page=0)],
        fields=[
            reading("sender_unit", sender, label="来件单位"),
            reading("vehicle_model", "EQ7200", label="车型"),
            reading(
                "mileage_km",
                48260,
                mileage_status,
                0.99 if mileage_status == "ok" else 0.5,
                label="行驶里程",
                type="integer",
                reason=None if mileage_status == "ok" else "识别把握不大,请核对",
            ),
            reading("part_no", None, "empty", 1.0, label="零件号"),
        ],
    ).model_dump(mode="json")


def _unsigned(doc: str) -> dict:
    """A record the reader read fully ok, whose QR was signed with another key (签名不符)."""
    rec = make_record(doc, mileage_status="ok")
    rec["authentic"] = False
    return rec


def test_a_changed_field_is_marked_corrected_and_a_kept_one_confirmed(any_store):
    store = any_store
    scan = new_scan(store)
    (summary,) = store.save_records(scan.sha256, [make_record("D1")], "S01")
    rid = summary.record_id
    kept = records.correct_field(store, OFFICE, rid, "mileage_km", "48,260")
    assert kept.kind == "confirmed"
    changed = records.correct_field(store, OFFICE, rid, "part_no", "1012010-A01")
    assert changed.kind == "corrected" and changed.old_value is None
    detail = records.record_detail(store, OFFICE, rid)
    mileage, part = field(detail.record, "mileage_km"), field(detail.record, "part_no")
    assert (mileage["reviewed"], mileage["reviewed_by"], mileage["evidence"]) == (
        "confirmed",
        "office",
        ["confirmed"],
    )
    assert (part["reviewed"], part["reviewed_by"]) == ("corrected", "office")
    assert part["reviewed_at"] and part["evidence"] == ["corrected"]
    # the reader's own readings carry no mark
    assert field(detail.record, "vehicle_model")["reviewed"] is None
    assert [c.kind for c in detail.corrections] == ["confirmed", "corrected"]
    assert detail.summary.fields_to_check == 0


def test_marks_survive_a_second_reading_of_the_same_scan(any_store):
    """Corrections are applied again when the scan is read again: the marks come back."""
    store = any_store
    scan = new_scan(store)
    (summary,) = store.save_records(scan.sha256, [make_record("D2")], "S01")
    records.correct_field(store, OFFICE, summary.record_id, "sender_unit", "衡阳广汇")
    store.save_records(scan.sha256, [make_record("D2", sender="衡阳广江")], "S01")
    stored = store.get_record(summary.record_id)
    sender = field(stored.record, "sender_unit")
    assert (sender["value"], sender["reviewed"], sender["reviewed_by"]) == (
        "衡阳广汇",
        "corrected",
        "office",
    )


def test_bulk_confirmation_takes_only_all_ok_records_with_accepted_reasons(any_store):
    store = any_store
    scan = new_scan(store)
    saved = store.save_records(
        scan.sha256,
        [
            _unsigned("B1"),
            _unsigned("B2"),
            make_record("B3"),  # one field to check: never taken
            # a problem with what the form says: opened one by one, never confirmed in bulk
            {**_unsigned("B4"), "problems": ["缺少第 2 页"]},
        ],
        "S01",
    )
    ids = {s.document_id: s.record_id for s in saved}
    seen = review_bulk.bulk_candidates(store, OFFICE)
    assert seen.records == 2
    assert {r.reason: r.records for r in seen.reasons} == {"签名不符": 2}
    with pytest.raises(ConflictError, match="现在符合条件的是 2 条"):
        review_bulk.bulk_verify(store, OFFICE, ["签名不符", "缺少第 2 页"], expected=3)
    assert store.get_record(ids["B1"]).summary.status == "needs_review"  # nothing confirmed
    with pytest.raises(Refused):
        review_bulk.bulk_verify(store, OFFICE, [], expected=0)
    done = review_bulk.bulk_verify(store, OFFICE, ["签名不符"], expected=2)
    assert sorted(done) == sorted([ids["B1"], ids["B2"]])
    status = {d: store.get_record(r).summary for d, r in ids.items()}
    assert status["B1"].status == status["B2"].status == "verified"
    assert status["B1"].verified_by == "office"
    assert status["B3"].status == status["B4"].status == "needs_review"
    # a station user's bulk confirmation reaches only its own station's records
    other = new_scan(store, b"%PDF-1.7 other", station="S02")
    store.save_records(other.sha256, [_unsigned("C1")], "S02")
    s01 = Who("s1", "station", "S01")
    assert review_bulk.bulk_candidates(store, s01).records == 0  # B1, B2 done; B4 never
    assert review_bulk.bulk_candidates(store, OFFICE).records == 1  # C1


@pytest.fixture
def app(any_settings):
    app = create_app(settings=any_settings, start_worker=False)
    store = app.state.store
    store.add_station(Station(code="S01", name="长沙顺达汽车维修站"))
    for username, role in (("office", "back_office"), ("audit", "auditor")):
        store.add_user(User(username=username, password_hash=hash_password(PASSWORD), role=role))
    with TestClient(app):
        yield app
    store.close()


def _login(app, username: str) -> TestClient:
    client = TestClient(app)
    res = client.post("/api/login", data={"username": username, "password": PASSWORD})
    assert res.status_code == 200, res.text
    client.headers["X-CSRF-Token"] = res.json()["csrf"]
    return client


def test_the_bulk_confirmation_api(app):
    store = app.state.store
    scan = new_scan(store)
    store.save_records(scan.sha256, [_unsigned("A1"), _unsigned("A2"), make_record("A3")], "S01")
    office, audit = _login(app, "office"), _login(app, "audit")
    seen = office.get("/api/review/bulk").json()
    assert seen["records"] == 2 and seen["groups"] == [{"reasons": ["签名不符"], "records": 2}]
    refused = audit.post("/api/review/bulk", json={"accept": ["签名不符"], "expected": 2})
    assert refused.status_code == 403
    stale = office.post("/api/review/bulk", json={"accept": ["签名不符"], "expected": 5})
    assert stale.status_code == 409 and "请刷新" in stale.json()["reason"]
    done = office.post("/api/review/bulk", json={"accept": ["签名不符"], "expected": 2})
    assert done.status_code == 200 and done.json()["verified"] == 2
    left = office.get("/api/records", params={"status": "needs_review"}).json()
    assert [r["document_id"] for r in left["items"]] == ["A3"]
    again = office.post("/api/review/bulk", json={"accept": ["签名不符"], "expected": 2})
    assert again.status_code == 422 and "没有符合条件的记录" in again.json()["reason"]


# -- record actions (issue 12, point 3): void, restore, undo 确认无误, set station ----------------


def test_a_voided_record_is_kept_audited_and_out_of_every_list(any_store):
    store = any_store
    scan = new_scan(store)
    a, b = store.save_records(scan.sha256, [make_record("V1"), make_record("V2")], "S01")
    with pytest.raises(ValueError, match="原因"):
        store.void_records([a.record_id], "office", "  ")
    (voided,) = store.void_records([a.record_id], "office", "重复上传")
    assert voided.status == "voided"
    rows, total = store.list_records()
    assert total == 1 and [r.document_id for r in rows] == ["V2"]
    assert store.list_records(station="S01", template="SH-ZH/BD-27")[1] == 1
    assert store.list_records(status="voided")[1] == 1
    assert store.get_record(a.record_id).record["document_id"] == "V1"  # kept whole
    with pytest.raises(ConflictError, match="已作废"):
        store.verify_record(a.record_id, "office")
    with pytest.raises(ConflictError, match="已作废"):
        store.void_records([a.record_id], "office", "again")
    # a new reading of its scan does not bring it back
    store.save_records(scan.sha256, [make_record("V1", sender="长沙顺达2")], "S01")
    assert store.get_record(a.record_id).summary.status == "voided"
    restored = store.restore_record(a.record_id, "office")
    assert restored.status == "needs_review"
    assert store.list_records()[1] == 2
    events = store.list_record_events(a.record_id)
    assert [(e.action, e.user, e.reason, e.old) for e in events] == [
        ("void", "office", "重复上传", "needs_review"),
        ("restore", "office", None, None),
    ]
    # all or none: one bad id voids nothing
    with pytest.raises(NotFoundError):
        store.void_records([b.record_id, "0000000000"], "office", "误传")
    assert store.get_record(b.record_id).summary.status == "needs_review"


def test_a_confirmation_can_be_undone(any_store):
    store = any_store
    scan = new_scan(store)
    (a,) = store.save_records(scan.sha256, [_unsigned("U1")], "S01")
    with pytest.raises(ConflictError, match="尚未确认"):
        store.unverify_record(a.record_id, "office")
    store.verify_record(a.record_id, "office")
    back = store.unverify_record(a.record_id, "lead")
    assert (back.status, back.verified_by, back.verified_at) == ("needs_review", None, None)
    (event,) = store.list_record_events(a.record_id)
    assert (event.action, event.user, event.old) == ("unverify", "lead", "office")
    # a verified record voided and restored is verified again
    store.verify_record(a.record_id, "office")
    store.void_records([a.record_id], "office", "测试")
    assert store.restore_record(a.record_id, "office").status == "verified"


def test_a_station_set_by_a_person_survives_a_new_reading(any_store):
    store = any_store
    scan = new_scan(store, station=None)
    (a,) = store.save_records(scan.sha256, [make_record("S1")], None)
    assert a.station is None
    moved = store.set_record_station(a.record_id, "HN03", "office")
    assert moved.station == "HN03" and "HN03" in moved.search_text
    with pytest.raises(ConflictError, match="没有变化"):
        store.set_record_station(a.record_id, "HN03", "office")
    assert store.list_records(station="HN03")[1] == 1
    # the scan read again (e.g. uploaded again): the same record, still of HN03
    (again,) = store.save_records(scan.sha256, [make_record("S1", sender="长沙顺达3")], None)
    assert again.record_id == a.record_id and again.station == "HN03"
    assert store.list_records(duplicates=True)[1] == 1
    (event,) = store.list_record_events(a.record_id)
    assert (event.action, event.old, event.new) == ("set_station", None, "HN03")


def test_setting_a_station_takes_it_as_typed_and_never_clears_it_by_accident(any_store):
    """设置维修站 (service): hn03 / ＨＮ０３ are HN03; "" is refused (clearing the station
    is said with None, the page's 售后服务部 choice); an unknown code is named (404)."""
    from formdesk.services import record_actions

    store = any_store
    store.add_station(Station(code="HN03", name="株洲宏达汽车维修站"))
    scan = new_scan(store, station=None)
    (a,) = store.save_records(scan.sha256, [make_record("S9")], None)
    assert record_actions.set_station(store, OFFICE, a.record_id, " hn03").station == "HN03"
    with pytest.raises(ConflictError):
        record_actions.set_station(store, OFFICE, a.record_id, "ＨＮ０３")
    for blank in ("", "  "):
        with pytest.raises(Refused, match="请选择维修站"):
            record_actions.set_station(store, OFFICE, a.record_id, blank)
    with pytest.raises(NotFoundError, match="HN77"):
        record_actions.set_station(store, OFFICE, a.record_id, "HN77")
    assert store.list_records(station="HN03")[1] == 1
    assert record_actions.set_station(store, OFFICE, a.record_id, None).station is None


def test_migration_0007_keeps_stored_records_and_fills_their_list_values():
    """A PostgreSQL database at 0006 with a record: upgraded, the record keeps its station
    (as read), and its listed values come from its stored body."""
    import json

    import psycopg

    from formdesk.store.sql import upgrade

    from .pg import SERVER

    name = f"formdesk_test_mig_{secrets.token_hex(4)}"
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = f"{SERVER}/{name}"
    try:
        upgrade(url, "0006")
        body = {
            "fields": [
                {"key": "vin", "value": "LGAG4DD31R8012345"},
                {"key": "plate", "value": None},
                {"key": "plate_no", "value": "湘A12345"},
                {"key": "repair_date", "value": "2026-03-01"},
                {"key": "mileage_km", "value": 5},
            ]
        }
        with psycopg.connect(url, autocommit=True) as db:
            db.execute(
                "INSERT INTO records (record_id, rev, template, template_version, document_id,"
                " copy_index, station, status, min_confidence, fields_to_check, scan_id,"
                " file_pages, created_at, updated_at, search_text, search_folded, reasons, body)"
                " VALUES ('r1', 1, 'T', 1, 'D', 1, 'HN01', 'ready', 1, 0, 's', '[]', now(),"
                " now(), '', '', '[]', %s)",
                (json.dumps(body),),
            )
        upgrade(url)
        with psycopg.connect(url) as db:
            rows = db.execute("SELECT station, read_station, key_values FROM records").fetchall()
        assert rows == [
            (
                "HN01",
                "HN01",
                {"vin": "LGAG4DD31R8012345", "plate": "湘A12345", "repair_date": "2026-03-01"},
            )
        ]
    finally:
        with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_the_work_desk_says_what_waits(app):
    store = app.state.store
    scan = new_scan(store)
    store.save_records(scan.sha256, [make_record("W1"), make_record("W2"), _unsigned("W3")], "S01")
    store.record_page_outcomes(scan.sha256, "S01", "b1", "scan.pdf", {2: "页面上没有找到表单"}, {})
    office, audit = _login(app, "office"), _login(app, "audit")
    desk = office.get("/api/desk").json()
    cards = {c["key"]: c for c in desk["cards"]}
    assert cards["review"]["total"] == 3
    (line,) = cards["review"]["items"]
    assert line["count"] == 3 and line["href"] == "/review?station=S01&template=SH-ZH%2FBD-27"
    assert (
        cards["refusals"]["total"] == 1 and cards["refusals"]["items"][0]["href"] == "/batches/b1"
    )
    assert [i["label"] for i in cards["no_manifest"]["items"]] == ["S01 长沙顺达汽车维修站"]
    assert cards["failed"]["total"] == 0 and cards["missing_parts"]["total"] == 0
    # the auditor sees the same, and changes nothing
    assert audit.get("/api/desk").json()["cards"] == desk["cards"]
    # a voided record leaves the count
    (w1,) = [r for r in store.list_records()[0] if r.document_id == "W1"]
    office.post(f"/api/records/{w1.record_id}/void", json={"reason": "重复上传"})
    cards = {c["key"]: c for c in office.get("/api/desk").json()["cards"]}
    assert cards["review"]["total"] == 2


def test_scans_are_found_by_a_part_of_their_file_name(any_store):
    """记录's 文件名 filter: any upload's name, ignoring case; a station's own uploads only
    when a station is given; % and _ taken literally."""
    store = any_store
    a, _ = store.put_scan(b"%PDF-1.7 a", "无码标签_1.jpg", "image/jpeg", "office", None)
    b, _ = store.put_scan(b"%PDF-1.7 b", "Other.JPG", "image/jpeg", "s1", "HN01")
    store.put_scan(b"%PDF-1.7 b", "second-name.jpg", "image/jpeg", "s2", "HN02")
    assert [s.sha256 for s in store.find_scans("无码")] == [a.sha256]
    assert [s.sha256 for s in store.find_scans("other.jpg")] == [b.sha256]
    assert [s.sha256 for s in store.find_scans("second", "HN02")] == [b.sha256]
    assert store.find_scans("second", "HN01") == []
    assert store.find_scans("%") == [] and store.find_scans("签_") != []
    assert store.find_scans("  ") == []


def test_a_file_name_matching_too_many_files_is_refused_not_cut(any_store, monkeypatch):
    """记录's 文件名 filter never lists the records of only the newest N matching files: more
    than MAX_NAMED matches are refused, asking for more of the name."""
    store = any_store
    monkeypatch.setattr(records, "MAX_NAMED", 2)
    for n in range(3):
        store.put_scan(bytes([n]) * 9, f"标签_{n}.jpg", "image/jpeg", "office", None)
    assert len(records.scans_of(store, OFFICE, None, "标签_1")) == 1
    with pytest.raises(Refused, match="超过 2 个,请输入更完整的文件名"):
        records.scans_of(store, OFFICE, None, "标签")
