"""Pages without marks read against a registered layout variant (issue 13, point 2).

A page the reader found no marks on, but whose printed title or code names a catalog
form, is matched to that form's registered variants:

1. the page is flattened to its paper (page_outline.py) and its ruled lines compared with
   each variant's fingerprint (ruling.similarity); the most similar must reach FP_MIN.
   An image that holds a small form on a bigger ground (a tag on an A4 flatbed, a photo
   from further away) or several forms side by side (tags scanned together) is taken
   apart on the forms' printed frames (frames.py, `variant_forms`): each frame is laid on
   the variant's reference frame, and read as a form of its own; a frame cut off at the
   image's edge is refused, naming where it lies;
2. it is aligned on the variant's reference image by feature matching (OpenCV ORB,
   ratio test, RANSAC homography) and warped into the reference's frame;
3. once corrected locally on its ruled lines (local_align.page_mesh, as a bowed page of
   formdesk's own is), at least LINE_MATCH_MIN of the reference's lines must lie on print
   of the page, and no two parts of it (a 3 × 3 grid) may have their horizontal or their
   vertical lines lie clearly better TEAR_MM or more apart (`misplaced_regions`; a part
   that lies well is at 0), else the page is refused
   (never read against the wrong boxes: a torn half slid sideways keeps its horizontal
   lines on the layout, and most lines of the page with them).

The fields are then read with the same readers as formdesk's own forms, on a copy of the
template whose boxes are the variant's (`variant_template`); the reference's print is
taken out of the crops as the blank's is for formdesk's forms.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass, replace

import cv2
import numpy as np

from formdesk.model.layouts import LayoutVariant
from formdesk.templates.errors import FormdeskError
from formdesk.templates.schema import CHOICE_TYPES, FieldType, Template

from .align import PX_PER_MM
from .frames import FoundFrame, frame_shapes_match, place_name, printed_frames, reading_order
from .ink import FormImage
from .local_align import Mesh, dewarp, page_mesh
from .page_outline import PageOutlineError, flatten_page
from .ruling import dark_pixels, fingerprint, frame_quad, ruling, similarity
from .skew import levelled

FP_MIN = 0.75  # ruled-line similarity a page must reach to be read as a variant
ORB_FEATURES = 6000
RATIO = 0.75  # Lowe's ratio test
MIN_INLIERS = 40  # RANSAC inliers of a believable alignment
RANSAC_PX = 4.0  # reprojection threshold, px at 200 dpi (0.5 mm)
MAX_MOVE_MM = 25.0  # a flattened page is not further off its reference than this
LINE_MATCH_MIN = 0.8  # share of the reference's ruled lines on the page's print once aligned
REGION_GRID = 3  # the page is cut into this many rows and columns (misplaced_regions)
REGION_MIN_PX = 300  # a region with fewer line pixels of a direction is not judged (about
# 2–4 cm of ruled line at 200 dpi)
REGION_SEARCH_MM = (1.0, 4.0)  # a region's lines are also tried this far across themselves
REGION_ELSEWHERE = 0.6  # ... and are misplaced when they lie on print there at least this well
REGION_BETTER = 1.5  # ... and this many times better than where the alignment put them
TEAR_MM = 2.0  # parts of the page moved this far apart (or from the parts that lie well):
# a tear or a fold, refused; a photo's slow lens bend moves them together by about 1 mm
ONE_FORM_SHARE = 0.5  # a lone frame filling this share of its reference's frame's part of
# the page (by area) at least: the image is that form's page
CUT_MIN = 0.4  # a frame cut at the edge shows at least this share of a whole frame's side


@dataclass(frozen=True)
class RegisteredLayout:
    """A variant and its reference image (grey, PX_PER_MM, the paper's size)."""

    variant: LayoutVariant
    reference: np.ndarray


LayoutLookup = Callable[[str], list[RegisteredLayout]]  # form code -> its variants
DECODED_KEPT = 32  # reference images kept decoded in a process


class StoredLayouts:
    """A LayoutLookup over a store's `layout_reader()` (variants with PNG bytes): the
    reference images decoded once per process, by their SHA-256."""

    _decoded: dict[str, np.ndarray] = {}  # shared by the process's lookups

    def __init__(self, source: Callable[[str], list[tuple[LayoutVariant, bytes]]]):
        self.source = source

    def __call__(self, code: str) -> list[RegisteredLayout]:
        out = []
        for variant, png in self.source(code):
            image = self._decoded.get(variant.reference_sha256)
            if image is None:
                image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_GRAYSCALE)
                if image is None:
                    continue  # a damaged image: the variant cannot be matched
                if len(self._decoded) >= DECODED_KEPT:
                    self._decoded.pop(next(iter(self._decoded)))
                self._decoded[variant.reference_sha256] = image
            out.append(RegisteredLayout(variant, image))
        return out


class LayoutMismatch(FormdeskError, ValueError):
    """The page cannot be read against a registered variant; the message says why
    (Chinese, for the refused page's reason)."""

    status = 422


def variant_template(template: Template, variant: LayoutVariant) -> Template:
    """`template` with the variant's boxes: each field it located, written in its box
    (no printed label or unit inside: the layout's own print is masked out), options and
    checkboxes where the layout prints them; fields it did not locate left out; its table
    with the variant's columns and rows."""
    fields = []
    for f in template.fields:
        if f.type == FieldType.table:
            if variant.table is not None and variant.table.key == f.key:
                table = _table_field(f, variant)
                if table is not None:
                    fields.append(table)
            continue
        box = variant.box(f.key)
        if box is None:
            continue
        marks: list = []
        if f.type in CHOICE_TYPES and all(o in box.options for o in f.options):
            marks = [box.options[o] for o in f.options]
        elif f.type == FieldType.checkbox and "□" in box.options:
            marks = [box.options["□"]]
        fields.append(
            f.model_copy(
                update={
                    "box": tuple(box.box),
                    "label_position": "none",
                    "frame": "none",
                    "constraints": f.constraints.model_copy(update={"unit": None}),
                    "marks": marks,
                }
            )
        )
    return template.model_copy(update={"fields": fields})


def _table_field(table, variant: LayoutVariant):
    """The table laid over the variant's rows: its header drawn just above the first
    row (reading looks only at the rows), the columns' widths the measured ones."""
    t = variant.table
    if any(c.key not in t.columns for c in table.columns):
        return None
    xs = [t.columns[c.key] for c in table.columns]
    if any(abs(a[0] + a[1] - b[0]) > 1.5 for a, b in zip(xs, xs[1:], strict=False)):
        return None  # not side by side: the grid cannot be one table
    left, right = xs[0][0], xs[-1][0] + xs[-1][1]
    header = max(t.row_height, 7.0)  # FormField.header_height
    columns = [
        c.model_copy(update={"width": w}) for c, (_, w) in zip(table.columns, xs, strict=True)
    ]
    box = (left, t.top - header, right - left, header + t.rows * t.row_height + 0.01)
    return table.model_copy(
        update={
            "box": box,
            "label_position": "none",
            "row_height": t.row_height,
            "columns": columns,
        }
    )


def missing_fields(template: Template, variant: LayoutVariant) -> list[str]:
    """The labels of the template's fields the variant does not place (Chinese)."""
    placed = {b.key for b in variant.fields} | ({variant.table.key} if variant.table else set())
    return [f.label for f in template.fields if f.key not in placed]


@dataclass
class VariantFit:
    """A page aligned on a variant: the page in the reference's frame (BGR, PX_PER_MM),
    the homography taking the flattened page to it (px), how well the ruled lines then
    agree (0..1), the fingerprints' similarity, the RANSAC inliers and their RMS
    reprojection error (mm)."""

    layout: RegisteredLayout
    image: np.ndarray
    homography: np.ndarray
    line_match: float
    similarity: float
    inliers: int
    residual_mm: float


# a reference image's frame, by id() of the image while it lives (weakly held: the
# StoredLayouts' decoded images are shared, the API's decoded per request go with it)
_FRAMES: dict[int, tuple[weakref.ref, np.ndarray | None]] = {}
_FRAMES_LOCK = threading.RLock()  # readers in threads (the API's sync routes)


def reference_frame(layout: RegisteredLayout) -> np.ndarray | None:
    """The corners (px; TL, TR, BR, BL) of the largest ruled frame of the variant's
    reference image, None when it has none; a copy, the caller's own.  Found once per
    reference image while it lives (a StoredLayouts lookup hands out the same decoded
    image each time)."""
    ref = layout.reference
    key = id(ref)
    with _FRAMES_LOCK:
        kept = _FRAMES.get(key)
    if kept is None or kept[0]() is not ref:
        quad = frame_quad(ruling(ref))

        def gone(dead: weakref.ref, key: int = key) -> None:
            with _FRAMES_LOCK:
                if key in _FRAMES and _FRAMES[key][0] is dead:
                    del _FRAMES[key]

        kept = (weakref.ref(ref, gone), quad)
        with _FRAMES_LOCK:
            _FRAMES[key] = kept
    return None if kept[1] is None else kept[1].copy()


def _on_frame(image: np.ndarray, frame: FoundFrame, layout: RegisteredLayout) -> np.ndarray | None:
    """The image (BGR) warped so that `frame` lies on the reference's frame: the form in
    the reference's frame (its size, PX_PER_MM, white outside the image); None when the
    reference has no frame."""
    ref = reference_frame(layout)
    if ref is None:
        return None
    m = cv2.getPerspectiveTransform(frame.quad.astype(np.float32), ref.astype(np.float32))
    size = (layout.reference.shape[1], layout.reference.shape[0])
    return cv2.warpPerspective(
        image, m, size, flags=cv2.INTER_AREA, borderMode=cv2.BORDER_CONSTANT,
        borderValue=(255, 255, 255),
    )  # fmt: skip


def fit_variant(
    image: np.ndarray,
    template: Template,
    layouts: list[RegisteredLayout],
    frame: FoundFrame | None = None,
) -> VariantFit:
    """The page (BGR) aligned on the most similar of `layouts` (variants of `template`);
    with `frame` (a form's frame found in a bigger image, `variant_forms`), the form of
    that frame, laid on each variant's reference frame first.  LayoutMismatch (Chinese
    reason) when none is similar enough or the alignment is poor; PageOutlineError when
    no page can be seen."""
    g = template.geometry
    if frame is None:
        flats = [flatten_page(image, (g.width, g.height))] * len(layouts)
    else:
        flats = [_on_frame(image, frame, lay) for lay in layouts]
    scored = []
    for i, (flat, lay) in enumerate(zip(flats, layouts, strict=True)):
        if flat is None:
            continue
        fp = fingerprint(ruling(cv2.cvtColor(flat, cv2.COLOR_BGR2GRAY)))
        scored.append((similarity(fp, lay.variant.fingerprint), i))
    if not scored:
        raise LayoutMismatch(
            f"看起来是 {template.code} {template.title},但已登记的版式都没有表格框,无法对齐"
        )
    best, i = max(scored)
    layout, flat = layouts[i], flats[i]
    gray = cv2.cvtColor(flat, cv2.COLOR_BGR2GRAY)
    name = layout.variant.name
    if best < FP_MIN:
        raise LayoutMismatch(
            f"看起来是 {template.code} {template.title},但与已登记的 {len(layouts)} 个版式都不相符"
            f"(最接近的是“{name}”,相似度 {best:.2f});若是已登记的版式,请把它放平、拍清楚后"
            "重新扫描或拍照,否则请先登记这种版式"
        )
    h, inliers, residual = _homography(gray, layout.reference)
    if h is None or inliers < MIN_INLIERS:
        raise LayoutMismatch(
            f"看起来是 {template.code} 的版式“{name}”,但无法与其对齐(特征匹配 {inliers} 处);"
            "请重新扫描完整、清晰的页面"
        )
    size = (layout.reference.shape[1], layout.reference.shape[0])
    corners = np.float32([[0, 0], [size[0], 0], [size[0], size[1]], [0, size[1]]])
    moved = cv2.perspectiveTransform(corners.reshape(-1, 1, 2), h).reshape(-1, 2) - corners
    if float(np.abs(moved).max()) > MAX_MOVE_MM * PX_PER_MM:
        raise LayoutMismatch(
            f"看起来是 {template.code} 的版式“{name}”,但对齐结果不合理;请重新扫描完整、平整的页面"
        )
    warped = cv2.warpPerspective(
        flat, h, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
        borderValue=(255, 255, 255),
    )  # fmt: skip
    match = line_match(layout.reference, cv2.cvtColor(warped, cv2.COLOR_BGR2GRAY))
    if flat.shape[:2] == layout.reference.shape[:2] and match < LINE_MATCH_MIN:
        # the features matched a part of the page only (the title and the labels of a
        # tag's upper half, 610 inliers) and the homography bent the rest away, while the
        # page as flattened — or laid on its frame — already lies on the ruled lines
        # (a BD-27 photo, Long Cang, external seed 31: 36 % after the homography)
        as_is = line_match(layout.reference, gray)
        if as_is > match:
            return VariantFit(layout, flat, np.eye(3), as_is, best, inliers, residual)
    return VariantFit(layout, warped, h, match, best, inliers, residual)


@dataclass
class VariantPage:
    """A page as the reader reads it against a variant: the fit (`fit_variant`), the
    print mask grown by `grow` px (the reference's print, taken out of the crops), the
    local correction on the ruled lines (`mesh`, None when the page lies flat), and
    `flat`, the page in the reference's frame once corrected (BGR, PX_PER_MM, the
    reference's size: round(paper mm × PX_PER_MM)); `form` is `flat` prepared for
    reading."""

    fit: VariantFit
    grow: int
    mask: np.ndarray
    mesh: Mesh | None
    flat: np.ndarray
    form: FormImage


def variant_page(
    image: np.ndarray,
    template: Template,
    layouts: list[RegisteredLayout],
    frame: FoundFrame | None = None,
) -> VariantPage:
    """The page (BGR, any size) aligned on the best of `layouts` and corrected locally,
    exactly as the reader reads it (the review page shows the same image, so the stored
    boxes lie on it); with `frame`, the form of that frame in a bigger image.
    LayoutMismatch (Chinese reason) when no variant is similar enough, the alignment is
    poor, or the ruled lines do not then lie on the page (`check_lines`);
    PageOutlineError when no page can be seen."""
    fit = fit_variant(image, template, layouts, frame)
    grow = 3 + min(6, round(fit.residual_mm * PX_PER_MM))
    mask = reference_print(fit.layout.reference, grow)
    form = FormImage.build(fit.image, mask)
    mesh = page_mesh(form, reference_print(fit.layout.reference, 0))
    flat = fit.image if mesh is None else dewarp(fit.image, mesh)
    check_lines(fit, template, flat)  # LayoutMismatch: the page does not lie on it
    if mesh is not None:  # bowed or folded: undone on the ruled lines
        form = FormImage.build(flat, mask)
    return VariantPage(fit, grow, mask, mesh, flat, form)


@dataclass
class PlacedForm:
    """One form of an image read against variants (`variant_forms`): its slot (0-based,
    in reading order), where it lies in the image (Chinese, e.g. 左上; None when the image
    is the one form's page), and either the aligned page or the Chinese reason it is not
    read."""

    slot: int
    place: str | None
    page: VariantPage | None = None
    problem: str | None = None


def _frame_aspect(quad: np.ndarray) -> float:
    return FoundFrame(quad, (0, 0, 0, 0), False).aspect


def reference_aspects(layouts: list[RegisteredLayout]) -> list[float]:
    """Width over height of each of the `layouts`' reference frames (of those that have
    one, `reference_frame`), in their order."""
    return [_frame_aspect(q) for q in (reference_frame(lay) for lay in layouts) if q is not None]


def variant_forms(
    image: np.ndarray,
    template: Template,
    layouts: list[RegisteredLayout],
    only: int | None = None,
) -> list[PlacedForm]:
    """The forms of `template` in the image (BGR, any size), each aligned on the best of
    `layouts`.  The image is one form's page (one PlacedForm, place None, `variant_page`
    as before: LayoutMismatch or PageOutlineError raised) unless it holds several printed
    frames of a variant's shape, or one that fills less than ONE_FORM_SHARE of the part
    of the image its reference's frame fills of the reference (a tag on an A4 flatbed).
    Then each frame is a form (slot in reading order), its reason (not raised) naming
    where it lies: a frame cut off at the image's edge, a form that does not lie on its
    variant.  `only`: align only the form of that slot (the others are listed without
    page or problem)."""
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
    refs = [q for q in (reference_frame(lay) for lay in layouts) if q is not None]
    aspects = [_frame_aspect(q) for q in refs]
    whole, cut = [], []
    for f in printed_frames(gray):
        if any(frame_shapes_match(f, a, sideways=True) for a in aspects):
            whole.append(f)  # upright or upside down, or laid sideways
        elif f.at_edge and refs:
            cut.append(f)
    # a cut frame shows a good part of a whole frame's longer side (one on the image,
    # else the reference's: a scan at about its resolution)
    side = max(max(f.bbox[2], f.bbox[3]) for f in whole) if whole else min(
        float(np.ptp(q, axis=0).max()) for q in refs) if refs else 0.0  # fmt: skip
    cut = [f for f in cut if max(f.bbox[2], f.bbox[3]) >= CUT_MIN * side]
    frames = reading_order(whole + cut)
    one_page = not cut and len(whole) <= 1
    if one_page and whole and refs:
        x, y, w, h = whole[0].bbox
        share = w * h / gray.size
        ref = refs[0]
        rw, rh = np.ptp(ref, axis=0)
        ref_share = rw * rh / layouts[0].reference.size
        one_page = share >= ONE_FORM_SHARE * ref_share
    if one_page:
        try:
            return [PlacedForm(0, None, variant_page(image, template, layouts))]
        except (LayoutMismatch, PageOutlineError):
            if not whole:
                raise
            # the page's outline was taken wrong (a photo on a wooden desk: the grain and
            # the page's shadow, 表格04 external seed 31, similarity 0.52) or the page does
            # not lie on it; the printed frame of the reference's shape was found: the
            # form laid on it, else the first reason
            try:
                return [PlacedForm(0, None, variant_page(image, template, layouts, whole[0]))]
            except LayoutMismatch:
                pass
            raise
    out = []
    for slot, f in enumerate(frames):
        place = place_name(f, gray.shape)
        form = PlacedForm(slot, place)
        out.append(form)
        if only is not None and slot != only:
            continue
        if any(f is c for c in cut):
            form.problem = (
                f"{place}的一张 {template.code} 被图像边缘截断,未识读;"
                "请把它整张放在扫描范围内重新扫描"
            )
            continue
        form.page, form.problem = turned_frame(image, template, layouts, f)
        if form.problem:
            form.problem = f"{place}的一张:{form.problem}"
    return out


def turned_frame(
    image: np.ndarray, template: Template, layouts: list[RegisteredLayout], frame: FoundFrame
) -> tuple[VariantPage | None, str | None]:
    """The form of `frame` aligned on the best of `layouts`, its corners taken as they lie
    and turned half round (a tag upside down among others), or, for a frame of a
    reference's shape laid sideways, turned a quarter either way: the first turn that
    aligns, else the first turn's reason (Chinese)."""
    aspects = reference_aspects(layouts)
    upright = any(frame_shapes_match(frame, a) for a in aspects)
    first: str | None = None
    for quarter in (0, 2) if upright else (1, 3):
        turned = replace(frame, quad=np.roll(frame.quad, -quarter, axis=0))
        try:
            return variant_page(image, template, layouts, turned), None
        except LayoutMismatch as exc:
            first = first or str(exc)
    return None, first


# the turns (degrees clockwise, cv2.rotate code) a page without marks is tried at, in order
TURNS = (
    (0, None),
    (90, cv2.ROTATE_90_CLOCKWISE),
    (270, cv2.ROTATE_90_COUNTERCLOCKWISE),
    (180, cv2.ROTATE_180),
)


def upright_forms(
    image: np.ndarray,
    template: Template,
    layouts: list[RegisteredLayout],
    only: int | None = None,
) -> tuple[list[PlacedForm], int]:
    """`variant_forms` of the image as it comes, else of the image turned a quarter
    either way or upside down (a tag laid sideways on the flatbed, a sheet fed upside
    down: formdesk's own forms are turned by their marks, these have none): the first
    turn (`TURNS`) at which a form aligns, and that turn (degrees clockwise).  When none
    does, the same on the image levelled on its print (`skew.levelled`: a light page turned
    a few degrees on a light desk shows no outline, and its ruled lines are not seen as
    lines; the turn returned is then the quarter turn after levelling).  When no turn
    aligns any form, the image as it comes decides: its forms' reasons, or its
    LayoutMismatch / PageOutlineError raised (Chinese reasons)."""
    upright: list[PlacedForm] | None = None
    error: Exception | None = None
    for attempt in range(2):
        base = image if attempt == 0 else levelled(image)
        if base is None:
            break
        for degrees, code in TURNS:
            turned = base if code is None else cv2.rotate(base, code)
            try:
                placed = variant_forms(turned, template, layouts, only)
            except (LayoutMismatch, PageOutlineError) as exc:
                error = error or exc
                continue
            if any(p.page is not None for p in placed):
                return placed, degrees
            if code is None and attempt == 0:
                upright = placed
    if upright is not None:
        return upright, 0
    assert error is not None
    raise error


def check_lines(fit: VariantFit, template: Template, page: np.ndarray) -> float:
    """How well the reference's ruled lines lie on `page` (BGR, in the reference's frame,
    after any local correction): the share of all its line pixels on print.
    LayoutMismatch below LINE_MATCH_MIN, or when the lines of one part of the page lie
    clearly better elsewhere (`misplaced_regions`): the page is never read against boxes
    it does not lie on."""
    gray = cv2.cvtColor(page, cv2.COLOR_BGR2GRAY)
    match = line_match(fit.layout.reference, gray)
    tear = _tear(misplaced_regions(fit.layout.reference, gray))
    if match < LINE_MATCH_MIN or tear:
        where = ""
        if tear:
            row, col, mm = tear
            where = f",{_PART[row][col]}的表格线偏了约 {abs(mm):.1f} 毫米"
        raise LayoutMismatch(
            f"看起来是 {template.code} 的版式“{fit.layout.variant.name}”,但对齐不佳"
            f"(表格线吻合 {match:.0%}{where});为免读错位置,这一页未识读,"
            "请重新扫描完整、平整的页面"
        )
    return match


def _tear(misplaced: list[tuple[str, int, int, float]]) -> tuple[int, int, float] | None:
    """The part moved furthest (row, column, mm) when parts of the page moved TEAR_MM or
    more apart along one direction (a part that lies well counts as 0 mm), else None."""
    for axis in ("h", "v"):
        moves = [(row, col, mm) for a, row, col, mm in misplaced if a == axis]
        mms = [0.0] + [mm for *_, mm in moves]
        if moves and max(mms) - min(mms) >= TEAR_MM:
            return max(moves, key=lambda m: abs(m[2]))
    return None


_PART = (("左上", "上部", "右上"), ("左侧", "中部", "右侧"), ("左下", "下部", "右下"))


def _homography(page: np.ndarray, reference: np.ndarray) -> tuple[np.ndarray | None, int, float]:
    """page px -> reference px by ORB features, the ratio test and RANSAC; the number of
    inliers and their RMS reprojection error (mm)."""
    orb = cv2.ORB_create(nfeatures=ORB_FEATURES)
    kp_a, des_a = orb.detectAndCompute(page, None)
    kp_b, des_b = orb.detectAndCompute(reference, None)
    if des_a is None or des_b is None or len(kp_a) < 8 or len(kp_b) < 8:
        return None, 0, 0.0
    pairs = cv2.BFMatcher(cv2.NORM_HAMMING).knnMatch(des_a, des_b, k=2)
    good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < RATIO * p[1].distance]
    if len(good) < 8:
        return None, len(good), 0.0
    src = np.float32([kp_a[m.queryIdx].pt for m in good]).reshape(-1, 1, 2)
    dst = np.float32([kp_b[m.trainIdx].pt for m in good]).reshape(-1, 1, 2)
    h, mask = cv2.findHomography(src, dst, cv2.RANSAC, RANSAC_PX)
    if h is None or mask is None:
        return None, 0, 0.0
    keep = mask.ravel().astype(bool)
    back = cv2.perspectiveTransform(src[keep], h)
    rms = float(np.sqrt(np.mean(np.sum((back - dst[keep]) ** 2, axis=2))))
    return h, int(keep.sum()), rms / PX_PER_MM


def _on_print(page: np.ndarray) -> np.ndarray:
    """The page's print and ink (bool), grown by 2 px: a line within 2 px of print lies
    on it."""
    return cv2.dilate(dark_pixels(page), np.ones((5, 5), np.uint8)).astype(bool)


def line_match(reference: np.ndarray, page: np.ndarray) -> float:
    """Share of the reference's ruled-line pixels that lie on print of the page (within
    2 px), both grey in the same frame."""
    lines = ruling(reference).lines.astype(bool)
    if not lines.any():
        return 0.0
    return float((_on_print(page) & lines).sum()) / float(lines.sum())


def misplaced_regions(reference: np.ndarray, page: np.ndarray) -> list[tuple[str, int, int, float]]:
    """The parts of the page ("h" or "v" for the direction of their lines, then the row
    and column of a REGION_GRID × REGION_GRID grid, from the top left) whose horizontal
    or vertical ruled lines lie on print at least
    REGION_ELSEWHERE and REGION_BETTER times better when moved REGION_SEARCH_MM across
    themselves than where they are (give or take less than the search's start), with
    that move (mm; + down or right).  Both images
    grey, in the same frame; parts with fewer than REGION_MIN_PX line pixels of a
    direction are not judged.  A page whose halves moved apart (torn and taped, folded
    over on the glass) keeps most lines of one direction on the layout, so the overall
    share alone misses it; faint or blurred lines (a photo's soft corner) lie badly
    everywhere and are not taken for a move."""
    rule, dark = ruling(reference), _on_print(page)
    n, hh, ww = REGION_GRID, reference.shape[0], reference.shape[1]
    lo, hi = (round(mm * PX_PER_MM) for mm in REGION_SEARCH_MM)
    moves = [s for s in range(-hi, hi + 1, 2) if abs(s) >= lo]
    # where the alignment put a part's lines, give or take less than the search's start:
    # a photo's soft lower third drifting 0.5–0.9 mm off the global fit lies on its lines
    # there, but hardly at 0 (thin lines, 0.3 on print), and was taken for a part moved
    # 3.9 mm onto handwriting (a BD-27 photo of the external bench, seed 2026)
    near = list(range(-lo + 2, lo - 1, 2))  # 0 among them
    padded = np.pad(dark, hi)  # off the page is off print: a part at the edge moves too
    out = []
    for axis, mask in ((0, rule.horizontal), (1, rule.vertical)):
        lines = mask.astype(bool)
        for i in range(n):
            for j in range(n):
                y0, y1 = i * hh // n, (i + 1) * hh // n
                x0, x1 = j * ww // n, (j + 1) * ww // n
                part = lines[y0:y1, x0:x1]
                total = int(part.sum())
                if total < REGION_MIN_PX:
                    continue

                def share(move: int, part=part, y0=y0, x0=x0, axis=axis) -> float:
                    return _share_on(
                        part, padded, hi, (y0 + move, x0) if axis == 0 else (y0, x0 + move)
                    )

                here = max(share(move) for move in near)
                best, best_move = max((share(move), move) for move in moves)
                if best >= REGION_ELSEWHERE and best >= REGION_BETTER * here:
                    out.append(("hv"[axis], i, j, best_move / PX_PER_MM))
    return out


def _share_on(part: np.ndarray, padded: np.ndarray, pad: int, at: tuple[int, int]) -> float:
    """Share of `part`'s line pixels (bool) on print when laid at `at` (y, x px of the
    page) on `padded` (the page's print, padded by `pad` px of no print)."""
    y, x = at[0] + pad, at[1] + pad
    there = padded[y : y + part.shape[0], x : x + part.shape[1]]
    return float((part & there).sum()) / float(part.sum())


def reference_print(reference: np.ndarray, grow_px: int) -> np.ndarray:
    """Where the reference has print (bool), grown by `grow_px`: taken out of the crops
    as the blank's print is for formdesk's own forms (reference.printed_mask)."""
    dark = dark_pixels(reference)
    if grow_px <= 0:
        return dark.astype(bool)
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow_px + 1, 2 * grow_px + 1))
    return cv2.dilate(dark, k).astype(bool)


__all__ = [
    "LayoutLookup",
    "LayoutMismatch",
    "PlacedForm",
    "RegisteredLayout",
    "StoredLayouts",
    "VariantFit",
    "VariantPage",
    "check_lines",
    "fit_variant",
    "line_match",
    "missing_fields",
    "reference_print",
    "misplaced_regions",
    "turned_frame",
    "upright_forms",
    "variant_forms",
    "variant_page",
    "variant_template",
]
