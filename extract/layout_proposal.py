"""Proposing where each field of a template is written on a layout formdesk did not print
(issue 13, point 1): from one scan or photo of a blank of that layout.

1. The page is flattened to its paper size (page_outline.py) and its cells found from the
   ruled lines (ruling.py).
2. The print in each cell is read by OCR (the engine's recognizer, one line per cell).
3. Cell texts are matched to the template's labels (and their `aliases`), the options of
   its choices and its table's column headings, fuzzily (rapidfuzz), best pairs first.
4. Each matched label gives its field's box: the rest of its own cell when the label
   leaves room there (来件单位:______), else the cell right of it, else the cell below
   (a heading over a box); printed options give their cell.  The table's columns run
   from their headings down over the ruled rows under them.

Boxes are in mm of the flattened page (the reference image, PX_PER_MM).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import cv2
import numpy as np
from rapidfuzz import fuzz

from formdesk.model.layouts import FieldBox, TableLayout
from formdesk.templates.geometry import Rect
from formdesk.templates.schema import CHOICE_TYPES, FieldType, Template

from .align import PX_PER_MM
from .ocr import OcrEngine
from .page_outline import flatten_page
from .ruling import Ruling, cells, dark_pixels, fingerprint, ruling

MATCH_MIN = 72  # rapidfuzz ratio (0..100) a label must reach
ROOM_MM = 10.0  # a label followed by this much free width has its value in its own cell
ROOM_SHARE = 0.35  # … and that free width is at least this share of the cell
LEFT_MM = 5.0  # … and the label starts this close to the cell's left line
PUNCT = re.compile(r"[\s:\uff1a()\uff08\uff09\[\]【】_\-—.。,\uff0c、/□☐]+")


TRAILING = ":\uff1a"  # what may follow a label in its run of print


def normalise(text: str) -> str:
    """Text compared without spaces, punctuation and printed boxes."""
    return PUNCT.sub("", text)


@dataclass
class CellText:
    """A cell (mm) and the print read in it: its text, and where each character's centre
    and the print's right end are (mm)."""

    rect: Rect
    text: str = ""
    char_x: tuple[float, ...] = ()
    ink_left: float = 0.0
    ink_right: float = 0.0
    runs: list[tuple[float, float]] = field(default_factory=list)  # print's x runs, mm

    def label_end(self, label_len: int) -> float:
        """Where (mm) the label ends: its first `label_len` characters (counted as
        `normalise` counts) and the punctuation right after them (a colon), half a
        character pitch after the last one's centre; the print's right end when the
        characters' positions are not known."""
        if len(self.char_x) != len(self.text):
            return self.ink_right
        chars = [(c, x) for c, x in zip(self.text, self.char_x, strict=True) if not c.isspace()]
        counted, last = 0, -1
        for i, (c, _) in enumerate(chars):
            if counted >= label_len and c not in TRAILING:
                break
            last = i
            counted += 1 if normalise(c) else 0
        if last < 0:
            return self.ink_right
        xs = [x for c, x in chars[: last + 1] if normalise(c)]
        pitch = float(np.median(np.diff(xs))) if len(xs) > 1 else self.rect.h / 2
        end = chars[last][1] + pitch / 2
        end = min(end, chars[last + 1][1]) if last + 1 < len(chars) else end
        # the recognizer places characters roughly: the label ends where its run of
        # print does (the last run starting before the estimate)
        runs = [r for r in self.runs if r[0] < end - 0.5]
        return runs[-1][1] if runs else end


@dataclass
class Proposal:
    """What registration proposes: the flattened page (BGR, PX_PER_MM), a box per field
    found, the table when its headings were found, the fields not found, the page's
    fingerprint, and each cell with what it reads (for showing the proposal)."""

    reference: np.ndarray
    fields: list[FieldBox]
    table: TableLayout | None
    missing: list[str]
    fingerprint: list[float]
    cells: list[CellText] = field(default_factory=list)


def _names(template: Template) -> list[tuple[str, str, list[str]]]:
    """(key, kind, names) for everything that can be matched: a field's label and
    aliases (`label`), a choice's options (`options`), a table column's heading
    (`column`)."""
    out = []
    for f in template.fields:
        if f.type == FieldType.table:
            out += [(c.key, "column", [c.label, *c.aliases]) for c in f.columns]
            continue
        if f.label_position != "none" or not f.options:
            out.append((f.key, "label", [f.label, *f.aliases]))
        if f.type in CHOICE_TYPES:
            out.append((f.key, "options", list(f.options)))
    return out


def _score(text: str, kind: str, names: list[str]) -> tuple[float, int]:
    """How well a cell's text matches (0..100), and how many of its characters the label
    takes (its end is where a value may start in the same cell)."""
    t = normalise(text)
    if not t:
        return 0.0, 0
    if kind == "options":
        found = [o for o in names if fuzz.partial_ratio(normalise(o), t) >= 80]
        share = len(found) / len(names)
        return (100.0 * share if share >= 0.5 else 0.0), 0
    best, used = 0.0, 0
    for name in names:
        n = normalise(name)
        whole = fuzz.ratio(n, t)
        head = fuzz.ratio(n, t[: len(n)]) if len(t) > len(n) else 0.0
        # a label followed by other print (a □, options) matches on its head only
        score = max(whole, head - 3)
        if score > best:
            best, used = score, len(n) if head > whole else len(t)
    return best, used


SPECK_PX = 12  # dark blobs smaller than this (dust on the scanner glass) are no print


def _without_specks(dark: np.ndarray) -> np.ndarray:
    n, labels, stats, _ = cv2.connectedComponentsWithStats(dark, connectivity=8)
    keep = np.zeros(n, bool)
    keep[1:] = stats[1:, cv2.CC_STAT_AREA] >= SPECK_PX
    return keep[labels].astype(np.uint8)


RUN_GAP_MM = 1.2  # print columns closer than this belong to one run (a word, a label)


def _runs(columns: np.ndarray, x0: int) -> list[tuple[float, float]]:
    """Runs of columns with print (mm), gaps narrower than RUN_GAP_MM bridged."""
    xs = np.nonzero(columns)[0]
    if not len(xs):
        return []
    gap = RUN_GAP_MM * PX_PER_MM
    out, start, prev = [], xs[0], xs[0]
    for x in xs[1:]:
        if x - prev > gap:
            out.append(((x0 + start) / PX_PER_MM, (x0 + prev + 1) / PX_PER_MM))
            start = x
        prev = x
    out.append(((x0 + start) / PX_PER_MM, (x0 + prev + 1) / PX_PER_MM))
    return out


def _read_cells(gray: np.ndarray, rule: Ruling, engine: OcrEngine) -> list[CellText]:
    """Every cell with the print inside it read (an empty cell has no text)."""
    dark = dark_pixels(gray) & ~cv2.dilate(rule.lines, np.ones((5, 5), np.uint8))
    out, crops, holders = [], [], []
    for r in cells(rule):
        c = CellText(r)
        out.append(c)
        inner = r.inset(0.6)
        y0, y1 = round(inner.y * PX_PER_MM), round(inner.bottom * PX_PER_MM)
        x0, x1 = round(inner.x * PX_PER_MM), round(inner.right * PX_PER_MM)
        ink = _without_specks(dark[y0:y1, x0:x1])
        ys, xs = np.nonzero(ink)
        if len(xs) < 25:
            continue
        pad = 4
        cy0, cy1 = max(0, ys.min() - pad), min(ink.shape[0], ys.max() + pad + 1)
        cx0, cx1 = max(0, xs.min() - pad), min(ink.shape[1], xs.max() + pad + 1)
        crop = gray[y0 + cy0 : y0 + cy1, x0 + cx0 : x0 + cx1]
        c.ink_left, c.ink_right = (x0 + xs.min()) / PX_PER_MM, (x0 + xs.max() + 1) / PX_PER_MM
        c.runs = _runs(ink.any(axis=0), x0)
        crops.append((crop, (x0 + cx0) / PX_PER_MM))
        holders.append(c)
    if crops:
        read = engine.recognize([cv2.cvtColor(c, cv2.COLOR_GRAY2BGR) for c, _ in crops])
        for c, (_, left), rec in zip(holders, crops, read, strict=True):
            c.text = rec.text
            c.char_x = tuple(left + x / PX_PER_MM for x in rec.char_x)
    return out


def _neighbour(cell: Rect, all_cells: list[CellText], side: str) -> CellText | None:
    """The cell sharing `cell`'s right (or bottom) line and most of its height (width)."""
    best, gap = None, 1.5
    for c in all_cells:
        r = c.rect
        if side == "right":
            overlap = min(r.bottom, cell.bottom) - max(r.y, cell.y)
            d = abs(r.x - cell.right)
            ok = overlap >= 0.6 * min(r.h, cell.h)
        else:
            overlap = min(r.right, cell.right) - max(r.x, cell.x)
            d = abs(r.y - cell.bottom)
            ok = overlap >= 0.6 * min(r.w, cell.w)
        if ok and d < gap:
            best, gap = c, d
    return best


def _box(r: Rect) -> tuple[float, float, float, float]:
    return (round(float(r.x), 2), round(float(r.y), 2), round(float(r.w), 2), round(float(r.h), 2))


def _option_boxes(cell: CellText, options: list[str]) -> dict[str, tuple[float, ...]]:
    """Where each option's text is printed in `cell` (mm): the run of print around the
    place the recognizer put it (the cell's height)."""
    chars = [(c, x) for c, x in zip(cell.text, cell.char_x, strict=False) if not c.isspace()]
    if len(cell.char_x) != len(cell.text) or not chars:
        return {}
    text = "".join(c for c, _ in chars)
    out = {}
    for o in options:
        i = text.find(o)
        if i < 0:
            continue
        centre = (chars[i][1] + chars[i + len(o) - 1][1]) / 2
        run = min(cell.runs, key=lambda r: 0 if r[0] <= centre <= r[1] else min(
            abs(r[0] - centre), abs(r[1] - centre)))  # fmt: skip
        out[o] = _box(Rect(run[0], cell.rect.y, run[1] - run[0], cell.rect.h))
    return out


SQUARE_MM = (2.0, 5.5)  # a printed □'s side


def _squares(print_: np.ndarray, r: Rect) -> list[Rect]:
    """The printed □s inside `r` (mm), left to right: hollow, square outlines."""
    y0, y1 = round(r.y * PX_PER_MM), round(r.bottom * PX_PER_MM)
    x0, x1 = round(r.x * PX_PER_MM), round(r.right * PX_PER_MM)
    contours, _ = cv2.findContours(print_[y0:y1, x0:x1], cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    lo, hi = (v * PX_PER_MM for v in SQUARE_MM)
    out = []
    for c in contours:
        x, y, w, h = cv2.boundingRect(c)
        if not (lo <= w <= hi and lo <= h <= hi and abs(w - h) <= 0.25 * max(w, h)):
            continue
        inside = print_[y0 + y + 3 : y0 + y + h - 3, x0 + x + 3 : x0 + x + w - 3]
        if inside.size and inside.mean() < 0.2:  # hollow: an outline, not a blot
            out.append(
                Rect((x0 + x) / PX_PER_MM, (y0 + y) / PX_PER_MM, w / PX_PER_MM, h / PX_PER_MM)
            )
    return sorted(out, key=lambda q: q.x)


def _marks(
    kind: FieldType, options: list[str], box: Rect, holder: CellText | None, print_: np.ndarray
) -> dict[str, tuple[float, ...]]:
    """Where a pen marks the field: each option's □ (choice) or text (circle_choice), a
    checkbox's □ (key "□"); {} when they cannot be told."""
    if kind == FieldType.checkbox:
        squares = _squares(print_, box)
        return {"□": _box(squares[0])} if len(squares) == 1 else {}
    texts = _option_boxes(holder, options) if holder is not None else {}
    if kind == FieldType.circle_choice or len(texts) != len(options):
        return texts
    squares = _squares(print_, box)
    if len(squares) != len(options):
        return {}
    # each option's □: the options in the order printed, the squares left to right
    ordered = sorted(options, key=lambda o: texts[o][0])
    return {o: _box(q) for o, q in zip(ordered, squares, strict=True)}


def _table(template: Template, heads: dict[str, CellText], rule: Ruling) -> TableLayout | None:
    """The table from its matched headings: columns under the headings, body rows from
    the horizontal lines that run across all of them below the heading row."""
    tables = template.table_fields
    if not tables or len(heads) < max(2, len(tables[0].columns) // 2):
        return None
    table = tables[0]
    rects = [c.rect for c in heads.values()]
    left, right = min(r.x for r in rects), max(r.right for r in rects)
    head_bottom = float(np.median([r.bottom for r in rects]))
    # every column: a matched heading, else the free cell between its neighbours' headings
    columns = {k: (c.rect.x, c.rect.w) for k, c in heads.items()}
    h = rule.horizontal
    x0, x1 = round(left * PX_PER_MM), round(right * PX_PER_MM)
    across = h[:, x0:x1].sum(axis=1) >= 0.9 * (x1 - x0)
    ys = np.nonzero(across)[0] / PX_PER_MM
    lines: list[float] = []
    for y in ys:
        if y < head_bottom - 1.5:
            continue
        if lines and y - lines[-1] < 2.0:
            continue
        lines.append(float(y))
    if len(lines) < 2:
        return None
    steps = np.diff(lines)
    row_h = float(np.median(steps))
    body = [lines[0]]
    for y in lines[1:]:
        if abs(y - body[-1] - row_h) > 0.25 * row_h:
            break
        body.append(y)
    if len(body) < 2:
        return None
    ordered = [c.key for c in table.columns]
    missing = [k for k in ordered if k not in columns]
    for k in missing:  # between the headings either side of it
        i = ordered.index(k)
        before = next((columns[o] for o in reversed(ordered[:i]) if o in columns), None)
        after = next((columns[o] for o in ordered[i + 1 :] if o in columns), None)
        if before and after and ordered[i - 1] in columns and ordered[i + 1] in columns:
            start = before[0] + before[1]
            columns[k] = (start, after[0] - start)
    cols = {k: (round(columns[k][0], 2), round(columns[k][1], 2)) for k in ordered if k in columns}
    return TableLayout(
        key=table.key,
        top=round(body[0], 2),
        row_height=round((body[-1] - body[0]) / (len(body) - 1), 3),
        rows=len(body) - 1,
        columns=cols,
    )


def propose_layout(image: np.ndarray, template: Template, engine: OcrEngine) -> Proposal:
    """The proposal for `template` from a scan or photo (BGR) of a blank of the layout."""
    g = template.geometry
    page = flatten_page(image, (g.width, g.height))
    gray = cv2.cvtColor(page, cv2.COLOR_BGR2GRAY)
    rule = ruling(gray)
    read = _read_cells(gray, rule, engine)
    print_ = dark_pixels(gray) & ~cv2.dilate(rule.lines, np.ones((3, 3), np.uint8))
    texts = [c for c in read if normalise(c.text)]
    names = _names(template)
    pairs = []
    for ci, c in enumerate(texts):
        for ni, (_, kind, ns) in enumerate(names):
            score, used = _score(c.text, kind, ns)
            if score >= MATCH_MIN:
                pairs.append((score, ci, ni, used))
    pairs.sort(key=lambda p: -p[0])
    taken_cells: set[int] = set()
    done: set[tuple[str, str]] = set()
    labels: dict[str, tuple[CellText, int]] = {}
    options: dict[str, CellText] = {}
    heads: dict[str, CellText] = {}
    for _, ci, ni, used in pairs:
        key, kind, _ = names[ni]
        group = "column" if kind == "column" else "field"
        if ci in taken_cells or (key, group) in done:
            continue
        taken_cells.add(ci)
        done.add((key, group))
        if kind == "column":
            heads[key] = texts[ci]
        elif kind == "options":
            options[key] = texts[ci]
        else:
            labels[key] = (texts[ci], used)
    label_cells = {id(c) for c, _ in labels.values()} | {id(c) for c in heads.values()}
    found: list[FieldBox] = []
    for f in template.fields:
        if f.type == FieldType.table:
            continue
        box, source = None, "label"
        if f.key in labels:
            cell, used = labels[f.key]
            box = _value_box(cell, used, read, label_cells)
        if box is None and f.key in options:
            box, source = options[f.key].rect, "options"
        if box is None:
            continue
        fb = FieldBox(key=f.key, box=_box(box), source=source)
        if f.type in CHOICE_TYPES or f.type == FieldType.checkbox:
            holder = next((c for c in read if c.rect == box), options.get(f.key))
            fb.options = _marks(f.type, f.options, box, holder, print_)
        found.append(fb)
    table = _table(template, heads, rule)
    have = {b.key for b in found} | ({table.key} if table else set())
    missing = [f.key for f in template.fields if f.key not in have]
    return Proposal(page, found, table, missing, fingerprint(rule), read)


def _value_box(
    cell: CellText, used: int, read: list[CellText], label_cells: set[int]
) -> Rect | None:
    """The writing area of the field whose label is in `cell` (the label's first `used`
    characters, after normalising)."""
    r = cell.rect
    end = cell.label_end(used)
    room = r.right - end
    at_left = cell.ink_left - r.x <= max(LEFT_MM, 0.15 * r.w)  # a centred label is a heading
    if at_left and room >= ROOM_MM and room >= ROOM_SHARE * r.w:
        start = end + 0.5
        return Rect(start, r.y, r.right - start, r.h)
    for side in ("right", "below"):
        other = _neighbour(r, read, side)
        if other is not None and id(other) not in label_cells:
            return other.rect
    return None


__all__ = ["CellText", "Proposal", "normalise", "propose_layout"]
