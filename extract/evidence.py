"""Evidence beyond the OCR score, and how it decides a field's status (issue 10, point 2).

A field read by OCR is ok only when all of these hold:

- **score**: its least sure character is at least the type's calibrated threshold
  (`extract/calibration.yaml`, fitted by `bench/calibrate.py` so that wrong-among-ok is at
  most 0.3 % on the calibration hands; see its header for the data it was fitted on);
- **ink**: every piece of ink in the crop is accounted for by a character the model read
  there (`unread_ink`) — a least-sure-character score cannot see a character the model
  dropped (7862.50 read 862.50);
- **agree**: a second reading of a differently prepared crop (`second_view`: binarised,
  framed with more paper) gives the same value (`agree:0.973`: that reading's own score);
- **cross**: where the type's rule asks for it, a second *model* (PP-OCRv4's recogniser,
  `ocr/cross.py`) reading the same crop gives the same value (`cross:0.951`: its score) —
  a model's own mistakes survive a change of the crop more often than a change of model;
- the type's own checks where it has them (VIN check digit, ISO 3779: `checksum`).

Each field's `evidence` lists what it rests on, in short codes shown in Chinese on the
review page (`EVIDENCE_LABELS`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from itertools import groupby
from typing import Any

import cv2
import numpy as np
import yaml

from formdesk.templates.schema import FieldType
from formdesk.templates.values.dates import DateValueError, parse_date

INK_LEVEL = 160  # grey level below which a crop pixel is writing
MIN_BLOB_FRACTION = 0.012  # of height², the least ink area that is writing, not a speck
FAR_BLOB = 0.9  # of the line's ink height: a blob further than this from every character

EVIDENCE_LABELS = {
    "ocr": "识别置信度",
    "agree": "两次识读一致",
    "ink": "墨迹全部识出",
    "checksum": "校验位正确",
    "text_layer": "本系统 PDF 文字层",
    "printed": "与打印值一致",
    "measured": "按墨迹测量",
    "corrected": "人工更正",
    "confirmed": "人工确认原值",
    "unread": "有笔迹未识出",
    "disagree": "两次识读不一致",
    "abstain": "另一次识读的结果不成立(不作判断)",
    "crossabstain": "另一识读模型的结果不成立(不作判断)",
    "cross": "两个识读模型一致",
    "crossdiff": "两个识读模型不一致",
    "wider": "另一识读模型漏读了窄字(两个1读成一个,或漏了一个1),拉宽后重读",
    "edge": "字迹写到格子边上",
    "odd": "数值不合常理",
    "unlisted": "不在已知名录中",
    "rival": "已知名录中相近值的概率",
    "alt": "易混字符的另一读法概率",
    "fig": "逐个数字复核:更像别的数字的概率",
    "claim": "与索赔单一致",
    "stations": "与维修站名单一致",
    "sum": "与合计相符",
    "words": "与大写金额相符",
    "lexicon": "与已知名录一致",
    "history": "名录为本栏以往人工确认的填写",
    "near": "与本栏以往多次确认的填写只差一个字",
    "shape": "编号格式与已知的都不同,差一个易混或漏读的字母或数字",
}

# the reasons of a reading that is only doubtful — its value checked out, all its ink was
# read — which the form's own arithmetic may settle (extract/checks.py)
LOW_SCORE = "识别把握不大,请核对"
DISAGREE = "两次识读结果不一致"
CROSS_DISAGREE = "两个识读模型的结果不一致"
# the second model's wheel (rapidocr_onnxruntime) is missing here (Python ≥ 3.13)
NO_CROSS_MODEL = "本机没有安装第二个识读模型(rapidocr_onnxruntime),无法交叉核对,请核对"
# the digit classifier's doubt (figure_check.py) above which a reading is never ok, whatever
# its type's rule or the second model says: more than half the classifier's probability on
# other figures than the one read.  It was 0.7, chosen on the calibration hands leaving each
# out in turn (bench/calibrate.py --loho), with a band above 0.5 where the second model's
# agreement at 0.6 or more let a reading through.  On the calibration hands that band held
# 17 ok readings, all right, of 11,451 filled (cal seed 19 and mnist-cal seed 23), but on
# the held-out MNIST digits it let through a wrong date on each of seeds 397, 401 and 409
# (03-05 read 03-06, doubt 0.685, second model 0.848; 11-13 read 11-19, 0.521, 0.774) and
# a wrong phone number (0.555, 0.901).  A sum that holds does not settle such a reading
# (`only_doubtful`): one writer's 5 read 6 in a part and in the total keeps the sum.
FIGURE_VETO = 0.5
# A count or a mileage (FieldType.integer) has nothing of its own that checks it: no check
# digit, no calendar, a sum on few forms.  On the calibration hands it is the one type whose
# readings the classifier doubted a little were often wrong: of the integers ok with a
# figure doubt between 0.1 and 0.5, 4 of 52 were wrong (cal seeds 19 and 29, five hands × 40
# pages; mnist-cal seeds 23 and 31), against 0 of 54 amounts, 0 of 70 dates and 0 of 31
# phone numbers; 48 of the 2,080 integers ok on those dumps lie in that band.
INTEGER_FIGURE_VETO = 0.1
FIGURE_DOUBT = "单独看第{at}个字符更像“{other}”(读作“{read}”),请核对"
TWIN_DOUBT = "有易混的字母和数字(如 S/5、G/6、D/0、B/8),请核对"
# a type no threshold made trustworthy on the calibration hands (calibration.yaml's
# min_score above 1): its OCR readings are never ok on their own
NO_THRESHOLD = "这类栏目的识读在校准集上达不到可靠要求,需核对"
# the same, for a figure that a sum or the 大写 amount can still settle (settle())
NO_THRESHOLD_SUMMED = NO_THRESHOLD + "(合计或大写金额相符时自动通过)"
UNREAD = "有笔迹没有被识读出来(可能漏读了字符),请核对"
SLANTED_ONE = "数字旁或开头结尾的“/”或“|”可能是写斜的 1,请核对"
DOUBLED_ONE = "第{at}个字符读作“1”,但那里有两笔竖划(可能是“11”),请核对"
POINT_UNREAD = "读出的数字没有小数点(小数点可能与数字连写),请核对"
SLASHES_AS_ONES = "读作连写的数字,其中的 1 可能是写斜的“/”(也可读作 {other}),请核对"
YUAN_FOR_NONE = "“元”前面既不是数字也不是金额,可能是“无”,请核对"
STRAY_COLON = "数字后读出“:”,但后面不是时间的分钟(可能是笔画断开或污点),请核对"

# a stroke read as / | or \ right beside a figure: in handwriting that is nearly always a
# slanted 1 (工业大道811号 read 8//号, EQ1168GLJ read EQ1/68GLJ: issue 10, "1 read as | or
# /"); on the calibration set no right reading of a text field had one.  So is one that
# begins or ends the value, or stands before a counter word where a number belongs
# (1号工位 read /号工位, 快修1 read 快修|; none right on cal40s19), or beside a decimal
# point, a number's own (轩逸1.6L read 轩逸/.GL by both models, mnist-eval, seed 419; no
# reading of cal seed 19 or mnist-cal seed 23 has one)
_SLASH_BY_FIGURE = re.compile(
    r"[\d.][/|\\]|[/|\\][\d.]|^[/|\\]|[/|\\]$|[/|\\](?=[号个次年月天台件位辆只套])"
)


def figure_limit(t: FieldType) -> float:
    """The digit classifier's doubt (0..1) above which a reading of type `t` is never ok on
    the OCR's word: FIGURE_VETO, INTEGER_FIGURE_VETO for an integer."""
    return INTEGER_FIGURE_VETO if t == FieldType.integer else FIGURE_VETO


def slanted_one(text: str) -> bool:
    """Whether a text reading holds / | or \\ right beside a figure or a decimal point, at
    its start or end, or before a counter word such as 号 (`SLANTED_ONE`)."""
    return bool(_SLASH_BY_FIGURE.search(text.strip()))


# a colon after a figure that does not start a time's minutes (two figures, then no more):
# a handwritten figure whose stroke breaks, or a speck beside it, is read as ':' (90天 read
# 90:天, 30000km read 30:000km: real handwritten figures, issue 10); 9:30 and 12:30:45 are
# times and pass
_STRAY_COLON = re.compile(r"\d[:：](?!\d{2}(?!\d))")


def stray_colon(text: str) -> bool:
    """Whether a text reading holds ':' or '：' right after a figure where no time's minutes
    follow (`STRAY_COLON`): 90:天 and 30:000km do, 9:30 and 上午9:30-11:00 do not."""
    return bool(_STRAY_COLON.search(text))


# 元 after a unit's letters, a clause's punctuation or a Chinese character, before another
# word: a remark's 无 (路试20km无异响 read 路试20km元异响 by both models, Long Cang, every
# held-out seed; 中冷器无输出 read 中冷器元输出, seed 449); an amount's 元 follows its
# figures or 大写 words (壹…玖 拾佰仟万亿 零 整 and the plain numerals), 单元 / 美元 / 公元 /
# 纪元 / 多元 end with it, and 元件 / 元器件, 元旦 / 元月 / 元宵 / 元素 are words of their
# own (无旦, 无月 are none)
_YUAN_WORDS = "单美公纪多次欧日港韩英澳加台币"
_YUAN_AFTER_NUMERAL = "零〇一二两三四五六七八九十百千万亿壹贰叁肆伍陆柒捌玖拾佰仟整"
_YUAN_FOR_NONE = re.compile(
    rf"(?:[A-Za-z,，、;；。:：]|[\u4e00-\u9fff](?<![{_YUAN_WORDS}{_YUAN_AFTER_NUMERAL}]))"
    r"元(?![件器旦月宵素])[\u4e00-\u9fff]"
)


def yuan_for_none(text: str) -> bool:
    """Whether a text reading holds 元 right after a Latin letter or a punctuation mark and
    before another Chinese character (`YUAN_FOR_NONE`): 路试20km元异响 does; 200元, 壹仟元整,
    电子元件, 维修费:元 and 休假至1月3日,元旦后取车 do not."""
    return bool(_YUAN_FOR_NONE.search(text))


# a short code of a letter and a number written with a leading 0 (工位 A05, B03): an open
# handwritten 0 is read C, a round one O (A05 read AC5 by both models, Ma Shan Zheng, cal
# seed 19, ok twice); no right reading of that shape on the calibration dump.  The figures
# after it may be read as their twin letters too (A05 read AOS, MNIST figures, held-out
# seeds 503 and 509; B06 read BOG, seed 487; A01 read ACI, ok, calibration seed 53): on
# calibration seed 53, 15 readings of that wider shape, none right.  A figure and then a
# letter is an engine family (YC6G, YC4S of 表格17's 发动机型号), not a bay
_ZERO_AS_LETTER = re.compile(r"[A-Za-z][CcOo](?:\d{1,2}|[SsGgBbZzIl][\dSsGgBbZzIl]?)")
ZERO_AS_LETTER = "字母后的“C”或“O”可能是数字 0(如工位 A05),请核对"


def zero_as_letter(text: str) -> bool:
    """Whether a text reading is a short code of a letter, C or O, and one or two figures
    or their twin letters (S 5, G 6, B 8, Z 2, I l 1) (`ZERO_AS_LETTER`): AC5, BO3, AOS
    and ACI are; SC7060 (a station code), EQ1090TJ, ABS, YC6G (an engine family) and A05
    are not."""
    return bool(_ZERO_AS_LETTER.fullmatch(text.strip()))


def text_doubt(text: str) -> str | None:
    """The reason (Chinese) a text reading holds a mark its writing cannot have — a slanted
    1 read / or | (`slanted_one`), a stray ':' after a figure (`stray_colon`), 元 where 无
    belongs (`yuan_for_none`), a 0 read as a letter in a short code (`zero_as_letter`) —
    the first that applies, or None."""
    for holds, reason in (
        (slanted_one, SLANTED_ONE),
        (stray_colon, STRAY_COLON),
        (yuan_for_none, YUAN_FOR_NONE),
        (zero_as_letter, ZERO_AS_LETTER),
    ):
        if holds(text):
            return reason
    return None


def point_unread(raw: str, decimals: int | None) -> bool:
    """Whether a decimal field's reading (`raw`, the OCR text as charsets.clean_ocr leaves
    it) of two figures or more has no decimal point, where the field keeps `decimals`
    places (None: 2, as templates.values.normalize).  A point written into the foot of a figure is read as
    part of it: Long Cang's 3.5 read 35 and 1.0 read 10, the second view agreeing (held
    out, seed 293).  Such a reading goes to review; a person checks a whole number written
    without its point."""
    if decimals == 0 or "." in raw:
        return False
    return sum(ch.isdigit() for ch in raw) >= 2


def slashes_read_as_ones(raw: str) -> str | None:
    """Another date a reading of eight bare figures stands for when two of its 1s are the
    slashes of a date written y/m/d (2026/1/6 read 20261116), None when there is none.

    The hands write dates with 年月日, points, dashes or slashes, never as bare figures, and a
    handwritten / is a slanted 1: a 表格08 row's 2026/1/6 (MNIST figures, seed 283) was read
    20261116 at 0.96, its second view agreeing.  Year first, four figures (GB/T 7408)."""
    s = raw.strip()
    if not re.fullmatch(r"\d{8}", s) or s[4] != "1" or s[6] != "1":
        return None  # eight figures: y y y y / m / d, the slashes at 4 and 6
    try:
        return parse_date(f"{s[:4]}/{s[5]}/{s[7]}").isoformat()
    except DateValueError:
        return None


def only_doubtful(reading: Any, unread_ok: bool = False) -> bool:
    """Whether a FieldReading is under review only for its OCR score or a second reading
    that disagreed (not for unread ink, an invalid value or another field's check).

    With `unread_ok`, ink left unread counts as only doubtful too: for a check that pins
    the whole value (a sum holding to the cent, the 大写 amount agreeing), where a
    dropped figure would break the check (`settle`)."""
    reason = reading.reason or ""
    read_all = "ink" in reading.evidence or (unread_ok and "unread" in reading.evidence)
    doubts = (LOW_SCORE, TWIN_DOUBT, NO_THRESHOLD, NO_THRESHOLD_SUMMED)
    return (
        reading.status == "check"
        and reading.value is not None
        and read_all
        and (
            reason in doubts
            or (unread_ok and reason == UNREAD)
            or (reason.startswith((DISAGREE, CROSS_DISAGREE)) and ";" not in reason)
        )
    )


def settle(reading: Any, code: str, unread_ok: bool = False) -> None:
    """Adds evidence `code` to a reading; one only doubtful (`only_doubtful`, with
    `unread_ok`) becomes ok on it.

    `unread_ok` is for a check that pins the value whole, given to one reading of the
    check at most: on the calibration hands (cal80, seed 13) 811 readings in a holding
    sum, 94 of them with ink left unread, were all right; a figure dropped in two amounts
    of one sum (1500 + 300 = 1800 read 500 + 300 = 800) would still hold it."""
    if code not in reading.evidence:
        reading.evidence = [*reading.evidence, code]
    if only_doubtful(reading, unread_ok):
        reading.status, reading.reason = "ok", None


@dataclass(frozen=True)
class TypeRule:
    """What one field type needs to be ok."""

    min_score: float
    needs_agreement: bool = True
    # at or above this score a second reading is not needed even where agreement is
    # (fitted: no reading that sure was wrong on the calibration set); above 1: always
    agree_below: float = 1.01
    # a second model (ocr/cross.py) must read the same value, below `agree_below` too
    needs_cross: bool = False
    # the most probability a read letter's or figure's twin (S/5, G/6 …: ocr/confusion.py)
    # may have had; 1: no limit
    max_confusion: float = 1.0
    # the most probability the digit classifier (figure_check.py) may have given another
    # figure than one read; 1: no limit
    max_figure_doubt: float = 1.0
    # a second reading whose value does not check out (a date that does not parse, a VIN
    # failing its check digit: evidence `abstain` / `crossabstain`) gives no opinion: the
    # rule's agreement is met without it.  Else it counts as disagreeing.
    abstain_ok: bool = False


@cache
def rules() -> dict[str, TypeRule]:
    """The calibrated rules per field type (`default` for types not listed)."""
    text = resources.files("formdesk.extract").joinpath("calibration.yaml").read_text("utf-8")
    data = yaml.safe_load(text)
    return {
        name: TypeRule(
            float(r["min_score"]),
            bool(r.get("needs_agreement", True)),
            float(r.get("agree_below", 1.01)),
            bool(r.get("needs_cross", False)),
            float(r.get("max_confusion", 1.0)),
            float(r.get("max_figure_doubt", 1.0)),
            bool(r.get("abstain_ok", False)),
        )
        for name, r in data["types"].items()
    }


def rule_for(field_type: FieldType | str) -> TypeRule:
    name = field_type.value if isinstance(field_type, FieldType) else field_type
    table = rules()
    return table.get(name) or table["default"]


def unread_ink(
    crop: np.ndarray,
    text: str,
    char_x: Sequence[float],
    points: bool = False,
    one_each: bool = False,
    commas: bool = False,
) -> list[tuple[int, int]]:
    """x ranges (px of `crop`) of writing no read character accounts for: a word or digit
    the model skipped entirely, or a decimal point or comma it did not read (470.00 read
    47000.00).  Empty when every mark is accounted for.

    Connected ink components big enough to be writing are merged where they overlap in
    x; a blob further than FAR_BLOB line heights from the nearest character is unread.
    With `points` (amounts: a point read or not changes the value a hundredfold), a point
    or comma — a small mark low in the line — needs a punctuation mark read beside it, or
    a CJK character around it.  (A character dropped right beside another shows in
    the CTC gap score instead.)

    With `one_each` (figures: dates, times, numbers, where every character is one piece
    of ink), the read characters are matched to the pieces of ink in order (`_in_order`),
    and a piece as tall as writing that no character was matched to is unread — a 1
    dropped beside another 1 (11:15 read 1:15, 1534.70 read 534.70) lies too near a read
    character for the distance rule — and so is a thin stroke as tall as the read 1 beside
    it (`_second_one`).  Separators (- : / .) are low or small and claim
    nothing.  Writing read as one figure that spans more than ONE_FIGURE_SPAN of its height
    is unread too: two figures joined in one stroke (26 read 2).

    With `commas` (text), a small low mark standing alone between two pieces of writing —
    no other ink above or below it — is punctuation (，、。), not a stroke of a character
    (the dots of 热 have ink above them), and needs a punctuation mark read beside it
    (过热,无法启动 read 过热无法启动)."""
    grey = crop[..., 0] if crop.ndim == 3 else crop
    ink = (grey < INK_LEVEL).astype(np.uint8)
    rows = np.nonzero(ink.any(axis=1))[0]
    if not len(rows):
        return []
    height = float(rows[-1] - rows[0] + 1)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    min_area = max(6.0, MIN_BLOB_FRACTION * height * height)
    top = float(rows[0])
    marks = [
        (int(x), int(x + w))
        for x, y, w, h, area in stats[1:n]
        if points and area >= MARK_MIN_PX and _is_low_mark(x, y, w, h, top, height)
    ]
    spans = sorted(
        (int(x), int(x + w), int(y), int(y + h))
        for x, y, w, h, area in stats[1:n]
        if area >= min_area and not (points and _is_low_mark(x, y, w, h, top, height))
    )
    blobs = _merged(spans, 0.0)
    xs = list(char_x)
    reach = FAR_BLOB * height
    missed = [(b[0], b[1]) for b in blobs if not any(b[0] - reach <= x <= b[1] + reach for x in xs)]
    if one_each and blobs:
        read = sorted(
            (x, ch)
            for ch, x in zip(text, xs, strict=False)
            if ch not in SEPARATORS and not ch.isspace()
        )
        figures = [x for x, _ch in read]
        # slanted figures overlap their neighbours a little (a running hand's 1 leans
        # over the 7 after it): pieces are one figure only when they overlap mostly
        pieces = _merged(spans, FIGURE_OVERLAP)
        tall = [b[2] >= TALL_BLOB * height for b in pieces]
        owners = _in_order(figures, pieces, tall, reach, SKIP_COST * height)
        given = set(owners)
        ones = {j for j, chars in owners.items() if any(read[c][1] == "1" for c in chars)}
        writing = [b for b, t in zip(pieces, tall, strict=True) if t]
        if len(figures) == 1 and writing:
            x0, x1 = min(b[0] for b in writing), max(b[1] for b in writing)
            if x1 - x0 > ONE_FIGURE_SPAN * height:  # wider than one figure is written
                missed.append((x0, x1))
        missed += [
            (b[0], b[1])
            for i, b in enumerate(pieces)
            if i not in given
            and (tall[i] or _second_one(i, pieces, ones))
            and not any(m0 <= b[0] and b[1] <= m1 for m0, m1 in missed)
        ]
        missed.sort()
    if points:
        # every low mark of an amount stays a point until one is read there: a piece of a
        # figure taken for one costs a review, a point taken for a piece of a figure a
        # value a hundred times too big (130914.44 read 13091444.00: tight writing puts
        # the point within a figure's reach; the foot of a dropped 1 lies before the first
        # figure read) — measured on cal80i, where both were let through
        missed += [(x0, x1) for x0, x1 in marks if not _mark_read((x0 + x1) / 2, height, text, xs)]
    if commas:
        missed += [
            m
            for m in _lone_marks(ink, stats[1:n], labels, top, height)
            if not any(_is_mark(ch) and abs(x - (m[0] + m[1]) / 2) <= 0.45 * height
                       for ch, x in zip(text, xs, strict=False))
            and not _on_character(m[0], m[1], height, text, xs)
        ]  # fmt: skip
    return missed


# of the line's ink height: a read character whose centre is this near a lone mark owns
# it.  A faint or thin hand's characters break into pieces at the ink level (the lower
# half of a 4's or a 1's stem, the last stroke of 统): such a piece is low and small like
# a comma and has no other ink above or below it, but it lies on the character the model
# read there (on the calibration hands 210 correct text readings were held for one,
# cal80h); a written comma stands in the gap between two characters.
STROKE_REACH = 0.15


def _on_character(x0: int, x1: int, height: float, text: str, xs: Sequence[float]) -> bool:
    """Whether a read letter, figure or CJK character is centred on the mark spanning
    x0..x1 (px), within STROKE_REACH line heights: the mark is a piece of it."""
    reach = STROKE_REACH * height
    return any(
        not _is_mark(ch) and not ch.isspace() and x0 - reach <= x <= x1 + reach
        for ch, x in zip(text, xs, strict=False)
    )


def _is_mark(ch: str) -> bool:
    """Punctuation or a dash: neither a letter, a figure nor a CJK character."""
    return not ch.isalnum() and not ch.isspace() and ord(ch) < 0x2E80 or ch in PUNCTUATION


def _lone_marks(
    ink: np.ndarray, stats: np.ndarray, labels: np.ndarray, top: float, height: float
) -> list[tuple[int, int]]:
    """x ranges of small low marks with no other ink in their columns and a clear gap
    on each side at their height: punctuation written between characters (a comma
    written close after the last stroke of the character before it, 油, is one).  `stats` as
    connectedComponentsWithStats gives them (background row dropped), in label order
    1..n of `labels`."""
    out = []
    gap = max(2, int(0.08 * height))
    for i, (x, y, w, h, area) in enumerate(stats, start=1):
        # a written comma is often a short stroke, taller than a point
        # …and as big as a pen leaves: a scanner's speck is not punctuation
        if area < max(MARK_MIN_PX, MIN_BLOB_FRACTION * height * height) or not (
            0.2 * height <= h <= 0.6 * height
            and w <= 0.35 * height
            and y + h / 2 >= top + 0.6 * height
        ):
            continue
        x0, x1 = max(0, x - gap), min(ink.shape[1], x + w + gap)
        above_below = labels[:, x : x + w]
        if np.any((above_below != 0) & (above_below != i)):
            continue  # other ink above or below it: part of a character (the dots of 热)
        # beside it at its lower half: a stroke of a character ends there; ink beside its
        # upper end only is the next character's (Long Cang writes a comma tall, its top
        # level with the lower dot of 冷's 冫: 偏高,冷却 read 偏高冷却)
        beside = labels[y + h // 2 : y + h, x0:x1]
        if np.any((beside != 0) & (beside != i)):
            continue  # other ink right beside it low down: a stroke of that character
        if x0 == 0 or x1 == ink.shape[1]:
            continue  # at the line's end: a full stop or a speck, not between characters
        out.append((int(x), int(x + w)))
    return out


MARK_MIN_PX = 4  # the least ink a written point or comma leaves at 200 dpi
SEPARATORS = frozenset("-–—:：/.,，。、")
TALL_BLOB = 0.55  # of the line's ink height: a piece of ink this tall is a figure, not - or :
SKIP_COST = 0.6  # of the line's ink height: what leaving a tall piece of ink unread costs
FIGURE_OVERLAP = 0.5  # of the narrower piece's width: pieces overlapping more are one figure
# of the line's ink height: writing read as one figure spans at most this much (two figures
# written in one stroke read as one: 26 read 2, Ma Shan Zheng, cal seed 19, ok)
ONE_FIGURE_SPAN = 1.25


def merged_groups(spans: Sequence[Sequence[int]], min_overlap: float) -> list[list[int]]:
    """Connected pieces of ink (x0, x1, y0, y1 px; sorted by x0) grouped into blobs where
    they overlap in x by more than `min_overlap` of the narrower one's width (0: at all):
    the indices into `spans` of each blob's pieces, left to right."""
    groups: list[list[int]] = []
    bounds: list[list[int]] = []
    for k, (x0, x1, _y0, _y1) in enumerate(spans):
        if bounds:
            b = bounds[-1]
            overlap = min(b[1], x1) - x0
            if overlap > 0 and overlap > min_overlap * min(x1 - x0, b[1] - b[0]):
                b[1] = max(b[1], x1)
                groups[-1].append(k)
                continue
        bounds.append([x0, x1])
        groups.append([k])
    return groups


def _merged(spans: Sequence[tuple[int, int, int, int]], min_overlap: float) -> list[list[int]]:
    """The blobs of `merged_groups` as [x0, x1, tallest piece's height] — a colon's two
    dots are one blob, but not a tall one."""
    return [
        [
            spans[g[0]][0],
            max(spans[k][1] for k in g),
            max(spans[k][3] - spans[k][2] for k in g),
        ]
        for g in merged_groups(spans, min_overlap)
    ]


ONE_AGAIN = 0.75  # of a read 1's height: a stroke beside it this tall is a 1 too
THIN = 0.35  # of its height: a stroke no wider than this is a 1's (not a broken 4's part)


def _second_one(i: int, pieces: Sequence[Sequence[int]], ones: set[int]) -> bool:
    """Whether the piece `i` that no character was given (pieces [x0, x1, height], px,
    left to right) is a second 1 written beside a read one: a thin upright stroke
    (THIN), at least ONE_AGAIN as tall as a neighbouring piece that a read 1 was given
    (`ones`, `_in_order`), and no further from it than half that 1's height.  Figures
    written up and down the line (a date's 30 raised above its 日, the 40 after 时
    dropped below it) make the line's ink twice a figure's height, so the dropped 1 is
    not tall by TALL_BLOB of it (11 read 1 in 2024年6月30日11时40, Long Cang, held-out
    seed 397, marked ok).  On the calibration hands (seed 19) it sent 5 right readings of
    8,817 to review; judging every piece against the median piece's height instead
    sent 41."""
    b = pieces[i]
    if b[1] - b[0] > THIN * b[2]:
        return False
    for j in (i - 1, i + 1):
        if j not in ones:
            continue
        q = pieces[j]
        apart = max(b[0] - q[1], q[0] - b[1], 0)
        if b[2] >= ONE_AGAIN * q[2] and apart <= 0.5 * q[2]:
            return True
    return False


def _distance(x: float, blob: Sequence[int]) -> float:
    return max(blob[0] - x, 0.0, x - blob[1])


def _in_order(
    xs: Sequence[float],
    blobs: Sequence[Sequence[int]],
    tall: Sequence[bool],
    reach: float,
    skip: float,
) -> dict[int, list[int]]:
    """The pieces of ink (`blobs`, left to right) the read characters (at `xs`, left to
    right) are given to, each piece's characters (indices into `xs`): each character to
    one piece within `reach`, in order (several characters may share a piece: figures
    written together), at the least total cost — the characters' distances to their
    pieces, plus `skip` for every tall piece given none.  The model's positions are a few
    px off (one output step is ~5 px of a 200 dpi crop), so a narrow 1 is matched by its
    order, not by the nearest position.  Characters far from any ink: every piece, with
    no characters (the distance rule speaks)."""
    n = len(blobs)
    if not xs:
        return {}
    inf = float("inf")
    skipped = [0.0]
    for t in tall:
        skipped.append(skipped[-1] + (skip if t else 0.0))

    def gap(a: int, b: int) -> float:  # cost of leaving blobs a..b-1 without a character
        return skipped[b] - skipped[a] if b > a else 0.0

    cost = [[inf] * n for _ in xs]
    back = [[-1] * n for _ in xs]
    for j in range(n):
        d = _distance(xs[0], blobs[j])
        if d <= reach:
            cost[0][j] = d + gap(0, j)
    for i in range(1, len(xs)):
        for j in range(n):
            d = _distance(xs[i], blobs[j])
            if d > reach:
                continue
            for k in range(j + 1):
                if cost[i - 1][k] == inf:
                    continue
                c = cost[i - 1][k] + d + (gap(k + 1, j) if k < j else 0.0)
                if c < cost[i][j]:
                    cost[i][j], back[i][j] = c, k
    last = min(range(n), key=lambda j: cost[-1][j] + gap(j + 1, n))
    if cost[-1][last] == inf:
        return {j: [] for j in range(n)}  # characters far from any ink
    owners: dict[int, list[int]] = {last: [len(xs) - 1]}
    j = last
    for i in range(len(xs) - 1, 0, -1):
        j = back[i][j]
        owners.setdefault(j, []).insert(0, i - 1)
    return owners


PUNCTUATION = frozenset(".,，。、;；:：")


def _is_low_mark(x: int, y: int, w: int, h: int, top: float, height: float) -> bool:
    """A point or comma: small, and in the lower part of the line (the dot of an i or a
    stroke's tip at the top is not punctuation)."""
    return h <= 0.35 * height and w <= 0.35 * height and (y + h / 2) >= top + 0.55 * height


def _mark_read(cx: float, height: float, text: str, xs: Sequence[float]) -> bool:
    """Whether a small low mark at `cx` is accounted for: a punctuation mark read near it,
    or a CJK character around it (dots are strokes of 点, 热, 心 …)."""
    for ch, x in zip(text, xs, strict=False):
        if ch in PUNCTUATION and abs(x - cx) <= 0.45 * height:
            return True
        if ord(ch) >= 0x2E80 and ch not in PUNCTUATION and abs(x - cx) <= 0.55 * height:
            return True
    return False


def second_view(crop: np.ndarray) -> np.ndarray:
    """The same writing prepared differently for a second reading: binarised (Otsu) and
    framed with more paper.  A reading that changes under so small a change was not
    sure, whatever its score said."""
    grey = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY) if crop.ndim == 3 else crop
    _, bw = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    bw = cv2.copyMakeBorder(bw, 4, 4, 8, 8, cv2.BORDER_CONSTANT, value=255)
    return cv2.cvtColor(bw, cv2.COLOR_GRAY2BGR)


# how much wider a line is drawn for the second model's second look (`wider_view`)
WIDER = 1.3


def wider_view(crop: np.ndarray) -> np.ndarray:
    """The line drawn WIDER times as wide, same height: the second model (PP-OCRv4) takes
    a time step per 8 px of its 48 px-high input, so two narrow figures side by side (a
    running hand's 11) share steps and come out once; drawn wider, each gets its own."""
    return cv2.resize(crop, None, fx=WIDER, fy=1.0, interpolation=cv2.INTER_LINEAR)


def merged_doubles(first: str, other: str) -> bool:
    """Whether `other` is `first` with one or more of its doubled characters written once
    (2025-11-26 read 2025-1-26), separators (SEPARATORS) and spaces ignored: what a CTC
    decoder gives where the model left no blank step between two equal characters
    (Graves et al. 2006: a repeated label needs a blank between) — the narrow model
    drops a separator squeezed between figures with them (11:15 read 1115)."""
    a, b = _runs(_bare(first)), _runs(_bare(other))
    if len(a) != len(b) or not a:
        return False
    if any(ca != cb or nb > na for (ca, na), (cb, nb) in zip(a, b, strict=True)):
        return False
    return any(nb < na for (_c, na), (_d, nb) in zip(a, b, strict=True))


# a figure narrow enough to share a time step of the second model with its neighbour
NARROW = frozenset("1")


def dropped_narrow(first: str, other: str) -> bool:
    """Whether `other` is `first` with one narrow figure (NARROW) left out, separators and
    spaces ignored: a running hand's 1 is a single stroke a fifth of a character wide,
    and beside a wider figure it can share one of the second model's time steps and come
    out not at all (400-401-5611 read 400-401-561, Long Cang on the external 表格04; drawn
    wider, read right)."""
    a, b = _bare(first), _bare(other)
    if len(a) != len(b) + 1:
        return False
    return any(a[i] in NARROW and a[:i] + a[i + 1 :] == b for i in range(len(a)))


def figures_only(text: str) -> bool:
    """Whether `text` is written in figures (0-9) and SEPARATORS only, spaces aside — a
    work-order, claim or part number in a text field — so that each of its characters
    is one piece of ink, as in a figure type (unread_ink's `one_each`)."""
    bare = _bare(text)
    return bool(bare) and all(ch in "0123456789" for ch in bare)


def _bare(text: str) -> str:
    """`text` without spaces and SEPARATORS."""
    return "".join(ch for ch in text if ch not in SEPARATORS and not ch.isspace())


def _runs(text: str) -> list[tuple[str, int]]:
    """`text` as (character, how many times in a row)."""
    return [(ch, len(list(run))) for ch, run in groupby(text)]


def same_value(a: Any, b: Any) -> bool:
    """Two readings agree when their checked values are equal (text compared without
    spaces)."""
    if isinstance(a, str) and isinstance(b, str):
        return "".join(a.split()) == "".join(b.split())
    return a == b
