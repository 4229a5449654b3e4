"""The sample month (samples/: March 2026, station HN01) through the API, as `formdesk serve
--samples samples` loads it: the sample manifest (SH-ZH/BD-31, 合计 7) and tags printed for
the station, scanned and read by the real reader, the sample claims imported — and, as a
clerk tried it, the water pump also given a 鉴别标签 (so it carries a BD-27 and a BD-30),
and a 故障标签 printed blank for a part the manifest forgot, uploaded by the back office.

核对 and 月报 count the same returned parts, the manifest's 合计 stands beside its lines,
both pages' month is the sample month, a station sees only what it may open (issue 12,
point 7); on each store (TinyDB, PostgreSQL)."""

from __future__ import annotations

import csv
import io
import json

import pdfplumber
import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from formdesk.api.app import create_app
from formdesk.model.accounts import User
from formdesk.services.passwords import hash_password
from formdesk.services.printing import print_documents
from formdesk.services.samples import load_sample_claims, load_samples
from formdesk.templates import get_template

from .conftest import RECORDS
from .pdfcheck import squash
from .pg import STORES, store_settings
from .test_api import PASSWORD, login, scan_of

MONTH, STATION = "2026-03", "HN01"
CLAIMS = RECORDS.parent / "claims.csv"
PUMP, OIL_PUMP, BRAKES, OLD, FORGOTTEN, UNCLAIMED = (
    "SP2026031502",  # on the manifest, with a BD-30 (sample) and a BD-27 (added)
    "SP2026031807",  # on the manifest, with the sample BD-27 (its VIN misread on purpose)
    "SP2026032613",  # 2 parts on one manifest line
    "SP2026032908",  # bought in 2022: outside the 三包期
    "SP2026033011",  # not on the manifest: a blank-printed BD-30 uploaded by the back office
    "SP2026032011",  # on the manifest, no such claim
)
USERS = (("office", "back_office", None), ("s1", "station", STATION), ("audit", "auditor", None))


def claim_row(claim_no: str) -> dict[str, str]:
    with CLAIMS.open(encoding="utf-8") as f:
        return next(r for r in csv.DictReader(f) if r["索赔单号"] == claim_no)


def pump_part_tag() -> dict:
    """The sample BD-27 filled in for the water pump, whose sample BD-30 it joins."""
    tag = json.loads((RECORDS / "sh-zh-bd-27.json").read_text(encoding="utf-8"))
    fault = json.loads((RECORDS / "sh-zh-bd-30.json").read_text(encoding="utf-8"))["values"]
    assert fault["claim_no"] == PUMP
    keys = ("vehicle_model", "purchase_date", "engine_no", "repair_date", "mileage_km")
    values = {**tag["values"], **{k: fault[k] for k in (*keys, "vin", "part_no", "part_name")}}
    return {"template": tag["template"], "values": values}


def forgotten_fault_tag() -> dict:
    """A BD-30 for the claim the manifest left out, from the claims file."""
    c = claim_row(FORGOTTEN)
    sample = json.loads((RECORDS / "sh-zh-bd-30.json").read_text(encoding="utf-8"))["values"]
    return {
        **sample,
        "claim_no": c["索赔单号"],
        "vehicle_model": c["车型"],
        "purchase_date": c["购买日期"],
        "vin": c["车架号"],
        "engine_no": c["发动机号"],
        "mileage_km": int(c["行驶里程"]),
        "part_no": c["零件编号"],
        "part_name": c["零件名称"],
        "fault_description": c["故障描述"],
        "repair_date": c["维修日期"],
    }


@pytest.fixture(scope="module", params=STORES)
def sample(request, tmp_path_factory):
    """The app on a store holding the sample month, read."""
    root = tmp_path_factory.mktemp("sample-month")
    records = root / "records"
    records.mkdir()
    for slug in ("sh-zh-bd-27", "sh-zh-bd-30", "sh-zh-bd-31"):
        (records / f"{slug}.json").write_bytes((RECORDS / f"{slug}.json").read_bytes())
    (records / "sh-zh-bd-27-pump.json").write_text(json.dumps(pump_part_tag()), encoding="utf-8")
    with store_settings(root / "data", request.param) as settings:
        app = create_app(settings=settings, start_worker=False)
        with TestClient(app):
            store, key = app.state.store, app.state.key
            for username, role, station in USERS:
                store.add_user(
                    User(
                        username=username,
                        password_hash=hash_password(PASSWORD),
                        role=role,
                        station=station,
                    )
                )
            assert load_samples(store, key, records, user="office") == 4
            assert load_samples(store, key, records, user="office") == 0  # queued: not twice
            assert load_sample_claims(store, CLAIMS) == 6
            pdf = root / "blank-bd30.pdf"  # printed for no station: the back office's upload
            print_documents(
                store, key, get_template("SH-ZH/BD-30"), [forgotten_fault_tag()], pdf,
                issued_by="office", gang=False,
            )  # fmt: skip
            scan, _ = store.put_scan(
                scan_of(pdf.read_bytes()), "补寄故障标签.jpg", "image/jpeg", "office", None
            )
            store.create_batch("office", None, [scan.sha256], 1)
            while app.state.reader.run_one():  # the background reader's work, here and now
                pass
            assert store.list_records(station=STATION)[1] == 4
            yield app
        app.state.store.close()


def by_claim(body: dict) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for o in body["outcomes"]:
        out.setdefault(o["claim_no"], []).append(o)
    return out


def test_both_pages_open_on_the_sample_month(sample):
    for username in ("office", "s1", "audit"):
        client = login(sample, username)
        for params in ({}, {"station": STATION}):
            res = client.get("/api/months/latest", params=params)
            assert res.status_code == 200, res.text
            assert res.json()["month"] == MONTH, (username, params)


def test_核对_and_月报_count_the_same_parts_beside_the_manifest_total(sample):
    office = login(sample, "office")
    params = {"station": STATION, "month": MONTH}
    rec = office.get("/api/reconcile", params=params).json()
    summary = office.get("/api/summary", params={"month": MONTH}).json()
    mine = office.get("/api/summary", params=params).json()
    [row] = [r for r in summary["stations"] if r["key"] == STATION]
    # the manifest's 7, and one part scanned that it does not list: 8 parts came back
    [manifest] = rec["manifests"]
    assert (manifest["manifest_no"], manifest["written_total"]) == ("FC-2026-03-02", 7)
    assert (manifest["lines"], manifest["listed_quantity"], manifest["agrees"]) == (6, 7, True)
    assert rec["returned_parts"] == 8
    assert row["returned_qty"] == mine["totals"]["returned_qty"] == rec["returned_parts"]
    assert summary["totals"]["returned_qty"] == rec["returned_parts"]  # the only station
    assert (rec["manifest_lines"], rec["returned_quantity"], rec["tags"]) == (6, 7, 4)
    claims = by_claim(rec)
    # the water pump: on the manifest, with its 故障标签 and its 鉴别标签 — one part, matched
    assert [o["kind"] for o in claims[PUMP]] == ["matched"]
    assert {e["template"] for e in claims[PUMP][0]["evidence"]} == {
        "SH-ZH/BD-27",
        "SH-ZH/BD-30",
        "SH-ZH/BD-31",
    }
    # the part the manifest forgot: why 核对 says 8 where the manifest says 7
    [forgotten] = claims[FORGOTTEN]
    assert forgotten["kind"] == "quantity" and "未列入返厂清单" in forgotten["message"]
    # 超出三包期 cites the manifest line the part came back on
    [old] = [o for o in claims[OLD] if o["kind"] == "outside_warranty"]
    assert "见返厂清单 FC-2026-03-02 第6行" in old["message"]
    assert [(e["template"], e["line"]) for e in old["evidence"]] == [("SH-ZH/BD-31", 6)]
    assert old["evidence"][0]["scan_file"] == "sh-zh-bd-31-p1.jpg"
    # the 核对 workbook says the same
    book = load_workbook(
        io.BytesIO(office.get("/api/reconcile/report.xlsx", params=params).content)
    )
    figures = {row[0]: row[1] for row in book["汇总"].iter_rows(min_row=2, values_only=True)}
    assert figures["返厂件数"] == 8
    assert figures["返厂清单 FC-2026-03-02"] == "合计 7 件;明细 6 行 7 件"


def test_a_station_sees_only_the_differences_it_may_open(sample):
    office, s1 = login(sample, "office"), login(sample, "s1")
    params = {"station": STATION, "month": MONTH}
    full = by_claim(office.get("/api/reconcile", params=params).json())
    own = s1.get("/api/reconcile", params=params).json()
    [forgotten] = full[FORGOTTEN]
    hidden = forgotten["evidence"][0]["record_id"]  # the back office's upload
    assert s1.get(f"/api/records/{hidden}").status_code == 404
    assert FORGOTTEN not in by_claim(own) and own["counts"]["quantity"] == (
        sum(o["kind"] == "quantity" for os in full.values() for o in os) - 1
    )
    assert own["returned_parts"] == 8  # the month's figures stay whole
    for o in own["outcomes"]:
        for e in o["evidence"]:
            assert s1.get(f"/api/records/{e['record_id']}").status_code == 200, o["message"]
            crop = s1.get(
                f"/api/records/{e['record_id']}/crop.png",
                params={k: v for k, v in (("key", e["field_key"]), ("row", e["row"])) if v},
            )
            assert crop.status_code == 200, o["message"]


def test_the_letter_on_the_sample_month(sample):
    office = login(sample, "office")
    res = office.get("/api/reconcile/letter.pdf", params={"station": STATION, "month": MONTH})
    assert res.status_code == 200
    with pdfplumber.open(io.BytesIO(res.content)) as pdf:
        text = squash("".join(p.extract_text() or "" for p in pdf.pages))
    assert "文号:三包核〔2026〕HN01-03号" in text and "盖章处" in text and "联系人" in text
    assert "返厂件8件" in text
    assert UNCLAIMED not in text  # returned, but it has no claim: no claim number cited
    rec = office.get("/api/reconcile", params={"station": STATION, "month": MONTH}).json()
    listed = [o for o in rec["outcomes"] if o["kind"] != "matched" and not o["doubtful"]]
    for claim_no in {o["claim_no"] for o in listed if o["kind"] != "unexpected"}:
        said = sum(o["claim_no"] == claim_no for o in listed)
        assert text.count(claim_no) == said, claim_no  # each difference once
