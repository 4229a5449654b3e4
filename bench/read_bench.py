"""Reading accuracy and speed on a generated set, field crops vs whole-page OCR.

    python bench/read_bench.py [--count 120] [--seed 2026] [--set DIR] [--workers 2]

Generates (or reuses) a mixed set with samples.synth — hand-filled scans, phone photos,
gang sheets, tags side by side, printed prefilled scans — reads every image with the
field-crop reader, then reads the same pages by whole-page OCR with the same engine, and
prints both side by side: exact match per field type, tick/circle accuracy, the share of
fields marked ok and the error rate among them, pages/s, ms per field and peak memory.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from formdesk.extract.locate import locate_forms  # noqa: E402
from formdesk.extract.ocr import default_engine  # noqa: E402
from formdesk.extract.page_ocr import NOT_TEXT, fields_from_lines  # noqa: E402
from formdesk.extract.reader import FormReader  # noqa: E402
from formdesk.templates import get_template  # noqa: E402
from formdesk.templates.schema import FieldType  # noqa: E402
from samples.scoring import MEASURED, PRESENCE, expected_value, outcomes, same  # noqa: E402

KEY = os.environ.get("FORMDESK_SECRET", "formdesk-synth").encode()


def generate(out: Path, count: int, seed: int) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "samples.synth",
            "--out",
            str(out),
            "--count",
            str(count),
            "--seed",
            str(seed),
        ],
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )


def load_set(folder: Path) -> list[tuple[Path, dict]]:
    return [
        (p, json.loads(p.with_suffix(".json").read_text(encoding="utf-8")))
        for p in sorted(folder.glob("*.jpg"))
    ]


def crop_reader_pass(items, reader: FormReader):
    """The product: field crops.  Returns outcomes, time, forms found, images."""
    results, seconds, missing, forms = [], {}, 0, 0
    for path, truth in items:
        data = path.read_bytes()
        t0 = time.perf_counter()
        read = reader.read_file(data, path.name)
        seconds[path] = time.perf_counter() - t0
        by_doc = {(r.document_id, r.copy_index): r for r in read.records}
        for form in truth["forms"]:
            forms += 1
            record = by_doc.get((form["document_id"], form.get("copy", 1)))
            template = get_template(form["template"])
            if record is None:
                missing += 1
                continue
            for o in outcomes(record, template, form["values"]):
                results.append((o, form.get("handwritten", True)))
    return results, seconds, missing, forms


def page_ocr_pass(items, engine):
    """The yardstick: whole-page OCR with the same engine, lines dropped into boxes."""
    results, seconds = [], {}
    for path, truth in items:
        data = path.read_bytes()
        t0 = time.perf_counter()
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        located = [f for f in locate_forms(image, KEY, engine) if f.template and f.identity]
        lines = engine.read_page(image) if located else []
        read = {
            (f.identity.document_id, f.identity.copy): fields_from_lines(f, lines, f.identity.page)
            for f in located
        }
        seconds[path] = time.perf_counter() - t0
        for form in truth["forms"]:
            values = read.get((form["document_id"], form.get("copy", 1)), {})
            template = get_template(form["template"])
            for f in template.fields:
                if f.type in NOT_TEXT:
                    continue
                if f.type == FieldType.table:
                    want = form["values"].get(f.key) or []
                    got = values.get(f.key) or []
                    cols = [c for c in f.columns if c.type not in NOT_TEXT]
                    for i in range(max(len(want), len(got))):
                        w = want[i] if i < len(want) else {}
                        g = got[i] if i < len(got) else {}
                        for c in cols:
                            results.append(
                                (
                                    c.type,
                                    same(g.get(c.key), expected_value(c, w.get(c.key))),
                                    form.get("handwritten", True),
                                )
                            )
                    continue
                exp = expected_value(f, form["values"].get(f.key))
                results.append(
                    (f.type, same(values.get(f.key), exp), form.get("handwritten", True))
                )
    return results, seconds


def _tag_worker(paths: list[str]) -> int:
    reader = FormReader(KEY)
    for p in paths:
        reader.read_file(Path(p).read_bytes(), Path(p).name)
    return len(paths)


def tag_throughput(items, workers: int) -> tuple[int, int, float]:
    """Images holding only tags (single, gang sheets, side by side), read by `workers`
    processes at once: (images, tags, seconds)."""
    tag_items = [
        (str(p), len(t["forms"]))
        for p, t in items
        if all(f["template"] in ("SH-ZH/BD-27", "SH-ZH/BD-30") for f in t["forms"])
    ]
    tags = [p for p, _ in tag_items]
    if not tags:
        return 0, 0, 0.0
    chunks = [tags[i::workers] for i in range(workers)]
    os.environ["FORMDESK_OCR_THREADS"] = "1"  # one core per process: no oversubscription
    with ProcessPoolExecutor(workers) as pool:
        list(pool.map(_tag_worker, [c[:1] for c in chunks]))  # load the engines first
        t0 = time.perf_counter()
        n = sum(pool.map(_tag_worker, chunks))
    del os.environ["FORMDESK_OCR_THREADS"]
    return n, sum(k for _, k in tag_items), time.perf_counter() - t0


def pct(a: int, b: int) -> str:
    return f"{100 * a / b:6.2f}%" if b else "    n/a"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=120)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--set", type=Path, help="an existing generated folder")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--show-errors", type=int, default=0, help="list this many misread fields")
    args = ap.parse_args()
    tmp = None
    folder = args.set
    if folder is None:
        tmp = tempfile.TemporaryDirectory()
        folder = Path(tmp.name)
        t0 = time.perf_counter()
        generate(folder, args.count, args.seed)
        print(
            f"generated {args.count} images (seed {args.seed}) in {time.perf_counter() - t0:.1f} s"
        )
    items = load_set(folder)
    engine = default_engine()
    reader = FormReader(KEY, engine)

    crop, crop_times, missing, forms = crop_reader_pass(items, reader)
    crop_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    page, page_times = page_ocr_pass(items, engine)
    crop_s, page_s = sum(crop_times.values()), sum(page_times.values())
    n_img = len(items)
    is_tags = {
        p: all(f["template"] in ("SH-ZH/BD-27", "SH-ZH/BD-30") for f in t["forms"])
        for p, t in items
    }

    by_type: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    page_by_type: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for o, _hand in crop:
        by_type[o.type.value][0] += o.correct
        by_type[o.type.value][1] += 1
    for t, ok, _hand in page:
        page_by_type[t.value][0] += ok
        page_by_type[t.value][1] += 1

    print(f"\n{n_img} images, {forms} forms ({missing} not found), {len(crop)} fields and cells\n")
    print(f"{'field type':<14}{'n':>6}  {'field crops':>11}  {'whole page':>10}")
    for t in sorted(by_type):
        a, b = by_type[t]
        pa, pb = page_by_type.get(t, [0, 0])
        print(f"{t:<14}{b:>6}  {pct(a, b):>11}  {pct(pa, pb) if pb else '    n/a':>10}")

    def share(rows, cond):
        sel = [o for o, h in rows if cond(o, h)]
        return sum(o.correct for o in sel), len(sel)

    text = lambda o, h: o.type not in MEASURED and o.type not in PRESENCE  # noqa: E731
    hw = share(crop, lambda o, h: h and text(o, h))
    pr = share(crop, lambda o, h: not h and text(o, h))
    marks = share(crop, lambda o, h: o.type in MEASURED)
    page_text_hw = [ok for t, ok, h in page if h]
    page_text_pr = [ok for t, ok, h in page if not h]
    ok_rows = [o for o, _ in crop if o.status == "ok"]
    wrong_ok = sum(not o.correct for o in ok_rows)
    print(f"\n{'':<36}{'field crops':>12}  {'whole page':>10}")
    print(
        f"{'handwritten text fields exact':<36}{pct(*hw):>12}  {pct(sum(page_text_hw), len(page_text_hw)):>10}"
    )
    print(
        f"{'printed text fields exact':<36}{pct(*pr):>12}  {pct(sum(page_text_pr), len(page_text_pr)):>10}"
    )
    print(f"{'ticks, choices, circles':<36}{pct(*marks):>12}  {'n/a':>10}")
    print(f"{'fields marked ok':<36}{pct(len(ok_rows), len(crop)):>12}")
    print(f"{'wrong among fields marked ok':<36}{pct(wrong_ok, len(ok_rows)):>12}")
    print(f"{'pages/s (one process)':<36}{n_img / crop_s:>12.2f}  {n_img / page_s:>10.2f}")
    print(
        f"{'ms per field':<36}{1000 * crop_s / len(crop):>12.1f}  {1000 * page_s / max(1, len(page)):>10.1f}"
    )
    print(f"{'speed-up over whole-page OCR':<36}{page_s / crop_s:>11.1f}x")
    for label, want in (("  on tag images", True), ("  on A4 forms", False)):
        sel = [p for p, _ in items if is_tags[p] == want]
        if sel:
            c, w = sum(crop_times[p] for p in sel), sum(page_times[p] for p in sel)
            print(
                f"{label:<36}{w / c:>11.1f}x   ({len(sel)} images, {1000 * c / len(sel):.0f} ms vs {1000 * w / len(sel):.0f} ms)"
            )
    if args.show_errors:
        print("\nmisread fields (first of each kind):")
        for o, hand in [x for x in crop if not x[0].correct][: args.show_errors]:
            print(
                f"  {'hand' if hand else 'print'} {o.status:<7}{o.key:<34}{o.read!r} != {o.truth!r}"
            )
    n_pages, n_tags, tag_s = tag_throughput(items, args.workers)
    if n_pages:
        print(
            f"{f'tag pages/s on {args.workers} processes':<36}{n_pages / tag_s:>12.2f}   "
            f"({n_pages} pages, {n_tags / tag_s:.2f} tags/s)"
        )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{'peak memory, field crops (RSS)':<36}{crop_peak:>9.0f} MB")
    print(f"{'peak memory, both passes (RSS)':<36}{peak:>9.0f} MB")
    if tmp:
        tmp.cleanup()


if __name__ == "__main__":
    main()
