"""A returned part whose form gives no readable date (issue 10, point 6) is reconciled in
the month its scan was uploaded — Beijing time — flagged 日期未识别 in the reconciliation,
its report, workbook and letter, and the monthly summary; never in every month.

Two real 故障标签 filled in by the generator's handwriting for parts no claim covers: one
with its repair date (2026-03-20), one with the date left blank; scanned, read by the real
reader (once), filed into each real store (TinyDB, PostgreSQL). Both are uploaded at
2026-03-31 17:30 UTC, which is 2026-04-01 01:30 in Beijing."""

from __future__ import annotations

import copy
import io
from datetime import UTC, datetime

import cv2
import numpy as np
import openpyxl
import pdfplumber
import pytest

from formdesk.extract.ocr import default_engine
from formdesk.extract.reader import FormReader
from formdesk.model.claims import Station
from formdesk.model.documents import IssuedDocument
from formdesk.reconcile.engine import reconcile_station
from formdesk.reconcile.monthly import monthly_summary
from formdesk.reports.reconcile_pdf import reconciliation_pdf
from formdesk.reports.reconcile_xlsx import reconciliation_xlsx
from formdesk.reports.station_letter import station_letter_pdf
from formdesk.store import tinydb_store as tinydb_store_module
from formdesk.store.placing import save_read_records
from formdesk.store.sql import records as sql_records_module
from formdesk.store.sql import scans as sql_scans_module
from formdesk.templates import get_template
from formdesk.templates.values.vin import with_check_digit
from samples.synth.effects import scan_effects
from samples.synth.pages import handwritten_page

from .conftest import TEST_KEY, sample_values
from .pg import STORES, store_of

TAG = get_template("SH-ZH/BD-30")
STATION = "ST01"
UPLOADED = datetime(2026, 3, 31, 17, 30, tzinfo=UTC)  # 2026-04-01 01:30 Beijing
DATED, UNDATED = "260320-00000D47ED", "260320-000000BDA7"
BASE = sample_values(TAG)
VALUES = {
    DATED: BASE
    | {
        "claim_no": "SP2026039001",
        "vin": with_check_digit("LGAG4DD31R8055501"),
        "repair_date": "2026-03-20",
    },
    UNDATED: {k: v for k, v in BASE.items() if k != "repair_date"}
    | {
        "claim_no": "SP2026039002",
        "vin": with_check_digit("LGAG4DD31R8055502"),
        "part_no": "1001010-K0100",
    },
}


@pytest.fixture(scope="module")
def reads() -> list[tuple[bytes, dict]]:
    """Both tags handwritten, scanned and read by the real reader, once per module: (scan
    bytes, record read) of each."""
    reader = FormReader(TEST_KEY, default_engine())
    rng = np.random.default_rng(7)
    out = []
    for n, (doc, values) in enumerate(VALUES.items()):
        page, _ = handwritten_page(TAG, values, rng, TEST_KEY, document_id=doc)
        ok, buf = cv2.imencode(
            ".jpg", scan_effects(page, np.random.default_rng(n), quarter_turns=0)
        )
        result = reader.read_file(buf.tobytes(), f"{doc}.jpg")
        [record] = [r.model_dump(mode="json") for r in result.records]
        out.append((buf.tobytes(), record))
    return out


@pytest.fixture(scope="module", params=STORES)
def store(request, tmp_path_factory, reads):
    """Each store (TinyDB, PostgreSQL): the station, both tags registered, both scans
    filed as uploaded at UPLOADED (both stores' clocks set back), their records verified
    (so the letter lists what they say)."""
    with store_of(request.param, tmp_path_factory.mktemp("undated") / "data") as store:
        _file(store, reads)
        yield store


def _file(store, reads: list[tuple[bytes, dict]]) -> None:
    store.add_station(Station(code=STATION, name="长沙顺达汽车维修站"))
    store.register_documents(
        [
            IssuedDocument(document_id=d, template=TAG.code, template_version=1, station=STATION)
            for d in VALUES
        ]
    )
    with pytest.MonkeyPatch.context() as clock:
        clock.setattr(tinydb_store_module, "_now", lambda: UPLOADED)
        clock.setattr(sql_scans_module, "_now", lambda db: UPLOADED)  # the database's clock
        clock.setattr(sql_records_module, "_now", lambda: UPLOADED)
        for data, record in reads:
            doc = record["document_id"]
            scan, _ = store.put_scan(data, f"{doc}.jpg", "image/jpeg", "office", None)
            save_read_records(store, scan.sha256, [copy.deepcopy(record)], None)
    rows, total = store.list_records()
    assert total == 2
    for r in rows:
        store.verify_record(r.record_id, "office")
    read = {r.document_id: store.get_record(r.record_id).record for r in rows}
    date_of = {
        d: next(f for f in rec["fields"] if f["key"] == "repair_date")["value"]
        for d, rec in read.items()
    }
    assert date_of == {DATED: "2026-03-20", UNDATED: None}


def unexpected(rec) -> list:
    return [o for o in rec.outcomes if o.kind == "unexpected"]


def test_an_undated_part_counts_in_its_upload_month_in_beijing_only(store):
    april = reconcile_station(store, STATION, "2026-04")
    [o] = unexpected(april)
    assert o.undated and o.claim_no == VALUES[UNDATED]["claim_no"] and not o.doubtful
    assert "日期未识别" in o.message and "2026-04-01" in o.message
    assert april.tags == 1

    march = reconcile_station(store, STATION, "2026-03")  # the upload's month in UTC
    [o] = unexpected(march)
    assert o.claim_no == VALUES[DATED]["claim_no"] and not o.undated  # the dated one only
    assert "日期未识别" not in o.message and march.tags == 1

    for month in ("2026-02", "2026-05"):
        rec = reconcile_station(store, STATION, month)
        assert rec.outcomes == [] and rec.tags == 0, month


def test_the_monthly_summary_counts_it_once_in_that_month(store):
    returned = {
        m: monthly_summary(store, m, STATION).totals.returned_unclaimed_qty
        for m in ("2026-03", "2026-04", "2026-05")
    }
    assert returned == {"2026-03": 1, "2026-04": 1, "2026-05": 0}


def test_report_workbook_and_letter_say_日期未识别(store):
    april = reconcile_station(store, STATION, "2026-04")
    wb = openpyxl.load_workbook(io.BytesIO(reconciliation_xlsx(april)))
    summary = {row[0]: row[1] for row in wb["汇总"].iter_rows(values_only=True)}
    assert summary["其中日期未识别"] == 1
    details = list(wb["差异明细"].iter_rows(values_only=True))
    assert len(details) == 2 and "日期未识别" in details[1][details[0].index("说明")]

    def text(pdf: bytes) -> str:
        with pdfplumber.open(io.BytesIO(pdf)) as doc:
            return "".join((p.extract_text() or "") for p in doc.pages).replace("\n", "")

    assert "日期未识别" in text(reconciliation_pdf(april))
    letter = text(station_letter_pdf(april))
    assert "日期未识别" in letter and UNDATED in letter  # the tag, named by its document
    assert VALUES[UNDATED]["claim_no"] not in letter  # no claim: no claim number cited
    march = reconcile_station(store, STATION, "2026-03")
    assert "日期未识别" not in text(station_letter_pdf(march))
