"""The reconciliation of a station's month as a printable A4 landscape report.

Every character is set in the packaged Chinese font (embedded as a subset), long cells wrap,
and the differences table repeats its header on each page, so a stack of printed pages can
be read and annotated without the screen.

Text stored before the claims import bounded it (a 1,000-character part name, a
100,000-character description) is shortened, never laid out whole: a table row taller
than a page is reportlab's LayoutError (a 500), and 100,000 characters took half a
minute. A cell keeps at most `MAX_CELL_LINES` wrapped lines and says how long the whole
text is ("…(共 1000 字)"); the spreadsheet report keeps the text whole.
"""

from __future__ import annotations

from functools import partial
from io import BytesIO
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import LongTable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from reportlab.platypus.flowables import Flowable

from formdesk.model.reconciliation import KIND_LABELS, Reconciliation
from formdesk.render.fonts import font_name

from .reconcile_xlsx import (
    DIFFERENCE_COLUMNS,
    china_time,
    difference_cells,
    manifest_label,
    manifest_text,
    period_text,
)

TITLE = "三包索赔件核对报告"
MARGIN = 12 * mm
# relative widths of the DIFFERENCE_COLUMNS on paper
_WEIGHTS = [10, 20, 23, 34, 22, 20, 18, 22, 58, 13, 40]
# wrapped lines a cell of the differences may take: 12 × 9.5 pt, well under the ~500 pt of
# a landscape page's frame, so no row can outgrow a page
MAX_CELL_LINES = 12
MAX_NAME_CHARS = 60  # a station's name in headings and footers


def styles() -> dict[str, ParagraphStyle]:
    """Paragraph styles in the embedded font; CJK wrapping breaks between any characters."""
    font = font_name()
    base = ParagraphStyle("base", fontName=font, fontSize=10, leading=14, wordWrap="CJK")
    return {
        "title": ParagraphStyle("title", base, fontSize=18, leading=24, alignment=TA_CENTER),
        "heading": ParagraphStyle("heading", base, fontSize=12, leading=17, spaceBefore=6),
        "body": base,
        "cell": ParagraphStyle("cell", base, fontSize=7.5, leading=9.5),
        "head": ParagraphStyle("head", base, fontSize=8, leading=10, alignment=TA_CENTER),
    }


def para(text: object, style: ParagraphStyle) -> Paragraph:
    """Text read from scans is escaped: a stray '<' or '&' must not break the markup."""
    return Paragraph(escape(str(text)), style)


def shortened(text: str, limit: int) -> str:
    """`text` when it has at most `limit` characters, else its start and "…(共 N 字)"
    (N: the whole text's length), `limit` characters in all."""
    if len(text) <= limit:
        return text
    note = f"…(共 {len(text)} 字)"
    return text[: max(limit - len(note), 1)] + note


def fitted(text: object, style: ParagraphStyle, width: float, lines: int) -> Paragraph:
    """A paragraph of `text` that wraps into at most `lines` lines of `width` points,
    shortened (see `shortened`) when the whole would not. A glyph is at most one em wide
    in the packaged font, so the first cut already fits nearly always; the wrapped height
    is then measured, and the text cut further while it is too tall."""
    text = str(text)
    per_line = max(int(width / style.fontSize), 1)
    limit = per_line * lines
    while True:
        p = para(shortened(text, limit), style)
        _, height = p.wrap(width, lines * style.leading * 100)
        if height <= lines * style.leading + 0.01 or limit <= 1:
            return p
        limit = max(int(limit * 0.8), 1)


class NumberedCanvas(Canvas):
    """Draws 第 n 页 共 N 页 once the page count is known (pages are kept until save)."""

    def __init__(self, *args, footer: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self._footer = footer
        self._pages: list[dict] = []

    def showPage(self) -> None:
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._pages)
        for state in self._pages:
            self.__dict__.update(state)
            self._draw_footer(total)
            super().showPage()
        super().save()

    def _draw_footer(self, total: int) -> None:
        width, _ = self._pagesize
        self.setFont(font_name(), 8)
        self.setFillGray(0.3)
        self.drawString(MARGIN, 7 * mm, self._footer)
        self.drawRightString(width - MARGIN, 7 * mm, f"第 {self._pageNumber} 页 共 {total} 页")


def build_pdf(
    story: list[Flowable], pagesize: tuple[float, float], title: str, footer: str
) -> bytes:
    """Lays out `story` with the numbered footer; shared by the report and the letter."""
    buf = BytesIO()
    doc = SimpleDocTemplate(
        buf,
        pagesize=pagesize,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN + 4 * mm,
        title=title,
        author="formdesk",
    )
    doc.build(story, canvasmaker=partial(NumberedCanvas, footer=footer))
    return buf.getvalue()


def grid_style(header_rows: int = 1) -> TableStyle:
    return TableStyle(
        [
            ("FONTNAME", (0, 0), (-1, -1), font_name()),
            ("FONTSIZE", (0, 0), (-1, -1), 9),
            ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
            ("BACKGROUND", (0, 0), (-1, header_rows - 1), colors.HexColor("#E8E8E8")),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("ALIGN", (0, 0), (-1, -1), "CENTER"),
        ]
    )


def is_empty_month(rec: Reconciliation) -> bool:
    return not rec.outcomes and not (rec.claims or rec.manifest_lines or rec.tags)


def reconciliation_pdf(rec: Reconciliation) -> bytes:
    """Title and station, the counts, every difference, then how many claims matched."""
    st = styles()
    story: list[Flowable] = [
        para(TITLE, st["title"]),
        Spacer(1, 3 * mm),
        Paragraph(
            ("&nbsp;" * 6).join(
                escape(part)
                for part in (
                    f"维修站:{rec.station} {shortened(rec.station_name, MAX_NAME_CHARS)}",
                    f"月份:{rec.month}",
                    f"核对期间:{period_text(rec)}",
                    f"生成时间:{china_time(rec.generated_at)}",
                )
            ),
            st["body"],
        ),
        Spacer(1, 3 * mm),
    ]
    if is_empty_month(rec):
        story.append(para("本月无索赔、无返厂件。", st["heading"]))
        return build_pdf(story, landscape(A4), TITLE, _footer(rec))

    story += [para("本月数据", st["heading"]), *_counts_table(rec)]
    differences = rec.differences
    held = sum(o.doubtful for o in differences)
    note = f",其中 {held} 项待核实扫描件" if held else ""
    story.append(para(f"差异明细(共 {len(differences)} 项{note})", st["heading"]))
    if differences:
        story.append(_differences_table(rec, st))
    else:
        story.append(para("本月无差异。", st["body"]))
    matched = rec.counts()["matched"]
    story += [Spacer(1, 4 * mm), para(f"一致:{matched} 项索赔与返回件相符。", st["heading"])]
    return build_pdf(story, landscape(A4), TITLE, _footer(rec))


def _footer(rec: Reconciliation) -> str:
    return f"{TITLE} · {rec.station} {shortened(rec.station_name, MAX_NAME_CHARS)} · {rec.month}"


def _counts_table(rec: Reconciliation) -> list[Flowable]:
    """What came in (claims, manifests, tags), then what was found, each as one grid."""
    counts = rec.counts()
    quantities = [
        ("索赔单数", rec.claims),
        ("索赔数量", rec.claimed_quantity),
        ("返厂件数", rec.returned_parts),
        ("返厂清单行数", rec.manifest_lines),
        ("返厂件数量", rec.returned_quantity),
        ("标签数", rec.tags),
    ]
    kinds = [(label, counts[kind]) for kind, label in KIND_LABELS.items()]
    kinds.append(("差异合计", len(rec.differences)))
    width = (landscape(A4)[0] - 2 * MARGIN) / len(kinds)
    out: list[Flowable] = []
    for pairs in (quantities, kinds):
        rows = [[label for label, _ in pairs], [str(n) for _, n in pairs]]
        out += [Table(rows, colWidths=[width] * len(pairs), style=grid_style(), hAlign="LEFT")]
        out.append(Spacer(1, 2 * mm))
    if rec.manifests:  # each manifest's 合计 beside its read lines
        rows = [["返厂清单", "合计与明细"]]
        rows += [[manifest_label(m), manifest_text(m)] for m in rec.manifests]
        out += [Table(rows, colWidths=[width * 3, width * 5], style=grid_style(), hAlign="LEFT")]
        out.append(Spacer(1, 2 * mm))
    return out


def _differences_table(rec: Reconciliation, st: dict[str, ParagraphStyle]) -> LongTable:
    usable = landscape(A4)[0] - 2 * MARGIN
    widths = [usable * w / sum(_WEIGHTS) for w in _WEIGHTS]
    header = [para(heading, st["head"]) for heading, _ in DIFFERENCE_COLUMNS]
    inner = [w - 6 for w in widths]  # the cell paddings below
    body = [
        [
            fitted(value, st["cell"], inner[c], MAX_CELL_LINES)
            for c, value in enumerate(difference_cells(i, o))
        ]
        for i, o in enumerate(rec.differences, 1)
    ]
    table = LongTable([header, *body], colWidths=widths, repeatRows=1)
    style = grid_style()
    style.add("VALIGN", (0, 0), (-1, -1), "TOP")
    style.add("LEFTPADDING", (0, 0), (-1, -1), 3)
    style.add("RIGHTPADDING", (0, 0), (-1, -1), 3)
    for r, o in enumerate(rec.differences, 1):
        if o.doubtful:
            style.add("BACKGROUND", (0, r), (-1, r), colors.HexColor("#FFF4CC"))
    table.setStyle(style)
    return table
