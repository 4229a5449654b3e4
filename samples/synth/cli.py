"""The sample-scan generator's command line."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from formdesk.templates import get_template
from formdesk.templates.catalog import UnknownTemplateError

from .generate import KINDS, PLAN_KINDS, Job, check_fonts, write_sample
from .hand import FontMissingError
from .sources import HAND_SOURCES, UnknownHandError, parse_hands

DEFAULT_KEY = b"formdesk-synth"


def signing_key() -> tuple[bytes, str]:
    secret = os.environ.get("FORMDESK_SECRET")
    if secret:
        return secret.encode("utf-8"), "signing key: FORMDESK_SECRET"
    return DEFAULT_KEY, f"signing key: {DEFAULT_KEY!r} (set FORMDESK_SECRET to sign with yours)"


def _parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m samples.synth",
        description="Synthetic scans and phone photos of hand-filled forms, each with its truth JSON.",
    )
    p.add_argument("--out", type=Path, required=True, help="output folder (NNNN.jpg + NNNN.json)")
    p.add_argument("--count", type=int, default=20, help="number of images")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--kinds", default=",".join(KINDS), help=f"comma list of {', '.join(KINDS)}")
    p.add_argument("--templates", default="", help="comma list of form codes (default: all 27)")
    p.add_argument(
        "--plan",
        default="",
        help="comma list of KIND:CODE, one image each (overrides --count/--kinds/--templates); "
        "KIND may also be 'tags' (2-3 loose tags photographed side by side)",
    )
    p.add_argument(
        "--hands",
        default="",
        help="comma list of hand sources writing the forms, one per form drawn by the seed "
        f"({', '.join(HAND_SOURCES)}, or 'all'; default: the development fonts). "
        "Their data comes from `python bench/hands/fetch.py`",
    )
    p.add_argument("--start", type=int, default=0, help="number of the first image")
    p.add_argument(
        "--jobs",
        type=int,
        default=max(1, min(4, (os.cpu_count() or 1) - 1)),
        help="worker processes (same output for any number)",
    )
    p.add_argument("--max-kb", type=int, default=None, help="lower JPEG quality to stay under")
    return p.parse_args(argv)


def _jobs(args: argparse.Namespace) -> list[Job]:
    hands = tuple(s.name for s in parse_hands(args.hands))
    if args.plan:
        jobs = []
        for i, item in enumerate(x.strip() for x in args.plan.split(",") if x.strip()):
            kind, _, code = item.partition(":")
            if kind not in PLAN_KINDS or not code:
                raise SystemExit(f"--plan item {item!r}: want KIND:CODE, KIND one of {PLAN_KINDS}")
            jobs.append(
                Job(args.start + i, args.seed, kind, get_template(code).code, (), (), hands)
            )
        return jobs
    kinds = tuple(k.strip() for k in args.kinds.split(",") if k.strip())
    bad = [k for k in kinds if k not in KINDS]
    if bad or not kinds:
        raise SystemExit(f"--kinds: unknown {bad}; choose from {', '.join(KINDS)}")
    codes = tuple(get_template(c.strip()).code for c in args.templates.split(",") if c.strip())
    if kinds == ("gang",) and codes and not any(get_template(c).per_sheet > 1 for c in codes):
        raise SystemExit("--kinds gang needs a tag template (SH-ZH/BD-27 or SH-ZH/BD-30)")
    return [
        Job(args.start + i, args.seed, None, None, kinds, codes, hands) for i in range(args.count)
    ]


def _worker_init() -> None:
    import cv2

    cv2.setNumThreads(1)  # the processes are the parallelism


def _run(job: Job, key: bytes, out: Path, max_kb: int | None) -> tuple[str, str, list[str]]:
    truth = write_sample(job, key, out, max_kb)
    return truth["file"], truth["kind"], [f["template"] for f in truth["forms"]]


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    try:
        jobs = _jobs(args)
        check_fonts(jobs[0].hands if jobs else ())
    except (FontMissingError, UnknownTemplateError, UnknownHandError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    key, note = signing_key()
    print(note)
    args.out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    kinds: Counter[str] = Counter()
    pages = 0
    if args.jobs <= 1 or len(jobs) <= 1:
        results = (_run(j, key, args.out, args.max_kb) for j in jobs)
        results = list(_report(results, kinds))
    else:
        with ProcessPoolExecutor(args.jobs, initializer=_worker_init) as pool:
            futures = [pool.submit(_run, j, key, args.out, args.max_kb) for j in jobs]
            results = list(_report((f.result() for f in futures), kinds))
    pages = sum(len(forms) for _, _, forms in results)
    dt = time.perf_counter() - t0
    summary = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
    print(
        f"{len(results)} images ({summary}; {pages} forms) in {dt:.1f} s: "
        f"{len(results) / dt:.1f} images/s -> {args.out}"
    )
    return 0


def _report(results, kinds: Counter):
    for name, kind, forms in results:
        kinds[kind] += 1
        print(f"{name}  {kind:<7}  {' '.join(forms)}")
        yield name, kind, forms
