"""`bench/read_bench.py --external --tags`: BD-27 print-shop tags (tests/data/external,
105 × 148 mm) on bigger images (issue 13): one tag on an A4 flatbed, two or three laid
together (and sometimes a fourth half off the bed), one photographed on a desk from
further away, one beside a tag formdesk printed (marks and QR) on the same bed, laid
straight or 5–10 degrees aslant (`bed+own`, `own+aslant`), one beside a station's
表格04 on an A3 bed (`a3 mixed`: forms of two kinds, no marks), and the two lying apart on
a desk, each turned up to 5 degrees, photographed (`desk mixed`).  The tag's layout is
registered once from a blank tag scanned on the A4 bed, the 表格04's from a scan of its
blank alone.

Prints per kind of image: images, tags laid whole, records found, whole tags refused,
cut tags refused as cut, records with the wrong tag's values, filled fields, exact,
marked ok, wrong among ok, and seconds per image (one core: FORMDESK_OCR_THREADS=1).
With `--hands a,b` each round makes every kind of image once per writing source (its
own values and places, drawn in turn: the sources' figures are not of the same papers),
every form on it written by that source, and the figures are printed per source: the
held-out hands (longcang, mnist-eval) measure writing never tuned on.  With `--lexicon
catalog` the reader knows what an installation knows (the catalog's models and part names,
the stations the forms name, `--history`, `--known-parts`), as the hands bench gives it.
Each field read wrong but marked ok is printed.
"""

from __future__ import annotations

import time
from collections import defaultdict

import cv2
import numpy as np

from formdesk.extract.beside import MIXED_SLOT
from formdesk.extract.ocr import default_engine
from formdesk.extract.reader import FormReader
from formdesk.extract.variants import RegisteredLayout
from formdesk.templates import get_template
from samples.external import (
    Placed,
    external_blank,
    filled_tag,
    on_desk,
    on_desk_together,
    on_flatbed,
    registered,
    score_proposal,
    shoot,
)
from samples.scoring import outcomes
from samples.synth import handwritten_page, make_values
from samples.synth.sources import HandSource, check_source, parse_hands

CODE = "SH-ZH/BD-27"
KINDS = ("bed1", "bed2", "bed3+cut", "desk", "bed+own", "own+aslant", "a3 mixed", "desk mixed")
FORM = "表格04"


def _register(engine, rng) -> tuple[RegisteredLayout, float]:
    """The tag's layout from a blank laid on the A4 bed; and the share of boxes right."""
    blank = external_blank(CODE)
    at = Placed(rng.uniform(60, 150), rng.uniform(80, 215), rng.uniform(-3, 3))
    layout, p = registered(on_flatbed([blank.page()], [at], rng), CODE, engine, "bench")
    return layout, score_proposal(blank, p).share


def _register_form(engine, rng) -> RegisteredLayout:
    """The 表格04's layout from a scan of its blank alone."""
    return registered(shoot(external_blank(FORM).page(), "scan", rng), FORM, engine, "bench")[0]


def _image(
    kind: str, rng, key: bytes, source: HandSource | None = None
) -> tuple[np.ndarray, list[dict], int]:
    """An image of `kind` whose forms (the print shop's, the 表格04, formdesk's own tag)
    are written by `source` (None: the development fonts), the values of its whole forms
    in reading order (for `bed+own`, formdesk's own tag, signed with `key`, first: it is
    slot 0, the print-shop tag beside it slot 1; for `a3 mixed` the tag, then the
    表格04), and how many tags lie cut at its edge."""
    blank = external_blank(CODE)
    j = lambda s: float(rng.uniform(-s, s))  # noqa: E731
    if kind == "a3 mixed":
        tag, tag_values = filled_tag(blank, rng, source)
        form, form_values = filled_tag(external_blank(FORM), rng, source)
        places = [Placed(70 + j(5), 100 + j(10), j(2)), Placed(300 + j(5), 150 + j(3), j(1))]
        image = on_flatbed([tag, form], places, rng, bed_mm=(420, 297))
        return image, [tag_values, form_values], 0
    if kind == "desk mixed":
        tag, tag_values = filled_tag(blank, rng, source)
        form, form_values = filled_tag(external_blank(FORM), rng, source)
        places = [Placed(95 + j(15), 160 + j(70), j(5)), Placed(320 + j(5), 170 + j(5), j(5))]
        return on_desk_together([tag, form], places, rng), [tag_values, form_values], 0
    if kind in ("bed+own", "own+aslant"):
        template = get_template(CODE)
        own_values = make_values(template, rng, p_empty=0.0)
        own, _truth = handwritten_page(template, own_values, rng, key, source=source)
        piece, values = filled_tag(blank, rng, source)
        x = rng.uniform(55, 155)
        places = [Placed(x + j(2), 76 + j(1), j(1)), Placed(x + j(2), 221 + j(1), j(1))]
        if rng.random() < 0.5:  # the own tag below as often as above
            places.reverse()
        if kind == "own+aslant":  # the print-shop tag laid 5–10 degrees aslant
            turn = float(rng.uniform(5, 10) * rng.choice([-1, 1]))
            places[1] = Placed(places[1].x_mm, places[1].y_mm, turn)
        return on_flatbed([own, piece], places, rng), [own_values, values], 0
    if kind == "desk":
        piece, values = filled_tag(blank, rng, source)
        return on_desk(piece, rng, share=float(rng.uniform(0.12, 0.25))), [values], 0
    if kind == "bed1":
        places = [Placed(rng.uniform(60, 150), rng.uniform(80, 215), j(3))]
    elif kind == "bed2":  # one above the other
        x = rng.uniform(55, 155)
        places = [Placed(x + j(2), 76 + j(1), j(1)), Placed(x + j(2), 221 + j(1), j(1))]
    else:  # three whole, a fourth half off the bed's right edge
        places = [Placed(53 + j(0.5), 76 + j(1), j(0.6)), Placed(158 + j(0.5), 76 + j(1), j(0.6)),
                  Placed(53 + j(0.5), 221 + j(1), j(0.6)), Placed(190 + j(6), 221 + j(1), j(1))]  # fmt: skip
    tags = [filled_tag(blank, rng, source) for _ in places]
    image = on_flatbed([p for p, _ in tags], places, rng)
    cut = 1 if kind == "bed3+cut" else 0
    return image, [v for _, v in tags[: len(tags) - cut]], cut


def tags_main(args, key: bytes) -> None:
    engine = default_engine()
    rng = np.random.default_rng(args.seed)
    layout, share = _register(engine, rng)
    print(f"registered from a blank on the A4 bed: {share:.0%} of boxes right")
    layouts = {CODE: [layout], FORM: [_register_form(engine, rng)]}
    sources = parse_hands(args.hands) if getattr(args, "hands", None) else (None,)
    for source in sources:
        if source is not None:
            check_source(source)
    made = []
    for n in range(args.count):
        for kind, source in ((k, s) for k in KINDS for s in sources):
            image, truths, cut = _image(kind, rng, key, source)
            data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 88])[1].tobytes()
            made.append((n, kind, source, data, truths, cut))
    lexicon = None
    if getattr(args, "lexicon", "none") == "catalog":
        # what an installation knows before it reads them, as the hands bench gives it:
        # the catalog's models and part names, the stations the forms name (registered)
        from bench.read_bench import HISTORY_FORMS, catalog_lexicon

        lexicon = catalog_lexicon(
            (v for *_, truths, _cut in made for v in truths),
            getattr(args, "history", HISTORY_FORMS),
            getattr(args, "known_parts", 0),
        )
    reader = FormReader(key, engine, layouts=lambda c: layouts.get(c, []), lexicon=lexicon)
    by_source: dict[str, dict[str, dict[str, float]]] = {}
    for m, (n, kind, source, data, truths, cut) in enumerate(made):
        name = source.name if source is not None else "development fonts"
        figures = by_source.setdefault(name, defaultdict(lambda: defaultdict(float)))
        t0 = time.perf_counter()
        result = reader.read_file(data, "tags.jpg")
        f = figures[kind]
        f["seconds"] += time.perf_counter() - t0
        f["images"] += 1
        f["tags"] += len(truths)
        f["records"] += len(result.records)
        # a page's reasons, one per form ("左上的一张…"), or one for the whole image
        said = ";".join(p.reason for p in result.problems)
        forms = max(said.count("的一张"), 1 if said else 0)
        cut_said = said.count("被图像边缘截断")
        f["cut_refused"] += min(cut, cut_said)
        f["refused"] += forms - min(cut, cut_said)
        if said:
            print(f"  {kind} image {n + 1} ({name}): {said}")
        for record in result.records:
            # forms are laid in reading order, the cut one last: slot k is the k-th (a
            # page of several kinds numbers them from beside.MIXED_SLOT)
            i = record.pages[0].slot
            i = i - MIXED_SLOT if i >= MIXED_SLOT else i
            if kind == "desk mixed":  # found level first, then turned: by its kind
                i = int(record.template == FORM)
            expected = (CODE, FORM)[min(i, 1)] if kind.endswith("mixed") else CODE
            if record.template != expected:  # read as the other kind of form
                f["wrong_tag"] += 1
                continue
            template = get_template(record.template)
            got = outcomes(record, template, truths[i]) if i < len(truths) else []
            exact = [o for o in got if o.truth is not None and o.correct]
            filled = [o for o in got if o.truth is not None]
            if filled and len(exact) < 0.5 * len(filled):
                f["wrong_tag"] += 1
            for o in filled:
                f["filled"] += 1
                f["exact"] += o.correct
                f["ok"] += o.status == "ok"
                f["wrong_ok"] += o.status == "ok" and not o.correct
                if o.status == "ok" and not o.correct:
                    print(
                        f"  {kind} image {n + 1} ({name}), wrong among ok: {record.template} "
                        f"{o.key} ({o.type.value}) {o.truth!r} read {o.read!r}"
                    )
        if m + 1 == len(made) or made[m + 1][0] != n:
            print(f"round {n + 1} of {args.count} read", flush=True)
    for name, figures in by_source.items():
        print(f"\nwritten by {name}:")
        _table(figures)


def _table(figures: dict[str, dict[str, float]]) -> None:
    """One writing source's figures, a line per kind of image."""
    print(
        f"\n{'image':<12}{'n':>4}{'tags':>6}{'records':>9}{'refused':>9}{'cut ok':>8}"
        f"{'wrong tag':>11}{'filled':>8}{'exact':>8}{'marked ok':>11}{'wrong among ok':>16}"
        f"{'s/image':>9}"
    )
    for kind in KINDS:
        f = figures[kind]
        filled = max(1.0, f["filled"])
        cut_laid = int(f["images"]) if "cut" in kind else 0
        cut_ok = f"{int(f['cut_refused'])}/{cut_laid}"
        print(
            f"{kind:<12}{int(f['images']):>4}{int(f['tags']):>6}{int(f['records']):>9}"
            f"{int(f['refused']):>9}{cut_ok:>8}{int(f['wrong_tag']):>11}{int(f['filled']):>8}{f['exact'] / filled:>8.1%}"
            f"{f['ok'] / filled:>11.1%}{f['wrong_ok'] / max(1.0, f['ok']):>16.2%}"
            f"{f['seconds'] / max(1.0, f['images']):>9.2f}"
        )
