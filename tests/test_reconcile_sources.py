"""Returned parts taken from stored records: a manifest whose pages were scanned apart is
put back together (header from page 1, rows numbered as printed), and a form scanned twice
counts once. On each store (TinyDB, PostgreSQL)."""

from __future__ import annotations

from formdesk.model.claims import Station
from formdesk.model.record import FieldReading, FormRecord, PageSource
from formdesk.reconcile.sources import returned_items, rows_per_page
from formdesk.templates.values.vin import with_check_digit

MANIFEST = "SH-ZH/BD-31"


def cell(key: str, value, page: int) -> FieldReading:
    return FieldReading(
        key=key, label=key, type="text", value=value, confidence=0.9, status="ok", page=page
    )


def part_row(n: int, page: int) -> dict[str, FieldReading]:
    values = {
        "claim_no": f"SP01{n:05d}",
        "vin": with_check_digit(f"LGDCH91G0RA{n:06d}"),
        "part_no": f"3411{n:03d}-K2",
        "part_name": "转向器总成",
        "quantity": 1,
    }
    return {k: cell(k, v, page) for k, v in values.items()}


def manifest_page(doc: str, page: int, rows: list[int], head: bool) -> dict:
    fields = []
    if head:
        fields += [cell("manifest_no", "FC26111701", 1), cell("manifest_date", "2026-11-17", 1)]
    fields.append(
        FieldReading(
            key="returned_parts", label="返厂索赔件明细", type="table", status="ok", confidence=0.9,
            rows=[part_row(n, page) for n in rows],
        )
    )  # fmt: skip
    return FormRecord(
        template=MANIFEST, template_version=1, document_id=doc, identified_by="qr",
        authentic=True, residual_mm=0.2, fields=fields,
        pages=[PageSource(file="x.jpg", file_page=0, form_page=page)],
    ).model_dump(mode="json")  # fmt: skip


def tag(doc: str) -> dict:
    return FormRecord(
        template="SH-ZH/BD-30", template_version=1, document_id=doc, identified_by="qr",
        authentic=True, residual_mm=0.2, pages=[PageSource(file="t.jpg", file_page=0)],
        fields=[cell("claim_no", "SP0100001", 1), cell("part_no", "3411001-K2", 1)],
    ).model_dump(mode="json")  # fmt: skip


def test_pages_scanned_apart_and_forms_scanned_twice(any_store):
    store = any_store
    store.add_station(Station(code="ST01", name="长沙顺达汽车维修站"))
    first, later = rows_per_page(MANIFEST, "returned_parts")
    assert first >= 10 and later > first
    scans = [
        store.put_scan(bytes([n]) * 10, f"{n}.jpg", "image/jpeg", "t", None)[0] for n in range(4)
    ]
    page1 = list(range(1, first + 1))
    page2 = list(range(first + 1, first + 4))
    store.save_records(scans[0].sha256, [manifest_page("M1", 1, page1, True)], "ST01")
    store.save_records(scans[1].sha256, [manifest_page("M1", 2, page2, False), tag("T1")], "ST01")
    store.save_records(scans[2].sha256, [manifest_page("M1", 2, page2, False)], "ST01")  # again
    store.save_records(scans[3].sha256, [tag("T1")], "ST01")  # the same tag, scanned again
    items = returned_items(store, "ST01")
    lines = sorted((i for i in items if i.source == "manifest_line"), key=lambda i: i.row)
    assert [i.row for i in lines] == page1 + page2
    assert all(
        i.manifest_no == "FC26111701" and str(i.manifest_date) == "2026-11-17" for i in lines
    )
    second_page = lines[first]
    assert second_page.claim_no == f"SP01{first + 1:05d}" and second_page.record_row == 1
    evidence = second_page.evidence("vin")
    assert (evidence.row, evidence.line) == (1, first + 1)  # crop in its record, label as printed
    assert f"第{first + 1}行" in evidence.label
    assert [i.document_id for i in items if i.source == "tag"] == ["T1"]
    assert returned_items(store, "ST02") == []


def test_a_record_filed_under_no_station_by_a_person_stays_out(any_store):
    """A blank tag (printed for no station) counts for the station written on it — until
    the back office files it as its own (设置维修站 → 售后服务部): then it is no station's
    (new-user trial, 2026-12-01: it still counted in HN01's 核对)."""
    store = any_store
    store.add_station(Station(code="HN01", name="长沙顺达汽车维修站"))
    scan, _ = store.put_scan(b"tag" * 4, "t.jpg", "image/jpeg", "office", None)
    written = tag("T7")
    written["fields"].append(
        cell("service_station", "长沙顺达汽车维修站", 1).model_dump(mode="json")
    )
    (rec,) = store.save_records(scan.sha256, [written], None)
    assert rec.station is None
    assert [i.document_id for i in returned_items(store, "HN01")] == ["T7"]
    store.set_record_station(rec.record_id, "HN01", "office")
    store.set_record_station(rec.record_id, None, "office")
    assert returned_items(store, "HN01") == []
    assert [i.document_id for i in returned_items(store)] == ["T7"]  # still a returned part
    # the listing asks the store once which records a person moved, on either store
    assert store.records_with_event("set_station") == {rec.record_id}
    assert store.records_with_event("void") == set()


def test_every_station_reconciled_at_once_as_each_alone(any_store):
    """The 工作台 and 核对 pages reconcile every station: the returned parts are listed once
    for all of them and shared out by station — each station's reconciliation is the one it
    gets alone (a tag printed for a station, a blank one naming a station, one naming none)."""
    from formdesk.services.reconciliation import reconcile_stations

    store = any_store
    store.add_station(Station(code="HN01", name="长沙顺达汽车维修站"))
    store.add_station(Station(code="HN02", name="株洲恒通汽车维修站"))
    scan, _ = store.put_scan(b"tags" * 4, "t.jpg", "image/jpeg", "office", None)
    named = tag("T8")
    named["fields"].append(cell("service_station", "株洲恒通汽车维修站", 1).model_dump(mode="json"))
    store.save_records(scan.sha256, [tag("T7")], "HN01")
    store.save_records(scan.sha256, [named, tag("T9")], None)
    from formdesk.templates.values.dates import china_today

    month = f"{china_today():%Y-%m}"  # undated tags count in the month of their upload
    together = reconcile_stations(store, None, month)
    alone = [reconcile_stations(store, None, month, code)[0] for code in ("HN01", "HN02")]
    assert [r.station for r in together] == ["HN01", "HN02"]
    same = [r.model_dump(exclude={"generated_at"}) for r in together]
    assert same == [r.model_dump(exclude={"generated_at"}) for r in alone]
    assert sum(len(r.outcomes) for r in together) >= 2  # the tags are in it
