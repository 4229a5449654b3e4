"""Render throughput: prefilled pages per second on one core.

    python bench/render_bench.py [--tags 1000] [--manifests 100]

Prints pages/s for SH-ZH/BD-27 tags (ganged four to an A4 sheet, each tag its own form
page) and for three-page SH-ZH/BD-31 returned-part manifests.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from formdesk.render.document import PdfRenderer, plan_pages
from formdesk.templates import get_template
from formdesk.templates.layout import table_grid
from formdesk.templates.values.vin import with_check_digit

RECORDS = Path(__file__).resolve().parents[1] / "samples" / "records"
KEY = b"bench-key"


def sample(slug: str) -> dict:
    return json.loads((RECORDS / f"{slug}.json").read_text(encoding="utf-8"))["values"]


def vin(i: int) -> str:
    return with_check_digit(f"LGAX2A130{i:08d}")


def bench_tags(n: int, out: Path) -> None:
    tag = get_template("SH-ZH/BD-27")
    base = sample(tag.slug)
    records = [
        base | {"vin": vin(i), "part_no": f"1011010-E{i % 90 + 10:02d}", "mileage_km": 1000 + i}
        for i in range(n)
    ]
    t0 = time.perf_counter()
    with PdfRenderer(out, KEY) as r:
        for values in records:
            r.add(tag, values)
    dt = time.perf_counter() - t0
    sheets = -(-n // tag.per_sheet)
    print(
        f"SH-ZH/BD-27 tags      : {n} tags on {sheets} A4 sheets in {dt:.2f} s"
        f" -> {n / dt:.0f} tag pages/s, {sheets / dt:.0f} sheets/s, {out.stat().st_size / 1e6:.1f} MB"
    )


def bench_manifests(n: int, out: Path) -> None:
    manifest = get_template("SH-ZH/BD-31")
    table = manifest.table_fields[0]
    cont = len(table_grid(manifest, table, manifest.continuation_rect(table)).rows)
    rows_needed = table.rows_per_page + cont + 1  # just onto a third page
    base = sample(manifest.slug)
    line = base[table.key][0]
    records = [
        base
        | {
            table.key: [
                line | {"claim_no": f"SP{d:04d}{i:04d}", "vin": vin(d * 100 + i)}
                for i in range(rows_needed)
            ]
        }
        for d in range(n)
    ]
    assert len(plan_pages(manifest, records[0])) == 3
    t0 = time.perf_counter()
    with PdfRenderer(out, KEY) as r:
        for values in records:
            r.add(manifest, values)
    dt = time.perf_counter() - t0
    pages = 3 * n
    print(
        f"SH-ZH/BD-31 manifests : {n} x 3 pages ({rows_needed} lines each) in {dt:.2f} s"
        f" -> {pages / dt:.0f} pages/s, {out.stat().st_size / 1e6:.1f} MB"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tags", type=int, default=1000)
    ap.add_argument("--manifests", type=int, default=100)
    args = ap.parse_args()
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core, as the target says
    print("render bench, one core (pages/s; target >= 50 prefilled pages/s)")
    get_template("SH-ZH/BD-27")  # load the catalog outside the timing
    with tempfile.TemporaryDirectory() as tmp:
        bench_tags(args.tags, Path(tmp) / "tags.pdf")
        bench_manifests(args.manifests, Path(tmp) / "manifests.pdf")


if __name__ == "__main__":
    main()
