"""Two records with one document id and copy: the same paper scanned twice, or two papers?

A printed form's id is unique, so two records of the same (document id, 联) whose pages
overlap come either from scanning one paper twice (重复扫描: count it once) or from a
blank photocopied and filled in twice (疑似复印件: two physical forms, count each). The
handwriting tells them apart; what formdesk has of it is the values read, so the rule
compares the values of the key fields — claim number, VIN, engine number, part number,
part name (`KEY_FIELDS`; on a manifest, those cells of every row on the shared pages) —
and, for forms without any of them, every other value read on both:

- a value pair is **alike** when equal after folding (NFKC, case, spaces and dashes,
  OCR's confusions 0/O/D/Q, 8/B, 1/I/L, 5/S, 2/Z, 6/G) or within OCR noise (rapidfuzz
  ratio ≥ `NEAR`, one or two characters of a VIN);
- it **differs** when not alike and both readings were ok (status ok: the reader vouches
  for both values);
- otherwise (a reading unsure, or only one side read) it is **doubtful**.

Verdict: ``"different"`` (photocopy) when at least two values differ, or one differs and
nothing is alike; ``"same"`` (rescan) when nothing differs and more values are alike than
doubtful; ``"unsure"`` otherwise (a person decides; nothing compared is unsure too).
One paper read twice never gives two confident, clearly different values of the same key
field unless the reader was wrong while sure — exactly what its calibration rules out.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from typing import Any, Literal

from rapidfuzz import fuzz

from formdesk.model.record import FormRecord

from .ocr_identity import CONFUSIONS

Verdict = Literal["same", "different", "unsure"]
KEY_FIELDS = ("claim_no", "vin", "engine_no", "part_no", "part_name")
NEAR = 85.0  # rapidfuzz ratio (0-100) of two folded values still read as one

Reading = tuple[str, str]  # (folded value, status)


def _fold(value: Any) -> str:
    text = unicodedata.normalize("NFKC", str(value)).upper()
    return "".join(ch for ch in text if not ch.isspace() and ch not in "-—_").translate(CONFUSIONS)


def _present(value: Any) -> bool:
    return value is not None and value is not False and str(value).strip() != ""


def form_pages(record: FormRecord) -> set[int]:
    """The document's pages (1-based) this record was read from."""
    return {p.form_page for p in record.pages} or {1}


def _readings(record: FormRecord, pages: set[int]) -> Iterator[tuple[tuple, Reading | None]]:
    """((row, key), reading) of every scalar field on page 1 and every table cell on
    `pages`; a table row is named by (page, its position on that page)."""
    for f in record.fields:
        if f.rows is None:
            if f.page in pages:
                value = f.value
                yield (None, f.key), ((_fold(value), f.status) if _present(value) else None)
            continue
        on_page: dict[int, int] = {}
        for cells in f.rows:
            page = max((c.page for c in cells.values()), default=1)
            on_page[page] = on_page.get(page, 0) + 1
            if page not in pages:
                continue
            for key, c in cells.items():
                yield (
                    (f.key, page, on_page[page], key),
                    ((_fold(c.value), c.status) if _present(c.value) else None),
                )


def _pairs(a: FormRecord, b: FormRecord) -> list[tuple[Reading | None, Reading | None]]:
    pages = form_pages(a) & form_pages(b)
    ra, rb = dict(_readings(a, pages)), dict(_readings(b, pages))
    both = [k for k in ra if k in rb and (ra[k] or rb[k])]
    keyed = [k for k in both if k[-1] in KEY_FIELDS]
    return [(ra[k], rb[k]) for k in (keyed or both)]


def compare(a: FormRecord, b: FormRecord) -> Verdict:
    """The verdict above for two records of one document id."""
    alike = differ = doubtful = 0
    for x, y in _pairs(a, b):
        if x is None or y is None:
            doubtful += 1
        elif x[0] == y[0] or fuzz.ratio(x[0], y[0]) >= NEAR:
            alike += 1
        elif x[1] == "ok" and y[1] == "ok":
            differ += 1
        else:
            doubtful += 1
    if differ >= 2 or (differ == 1 and alike == 0):
        return "different"
    if differ == 0 and alike > doubtful:
        return "same"
    return "unsure"
