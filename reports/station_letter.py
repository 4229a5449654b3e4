"""The letter that tells a station what the month's reconciliation found and what to do.

Only differences the center is sure of go to the station: one resting on a reading nobody
has confirmed yet (`Outcome.doubtful`) could be the scanner's mistake, not the station's,
so it is held back until the auditor has looked at the scan; the letter says how many.

It says each difference once (numbered under its kind, naming only what its own words do
not already name; a claim number only for a part that has a claim), carries a document
number (文号, `letter_number`), whom to contact, and the area for the center's seal
(盖章处).

Stored text is shortened as in the report (`reconcile_pdf.shortened`): each reference of
a difference to `MAX_REF_CHARS`, its message to `MAX_MESSAGE_CHARS`, the station's name
to `reconcile_pdf.MAX_NAME_CHARS` (`MAX_FOOTER_NAME` in the footer): 100,000 characters
took the letter a minute.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Paragraph, Spacer, Table, TableStyle
from reportlab.platypus.flowables import Flowable

from formdesk.model.reconciliation import KIND_LABELS, Outcome, Reconciliation
from formdesk.templates.values.dates import CHINA_TIME

from .reconcile_pdf import MAX_NAME_CHARS, build_pdf, is_empty_month, shortened, styles

LETTER_TITLE = "三包索赔件核对结果通知"
NUMERALS = "一二三四五六七八九十"

# what the station is asked to do about each kind; the quantity rule is the manifest's own
ADVICE: dict[str, str] = {
    "missing": "请将上述零件连同鉴别标签随返厂清单尽快返回本中心。",
    "unexpected": "上述返回件未查到对应的索赔单,请核对索赔单号;漏报的请补报索赔,误返的请向本中心说明。",
    "quantity": "请核对实际返回的数量;按返厂清单的规定,“如与清单数量不符者,请及时与本中心联系”。",
    "mismatch": "请核对故障标签、鉴别标签、返厂清单与索赔单上的记录,填写有误的请更正标签并告知本中心。",
    "duplicate": "请核对是否重复索赔或重复返件,并向本中心说明情况。",
    "outside_warranty": "上述维修超出该车型的三包期(时间或里程),请核实购车日期和行驶里程,并与本中心联系。",
}
FEEDBACK_RULE = "每月返回售后服务部两次,做为三包件兑换依据,不反馈不予兑换配件"
MAX_REF_CHARS = 60  # a claim, VIN, part number or name as a difference names it
MAX_MESSAGE_CHARS = 400  # what the reconciliation says about one difference
MAX_FOOTER_NAME = 20  # the station's name in the footer, left of 第 n 页 共 N 页
BLANK = "＿＿＿＿＿＿"  # a line to write on, when the installation gave no contact
# how the reconciliation's messages of a kind begin, when the letter's heading for the kind
# says the same (a mismatch's 车架号不符 says more than its heading 信息不符: kept)
LEADS: dict[str, tuple[str, ...]] = {
    "missing": ("索赔件未返回",),
    "unexpected": ("返回件无对应索赔单", "返回件无索赔"),
    "quantity": ("数量不符",),
}
OUTSIDE = KIND_LABELS["outside_warranty"]  # 超出三包期(车型:…):… → 三包期(车型:…):…


def letter_number(rec: Reconciliation) -> str:
    """The letter's 文号: one per station and month, the same each time it is printed."""
    year, _, month = rec.month.partition("-")
    return f"三包核〔{year}〕{rec.station}-{month}号"


def station_letter_pdf(
    rec: Reconciliation,
    center_name: str = "售后服务中心",
    *,
    contact: str | None = None,
    phone: str | None = None,
    number: str | None = None,
) -> bytes:
    """An A4 letter to the station listing its confirmed differences, grouped by kind;
    `contact` and `phone` (blank lines to write on when not given) and the 文号 `number`
    (default `letter_number`)."""
    st = _letter_styles()
    month = _month_text(rec.month)
    name = shortened(rec.station_name, MAX_NAME_CHARS)
    listed = _once([o for o in rec.differences if not o.doubtful])
    held = len(_once([o for o in rec.differences if o.doubtful]))
    story: list[Flowable] = [
        _p(center_name, st["title"]),
        Paragraph(LETTER_TITLE, st["subtitle"]),
        _p(f"文号:{number or letter_number(rec)}", st["number"]),
        Spacer(1, 4 * mm),
        _p(f"致 {name}({rec.station}):", st["body"]),
    ]
    if is_empty_month(rec):
        story.append(_p(f"贵站{month}无三包索赔、无返厂件,本月无需核对。", st["para"]))
    elif not rec.differences:
        story.append(
            _p(
                f"经核对,贵站{month}的 {rec.claims} 张三包索赔单与返厂件(返厂清单、"
                "鉴别标签、故障标签)全部一致。感谢贵站的配合。",
                st["para"],
            )
        )
    else:
        story += _differences(rec, month, listed, st)
    if held:
        story.append(
            _p(
                f"另有 {held} 项差异所依据的扫描件读数尚待本中心核实,暂未列入本通知,"
                "核实后如确有差异将另行通知。",
                st["para"],
            )
        )
    story.append(
        KeepTogether(
            [
                _p(f"联系人:{contact or BLANK}    联系电话:{phone or BLANK}", st["para"]),
                Spacer(1, 6 * mm),
                _seal(center_name, _date_text(rec), st),
            ]
        )
    )
    footer = f"{center_name} · 致 {shortened(rec.station_name, MAX_FOOTER_NAME)} · {month}"
    return build_pdf(story, A4, LETTER_TITLE, footer)


def _once(outcomes: list[Outcome]) -> list[Outcome]:
    """Each difference once: the same finding about the same part is listed one time."""
    seen: set[tuple[str | None, ...]] = set()
    out = []
    for o in outcomes:
        key = (o.kind, o.field, o.claim_no, o.vin, o.part_no, o.message.strip())
        if key not in seen:
            seen.add(key)
            out.append(o)
    return out


def _seal(center_name: str, day: str, st: dict[str, ParagraphStyle]) -> Table:
    """The center's name and the date at the right, inside the 盖章处 (the seal goes over
    them, as on any letter)."""
    inner = [_p("(盖章处)", st["seal"]), _p(center_name, st["signed"]), _p(day, st["signed"])]
    return Table(
        [[inner]],
        colWidths=[58 * mm],
        rowHeights=[34 * mm],
        style=TableStyle(
            [
                ("BOX", (0, 0), (-1, -1), 0.6, colors.grey, None, (2, 2)),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ]
        ),
        hAlign="RIGHT",
    )


def _differences(
    rec: Reconciliation, month: str, listed: list[Outcome], st: dict[str, ParagraphStyle]
) -> list[Flowable]:
    """The opening, one numbered group per kind with what to do, and the closing request."""
    out: list[Flowable] = [
        _p(
            f"贵站{month}({rec.period_start.isoformat()} 至 {rec.period_end.isoformat()})"
            f"的三包索赔单与返厂件已核对完毕:索赔单 {rec.claims} 张、{rec.claimed_quantity} 件,"
            f"返厂件 {rec.returned_parts} 件(返厂清单 {rec.manifest_lines} 行,标签 {rec.tags} 张),"
            f"其中 {rec.counts()['matched']} 项一致。"
            + (f"以下 {len(listed)} 项存在差异,请核实处理:" if listed else ""),
            st["para"],
        )
    ]
    if not listed:
        out.append(_p("本中心正在核对扫描件,目前暂无需贵站处理的差异。", st["para"]))
        return out
    groups = [(kind, [o for o in listed if o.kind == kind]) for kind in KIND_LABELS]
    for n, (kind, items) in enumerate(g for g in groups if g[1]):
        out.append(_p(f"{NUMERALS[n]}、{KIND_LABELS[kind]}({len(items)} 项)", st["heading"]))
        out += [_p(_sentence(o), st["item"], f"{i}.") for i, o in enumerate(items, 1)]
        out.append(_p(ADVICE[kind], st["advice"]))
    out.append(
        _p(
            "请贵站收到本通知后及时与本中心联系。"
            f"维修反馈表(SH-ZH/BD-25)请按规定“{FEEDBACK_RULE}”。",
            st["para"],
        )
    )
    return out


def _sentence(o: Outcome) -> str:
    """Which claim (only a part that has one), vehicle and part — each named once, so not
    when the reconciliation's own words name it — then those words without the lead its
    heading already says."""
    message = shortened(o.message.strip(), MAX_MESSAGE_CHARS).rstrip("。.")
    for lead in LEADS.get(o.kind, ()):
        if message.startswith(lead + ":"):
            message = message[len(lead) + 1 :]
            break
    if o.kind == "outside_warranty" and message.startswith(OUTSIDE + "("):
        message = "三包期" + message[len(OUTSIDE) :]
    refs = []
    if o.claim_no and o.kind != "unexpected" and o.claim_no not in message:
        refs.append(f"索赔单 {shortened(o.claim_no, MAX_REF_CHARS)}")
    if o.vin and o.vin not in message:
        refs.append(f"车架号 {shortened(o.vin, MAX_REF_CHARS)}")
    part = " ".join(
        shortened(x, MAX_REF_CHARS) for x in (o.part_no, o.part_name) if x and x not in message
    )
    if part:
        refs.append(f"零件 {part}")
    if o.kind == "unexpected" and o.claim_no:  # what was written matches no claim: unnamed
        message = message.replace(o.claim_no, "(所填索赔单号)")
    message += "。"
    return f"{','.join(refs)}:{message}" if refs else message


def _month_text(month: str) -> str:
    """2026-11 → 2026年11月; anything else is shown as given."""
    try:
        year, mon = (int(x) for x in month.split("-"))
    except ValueError:
        return month
    return f"{year}年{mon}月"


def _date_text(rec: Reconciliation) -> str:
    day = rec.generated_at.astimezone(CHINA_TIME).date()
    return f"{day.year}年{day.month}月{day.day}日"


def _p(text: str, style: ParagraphStyle, bullet: str | None = None) -> Paragraph:
    return Paragraph(escape(text), style, bulletText=bullet)


def _letter_styles() -> dict[str, ParagraphStyle]:
    base = styles()
    body = ParagraphStyle("letter", base["body"], fontSize=11, leading=18)
    return {
        "title": ParagraphStyle("l-title", base["title"], fontSize=16),
        "subtitle": ParagraphStyle("l-sub", body, fontSize=13, leading=20, alignment=TA_CENTER),
        "body": body,
        "para": ParagraphStyle("l-para", body, firstLineIndent=22, spaceBefore=4),
        "heading": ParagraphStyle("l-head", body, fontSize=12, spaceBefore=8, spaceAfter=2),
        "item": ParagraphStyle(
            "l-item",
            body,
            fontSize=10,
            leading=15,
            leftIndent=14 * mm,
            bulletIndent=6 * mm,
            bulletFontName=body.fontName,
            bulletFontSize=10,
        ),
        "advice": ParagraphStyle("l-advice", body, fontSize=10, leading=15, leftIndent=8 * mm),
        "sign": ParagraphStyle("l-sign", body, alignment=TA_RIGHT),
        "number": ParagraphStyle("l-number", body, fontSize=10, alignment=TA_RIGHT),
        "seal": ParagraphStyle("l-seal", body, fontSize=9, alignment=TA_CENTER, textColor="grey"),
        "signed": ParagraphStyle("l-signed", body, alignment=TA_CENTER),
    }
