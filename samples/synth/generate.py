"""One sample image and its truth, from (seed, index): the unit the CLI runs in parallel."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from formdesk.templates import Template, get_template, load_catalog

from .effects import photo_effects, place_on, scan_effects, side_by_side
from .hand import HAND_FONTS, font_file
from .pages import gang_sheet, handwritten_page, printed_page
from .sources import HandSource, check_source, get_source, pick_source
from .values import make_values

KINDS = ("scan", "photo", "gang", "printed")
PLAN_KINDS = KINDS + ("tags",)  # tags: 2-3 loose tags photographed side by side (kind photo)
KIND_WEIGHTS = {"scan": 0.55, "photo": 0.2, "gang": 0.1, "printed": 0.15}


def check_fonts(hands: tuple[str, ...] = ()) -> None:
    """Raises FontMissingError naming the Debian package when a handwriting font is absent,
    HandDataMissingError naming the fetch command when a hand source's data is, and
    UnknownHandError for a hand name not in `sources.HAND_SOURCES`."""
    for name in HAND_FONTS:
        font_file(name)
    for name in hands:
        check_source(get_source(name))


@dataclass(frozen=True)
class Job:
    index: int
    seed: int
    kind: str | None  # None: drawn from `kinds`
    template: str | None  # None: drawn from `templates`
    kinds: tuple[str, ...]
    templates: tuple[str, ...]
    hands: tuple[str, ...] = ()  # hand sources (names); () = the development fonts


def _is_tag(t: Template) -> bool:
    return t.per_sheet > 1


def _on_scanner_bed(tag: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A small tag lying somewhere on an A4 flatbed, lid closed."""
    h, w = tag.shape[:2]
    bed_w, bed_h = int(w * 210 / 105), int(h * 297 / 148)
    v = int(rng.integers(225, 252))
    bed = np.full((bed_h, bed_w, 3), v, np.uint8)
    ang = math.radians(float(rng.uniform(-4, 4)))
    cx = float(rng.uniform(w * 0.6, bed_w - w * 0.6))
    cy = float(rng.uniform(h * 0.6, bed_h - h * 0.6))
    corners = np.array([[-w / 2, -h / 2], [w / 2, -h / 2], [w / 2, h / 2], [-w / 2, h / 2]])
    rot = np.array([[math.cos(ang), -math.sin(ang)], [math.sin(ang), math.cos(ang)]])
    return place_on(bed, tag, corners @ rot.T + [cx, cy], shadow=True)


def make_sample(job: Job, key: bytes) -> tuple[np.ndarray, dict[str, Any]]:
    """The image (BGR, effects applied, not yet JPEG-encoded) and its truth for one job."""
    rng = np.random.default_rng([job.seed, job.index])
    catalog = load_catalog()
    pool = [get_template(c) for c in job.templates] if job.templates else list(catalog.values())
    kind = job.kind
    if kind is None:
        kinds = list(job.kinds)
        if not any(_is_tag(t) for t in pool) and "gang" in kinds and len(kinds) > 1:
            kinds.remove("gang")
        weights = np.array([KIND_WEIGHTS[k] for k in kinds])
        kind = kinds[int(rng.choice(len(kinds), p=weights / weights.sum()))]
    if job.template:
        template = get_template(job.template)
    else:
        choices = [t for t in pool if _is_tag(t)] if kind in ("gang", "tags") else pool
        if not choices:
            raise ValueError(f"kind {kind} needs a tag template (SH-ZH/BD-27 or -30)")
        template = choices[int(rng.integers(len(choices)))]
    if kind in ("gang", "tags") and not _is_tag(template):
        raise ValueError(f"kind {kind} needs a tag template, not {template.code}")
    if kind == "photo" and _is_tag(template) and job.kind is None and rng.random() < 0.5:
        kind = "tags"
    sources = tuple(get_source(n) for n in job.hands)

    def source(form: int) -> HandSource | None:
        """Who writes form number `form` of this image (None: the development hands)."""
        return pick_source(sources, job.seed, job.index, form)

    copies = len(template.copies) or 1
    if kind == "gang":
        n = int(rng.integers(2, template.per_sheet + 1))
        values = [make_values(template, rng) for _ in range(n)]
        who = [source(i) for i in range(n)] if sources else None
        img, truth = gang_sheet(template, values, rng, key, sources=who)
        img = scan_effects(img, rng, jpeg_quality=0)
    elif kind == "tags":
        n = int(rng.integers(2, 4))
        pages, forms = [], []
        for i in range(n):
            page, t = handwritten_page(
                template, make_values(template, rng), rng, key, source=source(i)
            )
            pages.append(page)
            forms += t["forms"]
        img = side_by_side(pages, rng, jpeg_quality=0)
        truth = {"file": None, "kind": "photo", "forms": forms}
    elif kind == "printed":
        copy = int(rng.integers(1, copies + 1))
        img, truth = printed_page(template, make_values(template, rng), key, copy=copy, rng=rng)
        img = scan_effects(img, rng, jpeg_quality=0)
        if sources:
            for form in truth["forms"]:
                form["hand"] = None  # printed, nobody wrote it
    else:
        copy = int(rng.integers(1, copies + 1))
        img, truth = handwritten_page(
            template, make_values(template, rng), rng, key, copy=copy, source=source(0)
        )
        if kind == "photo":
            img = photo_effects(img, rng, jpeg_quality=0)
            truth["kind"] = "photo"
        else:
            if _is_tag(template) and rng.random() < 0.4:
                img = _on_scanner_bed(img, rng)
            img = scan_effects(img, rng, jpeg_quality=0)
    return img, truth


def encode_jpeg(img: np.ndarray, quality: int, max_kb: int | None) -> bytes:
    while True:
        ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, quality])
        assert ok
        if max_kb is None or len(buf) <= max_kb * 1024 or quality <= 35:
            return buf.tobytes()
        quality -= 5


def write_sample(job: Job, key: bytes, out: Path, max_kb: int | None = None) -> dict[str, Any]:
    """Makes job `index` and writes NNNN.jpg and NNNN.json into `out`; returns the truth."""
    img, truth = make_sample(job, key)
    quality = int(np.random.default_rng([job.seed, job.index, 1]).integers(60, 91))
    name = f"{job.index:04d}.jpg"
    (out / name).write_bytes(encode_jpeg(img, quality, max_kb))
    truth["file"] = name
    (out / f"{job.index:04d}.json").write_text(
        json.dumps(truth, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    return truth
