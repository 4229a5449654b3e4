"""Reconciliation treats 外部表单 like any other record (issue 13, point 3): a returned-part
manifest (SH-ZH/BD-31) and a part tag (SH-ZH/BD-27) of layouts formdesk did not print
(tests/data/external, each registered from a scan of its blank), filled in by hand with
a registered station's name as 单位名称 / 来件单位, scanned and read by the real reader
(once), uploaded by the back office (no station of its own) into each store: their parts
count under the station the form names — the tag matched to its claim, the manifest's
lines as returned parts of that station's month — and under no other station."""

from __future__ import annotations

import copy

import cv2
import numpy as np
import pytest

from formdesk.extract.layout_proposal import propose_layout
from formdesk.extract.lexicon import Lexicon
from formdesk.extract.ocr import default_engine
from formdesk.extract.reader import FormReader
from formdesk.extract.variants import RegisteredLayout
from formdesk.model.claims import Claim, ClaimImport, Station
from formdesk.model.layouts import LayoutVariant
from formdesk.model.time import utcnow
from formdesk.reconcile.engine import reconcile_station
from formdesk.reconcile.sources import returned_items
from formdesk.store.placing import save_read_records
from formdesk.templates import get_template
from samples.external import external_blank, filled_page

from .conftest import TEST_KEY
from .pg import STORES, store_of

STATION, NAME = "HN01", "长沙顺达汽车维修站"
OTHER = Station(code="HN02", name="株洲安达汽车维修站")
MONTH = "2026-03"
TAG, MANIFEST = "SH-ZH/BD-27", "SH-ZH/BD-31"
WRITTEN = {
    TAG: {"sender_unit": NAME, "repair_date": "2026-03-12"},
    MANIFEST: {"unit_name": NAME, "manifest_date": "2026-03-20"},
}


def _variant(code: str, image: np.ndarray, engine) -> RegisteredLayout:
    """The layout registered from the clean blank, as `formdesk layout add` would."""
    template = get_template(code)
    p = propose_layout(image, template, engine)
    variant = LayoutVariant(
        template=template.code, name="外来", paper_mm=(template.geometry.width,
        template.geometry.height), fields=p.fields, table=p.table, fingerprint=p.fingerprint,
        reference_sha256="0" * 64, created_by="test", created_at=utcnow(),
    )  # fmt: skip
    return RegisteredLayout(variant, cv2.cvtColor(p.reference, cv2.COLOR_BGR2GRAY))


@pytest.fixture(scope="module")
def reads() -> dict[str, tuple[bytes, dict, dict]]:
    """Per form: the filled scan (JPEG), the record read from it (JSON) and the values
    written; read with the station list known, as the service's readers read."""
    engine = default_engine()
    layouts = {c: _variant(c, external_blank(c).page(), engine) for c in WRITTEN}
    reader = FormReader(
        TEST_KEY,
        engine,
        lexicon=Lexicon.of(station=[NAME, OTHER.name]),
        layouts=lambda code: [layouts[code]] if code in layouts else [],
    )
    out = {}
    for n, (code, written) in enumerate(WRITTEN.items()):
        image, values = filled_page(
            external_blank(code), np.random.default_rng(40 + n), "scan", written
        )
        jpeg = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 88])[1].tobytes()
        result = reader.read_file(jpeg, f"{code[-5:]}.jpg")
        assert result.problems == [], result.problems
        (record,) = result.records
        assert record.identified_by == "layout"
        out[code] = (jpeg, record.model_dump(mode="json"), values)
    return out


def _claim(claim_no: str, values: dict, **more) -> Claim:
    dates = {"purchase_date": "2025-06-01", "repair_date": "2026-03-10"} | more
    return Claim(
        claim_no=claim_no,
        station=STATION,
        vin=values["vin"],
        engine_no=values.get("engine_no"),
        vehicle_model=values.get("vehicle_model") or "凯美瑞",
        part_no=values["part_no"],
        part_name=values["part_name"],
        quantity=int(values.get("quantity") or 1),
        mileage_km=int(values.get("mileage_km") or 1000),
        source="import:ext",
        **dates,
    )


@pytest.fixture(scope="module", params=STORES)
def store(request, tmp_path_factory, reads):
    """Each store: two stations, a claim for the tag's part and one for the manifest's
    first line, both scans filed as the back office uploaded them (no station)."""
    with store_of(request.param, tmp_path_factory.mktemp("ext-reconcile") / "data") as store:
        store.add_station(Station(code=STATION, name=NAME))
        store.add_station(OTHER)
        tag_values = reads[TAG][2]
        first_line = reads[MANIFEST][2]["returned_parts"][0]
        claims = [
            _claim(
                "SP2026030001",
                tag_values,
                purchase_date=tag_values["purchase_date"],
                repair_date=tag_values["repair_date"],
            ),
            _claim(first_line["claim_no"], first_line),
        ]
        log = ClaimImport(
            import_id="ext", filename="claims.csv", sha256="0" * 64, imported_by="office",
            claims=len(claims), source="import:ext",
        )  # fmt: skip
        store.import_claims(claims, log, [])
        for data, record, _ in reads.values():
            scan, _ = store.put_scan(data, "外部表单.jpg", "image/jpeg", "office", None)
            save_read_records(store, scan.sha256, [copy.deepcopy(record)], None)
        yield store


def test_external_forms_count_under_the_station_they_name(store, reads):
    rows, total = store.list_records()
    assert total == 2 and all(r.station is None for r in rows)  # uploaded by the back office
    ids = {r.template: r.record_id for r in rows}
    lines = [r for r in reads[MANIFEST][2]["returned_parts"] if r.get("part_no")]

    items = returned_items(store, STATION)
    assert {i.record_id for i in items} == set(ids.values())
    assert all(i.station == STATION for i in items)
    assert sum(i.source == "manifest_line" for i in items) == len(lines)

    rec = reconcile_station(store, STATION, MONTH)
    assert rec.tags == 1 and rec.manifest_lines == len(lines)
    assert rec.returned_quantity == sum(int(r["quantity"]) for r in lines)
    by_claim = {o.claim_no: o for o in rec.outcomes if o.claim_no}
    # the tag's part came back for its claim, and so did the manifest's first line
    for claim_no in ("SP2026030001", lines[0]["claim_no"]):
        assert claim_no in by_claim and by_claim[claim_no].kind != "missing", rec.outcomes
    evidence = {e.record_id for o in rec.outcomes for e in o.evidence}
    assert evidence == set(ids.values())  # every difference and match cites the 外部表单

    other = reconcile_station(store, OTHER.code, MONTH)
    assert other.tags == 0 and other.manifest_lines == 0 and other.outcomes == []
