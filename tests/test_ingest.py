"""Uploaded files become BGR page images, or are refused with one clear reason.

Every input is built here (PIL, reportlab, pypdf, a few hand-made headers), so the tests
say exactly what each file holds; nothing large is ever decoded.
"""

from __future__ import annotations

import io
import random
import struct
import time
import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from PIL import Image, ImageFile, ImageOps
from pypdf import PdfReader, PdfWriter
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas

from formdesk.ingest import (
    IngestError,
    IngestLimits,
    PageImage,
    count_pages,
    iter_pages,
    load_pages,
    sniff,
)
from formdesk.ingest import pdf as ingest_pdf

A4_200DPI = (1654, 2339)  # width, height in pixels

# --- building inputs ---------------------------------------------------------------


def text_pdf(pages: int = 3, size: tuple[float, float] = A4) -> bytes:
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=size)
    for n in range(pages):
        c.drawString(72, 72, f"Warranty part tag, page {n + 1}")
        c.showPage()
    c.save()
    return buf.getvalue()


def image_pdf() -> bytes:
    """A scan as scanners write it: one picture per page, no text."""
    scan = Image.fromarray(np.full((350, 250, 3), 235, np.uint8))
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    c.drawImage(ImageReader(scan), 0, 0, *A4)
    c.showPage()
    c.save()
    return buf.getvalue()


def encrypted(pdf: bytes, user_password: str) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    writer.encrypt(user_password, "owner-secret")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def handmade_pdf(objects: list[bytes]) -> bytes:
    """A PDF with a correct xref from raw objects; object 1 must be the catalog."""
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (n, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def pdf_with_huge_embedded_image(w: int, h: int) -> bytes:
    """An A4 page showing an image whose dictionary claims w×h pixels (data is a stub)."""
    stub = zlib.compress(b"\x00" * 64)
    return handmade_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
            b"/Resources << /XObject << /Im0 4 0 R >> >> /Contents 5 0 R >>",
            b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray "
            b"/BitsPerComponent 8 /Filter /FlateDecode /Length %d >>\nstream\n%s\nendstream"
            % (w, h, len(stub), stub),
            b"<< /Length 31 >>\nstream\nq 595 0 0 842 0 0 cm /Im0 Do Q\nendstream",
        ]
    )


def image_bytes(im: Image.Image, fmt: str, **save) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **save)
    return buf.getvalue()


def two_halves(w: int = 40, h: int = 20) -> Image.Image:
    """Left half red, right half blue: shows which way a picture was turned."""
    a = np.zeros((h, w, 3), np.uint8)
    a[:, : w // 2] = (255, 0, 0)
    a[:, w // 2 :] = (0, 0, 255)
    return Image.fromarray(a)


def with_orientation(orientation: int) -> Image.Exif:
    exif = Image.Exif()
    exif[0x0112] = orientation
    return exif


def multipage_tiff(sizes: list[tuple[int, int]]) -> bytes:
    frames = [Image.new("L", size, 40 * n) for n, size in enumerate(sizes)]
    return image_bytes(frames[0], "TIFF", save_all=True, append_images=frames[1:], dpi=(300, 300))


def bomb_png(w: int, h: int) -> bytes:
    """A valid 1-bit black PNG of w×h pixels: ~100 KB on disk, w×h bytes once decoded."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    z = zlib.compressobj(9)
    block = b"\x00" * ((w + 7) // 8 + 1) * 1000  # 1000 rows: filter byte + packed bits
    assert h % 1000 == 0
    idat = b"".join(z.compress(block) for _ in range(h // 1000)) + z.flush()
    ihdr = struct.pack(">IIBBBBB", w, h, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def patched_tiff(tiff: bytes, frame: int, values: dict[int, int]) -> bytes:
    """A little-endian TIFF with some tags of one frame's IFD overwritten (they must be
    there already, as SHORT or LONG): how to fake a header without writing the pixels."""
    data = bytearray(tiff)
    assert data[:4] == b"II*\x00"
    (ifd,) = struct.unpack_from("<I", data, 4)
    for _ in range(frame):
        (count,) = struct.unpack_from("<H", data, ifd)
        (ifd,) = struct.unpack_from("<I", data, ifd + 2 + 12 * count)
    (count,) = struct.unpack_from("<H", data, ifd)
    for entry in range(ifd + 2, ifd + 2 + 12 * count, 12):
        tag, typ, _ = struct.unpack_from("<HHI", data, entry)
        if tag in values:
            struct.pack_into("<H" if typ == 3 else "<I", data, entry + 8, values.pop(tag))
    assert not values, f"tags not in frame {frame}: {values}"
    return bytes(data)


@pytest.fixture(scope="module")
def three_page_pdf() -> bytes:
    return text_pdf(3)


# --- refusals: one reason each, no library traceback --------------------------------


def refusal(call: Callable[[], object]) -> str:
    with pytest.raises(IngestError) as info:
        call()
    exc = info.value
    # Raised `from None`: the user sees our reason, not a chained PDFium/Pillow error.
    assert exc.__cause__ is None
    assert exc.__context__ is None or exc.__suppress_context__
    assert "Traceback" not in str(exc) and "\n" not in str(exc)
    return str(exc)


def refused(data: bytes, name: str = "upload", limits: IngestLimits | None = None) -> str:
    """The reason, which must be the same whether the caller counts or loads."""
    limits = limits or IngestLimits()
    reason = refusal(lambda: count_pages(data, name, limits))
    assert refusal(lambda: load_pages(data, name, limits)) == reason
    assert refusal(lambda: iter_pages(data, name, limits)) == reason  # at the call
    return reason


def test_an_empty_file_is_refused():
    assert refused(b"") == "文件为空"
    assert refusal(lambda: sniff(b"")) == "文件为空"


def test_a_text_file_named_jpg_is_refused_by_its_content():
    text = "维修单号,VIN\nSP261100001,LGAX2A13000000001\n".encode()
    reason = "不是 PDF、JPEG、PNG 或 TIFF 文件(按内容判断)"
    assert refused(text, "scan.jpg") == reason
    assert refusal(lambda: sniff(text)) == reason


@pytest.mark.parametrize("fmt", ["GIF", "BMP", "WEBP"])
def test_other_image_types_are_refused(fmt):
    data = image_bytes(Image.new("RGB", (8, 8)), fmt)
    assert refused(data, "scan.png") == "不是 PDF、JPEG、PNG 或 TIFF 文件(按内容判断)"


def test_a_truncated_pdf_is_refused(three_page_pdf):
    half = three_page_pdf[: len(three_page_pdf) // 2]
    assert refused(half, "a.pdf") == "PDF 文件损坏或不完整"


def test_an_encrypted_pdf_is_refused(three_page_pdf):
    assert refused(encrypted(three_page_pdf, "secret"), "a.pdf") == "PDF 已加密,无法读取"


def test_a_pdf_encrypted_with_an_empty_user_password_opens(three_page_pdf):
    pages = load_pages(encrypted(three_page_pdf, ""), "a.pdf")
    assert len(pages) == 3 and pages[0].text_layer


def test_an_oversized_file_is_refused_before_anything_is_parsed():
    data = b"%PDF-1.7\n" + bytes(50 * 1024 * 1024)
    assert refused(data, "big.pdf") == "文件过大(50.1 MB,上限 50 MB)"


def test_the_size_limit_is_configurable():
    data = image_bytes(Image.new("RGB", (64, 64)), "PNG")
    limits = IngestLimits(max_bytes=len(data) - 1)
    assert refused(data, "a.png", limits) == f"文件过大({len(data)} 字节,上限 {len(data) - 1} 字节)"
    assert count_pages(data, "a.png", IngestLimits(max_bytes=len(data))) == 1


@pytest.mark.filterwarnings("ignore::UserWarning")  # Pillow's note on the cut-off TIFF
@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "TIFF"])
def test_a_truncated_image_is_refused(fmt):
    im = Image.fromarray(np.random.default_rng(1).integers(0, 255, (64, 64, 3), np.uint8))
    data = image_bytes(im, fmt)
    reason = f"{fmt} 图片损坏或不完整"
    assert refusal(lambda: load_pages(data[: len(data) // 2], "a")) == reason
    assert refused(data[:20], "a") == reason  # cut inside the header


def test_a_30000_square_png_is_refused_from_its_header_without_decoding(monkeypatch):
    started = time.perf_counter()
    data = bomb_png(30000, 30000)
    assert len(data) < 1_000_000  # the point of a bomb: tiny file, 900 M pixels

    def no_decoding(self, *args, **kwargs):
        raise AssertionError("a decompression bomb was decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    reason = "图片尺寸过大(30000×30000 像素),可能是解压炸弹"
    assert refused(data, "bomb.png") == reason
    assert time.perf_counter() - started < 3


def test_pillows_global_bomb_limit_is_neither_needed_nor_in_the_way(monkeypatch):
    """Our limit applies even with Pillow's switched off, and allows more than Pillow's
    warning threshold when configured to."""
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)
    assert refused(bomb_png(30000, 30000), "bomb.png").startswith("图片尺寸过大(")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)
    data = image_bytes(Image.new("L", (20, 20)), "PNG")
    assert load_pages(data, "small.png")[0].image.shape == (20, 20, 3)


def test_the_pixel_limit_is_configurable():
    data = image_bytes(Image.new("RGB", (100, 50)), "JPEG")
    assert refused(data, "a.jpg", IngestLimits(max_pixels=4999)) == (
        "图片尺寸过大(100×50 像素),可能是解压炸弹"
    )
    assert count_pages(data, "a.jpg", IngestLimits(max_pixels=5000)) == 1


def test_every_tiff_frame_is_checked_not_only_the_first():
    data = patched_tiff(multipage_tiff([(16, 16), (16, 16)]), 1, {256: 30000, 257: 30000})
    assert refused(data, "scan.tif") == "第 2 页图片尺寸过大(30000×30000 像素),可能是解压炸弹"


def test_a_huge_pdf_page_is_refused_before_rasterising():
    data = text_pdf(1, size=(5000 * mm, 5000 * mm))
    assert refused(data, "plan.pdf") == (
        "PDF 第 1 页尺寸过大(5000×5000 毫米,按 200 dpi 为 39371×39371 像素)"
    )


def test_a_huge_image_inside_a_normal_pdf_page_is_refused_before_it_is_decoded():
    data = pdf_with_huge_embedded_image(20000, 20000)
    assert count_pages(data, "a.pdf") == 1  # only the page size is cheap to know
    reason = "PDF 第 1 页内嵌图片尺寸过大(20000×20000 像素),可能是解压炸弹"
    assert refusal(lambda: load_pages(data, "a.pdf")) == reason


def test_too_many_pages_is_refused_and_the_limit_is_configurable(three_page_pdf):
    two = IngestLimits(max_pages=2)
    assert refused(three_page_pdf, "a.pdf", two) == "页数过多(3 页,上限 2 页)"
    tiff = multipage_tiff([(8, 8)] * 3)
    assert refused(tiff, "a.tif", two) == "页数过多(3 页,上限 2 页)"
    assert count_pages(three_page_pdf, "a.pdf", IngestLimits(max_pages=3)) == 3


@pytest.mark.filterwarnings("ignore::UserWarning")  # Pillow's notes on broken TIFF tags
@pytest.mark.parametrize("kind", ["pdf", "jpeg", "png", "tiff"])
def test_damaged_files_are_refused_with_a_reason_never_a_library_error(kind, three_page_pdf):
    im = Image.fromarray(np.random.default_rng(2).integers(0, 255, (48, 40, 3), np.uint8))
    good = {
        "pdf": three_page_pdf,
        "jpeg": image_bytes(im, "JPEG", exif=with_orientation(6)),
        "png": image_bytes(im, "PNG"),
        "tiff": multipage_tiff([(24, 16), (16, 24)]),
    }[kind]
    rng = random.Random(kind)
    damaged = [good[:cut] for cut in range(1, len(good), max(1, len(good) // 25))]
    for _ in range(40):
        data = bytearray(good)
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(8, len(data))] = rng.randrange(256)
        damaged.append(bytes(data))
    for data in damaged:
        try:
            for page in load_pages(data, "damaged"):
                assert page.image.dtype == np.uint8 and page.image.shape[2] == 3
        except IngestError as exc:
            assert str(exc)


# --- what comes out -----------------------------------------------------------------


@pytest.mark.parametrize(("fmt", "kind"), [("JPEG", "jpeg"), ("PNG", "png"), ("TIFF", "tiff")])
def test_sniff_names_the_type_from_the_content(fmt, kind):
    assert sniff(image_bytes(Image.new("RGB", (4, 4)), fmt)) == kind


def test_sniff_knows_both_tiff_byte_orders_and_pdfs_with_a_preamble(three_page_pdf):
    assert sniff(b"MM\x00*" + bytes(8)) == "tiff"
    assert sniff(three_page_pdf) == "pdf"
    assert sniff(b"\r\n(mailer junk)\r\n" + three_page_pdf) == "pdf"


def test_a_pdf_named_jpg_is_read_as_a_pdf(three_page_pdf):
    assert count_pages(three_page_pdf, "photo.jpg") == 3


def test_a_three_page_pdf_gives_three_a4_pages_at_200_dpi(three_page_pdf):
    pages = load_pages(three_page_pdf, "tags.pdf")
    assert [p.index for p in pages] == [0, 1, 2]
    for page in pages:
        assert isinstance(page, PageImage)
        assert page.source == "tags.pdf"
        assert page.size == A4_200DPI
        assert page.image.shape == (2339, 1654, 3) and page.image.dtype == np.uint8
        assert page.dpi == 200
        assert page.text_layer
        assert page.image.min() < 128 < page.image.max()  # the text is drawn on white


def test_the_rasterising_dpi_is_configurable(three_page_pdf):
    (page, *_) = load_pages(three_page_pdf, "a.pdf", IngestLimits(dpi=72))
    assert page.size == (596, 842) and page.dpi == 72  # PDFium rounds up: 595.3 pt wide


def test_a_pdf_made_only_of_an_image_has_no_text_layer():
    (page,) = load_pages(image_pdf(), "scan.pdf")
    assert not page.text_layer
    assert page.size == A4_200DPI


def test_pages_come_one_at_a_time(three_page_pdf, monkeypatch):
    rendered = []
    render = ingest_pdf._render
    monkeypatch.setattr(ingest_pdf, "_render", lambda *a: rendered.append(a[1]) or render(*a))
    pages = iter_pages(three_page_pdf, "a.pdf")
    assert rendered == []
    assert next(pages).index == 0 and rendered == [0]
    pages.close()  # a consumer may stop early; the document is closed


def test_pdfs_can_be_read_on_several_threads_at_once(three_page_pdf):
    """PDFium is not thread-safe; the web service reads uploads on worker threads."""
    limits = IngestLimits(dpi=50)
    with ThreadPoolExecutor(4) as pool:
        runs = list(pool.map(lambda _: load_pages(three_page_pdf, "a.pdf", limits), range(8)))
    assert all([p.size for p in run] == [(414, 585)] * 3 for run in runs)


def test_a_jpeg_with_exif_orientation_6_comes_out_upright():
    data = image_bytes(two_halves(40, 20), "JPEG", quality=95, exif=with_orientation(6))
    (page,) = load_pages(data, "phone.jpg")
    assert page.image.shape == (40, 20, 3)  # turned a quarter: now portrait
    top, bottom = page.image[5, 10], page.image[35, 10]
    assert top[2] > 200 and top[0] < 60  # red (BGR) was on the left, now on top
    assert bottom[0] > 200 and bottom[2] < 60


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_matches_pillows_exif_transpose(orientation):
    a = np.random.default_rng(orientation).integers(0, 255, (6, 10, 3), np.uint8)
    data = image_bytes(Image.fromarray(a), "PNG", exif=with_orientation(orientation))
    expected = np.asarray(ImageOps.exif_transpose(Image.open(io.BytesIO(data))))[:, :, ::-1]
    (page,) = load_pages(data, "a.png")
    assert np.array_equal(page.image, expected)


def test_a_tiff_orientation_tag_is_applied_per_frame():
    upright = two_halves(40, 20)
    both = [upright, upright.copy()]
    data = image_bytes(both[0], "TIFF", save_all=True, append_images=both[1:], tiffinfo={274: 1})
    pages = load_pages(patched_tiff(data, 1, {274: 6}), "scan.tif")
    assert [p.image.shape for p in pages] == [(20, 40, 3), (40, 20, 3)]  # only frame 2 says 6
    assert tuple(pages[1].image[5, 10]) == (0, 0, 255)  # red was on the left, now on top


def test_a_multipage_tiff_gives_one_page_per_frame():
    sizes = [(30, 40), (50, 20), (10, 10), (40, 30)]
    data = multipage_tiff(sizes)
    assert count_pages(data, "fax.tif") == 4
    pages = list(iter_pages(data, "fax.tif"))
    assert [p.size for p in pages] == sizes
    assert [p.index for p in pages] == [0, 1, 2, 3]
    assert [int(p.image[0, 0, 0]) for p in pages] == [0, 40, 80, 120]
    assert all(p.dpi == 300 and not p.text_layer for p in pages)


def test_image_dpi_comes_from_the_file_or_is_zero():
    im = Image.new("RGB", (8, 8))
    assert load_pages(image_bytes(im, "JPEG", dpi=(300, 300)), "a")[0].dpi == 300
    assert load_pages(image_bytes(im, "PNG", dpi=(150, 150)), "a")[0].dpi == pytest.approx(
        150, abs=0.1
    )
    assert load_pages(image_bytes(im, "PNG"), "a")[0].dpi == 0


def _rgba_with_a_hole() -> Image.Image:
    im = Image.new("RGBA", (4, 4), (0, 0, 255, 255))
    im.putpixel((0, 0), (0, 0, 0, 0))
    return im


@pytest.mark.parametrize(
    ("name", "make", "fmt", "pixel", "expected"),
    [
        ("1-bit", lambda: Image.new("1", (4, 4), 1), "PNG", (1, 1), (255, 255, 255)),
        ("grey", lambda: Image.new("L", (4, 4), 77), "PNG", (1, 1), (77, 77, 77)),
        (
            "palette",
            lambda: Image.new("RGB", (4, 4), (0, 255, 0)).quantize(4),
            "PNG",
            (1, 1),
            (0, 255, 0),
        ),
        ("RGBA transparent", _rgba_with_a_hole, "PNG", (0, 0), (255, 255, 255)),
        ("RGBA opaque", _rgba_with_a_hole, "PNG", (1, 1), (255, 0, 0)),
        ("grey+alpha", lambda: Image.new("LA", (4, 4), (0, 0)), "PNG", (1, 1), (255, 255, 255)),
        ("16-bit PNG", lambda: Image.new("I;16", (4, 4), 40000), "PNG", (1, 1), (156, 156, 156)),
        ("16-bit TIFF", lambda: Image.new("I;16", (4, 4), 65535), "TIFF", (1, 1), (255, 255, 255)),
        (
            "CMYK TIFF",
            lambda: Image.new("CMYK", (4, 4), (0, 255, 255, 0)),
            "TIFF",
            (1, 1),
            (0, 0, 255),
        ),
    ],
)
def test_every_colour_mode_becomes_bgr_uint8(name, make, fmt, pixel, expected):
    (page,) = load_pages(image_bytes(make(), fmt), name)
    assert page.image.dtype == np.uint8 and page.image.shape == (4, 4, 3)
    assert page.image.flags["C_CONTIGUOUS"]
    assert tuple(int(v) for v in page.image[pixel[1], pixel[0]]) == expected


def test_a_cmyk_jpeg_becomes_bgr():
    data = image_bytes(Image.new("CMYK", (16, 16), (0, 255, 255, 0)), "JPEG", quality=95)
    (page,) = load_pages(data, "print.jpg")
    b, g, r = (int(v) for v in page.image[8, 8])
    assert r > 230 and g < 25 and b < 25


def test_a_thumbnail_renders_only_its_own_page(monkeypatch):
    """The batch page's thumbnail of page 3 of a long PDF renders page 3 only, at the
    thumbnail's resolution; a TIFF's frame likewise; a page past the end is named."""
    from formdesk.ingest.thumbnails import THUMB_DPI, THUMB_WIDTH, page_thumbnail

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    for n in range(1, 6):
        c.setFont("Helvetica", 200)
        c.drawString(50 * mm, 150 * mm, str(n))
        c.showPage()
    c.save()
    rendered = []
    real = ingest_pdf._render
    monkeypatch.setattr(
        ingest_pdf, "_render",
        lambda doc, index, unit, source, limits: rendered.append((index, limits.dpi))
        or real(doc, index, unit, source, limits),
    )  # fmt: skip
    png = page_thumbnail(buf.getvalue(), "long.pdf", 2)
    assert rendered == [(2, THUMB_DPI)]
    image = np.asarray(Image.open(io.BytesIO(png)))
    assert image.shape[1] == THUMB_WIDTH
    with pytest.raises(IngestError, match="没有第 9 页"):
        page_thumbnail(buf.getvalue(), "long.pdf", 8)
    frames = [Image.new("L", (600, 800), 255 - 40 * n) for n in range(3)]
    tif = io.BytesIO()
    frames[0].save(tif, "TIFF", save_all=True, append_images=frames[1:])
    third = np.asarray(Image.open(io.BytesIO(page_thumbnail(tif.getvalue(), "x.tif", 2))))
    assert third.shape[1] == THUMB_WIDTH and abs(int(third.mean()) - (255 - 80)) <= 2
