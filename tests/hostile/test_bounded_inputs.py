"""Hostile and careless inputs get bounded work: every parser refuses with its Chinese reason
before memory or time runs out (issue 9, "Bounded work for every input").

Every file is generated here, small on disk (a few KB to a few MB) and built without ever
holding what it unpacks to. Memory is measured in a child process (its own peak RSS, or
`os.wait4` of the `formdesk` command), against bounds far below what the unbounded code
needed (3 GB and more for the two poison PDFs, hundreds of MB for the XLSX bomb).
"""

from __future__ import annotations

import io
import json
import struct
import subprocess
import sys
import time
import zipfile
import zlib
from collections.abc import Iterable
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from PIL import Image

from formdesk.extract.reader import FormReader
from formdesk.ingest import IngestError, IngestLimits, count_pages, load_pages
from formdesk.ingest import pdf as ingest_pdf
from formdesk.ingest.claims import ClaimFileError, read_claims
from formdesk.ingest.tables import TableError, TableLimits, xlsx_rows
from formdesk.render.record_sources import RecordSourceError, load_records
from formdesk.templates import load_catalog

from ..test_ingest import handmade_pdf, text_pdf

CASES = Path(__file__).resolve().parent / "cases"
REFUSED_WITHIN_S = 5.0  # every refusal here takes well under a second on an idle core
CHILD_PEAK_MB = 300  # formdesk imported: ~100 MB; these refusals peaked at 90–160 MB

# -- building hostile files --------------------------------------------------------------


def deflated(chunks: Iterable[bytes]) -> bytes:
    z = zlib.compressobj(9)
    return b"".join(z.compress(c) for c in chunks) + z.flush()


def stream(chunks: Iterable[bytes], extra: bytes = b"") -> bytes:
    data = deflated(chunks)
    return b"<< %s /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream" % (
        extra,
        len(data),
        data,
    )


def one_page_pdf(content: Iterable[bytes], xobjects: bytes = b"", more: list[bytes] = ()) -> bytes:
    """Objects 1–5: catalog, pages, page, its content, a font; `more` from 6 on."""
    return handmade_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources "
            b"<< /Font << /F1 5 0 R >> /XObject << %s >> >> /Contents 4 0 R >>" % xobjects,
            stream(content),
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
            *more,
        ]
    )


def repeat(piece: bytes, times: int, block: int = 10_000) -> Iterable[bytes]:
    for done in range(0, times, block):
        yield piece * min(block, times - done)


def text(body: Iterable[bytes]) -> Iterable[bytes]:
    yield b"BT /F1 12 Tf 10 10 Td "
    yield from body
    yield b" ET"


def form(content: bytes, resources: bytes = b"") -> bytes:
    return stream(
        [content],
        b"/Type /XObject /Subtype /Form /BBox [0 0 10 10] /Resources << %s >>" % resources,
    )


def nested_forms(levels: int, calls: int) -> bytes:
    """Form k invokes form k+1 `calls` times: calls**levels operators from a 2 KB file."""
    forms = []
    for k in range(levels):
        obj = 6 + k
        if k == levels - 1:
            forms.append(form(b"0 0 1 1 re f"))
        else:
            forms.append(form(b"/X Do " * calls, b"/XObject << /X %d 0 R >>" % (obj + 1)))
    return one_page_pdf([b"/X Do " * calls], b"/X 6 0 R", forms)


def objects_in_object_stream(n: int) -> bytes:
    """n null objects in one object stream, indexed by a cross-reference stream."""
    base = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
        stream([b"0 0 m 9 9 l S"]),
    ]
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for k, body in enumerate(base, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (k, body)
    first = len(base) + 3  # 5: the object stream, 6: the xref stream
    header = b" ".join(b"%d %d" % (first + i, 2 * i) for i in range(n)) + b" "
    offsets.append(len(out))
    body = deflated([header, b"0 " * n])
    out += (
        b"5 0 obj\n<< /Type /ObjStm /N %d /First %d /Length %d /Filter /FlateDecode >>\n"
        b"stream\n%s\nendstream\nendobj\n" % (n, len(header), len(body), body)
    )
    xref_at = len(out)
    rows = [b"\x00" + bytes(4)] + [b"\x01" + struct.pack(">I", o) for o in offsets]
    rows.append(b"\x01" + struct.pack(">I", xref_at))
    rows += [b"\x02" + struct.pack(">I", 5)] * n
    table = deflated(rows)
    out += (
        b"6 0 obj\n<< /Type /XRef /Size %d /W [1 4 0] /Root 1 0 R /Length %d "
        b"/Filter /FlateDecode >>\nstream\n%s\nendstream\nendobj\n" % (first + n, len(table), table)
    )
    out += b"startxref\n%d\n%%%%EOF\n" % xref_at
    return bytes(out)


def xref_stream_claiming(entries: int) -> bytes:
    """A normal page whose cross-reference stream declares `entries` objects by /Index."""
    pdf = one_page_pdf([b"0 0 m 9 9 l S"])
    at = pdf.index(b"xref")
    rows = deflated([b"\x01" + struct.pack(">I", 9)] * 10)
    return pdf[:at] + (
        b"99 0 obj\n<< /Type /XRef /Size 7 /Index [0 7 7 %d] /W [1 4 0] /Root 1 0 R "
        b"/Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream\nendobj\n"
        b"startxref\n%d\n%%%%EOF\n" % (entries, len(rows), rows, at)
    )


def tiff_frames(n: int) -> bytes:
    """A little-endian TIFF of n chained 1×1 grey frames sharing one pixel."""
    tags = 9
    ifd = 2 + 12 * tags + 4
    pixel = 8 + ifd * n
    out = bytearray(b"II*\x00" + struct.pack("<I", 8))
    for i in range(n):
        nxt = 8 + ifd * (i + 1) if i < n - 1 else 0
        out += struct.pack("<H", tags)
        for tag, value in ((256, 1), (257, 1), (258, 8), (259, 1), (262, 1)):
            out += struct.pack("<HHIHH", tag, 3, 1, value, 0)
        out += struct.pack("<HHII", 273, 4, 1, pixel)
        for tag, value in ((277, 1), (278, 1)):
            out += struct.pack("<HHIHH", tag, 3, 1, value, 0)
        out += struct.pack("<HHII", 279, 4, 1, 1) + struct.pack("<I", nxt)
    return bytes(out + b"\x80")


def tiff_strips(strips: int) -> bytes:
    """One 1 × `strips` frame stored one row per strip."""
    tags = 9
    offsets_at = 8 + 2 + 12 * tags + 4
    counts_at = offsets_at + 4 * strips
    pixels = counts_at + 4 * strips
    out = bytearray(b"II*\x00" + struct.pack("<I", 8) + struct.pack("<H", tags))
    for tag, typ, count, value in (
        (256, 4, 1, 1),
        (257, 4, 1, strips),
        (258, 4, 1, 8),
        (259, 4, 1, 1),
        (262, 4, 1, 1),
        (273, 4, strips, offsets_at),
        (277, 4, 1, 1),
        (278, 4, 1, 1),
        (279, 4, strips, counts_at),
    ):
        out += struct.pack("<HHII", tag, typ, count, value)
    out += struct.pack("<I", 0)
    out += struct.pack("<I", pixels) * strips + struct.pack("<I", 1) * strips + b"\x80"
    return bytes(out)


_CONTENT_TYPES = (
    '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
    'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-'
    'package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/'
    'sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.'
    'worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>'
)
_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def xlsx(sheet: Iterable[bytes], shared: Iterable[bytes] = (b"<si><t>a</t></si>",)) -> bytes:
    """A minimal workbook; the sheet's XML and the shared strings are streamed in."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", _CONTENT_TYPES)
        z.writestr(
            "_rels/.rels",
            f'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{_RELS}/officeDocument" Target="xl/workbook.xml"/>'
            "</Relationships>",
        )
        z.writestr(
            "xl/workbook.xml",
            f'<workbook xmlns="{_MAIN}" xmlns:r="{_RELS}"><sheets>'
            '<sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        z.writestr(
            "xl/_rels/workbook.xml.rels",
            f'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{_RELS}/worksheet" Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{_RELS}/sharedStrings" Target="sharedStrings.xml"/>'
            "</Relationships>",
        )
        for name, head, parts, tail in (
            (
                "xl/worksheets/sheet1.xml",
                b'<worksheet xmlns="%s"><sheetData>',
                sheet,
                b"</sheetData></worksheet>",
            ),
            ("xl/sharedStrings.xml", b'<sst xmlns="%s">', shared, b"</sst>"),
        ):
            with z.open(name, "w", force_zip64=True) as f:
                f.write(head % _MAIN.encode() if b"%s" in head else head)
                for part in parts:
                    f.write(part)
                f.write(tail)
    return buf.getvalue()


def sheet_rows(rows: int, cells_per_row: int = 1) -> Iterable[bytes]:
    for start in range(1, rows + 1, 5_000):
        yield b"".join(
            b'<row r="%d">' % r
            + b"".join(
                b'<c r="%s%d"><v>%d</v></c>' % (b"ABCDEFGHIJ"[c : c + 1], r, c)
                for c in range(cells_per_row)
            )
            + b"</row>"
            for r in range(start, min(start + 5_000, rows + 1))
        )


# -- running in a child process ------------------------------------------------------------

# Peak RSS from VmHWM: this process's own high-water mark (ru_maxrss keeps the spawning
# pytest process's size across exec).
_CHILD = """
import sys, time
path, call = sys.argv[1], sys.argv[2]
data = open(path, "rb").read()
start = time.monotonic()
try:
    exec(call)
    outcome = "accepted"
except Exception as exc:
    outcome = type(exc).__name__ + ": " + str(exc)
took = time.monotonic() - start
print(outcome)
hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM:")][0].split()[1]
print(took, int(hwm) // 1024)
"""


def in_child(tmp_path: Path, data: bytes, call: str) -> tuple[str, float, int]:
    """(outcome line, seconds, peak RSS in MB) of `call` run on `data` in a fresh process."""
    path = tmp_path / "input.bin"
    path.write_bytes(data)
    res = subprocess.run(
        [sys.executable, "-c", _CHILD, str(path), call],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr[-2000:]
    outcome, figures = res.stdout.strip().splitlines()[-2:]
    took, peak = figures.split()
    return outcome, float(took), int(peak)


# The command's ru_maxrss through a small launcher: a forked child starts from the
# launcher's size, not pytest's.
_WAIT4 = """
import os, subprocess, sys
p = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=open(os.environ["ERR"], "w"))
_, status, usage = os.wait4(p.pid, 0)
p.returncode = os.waitstatus_to_exitcode(status)
print(p.returncode, usage.ru_maxrss // 1024)
"""


def formdesk(tmp_path: Path, *args: str) -> tuple[int, list[str], int]:
    """(exit code, stderr lines, peak RSS in MB) of the `formdesk` command."""
    err = tmp_path / "stderr.txt"
    res = subprocess.run(
        [sys.executable, "-c", _WAIT4, sys.executable, "-m", "formdesk.api", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        env={"FORMDESK_SECRET": "bounded-inputs", "PATH": "/usr/bin:/bin", "ERR": str(err)},
    )
    code, peak = res.stdout.split()
    return int(code), err.read_text().strip().splitlines(), int(peak)


def refused_pdf(data: bytes, limits: IngestLimits | None = None) -> str:
    """The reason, the same at upload (`count_pages`) and at reading (`load_pages`)."""
    limits = limits or IngestLimits()
    reasons = []
    for call in (count_pages, load_pages):
        start = time.monotonic()
        with pytest.raises(IngestError) as info:
            call(data, "upload.pdf", limits)
        assert time.monotonic() - start < REFUSED_WITHIN_S
        reasons.append(str(info.value))
    assert reasons[0] == reasons[1] and "\n" not in reasons[0]
    return reasons[0]


# -- PDF: the two poison kinds and their relatives ----------------------------------------

CHAR_BOMB = "PDF 第 1 页文字过多(约 3000002 个字符,上限 50000 个)"
TJ_BOMB = "PDF 第 1 页内容过于复杂(页面描述 6.7 MB,上限 4 MB)"


@pytest.fixture(scope="module")
def char_bomb() -> bytes:
    """3.5 KB: one Tj of 3 million characters (pdfplumber: ~6 GB; PDFium keeps 32,767)."""
    data = one_page_pdf(text([b"(", *repeat(b"A", 3_000_000, 100_000), b") Tj"]))
    assert len(data) < 5_000
    return data


@pytest.fixture(scope="module")
def tj_bomb() -> bytes:
    """10 KB: `(A) Tj` a million times (PDFium: 640 MB and 4.8 s to render)."""
    data = one_page_pdf(text(repeat(b"(A) Tj ", 1_000_000)))
    assert len(data) < 12_000
    return data


def test_the_character_bomb_is_refused_before_pdfplumber_or_pdfium(char_bomb, tmp_path):
    assert refused_pdf(char_bomb) == CHAR_BOMB
    outcome, took, peak = in_child(
        tmp_path, char_bomb, "from formdesk.ingest import load_pages; load_pages(data, 'a.pdf')"
    )
    assert outcome == f"IngestError: {CHAR_BOMB}"
    assert took < REFUSED_WITHIN_S and peak < CHILD_PEAK_MB


def test_the_operator_bomb_is_refused_before_pdfium_loads_the_page(tj_bomb, tmp_path):
    assert refused_pdf(tj_bomb) == TJ_BOMB
    outcome, took, peak = in_child(
        tmp_path, tj_bomb, "from formdesk.ingest import load_pages; load_pages(data, 'a.pdf')"
    )
    assert outcome == f"IngestError: {TJ_BOMB}"
    assert took < REFUSED_WITHIN_S and peak < CHILD_PEAK_MB


def test_operators_are_counted_when_the_content_fits_its_budget():
    data = one_page_pdf(text(repeat(b"(A)' ", 300_000)))  # 1.5 MB of content
    assert refused_pdf(data) == "PDF 第 1 页内容过于复杂(绘制指令超过上限 200000 个)"


def test_a_text_layer_bomb_small_enough_for_the_content_budget_is_refused_by_characters():
    # 200,000 characters in 200 KB: pdfplumber needed 400 MB and 4.4 s for it.
    data = one_page_pdf(text([b"(", b"A" * 200_000, b") Tj"]))
    assert refused_pdf(data) == "PDF 第 1 页文字过多(约 200002 个字符,上限 50000 个)"
    # Nested parentheses and escapes are one string, as PDF reads them.
    tricky = one_page_pdf(text([b"(x(" + b"A" * 30_000 + b")\\)" + b"B" * 30_000 + b") Tj"]))
    assert "约 60007 个字符" in refused_pdf(tricky)
    hexed = one_page_pdf(text([b"<" + b"41" * 60_000 + b"> Tj"]))
    assert "约 60000 个字符" in refused_pdf(hexed)


def test_a_flate_bomb_content_stream_stops_decoding_at_its_cap(tmp_path):
    data = one_page_pdf(repeat(b" ", 1_000_000_000, 10_000_000))  # 1 GB of spaces, ~1 MB
    assert len(data) < 1_500_000
    reason = "PDF 第 1 页内容过于复杂(页面描述超过 16 MB,上限 4 MB)"
    assert refused_pdf(data) == reason
    outcome, _, peak = in_child(
        tmp_path, data, "from formdesk.ingest import count_pages; count_pages(data, 'a.pdf')"
    )
    assert outcome == f"IngestError: {reason}" and peak < CHILD_PEAK_MB


def test_forms_invoking_forms_are_counted_with_every_invocation(tmp_path):
    # 10 levels of 10 calls: 10**10 rectangles from 2 KB, 1,000 × 1,000 took PDFium 360 MB.
    data = nested_forms(levels=10, calls=10)
    assert len(data) < 4_000
    reason = refused_pdf(data)
    assert reason.startswith("PDF 第 1 页内容过于复杂(") and "个绘制指令,上限 200000 个" in reason
    outcome, took, peak = in_child(
        tmp_path, data, "from formdesk.ingest import load_pages; load_pages(data, 'a.pdf')"
    )
    assert outcome == f"IngestError: {reason}"
    assert took < REFUSED_WITHIN_S and peak < CHILD_PEAK_MB
    # The same shape within budget renders: 3 levels of 10 calls are 1,000 rectangles.
    assert count_pages(nested_forms(levels=3, calls=10), "a.pdf") == 1


def test_forms_in_resources_inherited_from_the_page_tree_are_followed():
    forms = [form(b"/X Do " * 10, b"/XObject << /X %d 0 R >>" % (6 + k)) for k in range(7)]
    data = handmade_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 /Resources << /XObject << /X 5 0 R >> >> >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
            stream([b"/X Do " * 10]),
            *forms,
            form(b"0 0 1 1 re f"),
        ]
    )
    assert "个绘制指令,上限 200000 个" in refused_pdf(data)


def test_bytes_interpreted_again_at_every_invocation_or_repetition_are_counted():
    """A 3 MB form of blanks drawn 100,000 times, or one 3 MB stream listed 50,000 times in
    /Contents: few operators, but PDFium reads every byte at every use."""
    blank = form(b" " * 3_000_000)
    called = one_page_pdf([b"/X Do " * 100_000], b"/X 6 0 R", [blank])
    assert refused_pdf(called).startswith("PDF 第 1 页内容过于复杂(页面描述展开后 ")
    repeated = handmade_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents ["
            + b"4 0 R " * 50_000
            + b"] >>",
            stream([b" " * 3_000_000]),
        ]
    )
    assert refused_pdf(repeated) == (
        "PDF 第 1 页内容过于复杂(页面描述展开后 143051.1 MB,上限 64 MB)"
    )


def test_a_form_that_invokes_itself_is_refused():
    data = one_page_pdf([b"/X Do"], b"/X 6 0 R", [form(b"/X Do", b"/XObject << /X 6 0 R >>")])
    assert refused_pdf(data) == "PDF 第 1 页的表单对象引用自身(循环嵌套)"
    # Two forms calling each other are a cycle too.
    pair = one_page_pdf(
        [b"/X Do"],
        b"/X 6 0 R",
        [form(b"/Y Do", b"/XObject << /Y 7 0 R >>"), form(b"/X Do", b"/XObject << /X 6 0 R >>")],
    )
    assert refused_pdf(pair) == "PDF 第 1 页的表单对象引用自身(循环嵌套)"


def test_forms_nested_deeper_than_the_cap_are_refused():
    assert refused_pdf(nested_forms(levels=20, calls=1)) == (
        "PDF 第 1 页的表单对象嵌套过深(超过 12 层)"
    )


def test_a_huge_object_count_is_refused_before_any_parser_indexes_it(tmp_path):
    data = objects_in_object_stream(1_000_000)  # PDFium: 220 MB, pypdf: 1.2 s
    assert len(data) < 5_000_000
    reason = "PDF 对象过多(超过 100000 个,上限 100000 个)"
    assert refused_pdf(data) == reason
    outcome, took, peak = in_child(
        tmp_path, data, "from formdesk.ingest import count_pages; count_pages(data, 'a.pdf')"
    )
    assert outcome == f"IngestError: {reason}"
    assert took < REFUSED_WITHIN_S and peak < CHILD_PEAK_MB
    assert count_pages(objects_in_object_stream(1_000), "a.pdf") == 1


def test_an_index_claiming_millions_of_objects_is_refused():
    reason = "PDF 对象过多(超过 100000 个,上限 100000 个)"
    assert refused_pdf(xref_stream_claiming(5_000_000)) == reason
    # A classic table announcing 10 million entries it does not hold: the parsers check
    # the announcement against the file, and the page still reads.
    pdf = one_page_pdf([b"0 0 m 9 9 l S"])
    lying = pdf.replace(b"xref\n0 6\n", b"xref\n0 10000000\n")
    start = time.monotonic()
    try:
        count_pages(lying, "a.pdf")
    except IngestError as exc:
        assert "PDF" in str(exc)
    assert time.monotonic() - start < REFUSED_WITHIN_S


def test_a_huge_declared_length_costs_nothing():
    pdf = one_page_pdf([b"0 0 m 9 9 l S"])
    at = pdf.index(b"/Length ")
    end = pdf.index(b" ", at + 8)
    lying = pdf[:at] + b"/Length 999999999999" + pdf[end:]
    start = time.monotonic()
    try:
        assert count_pages(lying, "a.pdf") == 1
    except IngestError as exc:
        assert str(exc).startswith("PDF")
    assert time.monotonic() - start < REFUSED_WITHIN_S


def test_the_text_layer_is_checked_by_pdfium_too(monkeypatch):
    """The second guard in `_has_text`: PDFium's own character count."""
    doc = pdfium.PdfDocument(text_pdf(1))
    page = doc[0]
    try:
        n = page.get_textpage().count_chars()
        assert n > 20
        with pytest.raises(IngestError) as info:
            ingest_pdf._has_text(page, 0, IngestLimits(max_page_chars=20))
        assert str(info.value) == f"PDF 第 1 页文字过多({n} 个字符,上限 20 个)"
        assert ingest_pdf._has_text(page, 0, IngestLimits())
    finally:
        page.close()
        doc.close()


def test_the_reader_turns_the_refusal_into_the_files_reason(char_bomb):
    reader = FormReader(b"key", engine=object())  # refused before any OCR
    with pytest.raises(IngestError) as info:
        reader.read_file(char_bomb, "bomb.pdf")
    assert str(info.value) == CHAR_BOMB


@pytest.mark.slow
def test_formdesk_read_refuses_the_poison_pdfs_in_one_line_each(char_bomb, tj_bomb, tmp_path):
    (tmp_path / "chars.pdf").write_bytes(char_bomb)
    (tmp_path / "ops.pdf").write_bytes(tj_bomb)
    code, lines, peak = formdesk(tmp_path, "read", "chars.pdf", "ops.pdf")
    assert code == 1
    assert lines == [f"错误:chars.pdf:{CHAR_BOMB}", f"错误:ops.pdf:{TJ_BOMB}"]
    assert peak < CHILD_PEAK_MB


def test_formdesks_own_pdfs_pass_every_budget(tmp_path):
    from formdesk.render.document import PdfRenderer

    from ..conftest import TEST_KEY, sample_values

    catalog = load_catalog()
    manifest = next(t for t in catalog.values() if t.code == "SH-ZH/BD-31")
    tag = next(t for t in catalog.values() if t.code == "SH-ZH/BD-27")
    values = sample_values(manifest)
    rows = values["returned_parts"]
    values["returned_parts"] = [rows[i % len(rows)] for i in range(33)]  # three pages
    out = tmp_path / "mix.pdf"
    with PdfRenderer(out, TEST_KEY) as r:
        r.add(manifest, values)
        for _ in range(40):
            r.add(tag, sample_values(tag))
    assert count_pages(out.read_bytes(), "mix.pdf") == 3 + 10


# -- images ------------------------------------------------------------------------------------


@pytest.mark.exclusive  # times itself (tests/exclusive.py)
def test_a_10000_frame_tiff_is_refused_in_well_under_a_second():
    data = tiff_frames(10_000)
    start = time.monotonic()
    with pytest.raises(IngestError) as info:
        count_pages(data, "scan.tif")
    assert time.monotonic() - start < 1.0
    assert str(info.value) == "页数过多(超过 201 页,上限 200 页)"
    assert count_pages(tiff_frames(200), "scan.tif") == 200
    with pytest.raises(IngestError) as info:
        count_pages(tiff_frames(201), "scan.tif")
    assert str(info.value) == "页数过多(201 页,上限 200 页)"


def test_a_tiff_of_a_hundred_thousand_strips_is_refused_before_pillow_reads_them(tmp_path):
    data = tiff_strips(100_000)  # 800 KB; 4 million strips took Pillow 47 s and 1.4 GB
    reason = "TIFF 第 1 页分块过多(100000 个条带或图块,上限 50000 个)"
    outcome, took, peak = in_child(
        tmp_path, data, "from formdesk.ingest import load_pages; load_pages(data, 'a.tif')"
    )
    assert outcome == f"IngestError: {reason}"
    assert took < REFUSED_WITHIN_S and peak < CHILD_PEAK_MB
    (page,) = load_pages(tiff_strips(1_000), "a.tif")
    assert page.size == (1, 1_000)


def png_with(chunks: bytes) -> bytes:
    """An 8×8 PNG with extra chunks placed after its header."""
    buf = io.BytesIO()
    Image.new("L", (8, 8)).save(buf, "PNG")
    return buf.getvalue()[:33] + chunks + buf.getvalue()[33:]


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def test_png_text_and_icc_chunks_are_bounded_by_pillows_own_limits(tmp_path):
    """Checked, not ours: Pillow inflates a text chunk to at most 1 MB and all text to at
    most 64 MB (PngImagePlugin.MAX_TEXT_CHUNK, MAX_TEXT_MEMORY), an ICC profile to 1 MB."""
    text_bomb = png_with(png_chunk(b"zTXt", b"k\x00\x00" + deflated([b"A" * 1_000_000])) * 2_000)
    icc_bomb = png_with(png_chunk(b"iCCP", b"icc\x00\x00" + deflated(repeat(b"A", 10**8, 10**7))))
    for data in (text_bomb, icc_bomb):
        outcome, took, peak = in_child(
            tmp_path, data, "from formdesk.ingest import load_pages; load_pages(data, 'a.png')"
        )
        assert outcome == "IngestError: PNG 图片损坏或不完整"
        assert took < REFUSED_WITHIN_S and peak < CHILD_PEAK_MB


# -- tables --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shared_strings_bomb() -> bytes:
    """~0.3 MB: a shared-strings part of 300 MB (a 64 MB string took openpyxl 170 MB)."""
    data = xlsx(
        [b'<row r="1"><c r="A1" t="s"><v>0</v></c></row>'],
        [b"<si><t>", *repeat(b"A", 300 * 1024 * 1024, 10 * 1024 * 1024), b"</t></si>"],
    )
    assert len(data) < 400_000
    return data


BOMB_REASON = (
    "Excel 文件中的共享字符串表 xl/sharedStrings.xml 解压后 300 MB,超过 16 MB 上限(可能是压缩炸弹)"
)


def test_the_shared_strings_bomb_is_refused_from_the_zip_directory(shared_strings_bomb, tmp_path):
    with pytest.raises(ClaimFileError) as info:
        read_claims(shared_strings_bomb, "bomb.xlsx", source="test")
    assert str(info.value) == f"bomb.xlsx:{BOMB_REASON}"
    outcome, took, peak = in_child(
        tmp_path,
        shared_strings_bomb,
        "from formdesk.ingest.claims import read_claims; read_claims(data, 'b.xlsx', source='t')",
    )
    assert outcome == f"ClaimFileError: b.xlsx:{BOMB_REASON}"
    assert took < REFUSED_WITHIN_S and peak < CHILD_PEAK_MB
    path = tmp_path / "tags.xlsx"
    path.write_bytes(shared_strings_bomb)
    with pytest.raises(RecordSourceError) as info:
        load_records(
            path,
            load_catalog()["sh-zh-bd-27"]
            if "sh-zh-bd-27" in load_catalog()
            else next(t for t in load_catalog().values() if t.code == "SH-ZH/BD-27"),
        )
    assert str(info.value) == f"tags.xlsx:{BOMB_REASON}"


@pytest.mark.slow
def test_formdesk_claims_import_refuses_the_bomb_in_one_line(shared_strings_bomb, tmp_path):
    (tmp_path / "bomb.xlsx").write_bytes(shared_strings_bomb)
    code, lines, peak = formdesk(
        tmp_path, "claims", "import", "bomb.xlsx", "--data-dir", str(tmp_path / "data")
    )
    assert code == 1 and len(lines) == 1 and BOMB_REASON in lines[0]
    assert peak < CHILD_PEAK_MB


def test_a_zip_member_larger_than_it_declares_fails_its_crc():
    """What the declared-size check rests on: zipfile reads no more than the declared size
    and refuses a member whose data does not match it."""
    good = xlsx(
        [b'<row r="1"><c r="A1"><v>1</v></c></row>'], [b"<si><t>" + b"A" * 50_000 + b"</t></si>"]
    )
    with zipfile.ZipFile(io.BytesIO(good)) as z:
        info = z.getinfo("xl/sharedStrings.xml")
    declared = struct.pack("<I", info.file_size)
    small = struct.pack("<I", 1_000)
    lying = good.replace(declared, small)  # local header and central directory alike
    assert lying != good
    with zipfile.ZipFile(io.BytesIO(lying)) as z:
        assert z.getinfo("xl/sharedStrings.xml").file_size == 1_000
        with z.open("xl/sharedStrings.xml") as f, pytest.raises(zipfile.BadZipFile, match="CRC"):
            got = f.read(2_000_000)
            assert len(got) <= 1_000
            f.read()
    with pytest.raises(TableError) as info:
        list(xlsx_rows(lying))
    assert "无法作为 Excel 工作簿打开" in str(info.value) or "已损坏" in str(info.value)


def test_a_sheet_of_too_many_rows_is_refused(tmp_path):
    data = xlsx(sheet_rows(250_000))
    assert len(data) < 2_000_000
    outcome, took, peak = in_child(
        tmp_path,
        data,
        "from formdesk.ingest.claims import read_claims; read_claims(data, 'big.xlsx', source='t')",
    )
    assert outcome == "ClaimFileError: big.xlsx:超过 200000 行,请分批导入"
    assert took < 30 and peak < CHILD_PEAK_MB  # openpyxl parses ~9 µs per cell


def test_a_sheet_of_too_many_cells_or_columns_is_refused():
    limits = TableLimits(max_cells=50_000)
    with pytest.raises(TableError) as info:
        list(xlsx_rows(xlsx(sheet_rows(6_000, 10)), limits))
    assert str(info.value).startswith("单元格过多(到第5001行已超过 50000 个")
    wide = xlsx([b'<row r="1"><c r="A1"><v>1</v></c><c r="XFD1"><v>2</v></c></row>'])
    with pytest.raises(TableError) as info:
        list(xlsx_rows(wide))
    assert str(info.value) == "第1行有 16384 列,超过 1000 列上限"


def test_a_csv_with_one_enormous_line_is_refused(tmp_path):
    header = "索赔单号,维修站,车架号\n".encode()
    huge = header + b"A" * 15_000_000 + b"\n"  # under the 20 MB upload limit
    outcome, took, peak = in_child(
        tmp_path,
        huge,
        "from formdesk.ingest.claims import read_claims; read_claims(data, 'c.csv', source='t')",
    )
    assert (
        outcome
        == "ClaimFileError: c.csv:第2行过长(15000001 个字符,上限 1000000 个);请检查文件是否为表格"
    )
    assert took < REFUSED_WITHIN_S and peak < CHILD_PEAK_MB
    path = tmp_path / "tags.csv"
    path.write_bytes(huge)
    tag = next(t for t in load_catalog().values() if t.code == "SH-ZH/BD-27")
    with pytest.raises(RecordSourceError) as info:
        load_records(path, tag)
    assert str(info.value).startswith("tags.csv:第2行过长(15000001 个字符")
    # 100 MB is refused by its size before a byte is decoded.
    big = tmp_path / "big.csv"
    with big.open("wb") as f:
        f.truncate(100 * 1024 * 1024)
    with pytest.raises(RecordSourceError) as info:
        load_records(big, tag)
    assert str(info.value) == "big.csv:文件 100.0 MB,超过 20 MB 上限"


def test_a_quoted_field_over_the_field_limit_is_refused():
    data = '索赔单号,维修站\n"'.encode() + b"x\n" * 100_000 + b'",1\n'
    with pytest.raises(ClaimFileError) as info:
        read_claims(data, "c.csv", source="t")
    assert str(info.value) == (
        "c.csv:第2行:有单元格超过 131072 个字符"
        "(若这一行有未闭合的引号,其后的内容都会被当作一个单元格)"
    )


def test_a_csv_with_too_many_rows_is_refused(tmp_path):
    data = "索赔单号\n".encode() + b"1\n" * 250_000
    outcome, took, peak = in_child(
        tmp_path,
        data,
        "from formdesk.ingest.claims import read_claims; read_claims(data, 'c.csv', source='t')",
    )
    assert outcome == "ClaimFileError: c.csv:超过 200000 行,请分批导入"
    assert took < REFUSED_WITHIN_S and peak < CHILD_PEAK_MB


# -- the shared input cases (/work/shared/cases, copied into tests/hostile/cases) -------------

LABOR_FEES = ["120.00", "90.00", "150.00", "60.00", "40.00", "80.00"]


def test_a_wps_workbook_with_a_wrong_dimension_imports_all_its_claims():
    claims = read_claims((CASES / "claims-wps.xlsx").read_bytes(), "claims-wps.xlsx", source="t")
    assert [str(c.labor_fee) for c in claims] == LABOR_FEES
    assert claims[0].claim_no == "SP2026031502" and claims[0].vin == "LGAG4DD31R8012345"
    assert len({c.claim_no for c in claims}) == 6


def test_formulas_without_saved_results_are_refused_naming_the_cells():
    with pytest.raises(ClaimFileError) as info:
        read_claims((CASES / "claims-formula.xlsx").read_bytes(), "f.xlsx", source="t")
    message = str(info.value)
    assert message.startswith("f.xlsx:工时费列的单元格 M2、M3、M4、M5、M6、M7 是公式")
    assert "没有保存其计算结果" in message and "粘贴为数值" in message
    assert "\n" not in message


def test_a_semicolon_separated_csv_imports_all_its_claims():
    data = (CASES / "claims-semicolon.csv").read_bytes()
    claims = read_claims(data, "claims-semicolon.csv", source="t")
    assert [str(c.labor_fee) for c in claims] == LABOR_FEES
    assert [c.quantity for c in claims] == [
        int(line.split(";")[7]) for line in data.decode().splitlines()[1:]
    ]


def test_an_unknown_separator_is_named_in_the_refusal():
    data = (CASES / "claims-semicolon.csv").read_bytes().replace(b";", b"|")
    with pytest.raises(ClaimFileError) as info:
        read_claims(data, "pipes.csv", source="t")
    assert "文件似乎用“|”分隔;CSV 的分隔符应为逗号、分号、制表符" in str(info.value)


def test_json_print_data_nested_too_deep_is_refused(tmp_path):
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    tag = next(t for t in load_catalog().values() if t.code == "SH-ZH/BD-27")
    with pytest.raises(RecordSourceError) as info:
        load_records(path, tag)
    assert str(info.value) == "deep.json:JSON 中的数字位数过多或嵌套层数过多"
    assert json.loads("[[]]") == [[]]
