"""Every part of an XLSX is measured by the role openpyxl gives it, never by its name
(issue 9, red-team finding: a shared-strings part named xl/strs.bin or a worksheet named
sheet1.bin was never measured, and a 1.6 MB file grew the service by 1.4 GB).

openpyxl finds the shared strings through a `[Content_Types].xml` override, the workbook
through its content type and the worksheets through the workbook's relationships; every
package here is generated (streamed into the zip, a few KB to a few hundred KB on disk)
and refused, naming the part, before openpyxl reads it, in a child process whose peak
memory is measured.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable

import pytest

from formdesk.ingest.claims import ClaimFileError, read_claims
from formdesk.ingest.tables import TableError, TableLimits, check_xlsx_package, xlsx_rows
from formdesk.render.record_sources import RecordSourceError, load_records
from formdesk.templates import get_template

from .test_bounded_inputs import CHILD_PEAK_MB, REFUSED_WITHIN_S, in_child, repeat

MB = 1024 * 1024
PKG = "http://schemas.openxmlformats.org/package/2006"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
XDR = "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing"
SML = "application/vnd.openxmlformats-officedocument.spreadsheetml."
SHARED_STRINGS = SML + "sharedStrings+xml"
READ_CLAIMS = (
    "from formdesk.ingest.claims import read_claims; read_claims(data, 'c.xlsx', source='t')"
)

Part = bytes | Iterable[bytes]


def rels(*items: tuple[str, str, str]) -> bytes:
    """A relationships part: (id, type, target) each."""
    body = "".join(f'<Relationship Id="{i}" Type="{REL}/{t}" Target="{to}"/>' for i, t, to in items)
    return f'<Relationships xmlns="{PKG}/relationships">{body}</Relationships>'.encode()


def sheet_xml(rows: Iterable[bytes] = (), first: str = "索赔单号") -> Iterable[bytes]:
    yield f'<worksheet xmlns="{MAIN}"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>'.encode()
    yield first.encode() + b"</t></is></c></row>"
    yield from rows
    yield b"</sheetData></worksheet>"


def workbook(
    sheets: dict[str, Part] | None = None,
    *,
    strings: tuple[str, Part] | None = None,
    workbook_name: str = "xl/workbook.xml",
    workbook_extra: bytes = b"",
    workbook_rels: list[tuple[str, str, str]] | None = None,
    more: dict[str, Part] | None = None,
) -> dict[str, Part]:
    """The parts of a workbook: `sheets` maps a target (relative to xl/) to its XML, each
    named by a <sheet> of the workbook in order; `strings` a shared-strings part (its
    name, its XML) declared by a content-type override."""
    sheets = sheets if sheets is not None else {"worksheets/sheet1.xml": b"".join(sheet_xml())}
    overrides = [(f"/{workbook_name}", SML + "sheet.main+xml")]
    links = [(f"rId{n}", "worksheet", target) for n, target in enumerate(sheets, 1)]
    if strings:
        overrides.append((f"/{strings[0]}", SHARED_STRINGS))
    named = "".join(
        f'<sheet name="S{n}" sheetId="{n}" r:id="rId{n}"/>' for n in range(1, len(sheets) + 1)
    )
    folder, _, leaf = workbook_name.rpartition("/")
    types = "".join(f'<Override PartName="{p}" ContentType="{c}"/>' for p, c in overrides)
    parts: dict[str, Part] = {
        "[Content_Types].xml": (
            f'<Types xmlns="{PKG}/content-types"><Default Extension="rels" ContentType='
            f'"application/vnd.openxmlformats-package.relationships+xml"/>{types}</Types>'
        ).encode(),
        "_rels/.rels": rels(("rId1", "officeDocument", workbook_name)),
        workbook_name: f'<workbook xmlns="{MAIN}" xmlns:r="{REL}"><sheets>{named}</sheets>'.encode()
        + workbook_extra
        + b"</workbook>",
        f"{folder}/_rels/{leaf}.rels": rels(*links, *(workbook_rels or [])),
    }
    parts.update({f"xl/{target}": xml for target, xml in sheets.items()})
    if strings:
        parts[strings[0]] = strings[1]
    parts.update(more or {})
    return parts


def package(parts: dict[str, Part]) -> bytes:
    """The zip, each part streamed in (never held whole)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for name, body in parts.items():
            with z.open(name, "w", force_zip64=True) as f:
                for chunk in [body] if isinstance(body, bytes) else body:
                    f.write(chunk)
    return buf.getvalue()


def strings_xml(megabytes: int) -> Iterable[bytes]:
    """A shared-strings table of `megabytes` MB: the header, then 1 MB strings."""
    yield f'<sst xmlns="{MAIN}"><si><t>索赔单号</t></si>'.encode()
    for _ in range(megabytes):
        yield b"<si><t>" + b"A" * (MB - 16) + b"</t></si>"
    yield b"</sst>"


def huge_cell(megabytes: int) -> Iterable[bytes]:
    """Row 2: one inline string of `megabytes` MB."""
    yield b'<row r="2"><c r="A2" t="inlineStr"><is><t>'
    yield from repeat(b"A", megabytes * MB, MB)
    yield b"</t></is></c></row>"


def refused_in_child(tmp_path, data: bytes) -> str:
    """The claims import's refusal of `data`, checked to be quick and small in memory."""
    outcome, took, peak = in_child(tmp_path, data, READ_CLAIMS)
    assert outcome.startswith("ClaimFileError: c.xlsx:"), outcome
    assert took < REFUSED_WITHIN_S and peak < CHILD_PEAK_MB, (took, peak)
    return outcome.removeprefix("ClaimFileError: c.xlsx:")


# -- the red team's two files --------------------------------------------------------------------


def test_shared_strings_named_strs_bin_are_measured_as_shared_strings(tmp_path):
    """/tmp/redteam/mk_xlsx_bomb.py: the override names xl/strs.bin; 200 MB declared."""
    data = package(workbook(strings=("xl/strs.bin", strings_xml(200))))
    assert len(data) < 400_000
    reason = "Excel 文件中的共享字符串表 xl/strs.bin 解压后 200 MB,超过 16 MB 上限(可能是压缩炸弹)"
    assert refused_in_child(tmp_path, data) == reason
    path = tmp_path / "tags.xlsx"  # print data goes through the same check
    path.write_bytes(data)
    with pytest.raises(RecordSourceError) as info:
        load_records(path, get_template("SH-ZH/BD-27"))
    assert str(info.value) == f"tags.xlsx:{reason}"


def test_a_worksheet_named_sheet1_bin_is_measured_as_a_worksheet(tmp_path):
    """/tmp/redteam/mk_xlsx_sheetbomb.py: the workbook's relationship names the .bin."""
    data = package(workbook({"worksheets/sheet1.bin": sheet_xml(huge_cell(300))}))
    assert len(data) < 1_000_000
    assert refused_in_child(tmp_path, data) == (
        "Excel 文件中的工作表 xl/worksheets/sheet1.bin 解压后 300 MB,超过 256 MB 上限(可能是压缩炸弹)"
    )


# -- other ways to make openpyxl read a part ---------------------------------------------------------


def test_one_enormous_cell_in_a_sheet_of_allowed_size_is_refused_before_openpyxl_holds_it(tmp_path):
    """openpyxl streams a sheet but holds each text whole: 200 MB in one cell, a sheet
    under its 256 MB limit, would cost as much again as every other cell together."""
    data = package(workbook({"worksheets/sheet1.xml": sheet_xml(huge_cell(200))}))
    assert refused_in_child(tmp_path, data) == (
        "Excel 文件中的工作表 xl/worksheets/sheet1.xml 有一段文字超过 1 MB"
        "(Excel 的单元格最多 32767 个字符);文件可能已损坏或是伪造的"
    )


def test_a_second_worksheet_is_never_opened(tmp_path):
    """Opening a workbook, openpyxl parses every worksheet up to its <dimension> (all of it
    without one); only the first is opened here, so the others cost nothing."""
    data = package(
        workbook(
            {
                "worksheets/sheet1.xml": sheet_xml(),
                "worksheets/sheet2.xml": sheet_xml(huge_cell(200)),
            }
        )  # fmt: skip
    )
    outcome, _, peak = in_child(
        tmp_path,
        data,
        "from formdesk.ingest.tables import xlsx_rows; assert list(xlsx_rows(data)) == [(1, ['索赔单号'])]",  # fmt: skip
    )
    assert outcome == "accepted" and peak < CHILD_PEAK_MB
    _, _, stock = in_child(  # the control: openpyxl on its own holds the 200 MB
        tmp_path,
        data,
        "import io, openpyxl; openpyxl.load_workbook(io.BytesIO(data), read_only=True)",
    )
    assert stock > peak + 150


@pytest.mark.parametrize("offset", [0, 1, 17, 401, 998])
def test_the_longest_text_run_is_measured_exactly_wherever_it_falls(offset):
    """A run is what lies between two '<': here "t>" and the cell's text. Exactly the limit
    passes, one byte more is refused, whatever its position against the chunks the sheet
    is read in."""
    limits = TableLimits(max_xml_text_bytes=1000)
    pad = f'<row r="2"><c r="A2" t="inlineStr"><is><t>{"b" * offset}</t></is></c></row>'.encode()

    def book(text: int) -> bytes:
        cell = f'<row r="3"><c r="A3" t="inlineStr"><is><t>{"a" * text}</t></is></c></row>'
        return package(workbook({"worksheets/sheet1.xml": sheet_xml([pad, cell.encode()])}))

    assert [c for _, c in xlsx_rows(book(998), limits)][2] == ["a" * 998]
    with pytest.raises(TableError, match="有一段文字超过"):
        list(xlsx_rows(book(999), limits))


def xf_bomb() -> Iterable[bytes]:
    """8 MB of empty cell formats: at 4 MB openpyxl needs 460 MB and 15 s."""
    yield b'<styleSheet xmlns="%s"><cellXfs>' % MAIN.encode()
    yield from repeat(b"<xf/>", 1_600_000)
    yield b"</cellXfs></styleSheet>"


def big_rels() -> Iterable[bytes]:
    yield b'<Relationships xmlns="%s/relationships">' % PKG.encode()
    yield from repeat(b'<Relationship Id="x" Type="t" Target="x"/>', 200_000)
    yield b"</Relationships>"


NAMES = b"<definedNames>" + b'<definedName name="a">1</definedName>' * 200_000 + b"</definedNames>"


@pytest.mark.parametrize(
    ("parts", "reason"),
    [
        (
            workbook(more={"xl/styles.xml": xf_bomb()}),
            "样式表 xl/styles.xml 解压后 7.6 MB,超过 2 MB",
        ),
        # the workbook found by its content type, under another name
        (
            workbook(workbook_name="xl/wb.bin", workbook_extra=NAMES),
            "工作簿 xl/wb.bin 解压后 7.1 MB,超过 2 MB",
        ),  # fmt: skip
        (
            workbook(more={"xl/_rels/workbook.xml.rels": big_rels()}),
            "工作簿关系表 xl/_rels/workbook.xml.rels 解压后 8.0 MB",
        ),  # fmt: skip
        (
            workbook(more={"xl/worksheets/_rels/sheet1.xml.rels": big_rels()}),
            "工作表关系表 xl/worksheets/_rels/sheet1.xml.rels 解压后 8.0 MB",
        ),  # fmt: skip
        # a part that is both a worksheet and the styles, which openpyxl parses whole: the
        # smaller limit
        (workbook({"styles.xml": xf_bomb()}), "样式表 xl/styles.xml 解压后 7.6 MB,超过 2 MB"),
        # and both the shared strings and a worksheet
        (
            workbook({"strs.bin": sheet_xml()}, strings=("xl/strs.bin", strings_xml(20))),
            "共享字符串表 xl/strs.bin 解压后 20 MB,超过 16 MB",
        ),
        # members openpyxl never reads are measured too, whatever they are called
        (
            workbook(more={"xl/media/image1.png": repeat(b"\0", 20 * MB, MB)}),
            "部件 xl/media/image1.png 解压后 20 MB,超过 16 MB",
        ),  # fmt: skip
        (
            workbook(more={"customXml/item1": repeat(b"\0", 20 * MB, MB)}),
            "部件 customXml/item1 解压后 20 MB,超过 16 MB",
        ),  # fmt: skip
    ],
    ids=[
        "styles",
        "renamed-workbook",
        "workbook-rels",
        "sheet-rels",
        "sheet-is-styles",
        "sheet-is-strings",
        "picture",
        "no-extension",
    ],  # fmt: skip
)
def test_every_part_is_held_to_the_limit_of_its_role(parts, reason):
    data = package(parts)
    with pytest.raises(TableError) as info:
        check_xlsx_package(data)
    assert str(info.value).startswith(f"Excel 文件中的{reason}")
    with pytest.raises(ClaimFileError) as info:
        read_claims(data, "c.xlsx", source="t")
    assert reason in str(info.value)


def test_all_members_together_are_bounded():
    def big() -> Iterable[bytes]:  # 200 MB, under a worksheet's limit
        return sheet_xml([*repeat(b" ", 200 * MB, MB)])

    parts = workbook({f"worksheets/sheet{n}.xml": big() for n in (1, 2, 3)})
    with pytest.raises(TableError) as info:
        check_xlsx_package(package(parts))
    assert str(info.value) == "Excel 文件解压后共 600 MB,超过 512 MB 上限(可能是压缩炸弹)"


def test_a_well_formed_workbook_with_renamed_parts_still_reads():
    """Measured by role, not refused for its names: such a workbook is valid."""
    strings = f'<sst xmlns="{MAIN}"><si><t>索赔单号</t></si><si><t>SP1</t></si></sst>'.encode()
    row = b'<row r="2"><c r="A2" t="s"><v>1</v></c></row>'
    parts = workbook({"worksheets/data.bin": sheet_xml([row])}, strings=("xl/strs.bin", strings))
    assert list(xlsx_rows(package(parts))) == [(1, ["索赔单号"]), (2, ["SP1"])]


def chart_sheet_and_external_link() -> bytes:
    """A first worksheet that reads, a chart sheet whose drawing is 12 MB of empty anchors
    and an external link of 12 MB of empty rows: each under the 16 MB of a part nobody
    reads, and stock openpyxl reads both whole (609 MB and 413 MB measured)."""
    drawing = [f'<xdr:wsDr xmlns:xdr="{XDR}">'.encode(), *repeat(b"<xdr:absoluteAnchor/>", 600_000), b"</xdr:wsDr>"]  # fmt: skip
    book = [f'<externalLink xmlns="{MAIN}"><externalBook xmlns:r="{REL}"><sheetDataSet><sheetData sheetId="0">'.encode(), *repeat(b'<row r="1"/>', 1_000_000), b"</sheetData></sheetDataSet></externalBook></externalLink>"]  # fmt: skip
    parts = workbook(
        workbook_extra=b'<externalReferences><externalReference r:id="rIdX"/></externalReferences>',
        workbook_rels=[
            ("rIdC", "chartsheet", "chartsheets/sheet1.xml"),
            ("rIdX", "externalLink", "externalLinks/externalLink1.xml"),
        ],
        more={
            "xl/chartsheets/sheet1.xml": f'<chartsheet xmlns="{MAIN}" xmlns:r="{REL}"><drawing r:id="rId1"/></chartsheet>'.encode(),  # fmt: skip
            "xl/chartsheets/_rels/sheet1.xml.rels": rels(
                ("rId1", "drawing", "../drawings/drawing1.xml")
            ),  # fmt: skip
            "xl/drawings/drawing1.xml": drawing,
            "xl/externalLinks/externalLink1.xml": book,
        },
    )
    wb = parts["xl/workbook.xml"]
    assert isinstance(wb, bytes)
    parts["xl/workbook.xml"] = wb.replace(b"</sheets>", b'<sheet name="C" sheetId="9" r:id="rIdC"/></sheets>')  # fmt: skip
    return package(parts)


def test_chart_sheets_and_external_links_are_never_read(tmp_path):
    data = chart_sheet_and_external_link()
    outcome, _, peak = in_child(
        tmp_path,
        data,
        "from formdesk.ingest.tables import xlsx_rows; assert list(xlsx_rows(data)) == [(1, ['索赔单号'])]",  # fmt: skip
    )
    assert outcome == "accepted" and peak < CHILD_PEAK_MB
    # the controls: what openpyxl reads unless told not to (external links first, then,
    # without them, the chart sheet)
    for keep_links in (True, False):
        _, _, stock = in_child(
            tmp_path,
            data,
            "import io, openpyxl; openpyxl.load_workbook(io.BytesIO(data), read_only=True, "
            f"keep_links={keep_links})",
        )
        assert stock > CHILD_PEAK_MB


def test_the_text_of_a_table_is_bounded_as_a_whole():
    """A cell may be long; many long cells together are refused before they are held."""
    cell = b'<c r="A%d" t="inlineStr"><is><t>' + b"x" * 30_000 + b"</t></is></c>"
    rows = (b'<row r="%d">' % r + cell % r + b"</row>" for r in range(2, 500))
    data = package(workbook({"worksheets/sheet1.xml": sheet_xml(rows)}))
    with pytest.raises(TableError) as info:
        list(xlsx_rows(data, TableLimits(max_text_chars=1_000_000)))
    assert str(info.value) == "文字过多(到第35行已超过 1000000 个字符);请分批导入"
