"""Reconciliation of a generated month: injected differences found, false ones, time.

    python bench/reconcile_bench.py [--stations 20] [--claims 2000] [--seed 7] [--workers 2]
                                    [--keep DIR]

Plans a month (samples.synth.month): stations, claims with every kind of difference
injected, returned-part manifests SH-ZH/BD-31 and tags SH-ZH/BD-30/-27. The claims are
imported from a GBK CSV through the real importer; every manifest page and tag gang sheet
is written by hand (synthetic handwriting), scanned, and read by the real reader into a
real TinyDB store. Then every station's month is reconciled, and the differences found
are compared with those injected, twice: on what the reader read, and on the planned
values themselves (a perfect reading, which isolates the matching logic). A difference
not injected is "explained" when it involves a form the reader misread.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from formdesk.model.claims import Claim, Station  # noqa: E402
from formdesk.reconcile.engine import reconcile, reconcile_station  # noqa: E402
from formdesk.reconcile.rules import load_rules  # noqa: E402
from formdesk.services.claims import import_claims_file  # noqa: E402
from formdesk.store import open_store  # noqa: E402
from samples.month_store import read_into_store, register_month  # noqa: E402
from samples.reconcile_scoring import misread_forms, planned_items, score  # noqa: E402
from samples.synth.month import MANIFEST, claims_csv, plan_month, scan_month  # noqa: E402

KEY = b"formdesk-reconcile-bench"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--stations", type=int, default=20)
    ap.add_argument("--claims", type=int, default=2000)
    ap.add_argument("--per-station", type=int, default=5, help="differences injected per station")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--month", default="2026-11")
    ap.add_argument("--keep", type=Path, help="keep scans and the data folder here")
    ap.add_argument(
        "--reuse",
        action="store_true",
        help="with --keep: reconcile what an earlier run (same arguments) read, no new scans",
    )
    args = ap.parse_args()
    if args.reuse and not (args.keep and (args.keep / "data").is_dir()):
        ap.error("--reuse needs --keep DIR of an earlier run")
    tmp = None
    root = args.keep
    if root is None:
        tmp = tempfile.TemporaryDirectory()
        root = Path(tmp.name)
    plan = plan_month(args.seed, args.stations, args.claims, args.month, args.per_station)
    store = open_store(root / "data")
    register_month(store, plan)
    t0 = time.perf_counter()
    log = import_claims_file(store, claims_csv(plan), "claims.csv", "bench", replace=True)
    t_import = time.perf_counter() - t0
    n_tags = sum(d.template != MANIFEST for d in plan.docs)
    n_manifests = sum(d.template == MANIFEST for d in plan.docs)
    print(
        f"month {plan.month}: {len(plan.stations)} stations, {len(plan.claims)} claims "
        f"(imported in {t_import:.1f} s: {log.claims} new, {log.unchanged} unchanged), "
        f"{n_manifests} manifests, {n_tags} tags, {len(plan.injected)} differences injected"
    )
    if not args.reuse:
        t0 = time.perf_counter()
        files = scan_month(plan, root / "scans", KEY, args.seed, args.workers)
        t_scan = time.perf_counter() - t0
        print(f"wrote {len(files)} scanned pages in {t_scan:.0f} s")
        t0 = time.perf_counter()
        read_into_store(store, files, KEY, args.workers)
        t_read = time.perf_counter() - t0
        print(
            f"read {len(files)} pages in {t_read:.0f} s ({len(files) / t_read:.2f} pages/s, {args.workers} processes)"
        )

    misread = misread_forms(store, plan)
    rules = load_rules()
    t0 = time.perf_counter()
    results = {code: reconcile_station(store, code, plan.month, rules) for code, _ in plan.stations}
    t_rec = time.perf_counter() - t0
    claims_by_station: dict[str, list[Claim]] = defaultdict(list)
    for c in store.list_claims():
        claims_by_station[c.station].append(c)
    perfect = {
        code: reconcile(
            Station(code=code, name=name),
            plan.month,
            claims_by_station[code],
            planned_items(plan, code),
            rules,
        )
        for code, name in plan.stations
    }

    def tally(runs):
        found, total, explained, unexplained, missed = Counter(), Counter(), [], [], []
        for code, rec in runs.items():
            f, t, e, u, m = score(plan, code, rec.outcomes, misread if runs is results else set())
            found += f
            total += t
            explained += e
            unexplained += u
            missed += m
        return found, total, explained, unexplained, missed

    print(
        f"\nreconciled {len(results)} stations in {t_rec:.2f} s "
        f"({sum(r.claims for r in results.values())} claims, "
        f"{sum(r.manifest_lines for r in results.values())} manifest lines, "
        f"{sum(r.tags for r in results.values())} tags); "
        f"{len(misread)} of {sum(len(d.values.get('returned_parts', [None])) for d in plan.docs)} "
        "tags/manifest lines misread in a compared field"
    )
    f_read, total, expl, unexpl, missed = tally(results)
    f_perf, _, _, unexpl_perf, missed_perf = tally(perfect)
    print(f"\n{'injected difference':<26}{'n':>4}  {'found (read)':>12}  {'found (perfect)':>15}")
    for kind in sorted(total):
        print(f"{kind:<26}{total[kind]:>4}  {f_read[kind]:>12}  {f_perf[kind]:>15}")
    n = sum(total.values())
    reported = sum(len(r.differences) for r in results.values())
    print(f"{'all':<26}{n:>4}  {sum(f_read.values()):>12}  {sum(f_perf.values()):>15}")
    print(f"\nrecall, read scans:          {sum(f_read.values()) / n:7.2%}")
    print(f"recall, perfect reading:     {sum(f_perf.values()) / n:7.2%}")
    doubtful = sum(o.doubtful for o in expl)
    print(
        f"precision, read scans:       {sum(f_read.values()) / max(1, reported):7.2%}  "
        f"({reported} reported; {len(expl)} not injected but involve a misread form, "
        f"{len(unexpl)} not injected on correctly read forms)"
    )
    print(f"  of the {len(expl)} from misread forms, marked 待核实 (check the scan): {doubtful}")
    print(f"false differences, perfect reading: {len(unexpl_perf)}")
    print(f"reconciliation time for the month: {t_rec:.2f} s (target < 10 s)")
    for label, rows in (
        ("missed (read)", missed),
        ("unexplained false (read)", unexpl),
        ("missed (perfect)", missed_perf),
        ("false (perfect)", unexpl_perf),
    ):
        for r in rows[:8]:
            print(f"  {label}: {r}")
    if tmp:
        tmp.cleanup()


if __name__ == "__main__":
    main()
