"""Forms formdesk did not print (issue 13), for tests and benchmarks: the blanks typeset
by bench/external/make_forms.py (a PDF and its measured truth each, under
tests/data/external), scanned or photographed with samples.synth's effects, and how a
registration proposal compares with the truth.

The truth is in mm of the PDF's page; a registered reference image is the page flattened
from a scan, which may sit a little off it (a page lies skewed on the scanner).  To
compare, the truth is carried into the reference by registering the clean PDF raster on
the reference (OpenCV's ECC, affine): a measurement, not the proposal's own alignment.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from formdesk.extract.align import PX_PER_MM
from formdesk.extract.ink import flatten
from formdesk.extract.variants import RegisteredLayout, variant_template
from formdesk.model.layouts import FieldBox, LayoutVariant, TableLayout
from formdesk.model.time import utcnow
from formdesk.templates import get_template
from formdesk.templates.geometry import Rect
from formdesk.templates.values.normalize import normalize_record

from .synth.effects import (
    _paper,
    _tilt_quad,
    background,
    camera,
    jpeg,
    photo_effects,
    place_on,
    scan_effects,
)
from .synth.hand import Hand, InkCanvas
from .synth.pages import rasterise, write_form
from .synth.sources import HandSource
from .synth.values import make_values

EXTERNAL_DIR = Path(__file__).resolve().parents[1] / "tests" / "data" / "external"
IOU_MIN = 0.5  # a proposed box this close to the true one is right
CONTAINS_AREA_MAX = 2.0  # … or it holds the true box (±1 mm) and is at most this much larger


@dataclass(frozen=True)
class ExternalBlank:
    """One typeset blank: its PDF and truth (fields' and table columns' boxes, mm)."""

    pdf: Path
    truth: dict

    @property
    def code(self) -> str:
        return self.truth["code"]

    @property
    def name(self) -> str:
        return self.truth["name"]

    def page(self) -> np.ndarray:
        """The blank as printed, BGR at 200 dpi."""
        return rasterise(self.pdf)

    def true_boxes(self) -> dict[str, Rect]:
        """Each field's and each table column's (`table.column`, body rows) true box, mm."""
        out = {k: Rect(*v) for k, v in self.truth["fields"].items()}
        out |= {f"table.{k}": Rect(*v) for k, v in self.truth["columns"].items()}
        return out


def truth_variant(blank: ExternalBlank, name: str = "truth") -> LayoutVariant:
    """The blank's true layout as a variant (boxes, marks, table in mm of its page): where
    the generator's writer writes, whatever registration proposes."""
    t = blank.truth
    fields = [
        FieldBox(key=k, box=tuple(v), source="manual", options=t["marks"].get(k, {}))
        for k, v in t["fields"].items()
    ]
    table = None
    if t["columns"]:
        template = get_template(blank.code)
        first = next(iter(t["columns"].values()))
        rows = round(first[3] / t["body_row_mm"])
        table = TableLayout(
            key=template.table_fields[0].key,
            top=first[1],
            row_height=t["body_row_mm"],
            rows=rows,
            columns={k: (v[0], v[2]) for k, v in t["columns"].items()},
        )
    return LayoutVariant(
        template=blank.code, name=name, paper_mm=tuple(t["paper_mm"]), fields=fields,
        table=table, fingerprint=[0.0, 0.0], reference_sha256="0" * 64,
        created_by="generator", created_at=utcnow(),
    )  # fmt: skip


def registered(image: np.ndarray, code: str, engine, name: str = "站点版"):
    """A layout of form `code` registered from a scan or photo of it (`image`, BGR) as the
    clerk's proposal stands (extract.layout_proposal.propose_layout, no box moved): the
    RegisteredLayout the reader takes, and the proposal (to score its boxes)."""
    from formdesk.extract.layout_proposal import propose_layout

    template = get_template(code)
    p = propose_layout(image, template, engine)
    variant = LayoutVariant(
        template=code, name=name, paper_mm=(template.geometry.width, template.geometry.height),
        fields=p.fields, table=p.table, fingerprint=p.fingerprint, reference_sha256="0" * 64,
        created_by="generator", created_at=utcnow(),
    )  # fmt: skip
    return RegisteredLayout(variant, cv2.cvtColor(p.reference, cv2.COLOR_BGR2GRAY)), p


def filled_page(
    blank: ExternalBlank,
    rng: np.random.Generator,
    kind: str = "scan",
    overrides: dict[str, Any] | None = None,
    source: HandSource | None = None,
) -> tuple[np.ndarray, dict[str, Any]]:
    """The blank filled in by hand (samples.synth's values and writer, in the true boxes)
    and scanned or photographed (`shoot`); and the values written.  `overrides`: field
    key → value written instead of the generated one (e.g. a registered station's name);
    `source`: the writing source (samples.synth.sources; None: the development fonts)."""
    form = variant_template(get_template(blank.code), truth_variant(blank))
    values = normalize_record(form, make_values(form, rng) | (overrides or {}))
    page = blank.page()
    canvas = InkCanvas(page.shape[:2])
    write_form(canvas, form, values, Hand.random(rng, source=source), rng)
    return shoot(canvas.apply(page, rng), kind, rng), values


def filled_tag(
    blank: ExternalBlank, rng: np.random.Generator, source: HandSource | None = None
) -> tuple[np.ndarray, dict[str, Any]]:
    """The blank filled in by hand, not yet scanned (BGR, 200 dpi, the paper's size), and
    the values written: a piece of paper to lay on a scanner or a desk.  `source`: the
    writing source (samples.synth.sources; None: the development fonts)."""
    form = variant_template(get_template(blank.code), truth_variant(blank))
    values = normalize_record(form, make_values(form, rng))
    page = blank.page()
    canvas = InkCanvas(page.shape[:2])
    write_form(canvas, form, values, Hand.random(rng, source=source), rng)
    return canvas.apply(page, rng), values


A4_MM = (210.0, 297.0)


@dataclass(frozen=True)
class Placed:
    """Where a piece of paper was laid: its centre (mm from the bed's top-left) and its
    turn (degrees, counter-clockwise)."""

    x_mm: float
    y_mm: float
    angle: float = 0.0


def on_flatbed(
    pieces: list[np.ndarray],
    places: list[Placed],
    rng: np.random.Generator,
    bed_mm: tuple[float, float] = A4_MM,
) -> np.ndarray:
    """Pieces of paper (BGR, 200 dpi) laid on a flatbed of `bed_mm` (A4 portrait) at
    `places` and scanned as one page: the image is the whole bed (200 dpi, 1654 × 2339 px
    for A4), its lid white or light grey around the papers, each paper's edge a faint
    shadow; then scan_effects (skew up to 2 degrees, noise, blur, JPEG 85).  A paper laid
    partly off the bed is cut at the image's edge."""
    w, h = round(bed_mm[0] * PX_PER_MM), round(bed_mm[1] * PX_PER_MM)
    lid = float(rng.uniform(205, 250))
    bed = np.full((h, w, 3), lid, np.uint8)
    for piece, at in zip(pieces, places, strict=True):
        ph, pw = piece.shape[:2]
        m = cv2.getRotationMatrix2D((pw / 2, ph / 2), at.angle, 1.0)
        m[:, 2] += (at.x_mm * PX_PER_MM - pw / 2, at.y_mm * PX_PER_MM - ph / 2)
        corners = np.float32([[0, 0], [pw, 0], [pw, ph], [0, ph]])
        quad = cv2.transform(corners[None], m)[0]
        # the paper's edge stands a little off the glass: a thin shadow line
        cv2.polylines(bed, [np.round(quad).astype(np.int32)], True, (lid * 0.7,) * 3, 2)
        place_on(bed, _paper(piece, rng), quad.astype(np.float64), shadow=False)
    return scan_effects(bed, rng, jpeg_quality=85, quarter_turns=0.0)


def on_desk(piece: np.ndarray, rng: np.random.Generator, share: float = 0.15) -> np.ndarray:
    """A phone photo of one small piece of paper (BGR, 200 dpi) lying on a desk, taken
    from further away than for a whole page: the paper fills about `share` of the photo,
    seen with up to 12 degrees of tilt (perspective); camera effects, JPEG 85."""
    ph, pw = piece.shape[:2]
    quad = _tilt_quad(pw, ph, rng, 12)
    span = quad.max(0) - quad.min(0)
    side = float(np.sqrt(span[0] * span[1] / share))
    cw, ch = round(side * 4 / 3), round(side)
    quad = quad - quad.min(0) + [rng.uniform(0.1, 0.9) * (cw - span[0]),
                                 rng.uniform(0.1, 0.9) * (ch - span[1])]  # fmt: skip
    scene = place_on(background(rng, ch, cw), _paper(piece, rng), quad)
    return camera(scene, rng, jpeg_quality=85, quarter_turns=0.0)


def on_desk_together(
    pieces: list[np.ndarray],
    places: list[Placed],
    rng: np.random.Generator,
    desk_mm: tuple[float, float] = (460.0, 340.0),
    max_tilt: float = 8.0,
) -> np.ndarray:
    """A phone photo of several papers (BGR, 200 dpi) lying apart on one desk: each laid
    flat at its place (mm on a desk of `desk_mm`, turned `angle` degrees), each casting a
    soft shadow; the whole desk then seen by a camera tilted up to `max_tilt` degrees
    (one perspective for all the papers, as they lie on one plane) and camera effects,
    JPEG 85.  About 200 dpi on the papers (a 460 × 340 mm desk: about 3,600 × 2,700 px)."""
    w, h = round(desk_mm[0] * PX_PER_MM), round(desk_mm[1] * PX_PER_MM)
    desk = background(rng, h, w)
    for piece, at in zip(pieces, places, strict=True):
        ph, pw = piece.shape[:2]
        m = cv2.getRotationMatrix2D((pw / 2, ph / 2), at.angle, 1.0)
        m[:, 2] += (at.x_mm * PX_PER_MM - pw / 2, at.y_mm * PX_PER_MM - ph / 2)
        corners = np.float32([[0, 0], [pw, 0], [pw, ph], [0, ph]])
        place_on(desk, _paper(piece, rng), cv2.transform(corners[None], m)[0].astype(np.float64))
    quad = _tilt_quad(w, h, rng, max_tilt)
    quad -= quad.min(0)
    size = np.ceil(quad.max(0)).astype(int)
    tilt = cv2.getPerspectiveTransform(
        np.float32([[0, 0], [w, 0], [w, h], [0, h]]), quad.astype(np.float32)
    )
    scene = cv2.warpPerspective(
        desk, tilt, (int(size[0]), int(size[1])), flags=cv2.INTER_AREA,
        borderMode=cv2.BORDER_REPLICATE,
    )  # fmt: skip
    return camera(scene, rng, jpeg_quality=85, quarter_turns=0.0)


def external_blanks(folder: Path = EXTERNAL_DIR) -> list[ExternalBlank]:
    out = []
    for pdf in sorted(folder.glob("*.pdf")):
        truth = json.loads(pdf.with_suffix(".json").read_text(encoding="utf-8"))
        out.append(ExternalBlank(pdf, truth))
    return out


def external_blank(code: str, folder: Path = EXTERNAL_DIR) -> ExternalBlank:
    return next(b for b in external_blanks(folder) if b.code == code)


def shoot(page: np.ndarray, kind: str, rng: np.random.Generator) -> np.ndarray:
    """The page as `kind`: `clean` (the PDF raster, JPEG 90), `scan` (flatbed) or `photo`
    (a phone on a desk); upright (no quarter turns), JPEG-compressed."""
    if kind == "clean":
        return jpeg(page, 90)
    if kind == "scan":
        return scan_effects(page, rng, jpeg_quality=85, quarter_turns=0.0)
    if kind == "photo":
        return photo_effects(page, rng, jpeg_quality=85, quarter_turns=0.0)
    raise ValueError(f"unknown kind {kind!r}")


def _gray(img: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(img, cv2.COLOR_BGR2GRAY) if img.ndim == 3 else img


def blank_to_reference(blank: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """The affine map (2x3, px → px) that lays the clean blank raster on the reference
    image (ECC on blurred grey images, coarse to fine)."""
    # print only (light evened out, inverted); from a coarse raster, where a table is one
    # block, to a finer one, where its lines meet (no locking onto the next row)
    a = (255 - flatten(_gray(blank))).astype(np.float32)
    b = (255 - flatten(_gray(reference))).astype(np.float32)
    warp = np.eye(2, 3, dtype=np.float32)
    criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 100, 1e-5)
    for scale in (0.0625, 0.125, 0.25, 0.5):
        sa = cv2.GaussianBlur(
            cv2.resize(a, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA), (0, 0), 1.5
        )
        sb = cv2.GaussianBlur(
            cv2.resize(b, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA), (0, 0), 1.5
        )
        w = warp.copy()
        w[:, 2] *= scale
        _, w = cv2.findTransformECC(sa, sb, w, cv2.MOTION_AFFINE, criteria, None, 3)
        w[:, 2] /= scale
        warp = w
    return warp


def carry(r: Rect, warp: np.ndarray) -> Rect:
    """A box (mm on the blank) carried into the reference (mm): its corners mapped, the
    box around them."""
    pts = np.array(
        [[r.x, r.y, 1], [r.right, r.y, 1], [r.right, r.bottom, 1], [r.x, r.bottom, 1]]
    ) * [PX_PER_MM, PX_PER_MM, 1]
    mapped = pts @ warp.T.astype(np.float64) / PX_PER_MM
    x0, y0 = mapped.min(axis=0)
    x1, y1 = mapped.max(axis=0)
    return Rect(float(x0), float(y0), float(x1 - x0), float(y1 - y0))


def iou(a: Rect, b: Rect) -> float:
    w = min(a.right, b.right) - max(a.x, b.x)
    h = min(a.bottom, b.bottom) - max(a.y, b.y)
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    return inter / (a.w * a.h + b.w * b.h - inter)


def box_right(proposed: Rect, true: Rect) -> bool:
    """IoU ≥ IOU_MIN, or the proposed box holds the true one (within 1 mm) and is at most
    CONTAINS_AREA_MAX times its area."""
    if iou(proposed, true) >= IOU_MIN:
        return True
    return proposed.contains(true, 1.0) and proposed.w * proposed.h <= CONTAINS_AREA_MAX * (
        true.w * true.h
    )


@dataclass
class ProposalScore:
    right: list[str]
    wrong: list[str]  # proposed but not right
    missing: list[str]  # not proposed

    @property
    def total(self) -> int:
        return len(self.right) + len(self.wrong) + len(self.missing)

    @property
    def share(self) -> float:
        return len(self.right) / self.total if self.total else 0.0


def score_proposal(blank: ExternalBlank, proposal) -> ProposalScore:
    """How many of the blank's fields and table columns the proposal (an
    extract.layout_proposal.Proposal) boxed right."""
    warp = blank_to_reference(blank.page(), proposal.reference)
    proposed = {f.key: Rect(*f.box) for f in proposal.fields}
    if proposal.table is not None:
        for k in proposal.table.columns:
            proposed[f"table.{k}"] = Rect(*proposal.table.column_box(k))
    score = ProposalScore([], [], [])
    for key, true in blank.true_boxes().items():
        if key not in proposed:
            score.missing.append(key)
        elif box_right(proposed[key], carry(true, warp)):
            score.right.append(key)
        else:
            score.wrong.append(key)
    return score


__all__ = [
    "EXTERNAL_DIR",
    "ExternalBlank",
    "ProposalScore",
    "blank_to_reference",
    "box_right",
    "carry",
    "external_blank",
    "external_blanks",
    "filled_page",
    "filled_tag",
    "on_desk",
    "on_desk_together",
    "on_flatbed",
    "plain_paper",
    "ruled_paper",
    "Placed",
    "A4_MM",
    "truth_variant",
    "iou",
    "score_proposal",
    "shoot",
]


def plain_paper(size_mm: tuple[float, float], lines: list[str]) -> np.ndarray:
    """A paper that is no form (BGR, 200 dpi, `size_mm` wide × high): `lines` of print
    (5 mm high, the system's bundled sans face) down its upper part and no ruling — a
    receipt, a note or a waybill lying on the desk beside a form."""
    from PIL import Image, ImageDraw, ImageFont

    from formdesk.render.fonts import font_file

    w, h = round(size_mm[0] * PX_PER_MM), round(size_mm[1] * PX_PER_MM)
    paper = Image.new("RGB", (w, h), (248, 248, 246))
    draw = ImageDraw.Draw(paper)
    face = ImageFont.truetype(font_file(), round(5 * PX_PER_MM))
    for i, line in enumerate(lines):
        draw.text((round(8 * PX_PER_MM), round((10 + 9 * i) * PX_PER_MM)), line, (40, 40, 40), face)
    return np.asarray(paper)[:, :, ::-1].copy()


def ruled_paper(size_mm: tuple[float, float], rows: int, cols: int) -> np.ndarray:
    """A ruled table that is no form of the catalog (BGR, 200 dpi, `size_mm` wide × high):
    `rows` × `cols` cells in a frame 8 mm inside the paper, no title, no code — a page of
    a parts ledger or a price list lying beside a form on the flatbed."""
    paper = plain_paper(size_mm, [])
    h, w = paper.shape[:2]
    m = round(8 * PX_PER_MM)
    for i in range(rows + 1):
        y = m + round(i * (h - 2 * m) / rows)
        cv2.line(paper, (m, y), (w - m, y), (30, 30, 30), 3)
    for j in range(cols + 1):
        x = m + round(j * (w - 2 * m) / cols)
        cv2.line(paper, (x, m), (x, h - m), (30, 30, 30), 3)
    return paper
