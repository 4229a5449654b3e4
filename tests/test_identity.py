"""Identity you can trust (issue 10, point 5): an id read by OCR is used only when the
registry confirms it, a second scan of a document is linked to the first and counted
once, a photocopied blank filled twice is two forms, and the queue says why.

Real forms: a 故障标签 (SH-ZH/BD-30) printed blank with a fixed document id and filled in
by the generator's handwriting, scanned by the generator's scanner effects, read by the
real reader (six reads, once per module) and filed into a real store — each test on both,
TinyDB and PostgreSQL — as the service's worker files them (store.placing.save_read_records)."""

from __future__ import annotations

import copy
import csv
import io
from datetime import date
from decimal import Decimal

import cv2
import numpy as np
import pytest
from fastapi.testclient import TestClient

from formdesk.api.app import create_app
from formdesk.extract.ocr import default_engine
from formdesk.extract.reader import FormReader
from formdesk.model.accounts import User
from formdesk.model.claims import Claim, ClaimImport, Station
from formdesk.model.documents import IssuedDocument
from formdesk.model.record import FormRecord, PageSource
from formdesk.model.stored import RecordSummary
from formdesk.reconcile.engine import reconcile_station
from formdesk.reconcile.monthly import monthly_summary
from formdesk.services.passwords import hash_password
from formdesk.store.ocr_identity import candidate_ids, fits, fold_id
from formdesk.store.placing import save_read_records
from formdesk.store.same_form import compare
from formdesk.store.summary import (
    DUPLICATE_SCAN,
    OCR_ID,
    OCR_ID_UNMATCHED,
    PHOTOCOPY,
    RESCAN_UNSURE,
)
from formdesk.templates import get_template
from formdesk.templates.values.vin import with_check_digit
from samples.synth.effects import scan_effects
from samples.synth.pages import gang_sheet, handwritten_page

from .conftest import TEST_KEY, sample_values

TAG = get_template("SH-ZH/BD-30")
DOC = "260315-3F9A2C1B70"  # printed on the tag; 0, B and 7 have look-alikes
ALT = "260315-3F9A2C187D"  # DOC with B→8 and 0→D: the same once OCR confusions are folded
NEAR_ALT = "260315-3F9A2C1B71"  # one character from DOC
STATION = "ST01"
PASSWORD = "correct horse 7"

FIRST = sample_values(TAG)  # 水泵总成 of LGAG4DD31R8012345, claim SP2026031502
OTHER = FIRST | {  # the same blank, photocopied, filled in for another part
    "claim_no": "SP2026031877",
    "vin": with_check_digit("LGAG4DD31R8067890"),
    "engine_no": "71240385",
    "part_no": "3502010-K0800",
    "part_name": "制动鼓",
}


def _jpeg(img: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 88])
    assert ok
    return buf.tobytes()


def _scan(img: np.ndarray, seed: int) -> bytes:
    return _jpeg(scan_effects(img, np.random.default_rng(seed), quarter_turns=0))


@pytest.fixture(scope="module")
def reader() -> FormReader:
    return FormReader(TEST_KEY, default_engine())


@pytest.fixture(scope="module")
def reads(reader) -> dict[str, tuple[bytes, list[dict]]]:
    """name → (scan bytes, records read): the tag scanned twice (a1, a2), the tag with its
    QR torn off (torn: named by OCR), the photocopy filled in for another part (copy)."""
    rng = np.random.default_rng(5)
    tag, _ = handwritten_page(TAG, FIRST, rng, TEST_KEY, document_id=DOC)
    other, _ = handwritten_page(TAG, OTHER, rng, TEST_KEY, document_id=DOC)
    torn = tag.copy()
    q, px = TAG.geometry.qr_rect, 200 / 25.4
    torn[int(q.y * px) : int(q.bottom * px), int(q.x * px) : int(q.right * px)] = 255
    scans = {
        "a1": _scan(tag, 1),
        "a2": _scan(tag, 2),
        "torn": _scan(torn, 4),
        "copy": _scan(other, 3),
    }
    out = {}
    for name, data in scans.items():
        result = reader.read_file(data, f"{name}.jpg")
        assert len(result.records) == 1, (name, result.problems)
        out[name] = (data, [r.model_dump(mode="json") for r in result.records])
    assert out["torn"][1][0]["identified_by"] == "ocr" and out["a1"][1][0]["identified_by"] == "qr"
    return out


def new_store(store, registered: dict[str, str] | None = None):
    """`store` (empty: `any_store`) with the station and the printed documents (id →
    template)."""
    store.add_station(Station(code=STATION, name="长沙顺达汽车维修站"))
    store.register_documents(
        [
            IssuedDocument(document_id=d, template=t, template_version=1, station=STATION)
            for d, t in (registered if registered is not None else {DOC: TAG.code}).items()
        ]
    )
    return store


def file(store, reads, name: str, uploader: str | None = None) -> RecordSummary:
    """Uploads the scan `name` and files what was read from it, as the worker does."""
    data, records = reads[name]
    scan, _ = store.put_scan(data, f"{name}.jpg", "image/jpeg", "tester", uploader)
    save_read_records(store, scan.sha256, copy.deepcopy(records), uploader)
    rows, _ = store.list_records(duplicates=True, limit=500)
    [mine] = [r for r in rows if r.scan_id == scan.sha256]
    return mine


def record(store, summary: RecordSummary) -> dict:
    return store.get_record(summary.record_id).record


def claims_for(store, *values: dict) -> None:
    claims = [
        Claim(
            claim_no=v["claim_no"], station=STATION, vin=v["vin"], engine_no=v["engine_no"],
            vehicle_model=v["vehicle_model"], part_no=v["part_no"], part_name=v["part_name"],
            quantity=1, purchase_date=date.fromisoformat(v["purchase_date"]),
            repair_date=date.fromisoformat(v["repair_date"]), mileage_km=v["mileage_km"],
            labor_fee=Decimal("100"), material_fee=Decimal("200"), source="import:t",
        )
        for v in values
    ]  # fmt: skip
    log = ClaimImport(import_id="t", filename="c.csv", sha256="0" * 64, imported_by="t", claims=0)
    store.import_claims(claims, log, [])


# -- an id read by OCR -------------------------------------------------------------------------


def test_candidate_ids_fold_ocr_confusions_and_allow_one_edit():
    ids = [DOC, "260315-AAAAAAAAAA", "260317-3F9A2C1B71"]  # the last: two characters off
    assert candidate_ids(DOC, ids) == [DOC]  # registered as read
    assert fold_id("26O3l5-3F9A2C1B7O") == fold_id(DOC) == fold_id(ALT)
    assert candidate_ids("26O315-3F9A2CIB7D", ids) == [DOC]  # O/0, I/1, D/0
    assert candidate_ids("260315-3F9A2C1B7", ids) == [DOC]  # a character dropped
    assert candidate_ids("260315-3F9A2C1B700", ids) == [DOC]  # one added
    assert candidate_ids("260315-3F9A2C1B70", [ALT, NEAR_ALT]) == [ALT, NEAR_ALT]  # two: unsure
    assert candidate_ids("260315-3F9A2C1E75", ids) == []  # two characters off
    assert candidate_ids("", ids) == []
    one_page = IssuedDocument(document_id=DOC, template=TAG.code, template_version=1)

    def read(pages: list[int], copy: int = 1) -> FormRecord:
        sources = [PageSource(file="t.jpg", file_page=0, form_page=p) for p in pages]
        return FormRecord(template=TAG.code, template_version=1, document_id=DOC,
                          copy_index=copy, identified_by="ocr", authentic=None,
                          residual_mm=0.1, pages=sources, fields=[])  # fmt: skip

    assert fits(one_page, read([1])) and not fits(one_page, read([2]))
    assert not fits(one_page, read([], copy=2))


def test_an_ocr_id_the_registry_knows_is_confirmed(any_store, reads):
    store = new_store(any_store)
    s = file(store, reads, "torn")  # uploaded by the back office: no station of its own
    rec = record(store, s)
    assert (s.document_id, s.station) == (DOC, STATION)  # the registry's station: it matched
    assert f"已与登记的文档 {DOC} 对应" in rec["filing"]["notes"][0]
    # (its handwriting may still send fields to review: only identity is asked here)
    assert rec["problems"] == [] and s.reasons[0] == OCR_ID
    assert all(r == OCR_ID or r.endswith("栏需核对") for r in s.reasons)


def test_an_ocr_id_is_replaced_by_the_one_registered_document_it_may_be(any_store, reads):
    # the paper says ALT; OCR read DOC (B→8, 0→D apart): the registry's id is taken
    store = new_store(any_store, {ALT: TAG.code})
    s = file(store, reads, "torn")
    rec = record(store, s)
    assert (s.document_id, s.station) == (ALT, STATION) and rec["problems"] == []
    assert rec["filing"]["ocr_document_id"] == DOC
    assert rec["filing"]["notes"] == [f"{OCR_ID},已与登记的文档 {ALT} 对应"]


@pytest.mark.parametrize(
    "registered",
    [{}, {ALT: TAG.code, NEAR_ALT: TAG.code}, {ALT: "SH-ZH/BD-27"}],
    ids=["unregistered", "two-near", "other-template"],
)
def test_an_ocr_id_without_one_registered_match_needs_review(any_store, reads, registered):
    store = new_store(any_store, registered)
    s = file(store, reads, "torn", uploader=STATION)
    rec = record(store, s)
    assert s.document_id == DOC and rec["filing"]["ocr_document_id"] is None
    assert rec["problems"] == [OCR_ID_UNMATCHED] and s.status == "needs_review"
    queue, _ = store.list_records(status="needs_review", order="least_confident")
    assert [q.reasons[0] for q in queue] == [OCR_ID_UNMATCHED]


# -- the same document id twice --------------------------------------------------------------


def test_the_rule_tells_a_rescan_from_a_photocopy(reads):
    a1, a2, torn, other = (
        FormRecord.model_validate(reads[n][1][0]) for n in ("a1", "a2", "torn", "copy")
    )
    assert compare(a1, a2) == compare(a2, a1) == compare(a1, torn) == "same"
    assert compare(a1, other) == compare(other, a1) == "different"
    mixed = a1.model_copy(deep=True)  # one key field differs, the others agree: a person decides
    mixed.field("part_no").value = OTHER["part_no"]
    assert compare(a1, mixed) == "unsure"
    unsure = other.model_copy(deep=True)  # every difference rests on readings the reader doubts
    for f in unsure.fields:
        f.status = "check"
    assert compare(a1, unsure) == "unsure"


def test_a_second_scan_is_linked_to_the_first_and_counted_once(any_store, reads):
    store = new_store(any_store)
    first = file(store, reads, "a1")
    again = file(store, reads, "a2")
    by_ocr = file(store, reads, "torn")  # the QR lost: once two records of one tag
    assert again.duplicate_of == by_ocr.duplicate_of == first.record_id
    assert first.duplicate_of is None
    assert DUPLICATE_SCAN in again.reasons and DUPLICATE_SCAN not in first.reasons
    assert record(store, again)["filing"]["duplicate_of"] == first.record_id
    listed, total = store.list_records()
    assert total == 1 and [r.record_id for r in listed] == [first.record_id]
    assert store.list_records(duplicates=True)[1] == 3
    waiting, _ = store.list_records(status="needs_review")  # nothing to verify twice
    assert [r.record_id for r in waiting] in ([], [first.record_id])

    claims_for(store, FIRST)
    rec = reconcile_station(store, STATION, "2026-03")
    # a tag without a manifest line: 数量不符 saying one tag came back (not two)
    assert rec.tags == 1 and [o.kind for o in rec.outcomes] == ["quantity"]
    assert rec.outcomes[0].returned_values == ["0", "1"]
    summary = monthly_summary(store, "2026-03", STATION)
    assert summary.totals.returned_qty == 1

    again_copy = file(store, reads, "a2")  # reading the same file again changes nothing
    assert again_copy.record_id == again.record_id and again_copy.duplicate_of == first.record_id


def test_a_photocopy_keeps_both_forms_flags_both_and_counts_each(any_store, reads):
    store = new_store(any_store)
    first = file(store, reads, "a1")
    other = file(store, reads, "copy")
    first = store.get_record(first.record_id).summary  # flagged again after `other` came
    for mine, theirs in ((first, other), (other, first)):
        rec = record(store, mine)
        assert rec["filing"]["photocopy_of"] == [theirs.record_id]
        assert PHOTOCOPY in rec["problems"] and mine.status == "needs_review"
        assert PHOTOCOPY in mine.reasons and mine.duplicate_of is None
    assert store.list_records()[1] == 2

    rescan = file(store, reads, "a2")  # the first paper scanned again is still a rescan
    assert rescan.duplicate_of == first.record_id
    assert store.list_records()[1] == 2

    claims_for(store, FIRST, OTHER)
    rec = reconcile_station(store, STATION, "2026-03")
    assert rec.tags == 2  # each claim's part came back with its own tag: none 索赔件未返回
    assert sorted((o.claim_no, o.kind, *o.returned_values) for o in rec.outcomes) == [
        (FIRST["claim_no"], "quantity", "0", "1"),
        (OTHER["claim_no"], "quantity", "0", "1"),
    ]
    assert monthly_summary(store, "2026-03", STATION).totals.returned_qty == 2


def test_an_undecided_second_reading_needs_review_and_links_nothing(any_store, reads):
    store = new_store(any_store)
    first = file(store, reads, "a1")
    data, [mixed] = reads["a2"]
    mixed = copy.deepcopy(mixed)
    next(f for f in mixed["fields"] if f["key"] == "part_no")["value"] = OTHER["part_no"]
    s = file(store, {"x": (data, [mixed])}, "x")
    rec = record(store, s)
    assert rec["problems"] == [RESCAN_UNSURE] and s.duplicate_of is None
    assert record(store, first)["problems"] == []  # the first is left alone
    waiting, _ = store.list_records(status="needs_review")
    assert s.record_id in [r.record_id for r in waiting]


def test_other_stations_scans_are_never_compared(any_store, reads):
    store = new_store(any_store, {})  # a blank printed without a station
    store.add_station(Station(code="ST02", name="衡阳广汇汽车维修站"))
    one = file(store, reads, "a1", uploader=STATION)
    two = file(store, reads, "a2", uploader="ST02")
    assert one.duplicate_of is None and two.duplicate_of is None
    assert store.list_records()[1] == 2


GANG_IDS = [f"260315-{i:010X}" for i in range(0xA1, 0xA5)]


@pytest.fixture(scope="module")
def gang_reads(reader) -> dict[str, tuple[bytes, list[dict]]]:
    """A gang sheet of four tags scanned twice (s1, s2), each scan read once per module:
    name → (scan bytes, records read)."""
    parts = [FIRST | {"mileage_km": 1000 + 1111 * i} for i in range(4)]
    sheet, _ = gang_sheet(TAG, parts, np.random.default_rng(9), TEST_KEY, document_ids=GANG_IDS)
    reads = {}
    for name, seed in (("s1", 21), ("s2", 22)):
        data = _scan(sheet, seed)
        reads[name] = (
            data,
            [r.model_dump(mode="json") for r in reader.read_file(data, "s.jpg").records],
        )
        assert sorted(r["document_id"] for r in reads[name][1]) == GANG_IDS
    return reads


@pytest.mark.slow
def test_a_gang_sheet_scanned_twice_links_each_tag_to_its_own_first(any_store, gang_reads):
    ids, reads = GANG_IDS, gang_reads
    store = new_store(any_store, dict.fromkeys(ids, TAG.code))
    for name in reads:
        data, records = reads[name]
        scan, _ = store.put_scan(data, f"{name}.jpg", "image/jpeg", "t", None)
        save_read_records(store, scan.sha256, copy.deepcopy(records), None)
    rows, total = store.list_records(duplicates=True)
    assert total == 8
    first = {r.document_id: r.record_id for r in rows if r.duplicate_of is None}
    assert sorted(first) == ids  # four tags of one sheet are four documents, none a rescan
    assert all(r.duplicate_of == first[r.document_id] for r in rows if r.duplicate_of)
    assert store.list_records()[1] == 4


# -- through the service ----------------------------------------------------------------------


def test_the_api_lists_exports_and_shows_reasons_and_links(any_settings, reads):
    app = create_app(settings=any_settings, start_worker=False)
    store = app.state.store
    store.add_station(Station(code=STATION, name="长沙顺达汽车维修站"))
    store.register_documents(
        [IssuedDocument(document_id=DOC, template=TAG.code, template_version=1, station=STATION)]
    )
    store.add_user(
        User(username="office", password_hash=hash_password(PASSWORD), role="back_office")
    )
    first = file(store, reads, "a1")
    again = file(store, reads, "torn")
    with TestClient(app) as client:
        res = client.post("/api/login", data={"username": "office", "password": PASSWORD})
        assert res.status_code == 200
        listed = client.get("/api/records").json()
        assert listed["total"] == 1 and listed["items"][0]["record_id"] == first.record_id
        both = client.get("/api/records", params={"duplicates": "true"}).json()
        assert both["total"] == 2
        shown = {r["record_id"]: r for r in both["items"]}
        # identity first; its handwriting may add fields to check
        assert shown[again.record_id]["reasons"][:2] == [OCR_ID, DUPLICATE_SCAN]
        detail = client.get(f"/api/records/{first.record_id}").json()
        assert detail["duplicates"] == [again.record_id]
        assert all(r.endswith("栏需核对") for r in detail["reasons"])
        dup = client.get(f"/api/records/{again.record_id}").json()
        assert dup["record"]["filing"]["duplicate_of"] == first.record_id
        rows = list(
            csv.reader(io.StringIO(client.get("/api/export.csv").content.decode("utf-8-sig")))
        )
        assert len(rows) == 2 and rows[1][0] == first.record_id  # header and one record
    store.close()
