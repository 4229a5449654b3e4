"""Forms without marks lying beside formdesk's own on one image (issue 13): a station's
print-shop tag scanned on the same A4 flatbed as a tag formdesk printed.  The marks find
formdesk's tag; the other has none, and was left out without a word.  Here the printed
frames that lie outside every located form's paper are found, so the reader can read each
as a registered layout or say why it cannot (nothing is dropped on the way in).

Works on the page image as the reader has it (BGR, any size, print about PX_PER_MM); the
located forms' papers are their templates' paper (mm) mapped by their alignments.  The
forms beside are looked for with those papers painted out, so nothing of formdesk's own
forms (their tables, their print joining another's) is taken for a form beside them.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .align import PX_PER_MM
from .frames import EDGE_NEAR_MM, FoundFrame, printed_frames, reading_order
from .locate import LocatedForm
from .page_outline import papers_seen, quad_turn
from .ruling import EDGE_MM
from .skew import LEVEL_FROM, levelling, print_skew, turned_by

OWN_SHARE = 0.6  # located papers covering this share of the image leave no room for another
TITLE_ABOVE = 0.35  # of a frame's side: the band around it its title may be printed in
PAINT_MM = 2.0  # a located paper is painted out this much beyond its edge (its shadow)
RIM_MM = 5.0  # the image's rim: its level lines say nothing of how a form beside lies
GROUND_SHARE = 0.5  # a frame covering this share of the image is the ground (a cutting mat)
# a frame whose inside shows this share of ground (dark beyond GROUND_DARK of its paper in
# patches wider than GROUND_OPEN_MM) is drawn by the edges of papers side by side, not print
GROUND_INSIDE = 0.02
GROUND_DARK = 0.6
GROUND_OPEN_MM = 2.5
JOIN_GAP_MM = 7.0  # one form's stacked tables lie this close; separate papers' frames do not
# the forms of a page holding different forms without marks (`page_forms`) are read in
# slots from here, apart from a page of one form's copies (0, 1, …, variants.variant_forms)
# and forms beside formdesk's own (after theirs): the review page finds each as read
MIXED_SLOT = 100
# a page without marks is levelled this many times over for forms lying each at its own
# angle (page_forms): papers laid apart on a desk, photographed
TURNED_PASSES = 3
TURN_APART = 1.0  # degrees: a turn this near one tried finds the same forms


@dataclass(frozen=True, eq=False)
class BesideForm:
    """One form without marks beside the located ones: the slot it is read in (after the
    located forms'), the image it is found and read in (the page with the located papers
    painted out; levelled on its print when its frames lay turned) and its printed frame
    there (the largest of the form's frames: a form printing two tables is one form), and
    the box (x, y, w, h, px) of all its frames (its print lies around that).  The frame
    is what it is aligned on: a variant's reference is aligned on its largest frame."""

    slot: int
    image: np.ndarray
    frame: FoundFrame
    extent: tuple[int, int, int, int]
    quads: tuple[np.ndarray, ...] = ()  # every frame of the form (px; TL, TR, BR, BL)


def paper_quads(forms: list[LocatedForm]) -> list[np.ndarray]:
    """Each located form's paper in the image: corners (px; TL, TR, BR, BL, float32 4×2),
    its template's page (0..width, 0..height mm) mapped by its alignment."""
    out = []
    for f in forms:
        g = f.geometry
        mm = np.float64([[[0, 0]], [[g.width, 0]], [[g.width, g.height]], [[0, g.height]]])
        out.append(cv2.perspectiveTransform(mm, f.alignment.to_image).reshape(4, 2))
    return [q.astype(np.float32) for q in out]


def _inside(quad: np.ndarray, point: tuple[float, float]) -> bool:
    return (
        cv2.pointPolygonTest(
            quad.astype(np.float32).reshape(-1, 1, 2), (float(point[0]), float(point[1])), False
        )
        >= 0
    )


def painted_out(image: np.ndarray, quads: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """A copy of `image` with each paper quad (px) and PAINT_MM around it filled with the
    ground's shade (the median of the image's border); and the mask (uint8 0/1) of where
    that paint may show edges against the ground around it (PAINT_MM further out)."""
    out = image.copy()
    mask = np.zeros(image.shape[:2], np.uint8)
    rim = np.concatenate([image[0], image[-1], image[:, 0], image[:, -1]])
    shade = tuple(int(v) for v in np.atleast_1d(np.median(rim, axis=0)))
    for q in quads:
        cv2.fillConvexPoly(out, _grown(q, PAINT_MM), shade)
        cv2.fillConvexPoly(mask, _grown(q, 2 * PAINT_MM), 1)
    return out, mask


def _grown(quad: np.ndarray, mm: float) -> np.ndarray:
    """`quad` (px) grown by about `mm` on every side, as int32 corners."""
    centre = quad.mean(axis=0)
    half = np.linalg.norm(quad - centre, axis=1, keepdims=True)
    return np.round(centre + (quad - centre) * (1 + mm * PX_PER_MM / np.maximum(half, 1.0))).astype(
        np.int32
    )


def _one_form(a: FoundFrame, b: FoundFrame) -> bool:
    """Whether two frames are one form's stacked tables: two corners of each lie within
    JOIN_GAP_MM of two of the other's (they share a side, as a Word form's tables of one
    width do, whichever way the form lies).  Separate papers' frames lie at least their
    two margins apart."""
    d = np.linalg.norm(a.quad[:, None, :] - b.quad[None, :, :], axis=2) <= JOIN_GAP_MM * PX_PER_MM
    return int(d.any(axis=1).sum()) >= 2 and int(d.any(axis=0).sum()) >= 2


Joined = tuple[FoundFrame, tuple[np.ndarray, ...], tuple[int, int, int, int]]


def joined_forms(frames: list[FoundFrame]) -> list[Joined]:
    """One entry per form: frames that are one form's stacked tables (`_one_form`; a 表格04
    or a BD-31 prints two) kept as its largest frame, cut at the image's edge when any of
    them is, with all its frames' corners and the box (x, y, w, h, px) of them all; in
    reading order."""
    group = list(range(len(frames)))

    def root(i: int) -> int:
        while group[i] != i:
            i = group[i]
        return i

    for i in range(len(frames)):
        for j in range(i + 1, len(frames)):
            if _one_form(frames[i], frames[j]):
                group[root(j)] = root(i)
    members: dict[int, list[FoundFrame]] = {}
    for i, f in enumerate(frames):
        members.setdefault(root(i), []).append(f)
    out = {}
    for part in members.values():
        big = max(part, key=lambda f: f.bbox[2] * f.bbox[3])
        cut = any(f.at_edge for f in part)
        frame = big if big.at_edge == cut else FoundFrame(big.quad, big.bbox, cut)
        x0 = min(f.bbox[0] for f in part)
        y0 = min(f.bbox[1] for f in part)
        x1 = max(f.bbox[0] + f.bbox[2] for f in part)
        y1 = max(f.bbox[1] + f.bbox[3] for f in part)
        out[id(frame)] = (frame, tuple(f.quad for f in part), (x0, y0, x1 - x0, y1 - y0))
    return [out[id(f)] for f in reading_order([f for f, _, _ in out.values()])]


def _forms_in(image: np.ndarray, quads: list[np.ndarray]) -> list[Joined]:
    """The forms' frames (`joined_forms`) in `image`, less the ground's: a frame around a
    located paper, one cut at the edge covering GROUND_SHARE of the image (a cutting
    mat's grid under the papers), or one holding the ground (`ground_inside`)."""
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
    h, w = gray.shape[:2]
    frames = [
        f
        for f in printed_frames(gray)
        if not any(_inside(f.quad, q.mean(axis=0)) for q in quads)
        and not (f.at_edge and f.bbox[2] * f.bbox[3] >= GROUND_SHARE * h * w)
        and ground_inside(gray, f.quad) < GROUND_INSIDE
    ]
    return joined_forms(frames)


def ground_inside(gray: np.ndarray, quad: np.ndarray) -> float:
    """The share (0..1) of a frame's inside (`quad`, px, TL TR BR BL; its rim of 1.5 mm
    left out) where the ground shows across it: darker than GROUND_DARK of its paper (the
    90th percentile of its grey) in patches wider than GROUND_OPEN_MM, which no printed
    line, handwriting or seal's ring is, that run from one side of the inside to the
    opposite one.  The edges of two plain papers lying side by side on a desk drew a
    “frame” with the desk running through it (0.12), reported as a form that could not be
    named; a printed form's frame holds paper only (0.0 on each of 57 frames of the
    external BD-27, BD-31 and 表格04 scanned, photographed and on desks, seeds 0-11), and a
    dark patch that does not cross it — a thumb at its side, a solid stamp, the ground's
    paint where formdesk's own tag lay over its corner — leaves it a form."""
    top = float(np.linalg.norm(quad[1] - quad[0]))
    side = float(np.linalg.norm(quad[3] - quad[0]))
    w, h = max(2, round(top)), max(2, round(side))
    to_rect = cv2.getPerspectiveTransform(
        quad.astype(np.float32), np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    )
    flat = cv2.warpPerspective(gray, to_rect, (w, h), flags=cv2.INTER_AREA)
    rim = max(3, round(1.5 * PX_PER_MM))
    inside = flat[rim : h - rim, rim : w - rim]
    if inside.size == 0:
        return 0.0
    paper = float(np.percentile(inside, 90))
    dark = (inside < GROUND_DARK * paper).astype(np.uint8)
    k = max(3, round(GROUND_OPEN_MM * PX_PER_MM) | 1)
    patches = cv2.morphologyEx(dark, cv2.MORPH_OPEN, np.ones((k, k), np.uint8))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(patches, connectivity=8)
    ih, iw = inside.shape
    across = [
        i
        for i in range(1, n)
        if (stats[i, 0] <= 1 and stats[i, 0] + stats[i, 2] >= iw - 1)
        or (stats[i, 1] <= 1 and stats[i, 1] + stats[i, 3] >= ih - 1)
    ]
    return float(np.isin(labels, across).mean()) if across else 0.0


def frames_beside(image: np.ndarray, forms: list[LocatedForm]) -> list[BesideForm]:
    """The forms without marks beside the located `forms`: their printed frames (frames.
    printed_frames: ruled tables of at least 30 × 30 mm, one per form) in the image with the
    located papers painted out — levelled on what print is left (skew.levelling: a tag laid
    turned more than a few degrees shows no ruled lines as such, or pieces of its table
    only) — in reading order.  [] without looking when the located papers cover OWN_SHARE of
    the image or more (an A4 form on an A4 scan: no room for another form)."""
    if not forms:
        return []
    h, w = image.shape[:2]
    quads = paper_quads(forms)
    covered = sum(abs(cv2.contourArea(q)) for q in quads) / float(h * w)
    if covered >= OWN_SHARE:
        return []
    rest, ignore = painted_out(image, quads)
    # a scanner's edge and lid border run level, whatever lies on it
    rim = round(RIM_MM * PX_PER_MM)
    ignore[:rim], ignore[-rim:], ignore[:, :rim], ignore[:, -rim:] = 1, 1, 1, 1
    turned = levelling(rest, ignore)
    if turned is None:
        found = _forms_in(rest, quads)
    else:  # what lies beside is turned: its ruled lines are seen level
        rest, m = turned
        quads = [cv2.transform(q.reshape(-1, 1, 2), m).reshape(4, 2) for q in quads]
        back = cv2.invertAffineTransform(m)
        found = [(_cut_in(f, back, (h, w)), fs, box) for f, fs, box in _forms_in(rest, quads)]
    return [BesideForm(len(forms) + i, rest, f, box, fs) for i, (f, fs, box) in enumerate(found)]


def _cut_in(frame: FoundFrame, back: np.ndarray, shape: tuple[int, int]) -> FoundFrame:
    """`frame` found in a levelled image, cut at the edge when its corners mapped back by
    `back` (2×3, px) into the image as it came (`shape`, h × w) come within the edge reach
    of frames.printed_frames of its bounds (the levelled image's edges are not where the
    scan ends)."""
    h, w = shape
    near = (EDGE_MM + EDGE_NEAR_MM) * PX_PER_MM
    c = cv2.transform(frame.quad.reshape(-1, 1, 2).astype(np.float64), back).reshape(4, 2)
    cut = bool(
        (c[:, 0] <= near).any()
        or (c[:, 1] <= near).any()
        or (c[:, 0] >= w - near).any()
        or (c[:, 1] >= h - near).any()
    )
    return FoundFrame(frame.quad, frame.bbox, cut or frame.at_edge)


def page_forms(image: np.ndarray) -> list[BesideForm]:
    """Every form's frame on a page without marks (`joined_forms`, less the ground's), as
    BesideForms in slots from MIXED_SLOT: a page may hold forms of different kinds side by
    side (a print-shop BD-27 tag beside a station's 表格04 on an A3 bed), each then
    identified by its own title.  First the forms lying level, in reading order; then
    those lying turned (papers laid each at its own angle on a desk and photographed: a
    frame turned more than about 2 degrees shows no ruled lines as such), the image
    levelled at up to TURNED_PASSES turns (`_next_turn`) and the forms found there read
    in that levelled image.  A form found there holding frames of one found before (a
    表格04's lower table seen level, its upper one only once levelled) replaces it."""
    h, w = image.shape[:2]
    found = [(image, f, fs, box, fs) for f, fs, box in _forms_in(image, [])]
    tried: list[float] = [0.0]
    for _ in range(TURNED_PASSES):
        turn = _next_turn(image, [q for *_, back in found for q in back], tried)
        if turn is None:
            break
        tried.append(turn)
        level, m = turned_by(image, turn)
        back_m = cv2.invertAffineTransform(m)
        for f, fs, box in _forms_in(level, []):
            back = tuple(cv2.transform(q.reshape(-1, 1, 2), back_m).reshape(4, 2) for q in fs)
            if all(_within(q, found) for q in back):
                continue  # seen before
            # a form seen before in part (one of its tables) is this one
            found = [e for e in found if not all(_inside_any(q, back) for q in e[4])]
            found.append((level, _cut_in(f, back_m, (h, w)), fs, box, back))
    return [
        BesideForm(MIXED_SLOT + i, where, f, box, fs)
        for i, (where, f, fs, box, _) in enumerate(found)
    ]


def _next_turn(image: np.ndarray, seen: list[np.ndarray], tried: list[float]) -> float | None:
    """The next turn (degrees, skew.print_skew's sense) to look for forms at, none within
    TURN_APART of one `tried`: that of a paper seen on its ground (page_outline.papers_seen:
    a dark desk) holding no frame `seen` (px of the page), largest first; else that of the
    print left once the frames seen are painted out (a light desk shows no outline; a
    wood grain's lines would outweigh a tag's).  None when every such turn was tried or
    is under LEVEL_FROM."""

    def untried(t: float | None) -> bool:
        return (
            t is not None and abs(t) >= LEVEL_FROM and all(abs(t - u) >= TURN_APART for u in tried)
        )

    papers = (
        quad_turn(p)
        for p in papers_seen(image)
        if not any(_inside(p, (float(c[0]), float(c[1]))) for c in (q.mean(axis=0) for q in seen))
    )
    turn = next((t for t in papers if untried(t)), None)
    if turn is not None:
        return turn  # the print's turn is looked for only when no paper's is left
    rest, ignore = painted_out(image, seen)
    rim = round(RIM_MM * PX_PER_MM)
    ignore[:rim], ignore[-rim:], ignore[:, :rim], ignore[:, -rim:] = 1, 1, 1, 1
    gray = cv2.cvtColor(rest, cv2.COLOR_BGR2GRAY) if rest.ndim == 3 else rest
    skew = print_skew(gray, ignore)
    return skew if untried(skew) else None


def _inside_any(quad: np.ndarray, quads: tuple[np.ndarray, ...]) -> bool:
    """Whether `quad`'s centre lies inside one of `quads` (px, one image's)."""
    c = quad.mean(axis=0)
    return any(_inside(q, (float(c[0]), float(c[1]))) for q in quads)


def _within(quad: np.ndarray, found: list) -> bool:
    """Whether `quad` (px of the page) lies in a form already found (its centre inside one
    of that form's frames as they lie on the page)."""
    return any(_inside_any(quad, e[4]) for e in found)


def around_frame(
    image: np.ndarray, box: tuple[int, int, int, int]
) -> tuple[np.ndarray, tuple[int, int]]:
    """The part of `image` a form whose frames fill `box` (x, y, w, h, px) prints on: the
    box with TITLE_ABOVE of its size on every side (where the form's code and title are,
    upright, upside down or laid sideways), clipped to the image; and its top-left corner
    in `image` (px)."""
    x, y, w, h = box
    ih, iw = image.shape[:2]
    x0, x1 = max(0, int(x - TITLE_ABOVE * w)), min(iw, int(x + w + TITLE_ABOVE * w))
    y0, y1 = max(0, int(y - TITLE_ABOVE * h)), min(ih, int(y + h + TITLE_ABOVE * h))
    return image[y0:y1, x0:x1], (x0, y0)
