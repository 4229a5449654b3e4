"""File names and downloads (issue 9, point 8): names with bidi or control characters are
neutralised where they arrive (uploads, claims imports, print batches) and wherever they
leave in a Content-Disposition header; an original scan is served as an attachment with
the type its bytes show; every answer carries nosniff and its siblings."""

from __future__ import annotations

import io
import re
from urllib.parse import unquote

import pypdfium2 as pdfium
import pytest
from fastapi.testclient import TestClient

from formdesk.api import multipart
from formdesk.api.filenames import MAX_NAME_CHARS, content_disposition, neutral_filename
from formdesk.api.headers import HEADERS
from formdesk.templates.values.text import BIDI_CONTROLS

from .world import World, claims_csv, make_world

SPOOFED = "scan\u202elmth.jpg"  # shows as "scangpj.html"
NEUTRAL = "scanlmth.jpg"
INVISIBLE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> World:
    w = make_world(tmp_path_factory.mktemp("names-downloads"))
    with TestClient(w.app):
        yield w


def jpeg_of_a_blank_form(client: TestClient) -> bytes:
    pdf = client.post("/api/print/sh-zh-bd-27/blank.pdf")
    assert pdf.status_code == 200, pdf.text
    image = pdfium.PdfDocument(pdf.content)[0].render(scale=150 / 72).to_pil().convert("RGB")
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=85)
    return buf.getvalue()


def disposition_name(header: str) -> str:
    """The UTF-8 file name of an RFC 6266 `filename*` parameter."""
    m = re.search(r"filename\*=UTF-8''([^;\s]+)", header)
    assert m, header
    return unquote(m[1])


def assert_safe_attachment(header: str, name: str) -> None:
    assert header.startswith("attachment;"), header
    assert not INVISIBLE.search(header) and header.isascii(), header
    assert disposition_name(header) == name


def test_a_jpeg_uploaded_as_html_comes_back_as_a_jpeg_attachment_named_plainly(world):
    jpeg = jpeg_of_a_blank_form(world.office)
    up = world.office.post("/api/uploads", files=[("files", (SPOOFED, jpeg, "text/html"))])
    assert up.status_code == 202, up.text
    (accepted,) = up.json()["accepted"]
    assert accepted["filename"] == NEUTRAL
    sha = accepted["sha256"]
    assert world.app.state.store.get_scan(sha).filename == NEUTRAL

    res = world.office.get(f"/api/scans/{sha}")
    assert res.status_code == 200 and res.content == jpeg
    assert res.headers["content-type"] == "image/jpeg"
    assert res.headers["x-content-type-options"] == "nosniff"
    assert_safe_attachment(res.headers["content-disposition"], NEUTRAL)


@pytest.mark.parametrize(
    "data,media_type",
    [
        (b"<html><script>alert(1)</script></html>", "application/octet-stream"),
        (b"%PDF-1.7\n", "application/pdf"),
    ],
)
def test_stored_bytes_are_served_as_what_they_are(world, data, media_type):
    """A file stored before names were neutralised (put into the store directly, as old
    data is) is served with its sniffed type and a neutral name all the same."""
    store = world.app.state.store
    scan, _ = store.put_scan(data, "old\u202efdp.exe\x07", "text/html", "office", None)
    res = world.office.get(f"/api/scans/{scan.sha256}")
    assert res.status_code == 200 and res.content == data
    assert res.headers["content-type"] == media_type
    assert res.headers["x-content-type-options"] == "nosniff"
    assert_safe_attachment(res.headers["content-disposition"], "oldfdp.exe")


def test_a_claims_file_name_is_stored_neutralised(world):
    res = world.office.post(
        "/api/claims/import",
        files={"file": ("三包\u202excsl.\u2066索赔\x1b.csv", claims_csv(), "text/csv")},
    )
    assert res.status_code == 200, res.text
    assert res.json()["filename"] == "三包xcsl.索赔.csv"
    names = [i["filename"] for i in world.office.get("/api/claims/imports").json()]
    assert "三包xcsl.索赔.csv" in names
    assert not any(INVISIBLE.search(n) for n in names)


def test_a_print_batch_file_name_is_shown_neutralised(world):
    res = world.station.post(
        "/api/print/sh-zh-bd-27/batch",
        files={"file": ("标签\u202e\u200f数据.csv", b"no_such_field\nx\n", "text/csv")},
    )
    assert res.status_code == 422, res.text
    reason = res.json()["reason"]
    assert "标签数据.csv" in reason and not INVISIBLE.search(reason)


def test_every_answer_carries_the_security_headers(world):
    office, anonymous = world.office, TestClient(world.app)
    answers = [
        anonymous.get("/health"),
        anonymous.get("/login"),
        anonymous.get("/static/app.js"),
        anonymous.get("/api/records"),  # 401
        office.get("/api/no-such-route"),  # 404
        office.get("/api/records", params={"q": "a\x00b"}),  # 422 from the guard
        office.post(  # 413 from the guard: JSON is bounded
            "/api/print/sh-zh-bd-27",
            content=b'{"part_name": "' + b"x" * (2 * 1024 * 1024) + b'"}',
            headers={"content-type": "application/json"},
        ),
        office.get(f"/api/records/{world.tag_record}"),
        office.get("/api/export.csv"),
    ]
    # /health: 503 "degraded", as this app's reader is not started (start_worker=False)
    assert [a.status_code for a in answers] == [503, 200, 200, 401, 404, 422, 413, 200, 200]
    for answer in answers:
        for name, value in HEADERS:
            assert answer.headers[name.decode()] == value.decode(), (answer.url, name)


@pytest.mark.parametrize(
    "name,shown",
    [
        ("invoice\u202efdp.exe", "invoicefdp.exe"),
        ('a"b\r\nX-Evil: 1.pdf', 'a"bX-Evil: 1.pdf'),
        ("..\\..\\etc\\passwd", "passwd"),
        ("报告\u2067\u2069\u061c.xlsx", "报告.xlsx"),
        ("\u202e\x00", "未命名文件"),
        ("..", "未命名文件"),  # a path's parts are no file's name
        (".", "未命名文件"),
        ("uploads/..", "未命名文件"),
        (" . .. ", "未命名文件"),
        (".hidden.jpg", ".hidden.jpg"),
        ("a..jpg", "a..jpg"),
        ("长" * 300 + ".pdf", "长" * (MAX_NAME_CHARS - 4) + ".pdf"),
    ],
)
def test_names_are_neutralised_and_headers_stay_one_line(name, shown):
    assert neutral_filename(name) == shown
    assert not any(ch in BIDI_CONTROLS for ch in neutral_filename(name))
    header = content_disposition(name)
    assert_safe_attachment(header, shown)
    ascii_name = re.search(r'filename="([^"]*)"', header)[1]
    assert re.fullmatch(r"[A-Za-z0-9._-]*", ascii_name)


# -- careless names in a batch (the red team's names_up.py) --------------------------------------


def test_a_batch_with_careless_file_names_is_accepted_whole(world):
    """A name of 2,000 Chinese characters (once "Invalid multipart data." for the whole
    batch), a file sent without a name (once "内容太长"), `..` and `.` (once stored as
    such): every file accepted, each name shortened or replaced by the placeholder."""
    jpeg = jpeg_of_a_blank_form(world.office)
    names = ["扫" * 2000 + ".jpg", "", "..", ".", "a" * 5000 + ".jpg", "三月 扫描件.jpg"]
    files = [("files", (n, jpeg + bytes([i]) * 16, "image/jpeg")) for i, n in enumerate(names)]
    up = world.office.post("/api/uploads", files=files)
    assert up.status_code == 202, up.text
    assert up.json()["refused"] == []
    stored = [a["filename"] for a in up.json()["accepted"]]
    assert stored == [
        "扫" * (MAX_NAME_CHARS - 4) + ".jpg",
        "未命名文件",
        "未命名文件",
        "未命名文件",
        "a" * (MAX_NAME_CHARS - 4) + ".jpg",
        "三月 扫描件.jpg",
    ]
    sha = up.json()["accepted"][0]["sha256"]
    res = world.office.get(f"/api/scans/{sha}")
    assert_safe_attachment(res.headers["content-disposition"], stored[0])


def test_a_name_beyond_the_part_header_bound_is_refused_in_chinese(world):
    files = [("files", ("扫" * 30_000 + ".jpg", b"\xff\xd8\xff", "image/jpeg"))]
    res = world.office.post("/api/uploads", files=files)
    assert res.status_code == 400, res.text
    assert res.json()["reason"] == (
        "上传内容无法解析:multipart 格式不对,或某一部分的头部超过 64 KB(例如文件名过长)"
    )


def test_a_long_text_field_says_how_to_send_a_file(world):
    """A part with neither a file name nor a file type is text: too long, its reason says
    how a file is sent (it once said only "内容太长")."""
    res = world.office.post(
        "/api/uploads", files=[("files", (None, "x" * 5000))], data={"station": "HN01"}
    )
    assert res.status_code == 422, res.text
    reason = res.json()["reason"]
    assert reason.startswith("表单字段 files:内容太长") and "请带上文件名或文件类型" in reason


@pytest.mark.parametrize(
    "english,chinese",
    [
        ("Invalid multipart data.", "上传内容无法解析"),
        ("Missing boundary in multipart.", "缺少 multipart 分隔符"),
        ('The Content-Disposition header field "name" must be provided.', "缺少字段名"),
        ("Too many files. Maximum number of files is 1000.", "文件太多:一次最多 1000 个"),
        ("Too many fields. Maximum number of fields is 1000.", "表单字段太多:最多 1000 个"),
        ("Part exceeded maximum size of 1024KB.", "表单字段过大:最多 1024 KB"),
        ("Field exceeded maximum size of 1024KB.", "表单字段过大:最多 1024 KB"),
    ],
)
def test_starlettes_multipart_refusals_are_said_in_chinese(english, chinese):
    assert chinese in multipart.reason(english)
    assert multipart.reason("Something else.") is None


def test_a_form_without_boundary_is_refused_in_chinese(world):
    res = world.office.post(
        "/api/uploads", content=b"x", headers={"content-type": "multipart/form-data"}
    )
    assert res.status_code == 400 and "分隔符" in res.json()["reason"], res.text
