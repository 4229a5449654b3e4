"""Fits each field type's rule (extract/calibration.yaml) on a calibration dump.

    python bench/read_bench.py --hands longcang,mashanzheng,seto,mnist-cal --all-evidence \
        --count 40 --no-page-ocr --dump /tmp/cal.jsonl
    python bench/calibrate.py /tmp/cal.jsonl [--target 0.003] [--write]

A rule says when an OCR reading may be ok: its score (least sure character or blank) at
least `min_score`, every piece of ink read (`ink`), and — when `needs_agreement` — the
second reading agreeing (`agree`).  For each type, and for both settings of agreement, the
lowest threshold whose wrong-among-ok on the dump is at most `--target` is found; the
setting that leaves more fields ok wins.  Types with fewer than `--min-fields` readings
share the rule fitted on all of them pooled (`default`).  The dump must be gathered with
`--all-evidence`, so every reading carries both its ink and its agreement evidence.

Prints, per type: readings, share ok and wrong among ok at the chosen rule; `--write`
replaces extract/calibration.yaml.  Never fit on the hands you report on (the held-out
source and the real-handwriting evaluation half).
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
YAML = ROOT / "extract" / "calibration.yaml"


@dataclass(frozen=True)
class Sample:
    score: float
    ink: bool
    agree: bool
    correct: bool
    settled: bool = False  # a sum or the 大写 amount agrees with it (extract/checks.py)
    vetoed: bool = False  # a check across fields failed on it: never ok, whatever its score


@cache
def _check_messages() -> tuple[str, ...]:
    """Every cross-field check's message, and the reader's own vetoes: a reading whose
    reason holds one was sent to review by a rule no threshold overrides."""
    from formdesk.extract.evidence import SLANTED_ONE
    from formdesk.templates import load_catalog

    found = {c.message for t in load_catalog().values() for c in t.checks}
    return (*sorted(found), "大写金额与小写金额不符", SLANTED_ONE)


@dataclass(frozen=True)
class Fit:
    min_score: float
    needs_agreement: bool
    n: int  # filled readings of the type
    ok: int
    wrong_ok: int
    agree_below: float = 1.01  # no second reading needed at or above this score

    @property
    def share_ok(self) -> float:
        return self.ok / self.n if self.n else 0.0

    @property
    def wrong_among_ok(self) -> float:
        return self.wrong_ok / self.ok if self.ok else 0.0


def load(
    path: Path, keep=lambda hand: True
) -> tuple[dict[str, list[Sample]], dict[str, int], set[str], dict[str, int]]:
    """Eligible OCR readings per type (those whose value checked out, so a rule decides
    them), the count of all filled readings per type, the hands seen, and the exact
    readings per type — of the rows whose hand `keep` accepts."""
    eligible: dict[str, list[Sample]] = defaultdict(list)
    filled: dict[str, int] = defaultdict(int)
    exact: dict[str, int] = defaultdict(int)
    hands: set[str] = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if row.get("expected") in (None, "", []) or not keep(str(row.get("hand"))):
            continue
        hands.add(str(row.get("hand")))
        exact[row["type"]] += bool(row["correct"])
        filled[row["type"]] += 1
        evidence = row.get("evidence") or []
        codes = {str(e).split(":")[0] for e in evidence}
        if "ocr" not in codes or not ({"ink", "unread"} & codes):
            continue  # not OCR'd, or its value never checked out
        if "lexicon" in codes:  # read against its vocabulary: decided by the posterior
            eligible[row["type"]].append(
                Sample(0.0, "ink" in codes, False, bool(row["correct"]), "ink" in codes)
            )
            continue
        if not ({"agree", "disagree"} & codes):
            raise SystemExit("the dump lacks agreement evidence: gather it with --all-evidence")
        score = float(next(str(e).split(":")[1] for e in evidence if str(e).startswith("ocr:")))
        eligible[row["type"]].append(
            Sample(
                score,
                "ink" in codes,
                "agree" in codes,  # a check digit is not a second reading
                bool(row["correct"]),
                bool({"sum", "words"} & codes),
                any(m in (row.get("reason") or "") for m in _check_messages()),
            )
        )
    return eligible, filled, hands, exact


def evaluate(
    samples: list[Sample], n: int, min_score: float, agreement: bool, agree_below: float = 1.01
) -> Fit:
    ok = [
        s
        for s in samples
        if not s.vetoed
        and s.ink
        and (
            s.settled
            or (s.score >= min_score and (s.agree or not agreement or s.score >= agree_below))
        )
    ]
    return Fit(min_score, agreement, n, len(ok), sum(not s.correct for s in ok), agree_below)


SURE_FLOOR = 0.999  # agreement is never skipped below this score


def with_agree_below(f: Fit, samples: list[Sample], target: float) -> Fit:
    """The lowest score (at least SURE_FLOOR) at and above which no reading of the set was
    wrong, so the second reading may be skipped there without breaking the target."""
    if not f.needs_agreement:
        return f
    for t in sorted({s.score for s in samples if s.score >= SURE_FLOOR}):
        if not any(not s.correct for s in samples if s.score >= t and s.ink and not s.vetoed):
            g = evaluate(samples, f.n, f.min_score, True, t)
            if g.wrong_among_ok <= target:
                return g
            break
    return f


# Types with no check of their own that must always have a second reading agree, whatever
# the fit prefers (issue 10: "engine numbers have no check digit, so they need agreement or
# corroboration" — a claim of the same vehicle corroborates one at filing, store/corroborate.py)
MUST_AGREE = frozenset({"engine_no"})


def fit(samples: list[Sample], n: int, target: float, must_agree: bool = False) -> Fit:
    """The rule leaving most readings ok with wrong-among-ok at most `target`."""
    best: Fit | None = None
    thresholds = sorted({s.score for s in samples} | {0.5, 1.0})
    for agreement in (True,) if must_agree else (False, True):
        for t in thresholds:
            f = evaluate(samples, n, t, agreement)
            if f.ok and f.wrong_among_ok <= target:
                if best is None or f.ok > best.ok:
                    best = f
                break  # the lowest threshold that holds, for this setting
    return best or Fit(1.01, True, n, 0, 0)


def rule_of(fits: dict[str, Fit], t: str) -> Fit:
    return fits.get(t) or fits["default"]


def report(dump: Path, name: str, fits: dict[str, Fit], keep=None) -> None:
    """Exact, share ok and wrong among ok on hands not fitted on, under the fitted rules."""
    eligible, filled, _, exact = load(dump, keep or (lambda h: h == name))
    if not filled:
        print(f"\nheld out {name}: no readings in the dump")
        return
    print(f"\nheld out {name} (fitted rules):")
    print(f"{'type':<14}{'filled':>8}{'exact':>8}{'ok %':>8}{'wrong/ok':>14}")
    tot = [0, 0, 0, 0]
    for t in sorted(filled):
        r = rule_of(fits, t)
        f = evaluate(eligible.get(t, []), filled[t], r.min_score, r.needs_agreement, r.agree_below)
        tot = [tot[0] + f.n, tot[1] + exact[t], tot[2] + f.ok, tot[3] + f.wrong_ok]
        print(
            f"{t:<14}{f.n:>8}{100 * exact[t] / f.n:>7.1f}%{100 * f.share_ok:>7.1f}%"
            f"{f.wrong_ok:>6} {100 * f.wrong_among_ok:>5.2f}%"
        )
    n, ex, ok, wr = tot
    print(
        f"{'all':<14}{n:>8}{100 * ex / n:>7.1f}%{100 * ok / n:>7.1f}%{wr:>6} "
        f"{100 * wr / max(ok, 1):>5.2f}%"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("dump", type=Path)
    ap.add_argument("--target", type=float, default=0.003, help="wrong among ok (0.003 = 0.3 %%)")
    ap.add_argument("--min-fields", type=int, default=150)
    ap.add_argument("--write", action="store_true", help="replace extract/calibration.yaml")
    ap.add_argument(
        "--held-out",
        default="longcang,mnist-eval",
        help="hands never fitted on; reported with the fitted rules (comma list)",
    )
    args = ap.parse_args()
    held = {h for h in args.held_out.split(",") if h}
    eligible, filled, hands, _ = load(args.dump, lambda h: h not in held)
    pooled = [s for v in eligible.values() for s in v]
    fits = {
        "default": with_agree_below(
            fit(pooled, sum(filled.values()), args.target), pooled, args.target
        )
    }
    for t in sorted(filled):
        if len(eligible.get(t, [])) >= args.min_fields:
            f = fit(eligible[t], filled[t], args.target, t in MUST_AGREE)
            fits[t] = f if t in MUST_AGREE else with_agree_below(f, eligible[t], args.target)
    print(
        f"calibration hands: {', '.join(sorted(hands))}; target wrong among ok ≤ {args.target:.2%}"
    )
    print(
        f"{'type':<14}{'filled':>8}{'min score':>11}{'agree':>7}{'below':>8}{'ok %':>8}{'wrong/ok':>10}"
    )
    for t in sorted(filled):
        d = fits["default"]
        f = fits.get(t) or evaluate(
            eligible.get(t, []), filled[t], d.min_score, d.needs_agreement, d.agree_below
        )
        own = "" if t in fits else " (default)"
        print(
            f"{t:<14}{f.n:>8}{f.min_score:>11.3f}{'yes' if f.needs_agreement else 'no':>7}"
            f"{min(f.agree_below, 1.0):>8.4f}"
            f"{100 * f.share_ok:>7.1f}%{f.wrong_ok:>5} {100 * f.wrong_among_ok:.2f}%{own}"
        )
    total_ok = sum(
        (fits.get(t) or evaluate(eligible.get(t, []), filled[t], fits["default"].min_score,
                                 fits["default"].needs_agreement, fits["default"].agree_below)).ok
        for t in filled
    )  # fmt: skip
    print(
        f"overall: {sum(filled.values())} filled, {100 * total_ok / max(1, sum(filled.values())):.1f} % ok"
    )
    for hand in sorted(held):
        report(args.dump, hand, fits)
    if held:
        report(args.dump, ",".join(sorted(held)), fits, lambda h: h in held)
    if args.write:
        lines = [
            "# Per field type: the least OCR score at which a reading may be ok, and whether a",
            "# second reading must agree (extract/evidence.py). Fitted by bench/calibrate.py",
            f"# on {args.dump.name} ({', '.join(sorted(hands))}), target wrong among ok ≤ "
            f"{args.target:.2%}; n = filled readings, ok = share ok on that set.",
            f"fitted: {datetime.now(UTC):%Y-%m-%dT%H:%MZ}",
            f"hands: [{', '.join(sorted(hands))}]",
            "types:",
        ]
        for t, f in fits.items():
            lines.append(
                f"  {t}: {{min_score: {f.min_score:.3f}, needs_agreement: "
                f"{'true' if f.needs_agreement else 'false'}, agree_below: {f.agree_below:.4f}}}  "
                f"# n {f.n}, ok {100 * f.share_ok:.1f} %, wrong among ok {100 * f.wrong_among_ok:.2f} %"
            )
        YAML.write_text("\n".join(lines) + "\n", encoding="utf-8")
        print(f"wrote {YAML}")


if __name__ == "__main__":
    main()
