"""Issue 12, point 5: the paper of the A6 tags (SH-ZH/BD-27, BD-30) — four to an A4 sheet
(a4x4, the default) or one tag per A6 page (a6) — for a single print, a print job from a
spreadsheet and `formdesk render --paper a6`; tags printed on A6 read back with the real
reader.  And a station user prints only for its own station.

Real app (FastAPI TestClient on each store; the render and spreadsheet processes; on
PostgreSQL the job queue), real PDFs rasterised at 200 dpi like a scan.
"""

from __future__ import annotations

import csv
import io
import json

import cv2
import numpy as np
import pypdfium2 as pdfium
import pytest

from formdesk.extract.ocr import default_engine
from formdesk.extract.reader import FormReader
from formdesk.templates import get_template

from .conftest import RECORDS, finished_print_job, sample_values
from .test_api import login, service  # noqa: F401 (the module's service fixture)
from .test_cli import run

BD27 = get_template("SH-ZH/BD-27")
BD30 = get_template("SH-ZH/BD-30")
A6_PT = (105 / 25.4 * 72, 148 / 25.4 * 72)
A4_PT = (210 / 25.4 * 72, 297 / 25.4 * 72)


def page_sizes(pdf: bytes) -> list[tuple[float, float]]:
    doc = pdfium.PdfDocument(pdf)
    sizes = [doc[i].get_size() for i in range(len(doc))]
    doc.close()
    return sizes


def same_size(got: tuple[float, float], want: tuple[float, float]) -> bool:
    return abs(got[0] - want[0]) < 1 and abs(got[1] - want[1]) < 1


def scans(pdf: bytes) -> list[bytes]:
    """Every page of the PDF as a 200 dpi JPEG, as a scanner returns it."""
    doc = pdfium.PdfDocument(pdf)
    out = []
    for page in doc:
        img = cv2.cvtColor(
            np.asarray(page.render(scale=200 / 72).to_pil().convert("RGB")), cv2.COLOR_RGB2BGR
        )
        ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 90])
        assert ok
        out.append(buf.tobytes())
    doc.close()
    return out


def tags_csv(rows: list[dict]) -> bytes:
    keys = list(rows[0])
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow([BD27.field(k).label for k in keys])
    for r in rows:
        w.writerow([r[k] for k in keys])
    return buf.getvalue().encode("utf-8")


def two_tags() -> list[dict]:
    base = sample_values(BD27)
    keys = ("sender_unit", "part_name", "vin", "purchase_date", "repair_date", "mileage_km")
    return [
        {k: base[k] for k in keys} | {"part_name": name, "mileage_km": km}
        for name, km in (("水泵总成", 48260), ("机油泵总成", 61230))
    ]


def test_two_tags_printed_on_a6_are_two_a6_pages_that_read_back(service):  # noqa: F811
    """A print job of 2 tags with paper=a6: two 105 x 148 mm pages, each with its marks
    and QR, each read back by the real reader to its own document and values."""
    app, _ = service
    s1 = login(app, "s1")
    rows = two_tags()
    res = s1.post(
        f"/api/print/{BD27.slug}/batch",
        params={"paper": "a6"},
        files={"file": ("tags.csv", tags_csv(rows), "text/csv")},
    )
    assert res.status_code == 202, res.text
    assert res.json()["paper"] == "a6"
    job = finished_print_job(s1, res.json(), timeout=120)
    assert job["state"] == "done", job
    pdf = s1.get(job["file_url"])
    assert pdf.status_code == 200
    sizes = page_sizes(pdf.content)
    assert len(sizes) == 2 and all(same_size(s, A6_PT) for s in sizes), sizes

    reader = FormReader(app.state.key, default_engine())
    read = {}
    for n, jpeg in enumerate(scans(pdf.content), start=1):
        [record] = reader.read_file(jpeg, f"a6-{n}.jpg").records
        assert record.template == BD27.code and record.authentic is True
        read[record.document_id] = record.values()
    assert sorted(read) == sorted(job["document_ids"])
    printed = {app.state.store.get_document(d).values["mileage_km"]: d for d in read}
    for row in rows:
        values = read[printed[row["mileage_km"]]]
        assert values["mileage_km"] == row["mileage_km"], values
        assert values["part_name"] == row["part_name"], values
        assert values["vin"] == row["vin"], values
        assert values["sender_unit"] == row["sender_unit"], values


def test_single_prints_take_the_paper_and_refuse_one_a_form_does_not_take(service):  # noqa: F811
    app, _ = service
    office = login(app, "office")
    values = sample_values(BD30)
    a4 = office.post(f"/api/print/{BD30.slug}", json=values)
    assert a4.status_code == 200, a4.text
    assert [same_size(s, A4_PT) for s in page_sizes(a4.content)] == [True]
    a6 = office.post(f"/api/print/{BD30.slug}", params={"paper": "a6"}, json=values)
    assert a6.status_code == 200, a6.text
    assert [same_size(s, A6_PT) for s in page_sizes(a6.content)] == [True]
    blank = office.post(f"/api/print/{BD27.slug}/blank.pdf", params={"paper": "a6", "copies": 3})
    assert blank.status_code == 200, blank.text
    assert [same_size(s, A6_PT) for s in page_sizes(blank.content)] == [True] * 3
    blank4 = office.post(f"/api/print/{BD27.slug}/blank.pdf", params={"copies": 3})
    assert [same_size(s, A4_PT) for s in page_sizes(blank4.content)] == [True]  # ganged

    res = office.post(f"/api/print/{BD27.slug}", params={"paper": "a5"}, json={})
    assert res.status_code == 422 and "纸张只能是" in res.json()["reason"], res.text
    res = office.post("/api/print/form-04/blank.pdf", params={"paper": "a6"})
    assert res.status_code == 422 and "不是小标签" in res.json()["reason"], res.text


def test_a_station_user_prints_only_for_its_own_station(service):  # noqa: F811
    """The `station` asked for and the form's station fields (来件单位 …) must be the user's
    own: another stored station's name or code is refused (403) naming the field; the
    user's own name, or a name the installation does not know, prints."""
    app, _ = service
    s1 = login(app, "s1")
    values = sample_values(BD27)
    res = s1.post(f"/api/print/{BD27.slug}", params={"station": "HN02"}, json=values)
    assert res.status_code == 403 and "只能为本站(HN01)" in res.json()["reason"], res.text
    for other in ("衡阳广汇汽车维修站", "HN02", " 衡阳广汇汽车维修站 "):
        res = s1.post(f"/api/print/{BD27.slug}", json=values | {"sender_unit": other})
        assert res.status_code == 403, res.text
        body = res.json()
        assert body["reason"].startswith("来件单位:维修站用户只能为本站(HN01 长沙顺达汽车维修站)")
        assert "HN02 衡阳广汇汽车维修站" in body["reason"] and body["field"] == "sender_unit"
    for own in ("长沙顺达汽车维修站", "顺达维修站", "HN01"):
        res = s1.post(f"/api/print/{BD27.slug}", json=values | {"sender_unit": own})
        assert res.status_code == 200, res.text
    res = s1.post(f"/api/print/{BD27.slug}", params={"station": "HN01"}, json=values)
    assert res.status_code == 200, res.text
    fault = sample_values(BD30) | {"service_station": "衡阳广汇汽车维修站"}
    res = s1.post(f"/api/print/{BD30.slug}", json=fault)
    assert res.status_code == 403 and res.json()["field"] == "service_station", res.text
    # a print-data file: such a row is a bad row, named with its line
    rows = two_tags()
    rows[1] |= {"sender_unit": "衡阳广汇汽车维修站"}
    upload = {"file": ("t.csv", tags_csv(rows), "text/csv")}
    res = s1.post(f"/api/print/{BD27.slug}/batch", files=upload)
    assert res.status_code == 422, res.text
    assert res.json()["reason"].startswith("t.csv 第3行 来件单位:维修站用户只能为本站"), res.text
    checked = s1.post(f"/api/print/{BD27.slug}/check", files=upload).json()
    assert (checked["good"], checked["bad"]) == (1, 1), checked
    assert checked["problems"][0].startswith("第3行 来件单位:维修站用户只能为本站"), checked
    res = s1.post(f"/api/print/{BD27.slug}/batch", params={"skip_bad": True}, files=upload)
    assert res.status_code == 202, res.text
    job = finished_print_job(s1, res.json())
    assert job["state"] == "done" and len(job["document_ids"]) == 1, job
    assert job["skipped"] == checked["problems"]
    assert (
        login(app, "office").post(f"/api/print/{BD27.slug}/check", files=upload).json()["bad"] == 0
    )  # the back office prints for every station
    # the back office prints for any station
    office = login(app, "office")
    res = office.post(
        f"/api/print/{BD27.slug}", json=values | {"sender_unit": "衡阳广汇汽车维修站"}
    )
    assert res.status_code == 200, res.text


def test_the_template_says_which_fields_hold_the_station(service):  # noqa: F811
    app, _ = service
    s1 = login(app, "s1")
    held = {
        slug: {f["key"]: f["station"] for f in s1.get(f"/api/templates/{slug}").json()["fields"]
               if "station" in f}
        for slug in ("sh-zh-bd-27", "sh-zh-bd-30", "sh-zh-bd-31", "sh-zh-bd-24", "form-04")
    }  # fmt: skip
    assert held == {
        "sh-zh-bd-27": {"sender_unit": "name"},
        "sh-zh-bd-30": {"service_station": "name"},
        "sh-zh-bd-31": {"unit_name": "name"},
        "sh-zh-bd-24": {"station_name": "name", "station_code": "code"},
        "form-04": {},
    }


@pytest.mark.parametrize(("paper", "pages", "size"), [("a6", 3, A6_PT), ("a4x4", 1, A4_PT)])
def test_the_render_command_takes_the_paper(tmp_path, paper, pages, size):
    data = json.loads((RECORDS / "sh-zh-bd-27.json").read_text(encoding="utf-8"))["values"]
    (tmp_path / "tags.json").write_text(json.dumps([data] * 3, ensure_ascii=False))
    res = run(
        "render", "BD-27", "--data", "tags.json", "--paper", paper, "-o", "t.pdf", cwd=tmp_path
    )
    assert res.returncode == 0, res.stderr
    sizes = page_sizes((tmp_path / "t.pdf").read_bytes())
    assert len(sizes) == pages and all(same_size(s, size) for s in sizes), sizes
    res = run("render", "表格04", "--paper", "a6", "-o", "f.pdf", cwd=tmp_path)
    assert res.returncode == 1 and "不是小标签" in res.stderr, res.stderr


def test_a_station_user_uploads_for_its_own_station_only(service):  # noqa: F811
    app, _ = service
    s1 = login(app, "s1")
    pdf = s1.post(f"/api/print/{BD27.slug}/blank.pdf").content
    files = {"files": ("tag.pdf", pdf, "application/pdf")}
    res = s1.post("/api/uploads", data={"station": "HN02"}, files=files)
    assert res.status_code == 403 and "只能为本站(HN01)" in res.json()["reason"], res.text
    res = s1.post("/api/uploads", data={"station": "HN01"}, files=files)
    assert res.status_code == 202, res.text
