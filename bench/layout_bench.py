"""Registration of layouts formdesk did not print (issue 13): the share of fields (and
table columns) whose proposed box is right, without help.

    python bench/layout_bench.py [--kinds clean,scan,photo] [--repeat 2] [--seed 13]

For each external blank under tests/data/external (bench/external/make_forms.py) and each
kind of image (the PDF raster, a flatbed scan, a phone photo — samples.synth's effects),
proposes the layout from that one image and compares each box with the truth
(samples/external.py: IoU ≥ 0.5, or holding the true box and at most twice its area).
Prints per form and kind, then overall, and the seconds a proposal takes.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from formdesk.extract.layout_proposal import propose_layout  # noqa: E402
from formdesk.extract.ocr import default_engine  # noqa: E402
from formdesk.templates import get_template  # noqa: E402
from samples.external import external_blanks, score_proposal, shoot  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kinds", default="clean,scan,photo")
    ap.add_argument("--repeat", type=int, default=2, help="images per form and kind (scan, photo)")
    ap.add_argument("--seed", type=int, default=13)
    args = ap.parse_args(argv)
    engine = default_engine()
    right = total = 0
    seconds = []
    print(f"{'form':<28}{'kind':<7}{'right':>7}{'share':>8}  wrong / not found")
    for i, blank in enumerate(external_blanks()):
        template = get_template(blank.code)
        page = blank.page()
        for kind in args.kinds.split(","):
            for n in range(1 if kind == "clean" else args.repeat):
                rng = np.random.default_rng([args.seed, i, n, len(kind)])
                image = shoot(page, kind, rng)
                t0 = time.perf_counter()
                proposal = propose_layout(image, template, engine)
                seconds.append(time.perf_counter() - t0)
                s = score_proposal(blank, proposal)
                right, total = right + len(s.right), total + s.total
                off = ", ".join(s.wrong + [f"{k}?" for k in s.missing])
                print(
                    f"{blank.name:<28}{kind:<7}{len(s.right):>3}/{s.total:<3}{s.share:>8.1%}  {off}"
                )
    print(f"overall: {right}/{total} = {right / total:.1%} of boxes right without help; "
          f"{np.mean(seconds):.1f} s per proposal")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
