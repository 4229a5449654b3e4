"""One definition of a returned part (reconcile/parts.py), on claims and returned items given
directly: a part carrying a BD-27 and a BD-30 tag counts once in 核对 and in 月报; the
difference texts name their evidence and scans; a station sees only differences on scans
it may open; the letter to the station says each difference once, with 文号, contact and
盖章处 (issue 12, point 7)."""

from __future__ import annotations

import io
from datetime import date

import pdfplumber

from formdesk.api.principal import Principal
from formdesk.model.reconciliation import Reconciliation
from formdesk.reconcile.parts import month_parts
from formdesk.reports.station_letter import letter_number, station_letter_pdf
from formdesk.services.reconciliation import for_viewer

from .pdfcheck import squash
from .test_reconcile_engine import claim, line, run, tag

START, END = date(2026, 11, 1), date(2026, 11, 30)
BD27, BD30 = "SH-ZH/BD-27", "SH-ZH/BD-30"


def returned(claims, items) -> int:
    """月报's count (the monthly summary tallies month_parts) for the month."""
    return month_parts(claims, items, START, END).quantity


def test_a_part_with_a_bd27_and_a_bd30_tag_counts_once_and_agrees():
    c = claim("SP0112345", 1)
    items = [line(c), tag(c, "T30", BD30), tag(c, "T27", BD27)]
    rec = run([c], items)
    assert [o.kind for o in rec.outcomes] == ["matched"]  # no 数量不符
    assert rec.tags == 2 and rec.returned_parts == 1 == returned([c], items)
    # tagged only, no manifest line: still one part, and 未列入返厂清单 says so once
    rec = run([c], items[1:])
    [o] = rec.outcomes
    assert o.kind == "quantity" and o.returned_values == ["0", "1"]
    assert "挂标签零件 1 件(鉴别标签 1 张、故障标签 1 张)" in o.message
    assert rec.returned_parts == 1 == returned([c], items[1:])


def test_two_parts_of_one_claim_each_with_both_tags_are_two():
    c = claim("SP0112345", 1, quantity=2)  # left and right: one VIN, one part number
    items = [line(c)] + [tag(c, f"T{k}{n}", t) for n in (1, 2) for k, t in ((27, BD27), (30, BD30))]
    rec = run([c], items)
    assert [o.kind for o in rec.outcomes] == ["matched"]
    assert rec.returned_parts == 2 == returned([c], items)
    # two fault tags on a claim of one part: two parts came back, and the counts say it
    one = claim("SP0112346", 2)
    extra = [line(one), tag(one, "F1"), tag(one, "F2")]
    rec = run([one], extra)
    assert [o.kind for o in rec.outcomes] == ["quantity"]
    assert rec.returned_parts == 2 == returned([one], extra)


def test_a_part_matching_no_claim_with_both_tags_is_one_unexpected_part():
    c = claim("SP0112345", 1)
    stray = claim("SP0199999", 5)
    items = [tag(stray, "T30", BD30), tag(stray, "T27", BD27)]
    rec = run([c], items)
    unexpected = [o for o in rec.outcomes if o.kind == "unexpected"]
    assert len(unexpected) == 1 and {e.document_id for e in unexpected[0].evidence} == {
        "T30",
        "T27",
    }
    assert rec.returned_parts == 1 == returned([c], items)


def test_a_part_listed_on_two_manifests_came_back_once():
    c = claim("SP0112345", 1)
    items = [line(c, "M1"), line(c, "M2", day=date(2026, 11, 20)), tag(c, "T1")]
    rec = run([c], items)
    assert {o.kind for o in rec.outcomes} == {"duplicate"}
    assert rec.returned_quantity == 2  # what the lines list, each line counted ...
    assert rec.returned_parts == 1 == returned([c], items)  # ... one part came back


def test_the_manifest_total_is_shown_beside_its_lines():
    a, b = claim("SP0112345", 1, quantity=2), claim("SP0112346", 2)
    items = [line(a, row=1, manifest_total=4), line(b, row=2, manifest_total=4)]
    rec = run([a, b], items)
    [m] = rec.manifests
    assert (m.manifest_no, m.written_total, m.lines, m.listed_quantity) == ("FC-M1", 4, 2, 3)
    assert not m.agrees and m.counted_lines == 2
    # a line of a part of another month is on the manifest, not counted in this one
    late = claim("SP0112347", 3, repair_date=date(2026, 10, 28))
    rec = run([a, b, late], [*items, line(late, row=3, manifest_total=4)])
    [m] = rec.manifests
    assert (m.lines, m.listed_quantity, m.counted_lines, m.agrees) == (3, 4, 2, True)


def test_outside_warranty_cites_the_manifest_line_and_the_tags():
    c = claim("SP0112345", 1, purchase_date=date(2021, 1, 1))
    rec = run([c], [line(c), tag(c, "T1")])
    [o] = [o for o in rec.outcomes if o.kind == "outside_warranty"]
    assert "见返厂清单 FC-M1 第1行、故障标签 T1" in o.message
    assert [(e.document_id, e.field_key) for e in o.evidence] == [
        ("M1", "returned_parts"),
        ("T1", "mileage_km"),
    ]
    nothing = run([c], [])
    [o] = [o for o in nothing.outcomes if o.kind == "outside_warranty"]
    assert o.evidence == [] and "返厂清单与零件标签均未见" in o.message


def test_the_duplicate_text_names_each_listing_and_its_scan_once():
    c = claim("SP0112345", 1)
    scans = [
        dict(scan_file="清单-上午.jpg", scan_page=1, received_on=date(2026, 11, 18)),
        dict(scan_file="清单-重扫.pdf", scan_page=2, received_on=date(2026, 11, 19)),
    ]
    # two papers bearing one manifest number: the same title twice without the scans
    items = [line(c, "M1", **scans[0]), line(c, "M2", manifest_no="FC-M1", **scans[1])]
    [o] = [o for o in run([c], items).outcomes if o.kind == "duplicate"]
    assert o.message == (
        "同一索赔件重复列入返厂清单 2 次:"
        "返厂清单 FC-M1(文档 M1)第1行(扫描件 清单-上午.jpg 第1页,2026-11-18 上传);"
        "返厂清单 FC-M1(文档 M2)第1行(扫描件 清单-重扫.pdf 第2页,2026-11-19 上传)"
    )
    assert len(set(o.returned_values)) == 2
    assert [(e.scan_file, e.scan_page) for e in o.evidence] == [
        ("清单-上午.jpg", 1),
        ("清单-重扫.pdf", 2),
    ]


def test_a_station_sees_only_differences_on_scans_it_may_open():
    a, b, c = claim("SP0112345", 1), claim("SP0112346", 2), claim("SP0112347", 3)
    own = {"record_station": "ST01"}
    items = [
        line(a, **own),
        tag(a, "TA", **own),
        line(b, row=2, **own),
        tag(b, "TB", vin="LGBH52E0XRY999999"),  # a back-office upload: no station
        line(c, row=3, **own),
        tag(c, "TC", record_station="ST01"),
    ]
    rec = run([a, b, c], items)
    assert {(o.kind, o.claim_no) for o in rec.outcomes} == {
        ("matched", "SP0112345"),
        ("mismatch", "SP0112346"),
        ("matched", "SP0112347"),
    }
    office = Principal("office", "back_office", None)
    assert for_viewer(rec, office) is rec
    station = for_viewer(rec, Principal("s1", "station", "ST01"))
    assert {(o.kind, o.claim_no) for o in station.outcomes} == {
        ("matched", "SP0112345"),
        ("matched", "SP0112347"),
    }
    evidence = [e for o in station.outcomes for e in o.evidence]
    assert evidence and all(e.record_station == "ST01" for e in evidence)
    assert station.counts()["mismatch"] == 0 and station.returned_parts == rec.returned_parts


def letter_text(rec: Reconciliation, **kw) -> str:
    with pdfplumber.open(io.BytesIO(station_letter_pdf(rec, **kw))) as pdf:
        return squash("".join(p.extract_text() or "" for p in pdf.pages))


def test_the_letter_says_each_difference_once_with_number_contact_and_seal():
    missing = claim("SP0112345", 1, part_no="3706010-E03", part_name="点火线圈")
    short = claim("SP0112346", 2, quantity=2)
    stray = claim("SP0199999", 5)
    rec = run([missing, short], [line(short), tag(short, "T1"), line(stray, row=2)])
    rec = rec.model_copy(update={"outcomes": rec.outcomes + rec.outcomes[:1]})  # said twice
    text = letter_text(rec, contact="王国华", phone="0731-8888 6666")
    assert "文号:" + letter_number(rec) in text and letter_number(rec) == "三包核〔2026〕ST01-11号"
    assert "联系人:王国华" in text and "联系电话:0731-88886666" in text
    assert "盖章处" in text
    assert text.count("SP0112345") == 1 and text.count("3706010-E03") == 1  # once each
    assert text.count("SP0112346") == 1
    assert "SP0199999" not in text  # the stray part has no claim: no claim number cited
    assert stray.vin in text  # it is named by its vehicle
    assert "索赔件未返回:" not in text  # the heading says the kind; the item does not repeat it
    blank = letter_text(run([missing], []))
    assert "联系人:＿＿＿＿＿＿" in blank  # no contact configured: a line to write on
