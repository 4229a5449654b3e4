"""Reading each field of a rectified form by its type.

Text-like fields: ink found -> crop trimmed to the ink, print subtracted -> recognition
limited to the type's characters -> the catalog's own value checks.  Boxes, circles,
signatures and seals are measured, not read.  Nothing is OCR'd where there is no ink.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from formdesk.model.record import FieldReading
from formdesk.model.time import utcnow
from formdesk.templates.geometry import Rect
from formdesk.templates.layout import (
    Option,
    cell_options,
    cell_square,
    checkbox_square,
    date_slots,
    option_layout,
    table_font_size,
    table_grid,
    value_rect,
)
from formdesk.templates.schema import Column, FieldType, FormField, Template
from formdesk.templates.values.identifiers import plate_problem
from formdesk.templates.values.normalize import normalize
from formdesk.templates.values.vin import correct_single_confusion, old_vin

from .align import PX_PER_MM
from .charsets import (
    clean_ocr,
    date_splits,
    datetime_readings,
    field_charset,
    plate_in_slot,
    plate_like,
    plate_shaped,
)
from .evidence import (
    CROSS_DISAGREE,
    DISAGREE,
    DOUBLED_ONE,
    FIGURE_DOUBT,
    LOW_SCORE,
    NO_CROSS_MODEL,
    NO_THRESHOLD,
    NO_THRESHOLD_SUMMED,
    POINT_UNREAD,
    SLASHES_AS_ONES,
    TWIN_DOUBT,
    UNREAD,
    dropped_narrow,
    figure_limit,
    figures_only,
    merged_doubles,
    point_unread,
    rule_for,
    same_value,
    second_view,
    slashes_read_as_ones,
    text_doubt,
    unread_ink,
    wider_view,
)
from .figure_check import FigureOpinion, figure_opinion
from .ink import FormImage
from .lexicon import (
    HISTORY_TYPES,
    SHAPE_LISTS,
    SHAPE_NAMES,
    Lexicon,
    best_known,
    drops_read,
    has_history,
    known_rival,
    near_known,
    short_shape,
    twin_shape,
)
from .local_align import RESIDUAL_DOUBT_MM, SHIFT_MIN_MM, Mesh
from .ocr import OcrEngine, Recognized
from .ocr.cross import cross_model
from .printed import PrintedPage
from .text_layer import BoxText, agrees

TICK_ON, TICK_OFF = 0.10, 0.035  # ink coverage of a □: ticked above, empty below, unsure between
CIRCLE_MIN_PX = 120  # ink pixels around an option that make a circle
SEAL_RED = 0.015


@dataclass
class ReadContext:
    """Everything reading one form page needs."""

    form: FormImage
    template: Template
    engine: OcrEngine
    page: int = 1
    # formdesk's own digital PDF: its text layer inside a rect (mm); see text_layer.py
    text_at: Callable[[Rect], BoxText] | None = None
    # a document printed here with values: how they were drawn (see printed.py)
    printed: PrintedPage | None = None
    grow_px: int = 3  # alignment tolerance when comparing with the printed values
    all_evidence: bool = False  # gather every kind of evidence, needed or not (calibration)
    mesh: Mesh | None = None  # a bowed or folded page's local correction (local_align.py)
    lexicon: Lexicon | None = None  # values the installation knows (lexicon.py)


def _box(r: Rect) -> list[float]:
    return [round(r.x, 2), round(r.y, 2), round(r.w, 2), round(r.h, 2)]


AMOUNT_TYPES = frozenset({FieldType.money, FieldType.decimal})
# what a template's sum or 大写 amount check can settle (checks.py, evidence.settle)
SUMMED_TYPES = frozenset({*AMOUNT_TYPES, FieldType.integer})
# written in figures, one piece of ink per character (evidence.unread_ink's one_each)
FIGURE_TYPES = frozenset(
    {
        FieldType.money, FieldType.decimal, FieldType.integer, FieldType.phone,
        FieldType.date, FieldType.month, FieldType.time, FieldType.datetime,
    }
)  # fmt: skip
LOCAL_DOUBT = "页面此处变形(弯折或褶皱),局部对齐不可靠,请核对"
# the page is out of place here, but no printed line here could measure by how much
LOCAL_GUESS = "页面此处变形,但此处印刷线条不足以测准偏移(按邻近位置推算),请核对"


def with_local_fit(reading: FieldReading, ctx: ReadContext, box: Rect) -> FieldReading:
    """Notes the local correction of a bowed page in the evidence; a field where the page
    is folded (the mesh cannot explain the lines there) cannot be ok."""
    mesh = ctx.mesh
    if mesh is None:
        return reading
    shift = mesh.largest_shift(box)
    if shift >= SHIFT_MIN_MM:
        reading.evidence = [*reading.evidence, f"shift:{shift:.1f}mm"]
    if reading.status in ("ok", "empty"):
        if mesh.worst_residual(box) > RESIDUAL_DOUBT_MM:
            doubt = LOCAL_DOUBT
        elif mesh.most_inferred(box) >= SHIFT_MIN_MM:
            doubt = LOCAL_GUESS
        else:
            return reading
        reading.status = "check"
        reading.reason = f"{doubt};{reading.reason}" if reading.reason else doubt
    return reading


def read_field(ctx: ReadContext, field: FormField) -> FieldReading:
    """One field, re-aligned locally first when the page is out of place around it."""
    if field.type == FieldType.table:
        raise ValueError("tables are read with read_table_rows")
    return with_local_fit(_read_field(ctx, field), ctx, field.rect)


def _read_field(ctx: ReadContext, field: FormField) -> FieldReading:
    form, template, page = ctx.form, ctx.template, ctx.page
    v = value_rect(template, field)
    base = {
        "key": field.key,
        "label": field.label,
        "type": field.type.value,
        "box": _box(field.rect),
        "page": page,
    }
    t = field.type
    if t in MEASURED_TYPES:
        reading = _measure(form, template, field, v, base)
        if reading.value is not None and not reading.evidence:
            reading.evidence = ["measured"]
        return reading
    printed = ctx.printed.values.get(field.key) if ctx.printed else None
    return _read_text(ctx, field, v, base, printed)


@dataclass
class _Reading:
    """One OCR pass over a field's line crops: what was read and what it checks out as."""

    raw: str
    score: float
    results: list[Recognized]
    value: Any = None
    error: str | None = None  # the value check's reason (Chinese) when it fails
    choices: list[str] | None = None  # a run-together date-time readable several ways
    # read slot by slot (`_date_text`), the slots hold fewer figures than the line read whole
    lost: bool = False


def _ocr_pass(
    ctx: ReadContext,
    spec: FormField | Column,
    lines: list[np.ndarray],
    view: Callable[[np.ndarray], np.ndarray] | None = None,
    engine: OcrEngine | None = None,
) -> _Reading:
    """The line crops read by `engine` (the page's engine by default), each prepared by
    `view` first when given, and the value checked."""
    t = spec.type
    dated = t in (FieldType.date, FieldType.month, FieldType.datetime, FieldType.time)
    crops = [view(c) for c in lines] if view else lines
    engine = engine or ctx.engine
    results = [engine.recognize([c], field_charset(spec))[0] for c in crops]
    raw = "".join(r.text for r in results)
    score = min((_score(r, dated) for r in results), default=0.0)
    lost = False
    if dated and isinstance(spec, FormField):
        raw, score, lost = _date_text(ctx, spec, raw, score, view, engine)
    return _checked(spec, _Reading(raw, score, results, lost=lost))


def _checked(spec: FormField | Column, r: _Reading) -> _Reading:
    text = clean_ocr(spec.type, r.raw)
    if spec.type == FieldType.datetime:
        readings = _valid_readings(spec, datetime_readings(text))
        if len(readings) > 1:
            r.value, r.choices = readings[0], readings
            return r
        if readings:
            text = readings[0]
    try:
        r.value = normalize(spec, text)
    except ValueError as exc:
        r.error = str(exc)
        r.value = text  # what a VIN correction starts from
        return r
    if spec.type == FieldType.text and plate_shaped(text) and plate_problem(text):
        # a plate in a text field is still a plate: a digit read for its city letter
        # (湘J31352 read 湘531352) is a misreading, not a value
        r.error = f"像车牌号但{plate_problem(text)}"
    return r


MEASURED_TYPES = frozenset(
    {
        FieldType.choice,
        FieldType.circle_choice,
        FieldType.checkbox,
        FieldType.signature,
        FieldType.seal,
    }
)


def _measure(
    form: FormImage, template: Template, field: FormField, v: Rect, base: dict[str, Any]
) -> FieldReading:
    """Ticks, circles, signatures and seals: measured from the ink, not read."""
    t = field.type
    if t == FieldType.choice:
        return _read_options(
            form, field.options, [o.mark for o in option_layout(template, field)], base
        )
    if t == FieldType.circle_choice:
        return _read_circles(form, template, field, base)
    if t == FieldType.checkbox:
        return _read_tick(form, checkbox_square(template, field), base)
    if t == FieldType.signature:
        return _presence(form.has_ink(v), form.coverage(v, 0.6), base, "已签字")
    if t == FieldType.seal:
        red = form.red_fraction(v)
        return _presence(red >= SEAL_RED or form.has_ink(v), red, base, "已盖章")
    raise ValueError(f"not a measured type: {t}")


def _read_text(
    ctx: ReadContext,
    spec: FormField | Column,
    v: Rect,
    base: dict[str, Any],
    printed: Any = None,
) -> FieldReading:
    """A text-like field: from formdesk's own text layer, or verified against the value
    formdesk printed there, or read by OCR with its evidence (see evidence.py)."""
    if printed not in (None, "") and ctx.printed is not None:
        same = ctx.printed.match(ctx.form.px(v, 0.6), ctx.form.ink, ctx.grow_px)
        if same:
            try:
                value = normalize(spec, str(printed))
            except ValueError:
                value = None
            if value is not None:
                return FieldReading(
                    **base, value=value, raw=str(printed), confidence=1.0, status="ok",
                    evidence=["printed"],
                )  # fmt: skip
        if same is False:
            read = _read_text(ctx, spec, v, base)
            note = f"打印值被改写(打印的是“{printed}”),请核对"
            read.reason = f"{note};{read.reason}" if read.reason else note
            if read.status == "ok":
                read.status = "check"
            return read
    t = spec.type
    dated = t in (FieldType.date, FieldType.month, FieldType.datetime, FieldType.time)
    layer = ctx.text_at(v) if ctx.text_at is not None else None
    if layer is not None and agrees(ctx.form, v, layer):
        raw = _printed_text(layer.text, spec)
        if not raw:
            return FieldReading(**base, status="empty", confidence=1.0, evidence=["text_layer"])
        r = _checked(spec, _Reading(raw, 1.0, []))
        if r.error is None and r.choices is None:
            return FieldReading(
                **base, value=r.value, raw=raw, confidence=1.0, status="ok", evidence=["text_layer"]
            )
        return _doubtful(base, spec, r)
    # pixels: a scan, or a text layer the page image does not show
    if not ctx.form.has_ink(v):
        return FieldReading(**base, status="empty", confidence=1.0)
    lines = _line_crops(ctx.form, v, subtract_print=not dated, multiline=t == FieldType.multiline)
    first = _ocr_pass(ctx, spec, lines)
    beyond = _cut_at_side(ctx, spec, v, first, dated)
    known = (
        ctx.lexicon.for_field(spec.key, ctx.template.code if t in HISTORY_TYPES else None)
        if ctx.lexicon is not None and len(lines) == 1
        else ()
    )
    history = bool(known) and has_history(spec.key)  # people's earlier values
    if known:
        found = _known_value(ctx, spec, lines[0], first, known, base, history)
        if found is not None:
            return found
    if first.error is not None or first.choices is not None:
        return _doubtful(base, spec, first)
    evidence = [f"ocr:{first.score:.3f}"]
    unlisted = bool(known) and ctx.lexicon is not None and ctx.lexicon.closed_for(spec.key)
    if unlisted:
        evidence.append("unlisted")
    rival = known_rival(first.results[0], known) if known else None
    if rival is not None:
        evidence.append(f"rival:{rival.posterior:.3f}")
    # a code of a format no known one has, but one twin letter or figure away from one, or
    # one letter or figure short of one (part and engine numbers: Lexicon.formats_for)
    formats = ctx.lexicon.formats_for(spec.key) if ctx.lexicon is not None else ()
    valid = bool(formats) and first.error is None
    shape = twin_shape(str(first.value), formats) if valid else None
    short = short_shape(str(first.value), formats) if valid and shape is None else None
    if shape is not None or short is not None:
        evidence.append("shape")
    near = None
    # on every line count: a list written over two lines is not read against its history
    # whole, but its items are still doubted beside frequent ones
    if ctx.lexicon is not None and t in HISTORY_TYPES and has_history(spec.key):
        near = near_known(str(first.value), ctx.lexicon.frequent_for(spec.key, ctx.template.code))
        if near is not None:
            evidence.append(f"near:{near}")
    if t == FieldType.vin:
        evidence.append("checksum")  # normalize() accepted its check digit (ISO 3779)
    rule = rule_for(judged_as(t, first.value, getattr(spec, "holds_plates", False)))
    reading = {"value": first.value, "raw": first.raw, "confidence": first.score}
    low = first.score < rule.min_score
    missed = [
        m
        for crop, r in zip(lines, first.results, strict=True)
        for m in unread_ink(
            crop,
            r.text,
            r.char_x,
            points=t in AMOUNT_TYPES,
            # a number written in a text field (24033971 read 2403397, 611248277 read
            # 61248277, Long Cang's 1s dropped with both models agreeing) is figures too
            one_each=t in FIGURE_TYPES or (t == FieldType.text and figures_only(r.text)),
            commas=t in (FieldType.text, FieldType.multiline),
        )
    ]
    # ink left unread, or a figure the slots, read one by one, dropped from the whole line
    unread = bool(missed) or first.lost
    evidence.append("unread" if unread else "ink")
    if beyond is not None:
        evidence.append("edge")
    odd = implausible(t, first.raw, first.value)
    if odd:
        evidence.append("odd")
    mixed = max((r.confusion for r in first.results), default=0.0)
    twin = mixed > rule.max_confusion
    if twin or (ctx.all_evidence and mixed > 0):
        evidence.append(f"alt:{mixed:.3f}")
    figures = _figure_opinion(lines, first)
    limit = min(rule.max_figure_doubt, figure_limit(t))
    doubted = figures is not None and figures[0].doubt > limit
    if figures is not None:
        evidence.append(f"fig:{figures[0].doubt:.3f}")
    agreed: bool | None = None
    abstained = cross_abstained = False
    wanted = rule.needs_agreement and first.score < rule.agree_below and not low and not unread
    if wanted or ctx.all_evidence:
        second = _ocr_pass(ctx, spec, lines, second_view)
        agreed = second.error is None and same_value(first.value, second.value)
        # a second reading that does not check out (an invalid date or VIN) is no opinion
        abstained = second.error is not None or second.choices is not None
        # the second view's own score where it agrees, for the review page and the dump
        evidence.append(
            f"agree:{second.score:.3f}" if agreed else "abstain" if abstained else "disagree"
        )
    crossed: bool | None = None
    want_cross = rule.needs_cross and first.score < rule.agree_below and not (low or unread)
    model = cross_model() if want_cross or ctx.all_evidence else None
    if model is not None:
        third = _ocr_pass(ctx, spec, lines, engine=model)
        crossed = third.error is None and same_value(first.value, third.value)
        if not crossed and (
            merged_doubles(first.raw, third.raw) or dropped_narrow(first.raw, third.raw)
        ):
            # the second model ran two equal figures together (11 read 1), or left a
            # lone 1 out: a second look, the line drawn wider, decides
            third = _ocr_pass(ctx, spec, lines, wider_view, engine=model)
            crossed = third.error is None and same_value(first.value, third.value)
            evidence.append("wider")
        cross_abstained = third.error is not None or third.choices is not None
        evidence.append(
            f"cross:{third.score:.3f}"
            if crossed
            else "crossabstain"
            if cross_abstained
            else "crossdiff"
        )
    if low:
        never = NO_THRESHOLD_SUMMED if t in SUMMED_TYPES else NO_THRESHOLD
        reason = never if rule.min_score > 1.0 else LOW_SCORE
    elif unread:
        reason = UNREAD
    elif beyond is not None:
        reason = AT_SIDE.replace(",请核对", f"(连同格外读作“{beyond}”),请核对")
    elif odd:
        reason = odd
    elif unlisted:
        reason = UNLISTED
    elif rival is not None:
        reason = RIVAL.format(value=rival.value)
    elif near is not None:
        reason = NEAR_KNOWN.format(value=near)
    elif shape is not None:
        reason = ODD_SHAPE.format(
            what=_code_kind(spec.key),
            at=shape[0] + 1,
            twin=shape[1],
            read=str(first.value)[shape[0]],
        )
    elif short is not None:
        reason = SHORT_SHAPE.format(
            what=_code_kind(spec.key), at=short[0] + 1, kind="字母" if short[1] == "A" else "数字"
        )
    elif twin:
        reason = TWIN_DOUBT
    elif doubted and figures is not None:
        reason = _figure_doubt(*figures)
    elif wanted and not agreed and not (abstained and rule.abstain_ok):
        other = second.value if second.error is None else second.raw
        reason = f"{DISAGREE}(另一次读作“{other}”),请核对"
    elif want_cross and model is None:
        reason = NO_CROSS_MODEL
    elif want_cross and not crossed and not (cross_abstained and rule.abstain_ok):
        other = third.value if third.error is None else third.raw
        reason = f"{CROSS_DISAGREE}(另一识读模型读作“{other}”),请核对"
    elif t in (FieldType.text, FieldType.multiline) and (doubt := text_doubt(str(first.value))):
        reason = doubt
    elif t == FieldType.date and (other := slashes_read_as_ones(first.raw)) is not None:
        reason = SLASHES_AS_ONES.format(other=other)
    elif figures is not None and figures[0].doubled is not None:
        reason = DOUBLED_ONE.format(at=figures[0].doubled + 1)
    elif t == FieldType.decimal and point_unread(
        clean_ocr(t, first.raw), spec.constraints.decimals
    ):
        reason = POINT_UNREAD
    else:
        return FieldReading(**base, **reading, status="ok", evidence=evidence)
    return FieldReading(**base, **reading, status="check", reason=reason, evidence=evidence)


def _figure_doubt(opinion: FigureOpinion, text: str) -> str:
    """The reason (Chinese) naming the figure the digit classifier took for another one."""
    return FIGURE_DOUBT.format(at=opinion.at + 1, other=opinion.other, read=text[opinion.at])


def _figure_opinion(lines: list[np.ndarray], first: _Reading) -> tuple[FigureOpinion, str] | None:
    """The digit classifier's most doubtful opinion over the lines read, with that line's
    text; None when no figure was read."""
    best: tuple[FigureOpinion, str] | None = None
    for crop, r in zip(lines, first.results, strict=True):
        opinion = figure_opinion(crop, r.text, r.char_x)
        if opinion.seen and (best is None or opinion.doubt > best[0].doubt):
            best = (opinion, r.text)
    return best


EDGE_PX = 3  # px at 200 dpi: columns just inside a box's side where a cut stroke shows
EDGE_SPAN = 0.35  # of the writing's height: a stroke this tall at the side is writing
AT_SIDE = "字迹写到了格子边上,可能有字符在格外或被格线遮住,请核对"


def writing_at_side(form: FormImage, v: Rect) -> str | None:
    """Whether writing in the box `v` (mm) reaches its left or right side: a stroke as tall
    as EDGE_SPAN of the writing in the box's outer 0.6 mm (what `_line_crops` leaves out)
    or the EDGE_PX columns just inside it — a figure written over the box's line is cut
    there, and OCR reads the rest without it (153957 read 53957).  'left', 'right' or
    None."""
    inner = v.inset(0.6)
    rows, _ = form.px(inner)
    _, cols = form.px(v)
    _, inner_cols = form.px(inner)
    band = form.ink[rows, cols]
    ys = np.nonzero(
        band[:, inner_cols.start - cols.start : inner_cols.stop - cols.start].any(axis=1)
    )[0]
    if not len(ys):
        return None
    need = EDGE_SPAN * (ys[-1] - ys[0] + 1)
    left = inner_cols.start - cols.start + EDGE_PX
    right = band.shape[1] - (cols.stop - inner_cols.stop) - EDGE_PX
    if band[:, :left].any(axis=1).sum() >= need:
        return "left"
    if band[:, max(right, 0) :].any(axis=1).sum() >= need:
        return "right"
    return None


WIDEN_MM = 2.5  # how far past a box's side writing that reaches it is looked for


def _cut_at_side(
    ctx: ReadContext, spec: FormField | Column, v: Rect, first: _Reading, dated: bool
) -> str | None:
    """What the box widened at a side reads, where the reading may have lost writing
    there, else None: writing reaches
    the side (`writing_at_side`) and the box widened by WIDEN_MM there reads otherwise
    (a 1 written over the box's line, 153957 read 53957, is read whole once the crop
    holds it).  Writing that fills the box to its sides but reads the same is whole."""
    side = writing_at_side(ctx.form, v)
    if side is None:
        return None
    wide = (
        Rect(v.x - WIDEN_MM, v.y, v.w + WIDEN_MM, v.h)
        if side == "left"
        else Rect(v.x, v.y, v.w + WIDEN_MM, v.h)
    )
    lines = _line_crops(
        ctx.form, wide, subtract_print=not dated, multiline=spec.type == FieldType.multiline
    )
    again = _ocr_pass(ctx, spec, lines)
    if again.error is None and same_value(first.value, again.value):
        return None
    return str(again.value if again.error is None else again.raw)


def judged_as(t: FieldType, value: Any, holds_plates: bool = False) -> FieldType:
    """The type whose calibrated rule judges a reading: its own, but a plate written in a
    free-text field (表格02's time slots hold a plate or a word) is a plate — random
    letters and figures with no check, never ok on OCR alone (extract/calibration.yaml).
    In a cell that `holds_plates` (templates), letters and figures alone are a plate too:
    its province dropped or read as a letter (charsets.plate_in_slot)."""
    plated = isinstance(value, str) and (
        plate_like(value) or (holds_plates and plate_in_slot(value))
    )
    return FieldType.plate if t == FieldType.text and plated else t  # a misread plate too


UNLISTED = "读出的名称不在维修站名单中,请核对"
RIVAL = "也可能是已知名录中的“{value}”,请核对"
NEAR_KNOWN = "与本栏以往多次确认的“{value}”只差一个字,请核对"
ODD_SHAPE = "编号格式与已知的{what}都不同:第{at}位读作“{read}”,也许是“{twin}”,请核对"
SHORT_SHAPE = "编号格式与已知的{what}都不同:第{at}位可能漏读了一个{kind},请核对"


def _code_kind(key: str) -> str:
    """What the codes of a field with known formats are called in a reason (Chinese)."""
    return SHAPE_NAMES[SHAPE_LISTS[key]]


_DATED = (FieldType.date, FieldType.month, FieldType.datetime)
EARLIEST_YEAR = 2000  # a date on these forms before this is a misreading (purchase dates too)


def implausible(t: FieldType, raw: str, value: Any) -> str | None:
    """A reading whose value checks out but that writing would not give: a count,
    mileage or amount whose whole part has a leading 0 (101706 read 0006 — a figure lost,
    the rest misread; 620.00 read 020.00), a
    year before EARLIEST_YEAR or after next year (2025-10 read 2095-10), a VIN whose
    model year code (position 10) says a vehicle too old to be serviced
    (templates.values.vin.old_vin).  The reason (Chinese), or None."""
    if t == FieldType.vin and value is not None:
        return old_vin(str(value), utcnow().year)
    if t in (FieldType.integer, FieldType.money, FieldType.decimal):
        # an amount's whole part too: 620.00 written with its 6 across the cell's left
        # line was read 020.00, and so 20.00 (mnist-cal, cal seed 19); 0.50 is no such
        whole = raw.split(".")[0]
        digits = "".join(ch for ch in whole if ch.isdigit())
        if len(digits) > 1 and digits.startswith("0"):
            return "数字以 0 开头,可能有数字漏读或误读,请核对"
    if t in _DATED and value is not None:
        year = int(str(value)[:4]) if str(value)[:4].isdigit() else None
        if year is not None and not EARLIEST_YEAR <= year <= utcnow().year + 1:
            return f"年份 {year} 不合常理,可能误读,请核对"
    return None


def _known_value(
    ctx: ReadContext,
    spec: FormField | Column,
    crop: np.ndarray,
    first: _Reading,
    known: tuple[str, ...],
    base: dict[str, Any],
    history: bool = False,
) -> FieldReading | None:
    """The field read against its vocabulary (lexicon.py): a known value the crop shows
    with a posterior of at least lexicon.POSTERIOR is the field's value (evidence
    `lexicon`, and `history` when the vocabulary is the values people confirmed in the
    field before), ok when no ink is left unread; None to read the field as any other."""
    match = best_known(first.results[0], known)
    if match is None:
        return None
    r = _checked(spec, _Reading(match.value, first.score, first.results))
    if r.error is not None:
        return None
    evidence = [f"ocr:{first.score:.3f}", f"lexicon:{match.posterior:.3f}"]
    if history:
        evidence.append("history")
    reading = {"value": r.value, "raw": first.raw, "confidence": match.posterior}
    res = first.results[0]
    # the ink is checked against the reading when the known value is what was read; a
    # known value longer than the reading accounts for ink the reading skipped
    # a known value shorter than the reading leaves read ink unaccounted for
    if drops_read(res.text, match.value) or (
        "".join(res.text.split()) == match.value and unread_ink(crop, res.text, res.char_x)
    ):
        evidence.append("unread")
        reason = UNREAD
        return FieldReading(**base, **reading, status="check", reason=reason, evidence=evidence)
    evidence.append("ink")
    return FieldReading(**base, **reading, status="ok", evidence=evidence)


def _doubtful(base: dict[str, Any], spec: FormField | Column, r: _Reading) -> FieldReading:
    """A reading whose value does not check out: several readings of a run-together
    date-time, a VIN one confusion away from a valid one, or invalid."""
    if r.choices is not None:
        return FieldReading(
            **base,
            value=r.choices[0],
            raw=r.raw,
            confidence=r.score,
            status="check",
            reason=f"日期与时间写得连在一起,可读作:{' 或 '.join(r.choices)},请核对",
        )
    text = str(r.value)
    fixed = correct_single_confusion(text) if spec.type == FieldType.vin else None
    if fixed is None:
        return FieldReading(**base, raw=r.raw, confidence=r.score, status="invalid", reason=r.error)
    changed = "、".join(f"{a}→{b}" for a, b in zip(text, fixed, strict=True) if a != b)
    return FieldReading(
        **base,
        value=fixed,
        raw=r.raw,
        confidence=r.score,
        status="check",
        reason=f"车架号校验位不符,已按易混字符更正({changed}),请核对",
    )


def _valid_readings(spec: FormField | Column, candidates: list[str]) -> list[str]:
    out = []
    for c in candidates:
        try:
            value = normalize(spec, c)
        except ValueError:
            continue
        if value not in out:
            out.append(value)
    return out


def _score(r: Recognized, dated: bool) -> float:
    """The least sure decision of the reading: its least sure character, or its least
    sure blank (a character it may have skipped).  A date's printed 年/月/日 are not the
    writer's: only its digits count."""
    if dated and r.char_scores and len(r.char_scores) == len(r.text):
        digits = [p for ch, p in zip(r.text, r.char_scores, strict=True) if ch.isdigit()]
        return min(min(digits) if digits else r.score, r.gap_score)
    return min(r.score, r.gap_score)


def _line_crops(
    form: FormImage, v: Rect, subtract_print: bool, multiline: bool
) -> list[np.ndarray]:
    """One crop per written line (a tall box may hold several)."""
    inner = v.inset(0.6)
    ink = form.ink[form.px(inner)]
    profile = ink.sum(axis=1)
    crops = []
    for top, bottom in _split_lines(profile, cut_touching=multiline, ink=ink):
        y0 = inner.y + max(0, top - 3) / PX_PER_MM
        y1 = min(inner.bottom, inner.y + (bottom + 4) / PX_PER_MM)
        crop = form.text_crop(
            Rect(inner.x, y0, inner.w, y1 - y0), subtract_print=subtract_print, inset_mm=0.0
        )
        if crop is not None:
            crops.append(crop)
    return crops


LINE_PX = 60  # ~7.5 mm: in a multi-line box, a band this tall may be two lines touching
CHAR_PX = 20  # ~2.5 mm: a piece of ink this tall is writing, not a stroke's tail


def _split_lines(
    profile: np.ndarray, cut_touching: bool, ink: np.ndarray | None = None
) -> list[tuple[int, int]]:
    """Row bands of ink separated by white rows; in multi-line boxes, tall bands are cut
    at their thinnest row (one line's descenders touching the next line) when each side
    holds a fair share of the ink, or (given the box's `ink` mask, rows × columns, the
    profile's own) when each side holds a piece of writing of its own
    (`_writing_each_side`): a remark's last line of one character (…质检增加路试项 / 目)
    holds 2 % of the ink and was read as part of the line above, and dropped."""
    rows = np.nonzero(profile > 0)[0]
    if len(rows) == 0:
        return []
    bands, start, prev = [], rows[0], rows[0]
    for r in rows[1:]:
        if r - prev > 2:  # two white rows or more: the next line starts
            bands.append((start, prev))
            start = r
        prev = r
    bands.append((start, prev))
    out: list[tuple[int, int]] = []
    while bands:
        top, bottom = bands.pop(0)
        h = bottom - top + 1
        if cut_touching and h > LINE_PX:
            seg = profile[top : bottom + 1]
            lo, hi = max(15, int(0.3 * h)), min(h - 15, int(0.7 * h))
            cut = lo + int(np.argmin(seg[lo:hi])) if hi > lo else -1
            upper, lower = seg[:cut].sum(), seg[cut + 1 :].sum()
            if (
                cut > 0
                and seg[cut] < 0.15 * seg.max()
                and (
                    min(upper, lower) > 0.05 * max(upper, lower)
                    or (ink is not None and _writing_each_side(ink[top : bottom + 1], cut))
                )
            ):
                bands[:0] = [(top, top + cut), (top + cut + 1, bottom)]
                continue
        out.append((top, bottom))
    out = [b for b in out if b[1] - b[0] >= 6] or [(rows[0], rows[-1])]
    if not cut_touching and len(out) > 1:
        # a one-line field: specks above or below the writing are not lines of their own
        ink = [int(profile[t : b + 1].sum()) for t, b in out]
        tallest = max(b - t for t, b in out)
        out = [
            (t, b)
            for (t, b), n in zip(out, ink, strict=True)
            if n >= 0.1 * max(ink) or b - t >= 0.5 * tallest
        ]
    return out


def _writing_each_side(band: np.ndarray, cut: int) -> bool:
    """Whether both sides of row `cut` of a band of ink (rows × columns, nonzero = ink)
    hold a piece of writing of their own: a connected piece at least CHAR_PX tall whose
    middle lies on that side, under (or over) no piece of the other side that reaches
    across the cut over half its columns.  The tails of one line's strokes reaching below
    a cut belong to pieces whose middle lies above it; the lower part of a large character
    in pieces (子 of 李, written big in a line) lies under its upper part, which reaches
    past the cut."""
    n, _labels, stats, _ = cv2.connectedComponentsWithStats(
        (band > 0).astype(np.uint8), connectivity=8
    )
    pieces = [(int(x), int(y), int(w), int(h)) for x, y, w, h, _a in stats[1:n]]

    def side(p: tuple[int, int, int, int]) -> bool:  # True: below the cut
        return p[1] + p[3] / 2 > cut

    def crossed(p: tuple[int, int, int, int]) -> bool:
        x, _y, w, _h = p
        for q in pieces:
            if q is p or side(q) == side(p):
                continue
            reaches = q[1] + q[3] - 1 > cut if not side(q) else q[1] < cut
            overlap = min(x + w, q[0] + q[2]) - max(x, q[0])
            if reaches and overlap > 0.5 * w:
                return True
        return False

    own = [p for p in pieces if p[3] >= CHAR_PX and not crossed(p)]
    return any(not side(p) for p in own) and any(side(p) for p in own)


def _printed_text(text: str, spec: FormField | Column) -> str:
    """A digital PDF's text in a box, minus the form's own printed hint."""
    hint = getattr(spec, "hint", None)
    return text.replace(hint, "").strip() if hint else text.strip()


def _date_text(
    ctx: ReadContext,
    field: FormField,
    whole: str,
    score: float,
    view: Callable[[np.ndarray], np.ndarray] | None = None,
    engine: OcrEngine | None = None,
) -> tuple[str, float, bool]:
    """Dates are written digit groups before printed 年/月/日: if the whole line does not
    parse, each slot is read on its own, digits only — and its least sure slot is the
    confidence.  (text, score, lost): `lost` when the slots together hold fewer figures
    than the whole line was read with — a figure the slot reading dropped (an hour's 11
    read 1 in its slot, 2026331105 read whole: 11:05 became 01:05, Long Cang on an
    external 表格04, seed 31)."""
    cleaned = clean_ocr(field.type, whole)
    try:
        normalize(field, cleaned)
        return whole, score, False
    except ValueError:
        pass
    parts, scores, figures = [], [], []
    for slot in date_slots(ctx.template, field):
        crop = ctx.form.text_crop(slot.digits, inset_mm=0.3)
        if crop is not None and view is not None:
            crop = view(crop)
        read = _slot_reading(engine or ctx.engine, crop) if crop is not None else None
        parts.append((read.text if read else "") + slot.guide_text)
        scores.append(read.score if read and read.text else 0.0)
        figures.append("".join(ch for ch in (read.text if read else "") if ch.isdigit()))
    text = "".join(parts)
    lost = sum(ch.isdigit() for ch in text) < sum(ch.isdigit() for ch in whole)
    slots_valid = bool(_valid_readings(field, [clean_ocr(field.type, text)]))
    if field.type in (FieldType.date, FieldType.datetime) and (lost or not slots_valid):
        # the slots do not hold the writing (an external form's box, its 年/月/日 not
        # printed where the catalog's are, a wide hand's year cut at the slot's side:
        # 2026 4 29 read whole 2026429, its slots 22年4月29日; an hour's 11 read 1 in its
        # slot): the line read whole, when it splits into one date (and time) only that
        # every slot's figures are found in, in order (a slot may drop figures, never
        # contradict them: 2024 11 2 read whole 202412 is not 2024-01-02 beside a month
        # slot of 11).  Where the slots gave a date of their own, fewer figures than the
        # line (a stray stroke read as a figure in the line, or one the slot dropped),
        # which is right stays for review: the split is the value shown, still `lost`.
        split = _consistent_splits(field, cleaned, figures)
        if len(split) == 1:
            return split[0], score, slots_valid
    return text, min(scores, default=0.0), lost


def _consistent_splits(field: FormField, whole: str, figures: list[str]) -> list[str]:
    """The dates (normalised) the whole line's run of figures splits into
    (`charsets.date_splits`) whose every part holds its slot's figures in order (an empty
    slot holds none); `figures`: each slot's figures, year first."""
    out = []
    for candidate in date_splits(whole, with_time=field.type == FieldType.datetime):
        pieces = re.split(r"[- :]", candidate)
        if len(pieces) != len(figures) or not all(
            _figures_in_order(f, p) for f, p in zip(figures, pieces, strict=True)
        ):
            continue
        out.extend(v for v in _valid_readings(field, [candidate]) if v not in out)
    return out


def _figures_in_order(part: str, whole: str) -> bool:
    """Whether the characters of `part` appear in `whole` in the same order."""
    rest = iter(whole)
    return all(ch in rest for ch in part)


NARROW_SLOT = 1.2  # of its height: a slot's crop this narrow holds one or two figures
REPEAT_GAP = 0.3  # of the crop's height: paper left between the copies (`_slot_reading`)


def _slot_reading(engine: OcrEngine, crop: np.ndarray) -> Recognized:
    """One date slot's figures (a crop holding ink, grey or BGR, px at 200 dpi).  A narrow crop — one or two
    figures — that the model reads as nothing is read again as three copies side by
    side, REPEAT_GAP apart, and that reading taken when it is three times one string:
    alone such a crop is a step or two of the model's input, and the second model
    (PP-OCRv4) read a running hand's lone 1 (a month, a day, an hour) as nothing, while
    in three copies it read 111 (Long Cang on the external 表格04 and BD-27, seed 2026:
    9 of 13 slots it read otherwise than the first model were such 1s, 6 read right so).
    Otherwise the reading of the crop as it is."""
    once = engine.recognize([crop], "0123456789")[0]
    h, w = crop.shape[:2]
    if once.text or w >= NARROW_SLOT * h:
        return once
    gap = np.full((h, max(1, round(REPEAT_GAP * h)), *crop.shape[2:]), 255, crop.dtype)
    thrice = engine.recognize([np.hstack([crop, gap, crop, gap, crop])], "0123456789")[0]
    text = thrice.text
    if not text or len(text) % 3 or text != text[: len(text) // 3] * 3:
        return once
    return Recognized(text[: len(text) // 3], thrice.score)


def _presence(present: bool, measure: float, base: dict[str, Any], what: str) -> FieldReading:
    if not present:
        return FieldReading(**base, status="empty", confidence=1.0, raw=f"{measure:.3f}")
    return FieldReading(**base, value=True, raw=what, confidence=1.0, status="ok")


def _tick_state(cov: float) -> tuple[bool | None, float]:
    """(ticked, confidence) from ink coverage; None when in the unsure band."""
    if cov >= TICK_ON:
        return True, min(1.0, 0.9 + (cov - TICK_ON))
    if cov <= TICK_OFF:
        return False, min(1.0, 0.9 + (TICK_OFF - cov) * 3)
    return None, 0.5


def _read_tick(form: FormImage, square: Rect, base: dict[str, Any]) -> FieldReading:
    cov = form.coverage(square.inset(-0.4))
    ticked, conf = _tick_state(cov)
    if ticked is None:
        return FieldReading(
            **base, raw=f"{cov:.3f}", confidence=conf, status="check", reason="勾选不清楚,请核对"
        )
    return FieldReading(**base, value=ticked, raw=f"{cov:.3f}", confidence=conf, status="ok")


def _read_options(
    form: FormImage, options: list[str], marks: list[Rect], base: dict[str, Any]
) -> FieldReading:
    covs = [form.coverage(m.inset(-0.4)) for m in marks]
    states = [_tick_state(c) for c in covs]
    raw = " ".join(f"{o}:{c:.3f}" for o, c in zip(options, covs, strict=True))
    ticked = [o for o, (s, _) in zip(options, states, strict=True) if s]
    unsure = [o for o, (s, _) in zip(options, states, strict=True) if s is None]
    conf = min(c for _, c in states)
    if unsure:
        return FieldReading(
            **base,
            raw=raw,
            confidence=conf,
            status="check",
            value=ticked[0] if len(ticked) == 1 else None,
            reason=f"“{'、'.join(unsure)}”是否勾选不清楚,请核对",
        )
    if not ticked:
        return FieldReading(**base, raw=raw, confidence=conf, status="empty")
    if len(ticked) > 1:
        return FieldReading(
            **base,
            raw=raw,
            confidence=conf,
            status="invalid",
            reason=f"单选栏勾了多项:{'、'.join(ticked)}",
        )
    return FieldReading(**base, value=ticked[0], raw=raw, confidence=conf, status="ok")


def circle_areas(opts: list[Option]) -> list[Rect]:
    """Where a circle around each option is counted (mm): its circling area grown by 1 mm,
    but on a line of options only up to halfway to its neighbours' printed text.  A
    station's Word form prints 表格04's 空 1/4 1/2 3/4 满 4 mm apart: a circle round 空 ran
    into 1/4's grown area, and the fuel level went to review as circled twice (external
    bench seed 73: 6 of 6 such pages over three calibration hands)."""
    areas = [o.mark.inset(-1.0) for o in opts]
    out = []
    for i, (o, a) in enumerate(zip(opts, areas, strict=True)):
        left, right = a.x, a.right
        for j, n in enumerate(opts):
            same_line = n.text_rect.y < o.text_rect.bottom and o.text_rect.y < n.text_rect.bottom
            if j == i or not same_line:
                continue
            if n.text_rect.right <= o.text_rect.x:
                left = max(left, (n.text_rect.right + o.text_rect.x) / 2)
            elif n.text_rect.x >= o.text_rect.right:
                right = min(right, (o.text_rect.right + n.text_rect.x) / 2)
        out.append(Rect(left, a.y, max(0.0, right - left), a.h))
    return out


def _read_circles(
    form: FormImage, template: Template, field: FormField, base: dict[str, Any]
) -> FieldReading:
    opts = option_layout(template, field)
    counts = [form.ink_count(area, inset_mm=0.0) for area in circle_areas(opts)]
    raw = " ".join(f"{o.text}:{c}" for o, c in zip(opts, counts, strict=True))
    order = sorted(range(len(opts)), key=lambda i: counts[i], reverse=True)
    top, second = counts[order[0]], counts[order[1]]
    if top < CIRCLE_MIN_PX:
        return FieldReading(**base, raw=raw, confidence=0.95, status="empty")
    if second >= CIRCLE_MIN_PX and top < 2.5 * second:
        return FieldReading(
            **base,
            raw=raw,
            confidence=0.5,
            status="check",
            reason="圈选不清楚(可能圈了多项),请核对",
        )
    return FieldReading(**base, value=opts[order[0]].text, raw=raw, confidence=0.97, status="ok")


def read_table_rows(
    ctx: ReadContext, table: FormField, area: Rect
) -> list[dict[str, FieldReading]]:
    """The filled rows of one page's part of a table, each cell read by its column type;
    each row re-aligned locally first when the page is out of place there."""
    grid = table_grid(ctx.template, table, area)
    size = table_font_size(ctx.template)
    rows = []
    printed_rows = (ctx.printed.rows.get(table.key) or []) if ctx.printed else []
    for i, cells in enumerate(grid.rows):
        printed_row = printed_rows[i] if i < len(printed_rows) else {}
        written = [
            (col, cell)
            for col, cell in zip(table.columns, cells, strict=True)
            if col.type != FieldType.serial and _cell_has_mark(ctx.form, col, cell, size)
        ]
        if not written:
            continue
        row: dict[str, FieldReading] = {}
        for col, cell in zip(table.columns, cells, strict=True):
            if col.type == FieldType.serial:
                continue
            reading = _read_cell(ctx, col, cell, size, printed_row.get(col.key))
            row[col.key] = with_local_fit(reading, ctx, cell)
        rows.append(row)
    return rows


def _cell_has_mark(form: FormImage, col: Column, cell: Rect, size: float) -> bool:
    if col.type == FieldType.checkbox:
        return form.coverage(cell_square(cell).inset(-0.4)) > TICK_OFF
    options = cell_options(col.options, cell, size) if col.type == FieldType.choice else None
    if options:
        return any(form.coverage(o.mark.inset(-0.4)) > TICK_OFF for o in options)
    return form.has_ink(cell, 0.7)


def _read_cell(
    ctx: ReadContext, col: Column, cell: Rect, size: float, printed: Any = None
) -> FieldReading:
    form = ctx.form
    base = {
        "key": col.key,
        "label": col.label,
        "type": col.type.value,
        "box": _box(cell),
        "page": ctx.page,
    }
    if col.type == FieldType.checkbox:
        return _read_tick(form, cell_square(cell), base)
    if col.type == FieldType.choice:
        options = cell_options(col.options, cell, size)
        if options:
            return _read_options(form, col.options, [o.mark for o in options], base)
    if col.type in (FieldType.signature, FieldType.seal):
        return _presence(form.has_ink(cell, 0.7), form.coverage(cell, 0.7), base, "已签字")
    return _read_text(ctx, col, cell.inset(0.1), base, printed)


__all__ = ["ReadContext", "read_field", "read_table_rows"]
