"""Each figure the OCR read, looked at alone by the digit classifier (ocr/digits.py).

A line's ink is cut into pieces (connected components merged where they overlap mostly in
x, as evidence.unread_ink's figures); a piece that exactly one read character falls on, as
tall as writing and no wider than a figure, is that character's glyph.  Where the character
is a figure 0-9, the classifier says how likely it is; the field's *figure doubt* is the
most probability the classifier gave, over the figures it saw, to another figure than the one
read.  A reading whose figure doubt passes its type's evidence.figure_limit (FIGURE_VETO;
INTEGER_FIGURE_VETO for an integer) or a lower `max_figure_doubt` of its type (which
bench/calibrate.py --figure-limits can fit) is never ok on the OCR's word (a claim for the same vehicle may still confirm it:
store/corroborate.py).  Pieces that hold several figures (written together), or
that no single character falls on, are not judged: the opinion abstains there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from .evidence import FIGURE_OVERLAP, INK_LEVEL, MIN_BLOB_FRACTION, TALL_BLOB, merged_groups
from .ocr.digits import DigitNet, digit_net, normalize_glyph

TALL_STROKE = 0.6  # of the line's ink height: a stroke this tall is a figure's, not a flag's
STROKE_CORE = 0.25  # of the piece's contrast above its darkest: a stroke's core
STROKE_RIDGE = 0.4  # the paper between two cores rises this far: two strokes, not one
TWIN_RUN = 0.2  # of a piece's height: two strokes side by side over this many rows
WIDE_GLYPH = 1.1  # of the line's ink height: a piece wider than this holds several figures
NEAR = 0.12  # of the line's ink height: how far outside a piece a character's x may fall
# px at 200 dpi: a piece reaching this near the crop's left or right side is cut there —
# written over the box's printed line (taken out with the print) or past the box — and the
# classifier would judge a part of a figure (an external 表格04's phone number written
# against its cell's line: its 0 cut to a ɔ, judged a 1 or a 7 at 0.77-1.0)
CUT_SIDE_PX = 1
FIGURES = frozenset("0123456789")  # the classifier's classes ('²', '２' are digits to str.isdigit)


@dataclass(frozen=True)
class Piece:
    """Connected ink merged into one piece of writing: x0, x1 (px), the tallest
    component's height (px) and the component labels it holds."""

    x0: int
    x1: int
    height: int
    labels: list[int]


@dataclass(frozen=True)
class FigureOpinion:
    """What the classifier said of a line's figures: `seen` figures judged, `doubt` (0..1)
    the most probability it gave another figure than the one read, `at` the index in the
    text of that figure and `other` the figure it preferred there (None when none seen)."""

    seen: int = 0
    doubt: float = 0.0
    at: int | None = None
    other: str | None = None
    # the index of a 1 whose piece holds two strokes side by side: 11 written close
    # enough to run into one piece and read as one 1 (`_strokes_across`)
    doubled: int | None = None


def _pieces(ink: np.ndarray, height: float) -> tuple[np.ndarray, list[Piece]]:
    """The line's component labels (H×W) and its pieces of writing, left to right: the
    components big enough to be writing, merged as evidence.unread_ink merges figures
    (`merged_groups` with FIGURE_OVERLAP)."""
    n, labels, stats, _ = cv2.connectedComponentsWithStats(ink.astype(np.uint8), connectivity=8)
    min_area = max(6.0, MIN_BLOB_FRACTION * height * height)
    comps = sorted(
        (int(x), int(x + w), int(y), int(y + h), i)
        for i, (x, y, w, h, area) in enumerate(stats[1:n], start=1)
        if area >= min_area
    )
    pieces = [
        Piece(
            comps[g[0]][0],
            max(comps[k][1] for k in g),
            max(comps[k][3] - comps[k][2] for k in g),
            [comps[k][4] for k in g],
        )
        for g in merged_groups([c[:4] for c in comps], FIGURE_OVERLAP)
    ]
    return labels, pieces


def _ink(grey: np.ndarray) -> np.ndarray:
    """The writing in a line crop, whole strokes: Otsu's threshold between paper and ink
    (a pale pen's strokes break apart at the fixed INK_LEVEL), never darker than
    INK_LEVEL/2 nor lighter than the paper's 220."""
    level, _ = cv2.threshold(grey.astype(np.uint8), 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return grey < float(np.clip(level, INK_LEVEL / 2, 220))


def figure_opinion(
    crop: np.ndarray, text: str, char_x: Sequence[float], net: DigitNet | None = None
) -> FigureOpinion:
    """The classifier's opinion of the figures in `text` read from the line image `crop`
    (grey or BGR, px at 200 dpi), the characters read at `char_x` (px of `crop`).  Abstains
    (seen 0) when the classifier is not installed or no figure stands alone."""
    net = net or digit_net()
    if net is None or not FIGURES.intersection(text) or len(char_x) != len(text):
        return FigureOpinion()
    grey = crop[..., 0] if crop.ndim == 3 else crop
    if grey.size == 0:
        return FigureOpinion()
    ink = _ink(grey)
    rows = np.nonzero(ink.any(axis=1))[0]
    if not len(rows):
        return FigureOpinion()
    height = float(rows[-1] - rows[0] + 1)
    labels, pieces = _pieces(ink, height)
    near = NEAR * height
    chars = [(i, x) for i, (ch, x) in enumerate(zip(text, char_x, strict=True)) if not ch.isspace()]
    owners: list[list[int]] = [[] for _ in pieces]
    for i, x in chars:
        hits = [j for j, p in enumerate(pieces) if p.x0 - near <= x <= p.x1 + near]
        if len(hits) == 1:
            owners[hits[0]].append(i)
        elif hits:  # between two pieces: the nearer centre
            j = min(hits, key=lambda j: abs((pieces[j].x0 + pieces[j].x1) / 2 - x))
            owners[j].append(i)
    judged: list[tuple[int, np.ndarray]] = []
    doubled = None
    for p, who in zip(pieces, owners, strict=True):
        if len(who) != 1 or text[who[0]] not in FIGURES:
            continue
        if (
            doubled is None
            and text[who[0]] == "1"
            and _strokes_across(grey, labels, p, height) >= 2
        ):
            doubled = who[0]
        if p.height < TALL_BLOB * height or (p.x1 - p.x0) > WIDE_GLYPH * height:
            continue
        if p.x0 <= CUT_SIDE_PX or p.x1 >= grey.shape[1] - CUT_SIDE_PX:
            continue  # cut at the crop's side: not a whole figure
        glyph = np.isin(labels[:, p.x0 : p.x1], p.labels)
        judged.append((who[0], normalize_glyph(glyph)))
    if not judged:
        return FigureOpinion(doubled=doubled)
    probs = net.probabilities(np.stack([g for _, g in judged]))
    worst, at, other = 0.0, None, None
    for (i, _), p in zip(judged, probs, strict=True):
        read = int(text[i])
        doubt = 1.0 - float(p[read])
        if doubt > worst:
            alt = p.copy()
            alt[read] = -1
            worst, at, other = doubt, i, str(int(alt.argmax()))
    return FigureOpinion(seen=len(judged), doubt=worst, at=at, other=other, doubled=doubled)


def _strokes_across(grey: np.ndarray, labels: np.ndarray, piece: Piece, height: float) -> int:
    """How many strokes run side by side down a piece, below its top quarter (where a 1's
    flag is): the most stroke cores (grey within STROKE_CORE of the piece's contrast above
    its darkest, kept apart by paper rising STROKE_RIDGE between them) that hold over
    TWIN_RUN of the piece's rows in a row.  `grey` and `labels` (H×W) are the line's; 0
    for a piece shorter than TALL_STROKE of the line's ink `height` (px).  A 1 is one
    stroke; two are 11 written close enough to touch, read as one 1 by both models (Long
    Cang's hour 11 on a 表格06, seed 313, and a BD-20 count 11, seed 317: held out; the ink
    threshold joins them, the grey between them does not)."""
    mask = np.isin(labels[:, piece.x0 : piece.x1 + 1], piece.labels)
    rows = np.nonzero(mask.any(axis=1))[0]
    if not len(rows) or rows[-1] - rows[0] + 1 < TALL_STROKE * height:
        return 0
    g = grey[:, piece.x0 : piece.x1 + 1].astype(np.float32)
    darkest = float(g[mask].min())
    contrast = max(1.0, 255.0 - darkest)
    core, ridge = darkest + STROKE_CORE * contrast, darkest + STROKE_RIDGE * contrast
    tall = rows[-1] - rows[0] + 1
    counts = []
    for y in range(rows[0] + tall // 4, rows[-1] + 1):
        strokes, between = 0, None  # `between`: the highest grey since the last core
        for v in g[y][mask[y]]:
            if v <= core:
                if between is None or between >= ridge:
                    strokes += 1
                between = -1.0
            elif between is not None:
                between = max(between, v)
        counts.append(strokes)
    most, need = 1 if counts else 0, max(2, round(TWIN_RUN * tall))
    for n in range(2, max(counts, default=0) + 1):
        run = best = 0
        for c in counts:
            run = run + 1 if c >= n else 0
            best = max(best, run)
        if best >= need:
            most = n
    return most
