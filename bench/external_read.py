"""`bench/read_bench.py --external`: pages of forms formdesk did not print (issue 13) next
to formdesk's own, for the forms of the external test set (tests/data/external).

For each external blank: its layout registered from one scan (extract.layout_proposal),
then `--count` pages filled by hand (samples.synth's writer in the true boxes), half
scanned and half photographed, read by the reader against the registered layout; and as
many of formdesk's own printed forms of the same template, filled and shot alike, read as
usual.  Prints each field marked ok with a wrong value (its key, reading, truth and
evidence) as it goes, then per kind of page: pages, pages/s, refused pages, filled fields,
exact, marked ok and wrong among ok (issue 10's target: ≤ 0.5 %).  With `--dump FILE`
one JSON line per filled field (origin, hand, page, template, key, type, status, reason,
value, expected, correct), to compare the two kinds of page field by field.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict

import cv2
import numpy as np

from formdesk.extract.layout_proposal import propose_layout
from formdesk.extract.ocr import default_engine
from formdesk.extract.reader import FormReader
from formdesk.extract.variants import RegisteredLayout
from formdesk.model.layouts import LayoutVariant
from formdesk.model.time import utcnow
from formdesk.templates import get_template
from samples.external import external_blanks, filled_page, shoot
from samples.scoring import outcomes
from samples.synth.effects import photo_effects, scan_effects
from samples.synth.pages import handwritten_page
from samples.synth.sources import check_source, parse_hands
from samples.synth.values import make_values


def _register(blank, engine, rng) -> RegisteredLayout:
    template = get_template(blank.code)
    p = propose_layout(shoot(blank.page(), "scan", rng), template, engine)
    variant = LayoutVariant(
        template=template.code, name="bench", fields=p.fields, table=p.table,
        paper_mm=(template.geometry.width, template.geometry.height),
        fingerprint=p.fingerprint, reference_sha256="0" * 64, created_by="bench",
        created_at=utcnow(),
    )  # fmt: skip
    return RegisteredLayout(variant, cv2.cvtColor(p.reference, cv2.COLOR_BGR2GRAY))


def _own_page(template, key: bytes, rng, kind: str, source=None) -> tuple[np.ndarray, dict]:
    values = make_values(template, rng)
    img, truth = handwritten_page(template, values, rng, key, source=source)
    shot = photo_effects if kind == "photo" else scan_effects
    return shot(img, rng, jpeg_quality=85, quarter_turns=0.0), truth["forms"][0]["values"]


def _reading(record, key: str):
    """The reading `samples.scoring.outcomes` names `key` (a field, or a table cell
    `table[row].column`, row from 1); None when the record lacks it."""
    name, _, rest = key.partition("[")
    field = next((f for f in record.fields if f.key == name), None)
    if field is None or not rest:
        return field
    row, _, column = rest.partition("].")
    rows = field.rows or []
    return rows[int(row) - 1].get(column) if int(row) <= len(rows) else None


def external_main(args, key: bytes) -> None:
    """Reads and prints as the module says; with `args.hands` (a comma list of hand
    sources, samples.synth.sources) every page is written by those sources in turn —
    the held-out hands (longcang, mnist-eval) for a figure on writing never calibrated
    on — else by the development fonts."""
    sources = parse_hands(args.hands) if getattr(args, "hands", None) else (None,)
    dump = getattr(args, "dump", None)
    out = dump.open("w", encoding="utf-8") if dump else None
    try:
        for source in sources:
            if source is not None:
                check_source(source)
                print(f"\n== written by {source.name}: {source.note}")
            _external_figures(args, key, source, out)
    finally:
        if out is not None:
            out.close()
            print(f"\nfilled fields -> {dump}")


def _external_figures(args, key: bytes, source, out=None) -> None:
    engine = default_engine()
    figures: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    held: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))  # right, not ok
    # every page is made first, so that with `--lexicon catalog` the installation knows the
    # stations they name (read_bench.catalog_lexicon), as the hands bench does
    made = []
    for i, blank in enumerate(external_blanks()):
        template = get_template(blank.code)
        rng = np.random.default_rng([args.seed, i])
        layout = _register(blank, engine, rng)
        pages = []
        for n in range(args.count):
            kind = "scan" if n % 2 == 0 else "photo"
            for origin in ("external", "own"):
                if origin == "external":
                    image, values = filled_page(blank, rng, kind, source=source)
                else:
                    image, values = _own_page(template, key, rng, kind, source)
                data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 88])[1].tobytes()
                pages.append((n, kind, origin, data, values))
        made.append((blank, template, layout, pages))
    lexicon = None
    if getattr(args, "lexicon", "none") == "catalog":
        from bench.read_bench import HISTORY_FORMS, catalog_lexicon

        lexicon = catalog_lexicon(
            (v for *_, pages in made for *_, v in pages),
            getattr(args, "history", HISTORY_FORMS),
            getattr(args, "known_parts", 0),
        )
    for blank, template, layout, pages in made:
        readers = {
            "external": FormReader(
                key, engine, layouts=lambda c, lay=layout: [lay], lexicon=lexicon
            ),
            "own": FormReader(key, engine, lexicon=lexicon),
        }
        for n, kind, origin, data, values in pages:
            t0 = time.perf_counter()
            result = readers[origin].read_file(data, "page.jpg")
            f = figures[origin]
            f["seconds"] += time.perf_counter() - t0
            f["pages"] += 1
            f["refused"] += len(result.problems)
            for problem in result.problems:
                print(f"  {origin} {blank.name} page {n + 1} ({kind}): {problem.reason}")
            for record in result.records:
                for o in outcomes(record, template, values):
                    if o.truth is None:
                        continue
                    f["filled"] += 1
                    f["exact"] += o.correct
                    f["ok"] += o.status == "ok"
                    f["wrong_ok"] += o.status == "ok" and not o.correct
                    reading = _reading(record, o.key)
                    if out is not None:
                        row = {
                            "origin": origin, "hand": source.name if source else "dev",
                            "file": f"{blank.name}/{n + 1}/{kind}", "template": blank.code,
                            "key": o.key, "type": o.type.value, "status": o.status,
                            "reason": getattr(reading, "reason", None), "value": o.read,
                            "expected": o.truth, "correct": o.correct,
                        }  # fmt: skip
                        out.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
                    if o.correct and o.status != "ok":
                        reason = (reading.reason or o.status) if reading else o.status
                        held[origin][f"{o.type.value}: {reason.split('(')[0].split(',')[0]}"] += 1
                    if o.status == "ok" and not o.correct:
                        evidence = next((r.evidence for r in record.fields if r.key == o.key), [])
                        print(f"  wrong but ok: {origin} {blank.name} page {n + 1} ({kind}) "
                              f"{o.key}: {o.read!r} for {o.truth!r} {evidence}")  # fmt: skip
        print(f"{blank.name}: {args.count} pages of each kind read", flush=True)
    print(
        f"\n{'pages':<10}{'n':>4}{'pages/s':>9}{'refused':>9}{'filled':>8}{'exact':>8}"
        f"{'marked ok':>11}{'wrong among ok':>16}"
    )
    for origin in ("own", "external"):
        f = figures[origin]
        filled = max(1.0, f["filled"])
        print(
            f"{origin:<10}{int(f['pages']):>4}{f['pages'] / f['seconds']:>9.2f}"
            f"{int(f['refused']):>9}{int(f['filled']):>8}{f['exact'] / filled:>8.1%}"
            f"{f['ok'] / filled:>11.1%}{f['wrong_ok'] / max(1.0, f['ok']):>16.2%}"
        )
    print("\nright readings not marked ok, by field type and reason (most common first)")
    for origin in ("own", "external"):
        common = sorted(held[origin].items(), key=lambda kv: -kv[1])[:12]
        print(f"  {origin}: " + "; ".join(f"{k} {n}" for k, n in common))
