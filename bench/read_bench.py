"""Reading accuracy and speed on a generated set, field crops vs whole-page OCR.

    python bench/read_bench.py [--count 120] [--seed 2026] [--set DIR] [--workers 2] [--no-page-ocr]
    python bench/read_bench.py --hands longcang,mnist-eval,... [--count 30] [--seed 2026]
                               [--set DIR] [--no-page-ocr] [--dump FILE.jsonl]
    python bench/read_bench.py --external [--count 4] [--seed 2026] [--hands longcang,mnist-eval]
    python bench/read_bench.py --external --tags [--count 3] [--hands longcang,mnist-eval]  # tags on A4 scans, desk photos

Generates (or reuses) a mixed set with samples.synth — hand-filled scans, phone photos,
gang sheets, tags side by side, printed prefilled scans — reads every image with the
field-crop reader, then reads the same pages by whole-page OCR with the same engine, and
prints both side by side: exact match per field type, tick/circle accuracy, the share of
fields marked ok and the error rate among them, pages/s, ms per field and peak memory.

With `--external` it reads forms formdesk did not print, registered as layouts from one
scan each, next to its own forms of the same templates (bench/external_read.py).

With `--hands` it measures confidence on writing the project was not tuned on: a set per
hand source (samples/synth/sources.py; data from `python bench/hands/fetch.py`), hand-filled
scans, photos and gang sheets only, read by the field-crop reader, and per source and
overall, per field type and over all fields: filled fields, exact, share marked ok and
wrong among ok.  `--dump` writes one JSON line per filled text-like field or table cell
(the calibration's input; see `hands_rows`).
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

from bench.known_claims import STATION_KEYS, KnownClaims, bench_claims  # noqa: E402
from formdesk.extract.lexicon import Lexicon  # noqa: E402
from formdesk.extract.locate import locate_forms  # noqa: E402
from formdesk.extract.ocr import default_engine  # noqa: E402
from formdesk.extract.page_ocr import NOT_TEXT, fields_from_lines  # noqa: E402
from formdesk.extract.reader import FormReader  # noqa: E402
from formdesk.model.record import FieldReading, FormRecord  # noqa: E402
from formdesk.store.corroborate import corroborate  # noqa: E402
from formdesk.templates import get_template  # noqa: E402
from formdesk.templates.schema import FieldType  # noqa: E402
from samples.scoring import MEASURED, PRESENCE, expected_value, outcomes, same  # noqa: E402
from samples.synth import vocab as V  # noqa: E402
from samples.synth.sources import HAND_SOURCES, HELD_OUT, parse_hands  # noqa: E402

KEY = os.environ.get("FORMDESK_SECRET", "formdesk-synth").encode()


def generate(
    out: Path, count: int, seed: int, hands: str = "", kinds: str = "", templates: str = ""
) -> None:
    """Runs the generator (samples.synth) into `out`; `hands`/`kinds`/`templates` (comma
    lists of form codes; empty: all 27) as its options."""
    extra = (
        (["--hands", hands] if hands else [])
        + (["--kinds", kinds] if kinds else [])
        + (["--templates", templates] if templates else [])
    )
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
            *extra,
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


def prefilled_pass(items, engine) -> None:
    """Printed prefilled forms (issue 10, point 3): read once with the registry's values
    (the truth, as the renderer drew them) so prefilled fields are verified, once entirely
    by OCR; prints how many fields were verified, how many of those are exact, and the
    reading time of both."""
    printed = [(p, t) for p, t in items if not any(f.get("handwritten", True) for f in t["forms"])]
    if not printed:
        return
    registry = {f["document_id"]: f["values"] for _, t in printed for f in t["forms"]}
    verify = FormReader(KEY, engine, printed=registry.get)
    by_ocr = FormReader(KEY, engine)
    times = {"verified": 0.0, "ocr": 0.0}
    verified = exact = 0
    for path, truth in printed:
        data = path.read_bytes()
        for name, reader in (("verified", verify), ("ocr", by_ocr)):
            t0 = time.perf_counter()
            read = reader.read_file(data, path.name)
            times[name] += time.perf_counter() - t0
            if name != "verified":
                continue
            by_doc = {(r.document_id, r.copy_index): r for r in read.records}
            for form in truth["forms"]:
                record = by_doc.get((form["document_id"], form.get("copy", 1)))
                if record is None:
                    continue
                template = get_template(form["template"])
                cells = readings_by_key(record, template)
                for o in outcomes(record, template, form["values"]):
                    r = cells.get(o.key)
                    if r is not None and r.evidence == ["printed"]:
                        verified += 1
                        exact += bool(o.correct)
    n = len(printed)
    print(
        f"\nprefilled forms ({n} images): {verified} fields verified without OCR, exact {pct(exact, verified)}"
    )
    print(
        f"{'  reading time per image':<36}{1000 * times['verified'] / n:>9.0f} ms verified  vs "
        f"{1000 * times['ocr'] / n:.0f} ms read entirely by OCR "
        f"({times['ocr'] / max(times['verified'], 1e-9):.1f}x)"
    )


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


# -- hand sources -------------------------------------------------------------------------------
HAND_KINDS = "scan,photo,gang"  # handwritten pages only (printed pages have no hand)


def hand_seed(seed: int, name: str) -> int:
    """Each source's set gets its own seed (other forms and values), stable whatever the
    order or choice of `--hands`."""
    return seed * 100 + list(HAND_SOURCES).index(name)


def readings_by_key(record: FormRecord, template) -> dict[str, FieldReading]:
    """Every reading of a record by the key `outcomes` gives it: a field's key, a table
    cell's `key[row].column` (row from 1)."""
    out: dict[str, FieldReading] = {}
    for f in record.fields:
        if template.field(f.key).type != FieldType.table:
            out[f.key] = f
            continue
        for i, row in enumerate(f.rows or []):
            for col, cell in row.items():
                out[f"{f.key}[{i + 1}].{col}"] = cell
    return out


def _readings(record: FormRecord) -> list[FieldReading]:
    """Every reading of a record: its fields and their table cells."""
    out = list(record.fields)
    for f in record.fields:
        out += [cell for row in f.rows or [] for cell in row.values()]
    return out


def is_filled(truth: object) -> bool:
    """A field someone wrote in: a value, a tick, a signature (not None, not False)."""
    return truth is not None and truth is not False


def is_text(t: FieldType) -> bool:
    return t not in MEASURED and t not in PRESENCE


def hands_rows(
    items, reader: FormReader, known: KnownClaims | None = None
) -> tuple[list[dict], dict[str, list[int]], dict]:
    """Reads every image with the product reader and compares each field and table cell
    with the truth (samples.scoring.outcomes decides correctness); with `known`, each
    record is first corroborated by those claims and stations as filing does
    (store.corroborate).

    Returns (rows, forms per hand [found, not found], seconds per image path).  One row per
    field or cell of every found hand-written form, filled or not: hand, file, template,
    key, type, status, confidence, evidence, reason, value, expected, correct, filled.  A cell the
    reader did not return at all has status "empty", confidence None and no evidence."""
    rows: list[dict] = []
    forms: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    seconds: dict = {}
    for path, truth in items:
        t0 = time.perf_counter()
        read = reader.read_file(path.read_bytes(), path.name)
        seconds[path] = time.perf_counter() - t0
        before: dict[int, str] = {}
        if known is not None:
            before = {id(r): r.status for rec in read.records for r in _readings(rec)}
            corroborate(known, read.records)
        by_doc = {(r.document_id, r.copy_index): r for r in read.records}
        for form in truth["forms"]:
            if not form.get("handwritten", True):
                continue
            hand = form.get("hand") or "development"
            record = by_doc.get((form["document_id"], form.get("copy", 1)))
            if record is None:
                forms[hand][1] += 1
                continue
            forms[hand][0] += 1
            template = get_template(form["template"])
            cells = readings_by_key(record, template)
            for o in outcomes(record, template, form["values"]):
                r = cells.get(o.key)
                rows.append(
                    {
                        "hand": hand,
                        "file": f"{path.parent.name}/{path.name}",
                        "template": template.code,
                        "key": o.key,
                        "type": o.type.value,
                        "status": o.status,
                        "read_status": before.get(id(r), o.status),
                        "confidence": r.confidence if r is not None else None,
                        "evidence": list(r.evidence) if r is not None else [],
                        "reason": r.reason if r is not None else None,
                        "value": o.read,
                        "expected": o.truth,
                        "correct": bool(o.correct),
                        "filled": is_filled(o.truth),
                    }
                )
    return rows, dict(forms), seconds


def bench_lexicon(items, history_forms: int = 0, known_parts: int = 0) -> Lexicon:
    """What an installation knows before it reads these forms: the manufacturer's vehicle
    models and part names (the generator's catalog lists, samples/synth/vocab.py), the
    network's stations (the station names the set's forms carry, as registered stations)
    and, with `history_forms`, the text values people confirmed on that many earlier forms
    of each template (`earlier_history`).  Part and engine numbers only with `known_parts`:
    those of claims imported before (`earlier_part_numbers`, `earlier_engine_numbers`),
    none of them on the forms read."""
    return catalog_lexicon(
        (form["values"] for _p, truth in items for form in truth["forms"]),
        history_forms,
        known_parts,
    )


def catalog_lexicon(forms_values, history_forms: int = 0, known_parts: int = 0) -> Lexicon:
    """`bench_lexicon` of the forms' values (dicts, as the generator's truth gives them): the
    catalog's models and part names, the stations those forms name, each text field's
    history from `history_forms` earlier forms (`earlier_history`; 0: none), and
    `known_parts` part and engine numbers of earlier claims (`earlier_part_numbers`,
    `earlier_engine_numbers`; 0: none)."""
    stations = {str(v[k]) for v in forms_values for k in STATION_KEYS if v.get(k)}
    history = earlier_history(history_forms) if history_forms else {}
    parts = earlier_part_numbers(known_parts) if known_parts else []
    engines = earlier_engine_numbers(known_parts) if known_parts else []
    return Lexicon.of(
        vehicle_model=[*V.TRUCK_MODELS, *V.CAR_MODELS], part_name=V.PARTS, station=sorted(stations),
        part_no=parts, engine_no=engines, **history,
    )  # fmt: skip


def earlier_part_numbers(n: int, seed: int = 900_002) -> list[str]:
    """`n` part numbers of warranty claims an installation imported before the forms read:
    the generator's part numbers (samples/synth/vocab.part_no) with a seed no set uses (nor
    HISTORY_SEED), so the reader knows the manufacturer's formats, not the numbers on the
    forms."""
    rng = np.random.default_rng(seed)
    return [V.part_no(rng) for _ in range(n)]


def earlier_engine_numbers(n: int, seed: int = 900_003) -> list[str]:
    """`n` engine numbers of warranty claims imported before the forms read (the
    generator's, samples/synth/vocab.engine_no, with a seed no set uses): the reader knows
    the engine makers' formats, not the engines on the forms."""
    rng = np.random.default_rng(seed)
    return [V.engine_no(rng) for _ in range(n)]


HISTORY_FORMS = 20  # earlier forms of each template whose values people confirmed
HISTORY_SEED = 900_001  # none of the sets read uses it


def earlier_history(forms: int = HISTORY_FORMS, seed: int = HISTORY_SEED) -> dict[str, list[str]]:
    """The history lists (store.history) of `forms` earlier forms of every template whose
    values people confirmed, every text value of them: the generator's values with
    another seed than any set read — what an installation has reviewed in its first
    weeks."""
    from formdesk.store.history import history_lists
    from formdesk.templates import load_catalog
    from samples.synth.values import make_values

    reviewed: list[tuple[str, str, str | None, object]] = []
    rng = np.random.default_rng(seed)
    for code, template in sorted(load_catalog().items()):
        tables = {f.key for f in template.table_fields}
        for _ in range(forms):
            for key, value in make_values(template, rng).items():
                if key not in tables:
                    reviewed.append((code, key, None, value))
                    continue
                for row in value or []:
                    reviewed += [(code, key, column, v) for column, v in row.items()]
    return history_lists(reviewed)


def _hands_chunk(
    job: tuple[list[tuple[str, dict]], bool, Lexicon | None, KnownClaims | None],
) -> tuple[list[dict], dict]:
    paths, all_evidence, lexicon, known = job
    reader = FormReader(KEY, default_engine(), all_evidence=all_evidence, lexicon=lexicon)
    rows, forms, _ = hands_rows([(Path(p), t) for p, t in paths], reader, known)
    return rows, forms


def read_hands_parallel(
    items,
    workers: int,
    all_evidence: bool,
    lexicon: Lexicon | None = None,
    known: KnownClaims | None = None,
) -> tuple[list[dict], dict]:
    """`hands_rows` over `workers` processes (one OCR thread each), rows in item order."""
    chunks = [[(str(p), t) for p, t in items[i::workers]] for i in range(max(1, workers))]
    os.environ["FORMDESK_OCR_THREADS"] = "1"
    try:
        with ProcessPoolExecutor(len(chunks)) as pool:
            parts = list(
                pool.map(_hands_chunk, [(c, all_evidence, lexicon, known) for c in chunks])
            )
    finally:
        del os.environ["FORMDESK_OCR_THREADS"]
    rows: list[dict] = []
    forms: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for part_rows, part_forms in parts:
        rows += part_rows
        for hand, (found, lost) in part_forms.items():
            forms[hand][0] += found
            forms[hand][1] += lost
    return rows, dict(forms)


def _figures(rows: list[dict]) -> tuple[int, int, int, int]:
    """(filled, exact, marked ok, wrong among ok) over `rows`."""
    ok = [r for r in rows if r["status"] == "ok"]
    return len(rows), sum(r["correct"] for r in rows), len(ok), sum(not r["correct"] for r in ok)


def print_hand_table(title: str, rows: list[dict]) -> None:
    """Per field type and over all filled fields: filled, exact, marked ok, wrong among ok."""
    filled = [r for r in rows if r["filled"]]
    print(f"\n{title}")
    print(
        f"  {'field type':<14}{'filled':>7}  {'exact':>7}  {'marked ok':>9}  {'wrong among ok':>16}"
    )
    by_type: dict[str, list[dict]] = defaultdict(list)
    for r in filled:
        by_type[r["type"]].append(r)
    for label, sel in [*sorted(by_type.items()), ("all", filled)]:
        n, exact, ok, wrong = _figures(sel)
        print(
            f"  {label:<14}{n:>7}  {pct(exact, n):>7}  {pct(ok, n):>9}  {wrong:>6} ({pct(wrong, ok).strip():>7})"
        )
    text = [r for r in filled if is_text(FieldType(r["type"]))]
    n, exact, ok, wrong = _figures(text)
    print(
        f"  {'text only':<14}{n:>7}  {pct(exact, n):>7}  {pct(ok, n):>9}  {wrong:>6} ({pct(wrong, ok).strip():>7})"
    )
    blank_ok = [r for r in rows if not r["filled"] and r["status"] == "ok" and not r["correct"]]
    if blank_ok:
        kinds = defaultdict(int)
        for r in blank_ok:
            kinds[r["type"]] += 1
        print(
            f"  (+ {len(blank_ok)} unfilled fields read as a value and marked ok: "
            + ", ".join(f"{t} {k}" for t, k in sorted(kinds.items()))
            + "; "
            + ", ".join(f"{r['key']}={r['value']!r}" for r in blank_ok[:8])
            + ")"
        )


def dump_rows(rows: list[dict], path: Path) -> int:
    """One JSON line per filled text-like field or table cell; returns the number written."""
    keys = ("hand", "file", "template", "key", "type", "status", "confidence", "evidence",
            "reason", "value", "expected", "correct")  # fmt: skip
    n = 0
    with path.open("w", encoding="utf-8") as f:
        for r in rows:
            if r["filled"] and is_text(FieldType(r["type"])):
                f.write(json.dumps({k: r[k] for k in keys}, ensure_ascii=False) + "\n")
                n += 1
    return n


def hands_main(args: argparse.Namespace) -> None:
    """`--hands`: a set per source (or `--set`), read, and the figures per source."""
    sources = parse_hands(args.hands)
    tmp = None
    if args.set is not None:
        items = load_set(args.set) + [
            x for d in sorted(args.set.iterdir()) if d.is_dir() for x in load_set(d)
        ]
    else:
        tmp = tempfile.TemporaryDirectory(prefix="hands-bench-")
        items = []
        for s in sources:
            folder = Path(tmp.name) / s.name
            t0 = time.perf_counter()
            generate(
                folder, args.count, hand_seed(args.seed, s.name), s.name, HAND_KINDS,
                args.templates,
            )  # fmt: skip
            print(
                f"generated {args.count} images by {s.name} (seed {hand_seed(args.seed, s.name)}) "
                f"in {time.perf_counter() - t0:.1f} s",
                flush=True,
            )
            items += load_set(folder)
    engine = default_engine()
    t0 = time.perf_counter()
    lexicon = (
        bench_lexicon(items, args.history, args.known_parts) if args.lexicon == "catalog" else None
    )
    known = None
    if args.claims:
        known = bench_claims((f for _p, t in items for f in t["forms"]), args.seed)
        print(f"claims held: {len(known.claims)} (bench/known_claims.py)")
    rows, forms = read_hands_parallel(items, args.workers, args.all_evidence, lexicon, known)
    dt = time.perf_counter() - t0
    wanted = [s.name for s in sources] if args.set is None else sorted(forms)
    print(
        f"\n{len(items)} images read in {dt:.0f} s; held out of calibration: {', '.join(HELD_OUT)}"
    )
    for name in wanted:
        sel = [r for r in rows if r["hand"] == name]
        found, lost = forms.get(name, [0, 0])
        mark = " (held out)" if name in HELD_OUT else ""
        print_hand_table(f"{name}{mark}: {found} forms read, {lost} not found", sel)
    print_hand_table(f"all sources: {sum(f for f, _ in forms.values())} forms read, "
                     f"{sum(n for _, n in forms.values())} not found", rows)  # fmt: skip
    print(f"\n{'source':<14}{'filled':>7}  {'exact':>7}  {'marked ok':>9}  {'wrong among ok':>16}")
    for name in [*wanted, "all"]:
        sel = [r for r in rows if r["filled"] and (name == "all" or r["hand"] == name)]
        n, exact, ok, wrong = _figures(sel)
        print(
            f"{name:<14}{n:>7}  {pct(exact, n):>7}  {pct(ok, n):>9}  {wrong:>6} ({pct(wrong, ok).strip():>7})"
        )
    if known is not None:
        print(
            "\nmade ok at filing (claims, stations), by source: filled, ok as read -> as filed "
            "(less those a claim contradicts, below)"
        )
        for name in [*wanted, "all"]:
            sel = [r for r in rows if r["filled"] and (name == "all" or r["hand"] == name)]
            read_ok = sum(r["read_status"] == "ok" for r in sel)
            made = [r for r in sel if r["read_status"] != "ok" and r["status"] == "ok"]
            kinds = defaultdict(int)
            for r in made:
                kinds[r["type"]] += 1
            filed_ok = sum(r["status"] == "ok" for r in sel)
            print(
                f"  {name:<12}{len(sel):>7}  {pct(read_ok, len(sel))} -> "
                f"{pct(filed_ok, len(sel))}  (+{len(made)}, "
                f"{sum(not r['correct'] for r in made)} wrong: "
                + ", ".join(f"{t} {k}" for t, k in sorted(kinds.items()))
                + ")"
            )
        print("sent to review at filing (a claim contradicts the reading): readings, of them right")
        for name in [*wanted, "all"]:
            sel = [r for r in rows if r["filled"] and (name == "all" or r["hand"] == name)]
            sent = [r for r in sel if r["read_status"] == "ok" and r["status"] != "ok"]
            print(f"  {name:<12}{len(sent):>7}  {sum(r['correct'] for r in sent)} right")
    if not args.no_page_ocr:
        page, _ = page_ocr_pass(items, engine)
        got = [ok for _t, ok, hw in page if hw]
        print(f"\nwhole-page OCR, handwritten text fields exact: {pct(sum(got), len(got))}")
    if args.dump:
        n = dump_rows(rows, args.dump)
        print(f"\n{n} filled text fields and cells -> {args.dump}")
    if tmp:
        tmp.cleanup()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=120)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--set", type=Path, help="an existing generated folder")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--show-errors", type=int, default=0, help="list this many misread fields")
    ap.add_argument(
        "--hands",
        default="",
        help=f"comma list of hand sources ({', '.join(HAND_SOURCES)}, or all): a set per "
        "source, figures per source (default --count 30 each); with --external [--tags], "
        "its pages made again for each source, figures per source",
    )
    ap.add_argument(
        "--templates",
        default="",
        help="with --hands: only these forms (comma list of codes, e.g. 表格06,SH-ZH/BD-27), "
        "to gather enough readings of a rare field type (date-times, engine numbers)",
    )
    ap.add_argument("--no-page-ocr", action="store_true", help="skip the whole-page OCR pass")
    ap.add_argument(
        "--lexicon",
        choices=("none", "catalog"),
        default="none",
        help="with --hands or --external: read models, part names and stations against what "
        "an installation knows (bench_lexicon)",
    )
    ap.add_argument(
        "--history",
        type=int,
        default=HISTORY_FORMS,
        help="with --lexicon catalog: text fields also read against the values confirmed on "
        f"this many earlier forms of each template (default {HISTORY_FORMS}; 0: none)",
    )
    ap.add_argument(
        "--known-parts",
        type=int,
        default=0,
        help="with --lexicon catalog: the reader knows this many part and engine numbers of "
        "claims imported before (none on the forms read; the formats they share: "
        "lexicon.twin_shape, short_shape)",
    )
    ap.add_argument(
        "--claims",
        action="store_true",
        help="with --hands: file each record as the service does, against the warranty "
        "claims of the set's tags, manifests and repair reports (bench/known_claims.py)",
    )
    ap.add_argument(
        "--dump",
        type=Path,
        help="with --hands: filled text fields as JSON lines; with --external: every filled field",
    )
    ap.add_argument(
        "--all-evidence",
        action="store_true",
        help="gather every kind of evidence for every field (for bench/calibrate.py)",
    )
    ap.add_argument(
        "--external",
        action="store_true",
        help="forms formdesk did not print (tests/data/external) next to its own, read as "
        "registered layouts (default --count 4 pages of each per form)",
    )
    ap.add_argument(
        "--tags",
        action="store_true",
        help="with --external: BD-27 tags on an A4 flatbed (one, two, three and a cut one) "
        "and on a desk (default --count 3 of each)",
    )
    args = ap.parse_args()
    if args.external and args.tags:
        from bench.external_tags import tags_main

        if "--count" not in sys.argv:
            args.count = 3
        tags_main(args, KEY)
        return
    if args.external:
        from bench.external_read import external_main

        if "--count" not in sys.argv:
            args.count = 4
        external_main(args, KEY)
        return
    if args.hands:
        if "--count" not in sys.argv:
            args.count = 30
        hands_main(args)
        return
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
    if args.no_page_ocr:
        page, page_times = [], {p: float("nan") for p, _ in items}
    else:
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
    prefilled_pass(items, engine)
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
