"""Verifying what formdesk printed instead of reading it again (issue 10, point 3).

A prefilled document's values are in the registry, and formdesk knows exactly how it drew
them: the page is rendered again with the same values, and its value ink (the prefilled
raster minus the blank form) is compared box by box with the scan's ink.  Where the two
cover each other, the field holds the printed value (evidence `printed`, no OCR); where
ink is missing or added, someone wrote over it: the field is read by OCR and flagged
打印值被改写.
"""

from __future__ import annotations

import json
import tempfile
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from threading import Lock
from typing import Any

import cv2
import numpy as np

from formdesk.render.document import PdfRenderer, plan_pages
from formdesk.templates import Template

from .reference import blank_gray, form_raster

INK_LEVEL = 160  # grey level below which a reference pixel is ink
MATCH = 0.85  # share of each ink (printed, scanned) the other must cover
MIN_VALUE_PX = 12  # reference ink below this in a box: nothing was printed there
CACHE_PAGES = 32

# the registry's values for a document id (None when it was not printed here with values)
PrintedLookup = Callable[[str], dict[str, Any] | None]


@dataclass
class PrintedPage:
    """One page of a prefilled document as formdesk drew it, at PX_PER_MM."""

    ink: np.ndarray  # bool: the values' own ink (no form print, marks or QR)
    values: dict[str, Any]  # the document's values (top-level fields)
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # table -> rows here

    def match(
        self, box: slice | tuple[slice, slice], scan_ink: np.ndarray, grow_px: int
    ) -> bool | None:
        """Whether the scan's ink in `box` is the printed value's: None when nothing was
        printed there, else both inks covering each other within `grow_px`."""
        ref = self.ink[box]
        n_ref = int(ref.sum())
        if n_ref < MIN_VALUE_PX:
            return None
        scan = scan_ink[box]
        k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow_px + 1, 2 * grow_px + 1))
        near_scan = cv2.dilate(scan.astype(np.uint8), k).astype(bool)
        near_ref = cv2.dilate(ref.astype(np.uint8), k).astype(bool)
        recall = float((ref & near_scan).sum()) / n_ref
        n_scan = int(scan.sum())
        precision = float((scan & near_ref).sum()) / n_scan if n_scan else 0.0
        return recall >= MATCH and precision >= MATCH


_cache: OrderedDict[tuple[str, str, int, int], PrintedPage] = OrderedDict()
_cache_lock = Lock()


def printed_page(
    template: Template,
    document_id: str,
    values: dict[str, Any],
    page: int,
    copy: int,
    printed_mask: np.ndarray,
) -> PrintedPage:
    """The values' ink on `page` (1-based) of copy `copy` (联), rendered as the document
    was printed; the blank form's grown print (`printed_mask`, as the scan's ink excludes
    it) is taken away too.  Cached for the last CACHE_PAGES pages."""
    key = (document_id, json.dumps(values, sort_keys=True, ensure_ascii=False), page, copy)
    with _cache_lock:
        hit = _cache.get(key)
        if hit is not None:
            _cache.move_to_end(key)
            return hit
    plans = plan_pages(template, values)
    grey = _render_page(template, values, (copy - 1) * len(plans) + (page - 1))
    variant = plans[page - 1].variant
    copy_label = template.copies[copy - 1] if 0 < copy <= len(template.copies) else None
    blank = blank_gray(template.code, variant, copy_label)
    ink = (grey < INK_LEVEL) & ~(blank < INK_LEVEL) & ~printed_mask
    rows = {t.key: plans[page - 1].rows for t in template.table_fields}
    result = PrintedPage(ink, values, rows)
    with _cache_lock:
        _cache[key] = result
        while len(_cache) > CACHE_PAGES:
            _cache.popitem(last=False)
    return result


def _render_page(template: Template, values: dict[str, Any], index: int) -> np.ndarray:
    with tempfile.TemporaryDirectory(prefix="formdesk-ref-") as tmp:
        out = Path(tmp) / "ref.pdf"
        with PdfRenderer(out, b"reference", gang=False) as r:
            r.add(template, values)
        pdf = out.read_bytes()
    return form_raster(pdf, index, template.geometry)
