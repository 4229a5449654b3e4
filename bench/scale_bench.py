"""Scale on PostgreSQL (issue 11): the records list, search and least-confident order with
many records stored.

    python bench/scale_bench.py records [--records 1000000] [--queries 300]
                                        [--database-url postgresql://…]

`records`: generates the rows in bulk (`SqlRecordStore.bulk_load_records`, chunks of
20,000; not by reading), then times `list_records` as the API calls it (a page of 50 and
the total) for a random mix of what the back office asks: newest first, least confident
first, by station, form, status, month, and a search by VIN, plate or document id (whole
or in part), with deep pages. Prints the load rate and p50 / p95 / max per kind and over
all, in ms. Without --database-url a fresh database is made on 127.0.0.1:5432 and dropped.
"""

from __future__ import annotations

import argparse
import random
import secrets
import statistics
import sys
import time
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from formdesk.store.sql import upgrade  # noqa: E402
from formdesk.store.sql.store import SqlStore  # noqa: E402

SERVER = "postgresql://postgres@127.0.0.1:5432"
TEMPLATES = ["SH-ZH/BD-27", "SH-ZH/BD-30", "SH-ZH/BD-31", "表格04", "表格18"]
STATIONS = [f"HN{i:02d}" for i in range(1, 301)]  # a few hundred stations
VIN_CHARS = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ"


def vin(rng: random.Random) -> str:
    return "LGA" + "".join(rng.choice(VIN_CHARS) for _ in range(10)) + f"{rng.randrange(10**4):04d}"


def plate(rng: random.Random) -> str:
    return "湘" + rng.choice("ABCDEFGHJK") + "".join(rng.choice(VIN_CHARS[:10]) for _ in range(5))


def fake_record(i: int, rng: random.Random) -> dict:
    """A record as the reader stores it: a VIN, a plate and ten text fields of every
    status (the shape of extract's FormRecord dump)."""
    statuses = ["ok"] * 8 + ["check", "empty"]
    values = {"vin": vin(rng), "plate": plate(rng)}
    fields = [
        {
            "key": key, "label": key, "type": "text", "value": value, "raw": value,
            "confidence": rng.uniform(0.9, 1.0), "status": "ok",
            "box": [10, 30, 80, 8], "page": 1,
        }
        for key, value in values.items()
    ] + [
        {
            "key": f"field_{k}", "label": f"栏目{k}", "type": "text", "value": f"值{i}-{k}",
            "raw": f"值{i}-{k}", "confidence": rng.uniform(0.5, 1.0),
            "status": rng.choice(statuses), "box": [10, 40 + 8 * k, 80, 8], "page": 1,
        }
        for k in range(10)
    ]  # fmt: skip
    return {
        "template": rng.choice(TEMPLATES),
        "template_version": 1,
        "document_id": f"261101-{i:010X}",
        "copy_index": 1,
        "identified_by": "qr",
        "authentic": True,
        "residual_mm": 0.05,
        "pages": [{"file": f"scan{i}.jpg", "file_page": 0, "slot": 0, "form_page": 1}],
        "fields": fields,
        "problems": [],
    }


@contextmanager
def database(url: str | None):
    if url:
        upgrade(url)
        yield url
        return
    name = f"formdesk_scale_{secrets.token_hex(3)}"
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        upgrade(f"{SERVER}/{name}")
        yield f"{SERVER}/{name}"
    finally:
        with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def load(store: SqlStore, count: int, rng: random.Random) -> list[dict]:
    """`count` records over a year, in chunks; a sample of them to search for."""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    step = timedelta(seconds=365 * 86400 / max(count, 1))
    sample: list[dict] = []
    t0 = time.perf_counter()
    for first in range(0, count, 20_000):
        items = []
        for i in range(first, min(count, first + 20_000)):
            record = fake_record(i, rng)
            items.append((f"{i:064x}", record, rng.choice(STATIONS), start + step * i))
            if rng.random() < 200 / count:
                sample.append(record)
        store.bulk_load_records(items)
        done = min(count, first + 20_000)
        rate = done / (time.perf_counter() - t0)
        print(f"\r  loaded {done:,} records ({rate:,.0f}/s)", end="", flush=True)
    print()
    with store.engine.begin() as db:
        db.exec_driver_sql("ANALYZE records")
    return sample


def queries(rng: random.Random, sample: list[dict], n: int) -> list[tuple[str, dict]]:
    """A random mix of listings, as (kind, list_records keyword arguments)."""
    out = []
    for _ in range(n):
        rec = rng.choice(sample)
        month = rng.randrange(1, 13)
        first = date(2026, month, 1)
        last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        kind = rng.choice(
            ["newest", "least_confident", "station", "form+status", "month", "vin",
             "vin part", "plate", "document id", "deep page"]
        )  # fmt: skip
        kw: dict = {
            "newest": {},
            "least_confident": {"order": "least_confident"},
            "station": {"station": rng.choice(STATIONS)},
            "form+status": {"template": rng.choice(TEMPLATES), "status": "needs_review"},
            "month": {"date_from": first, "date_to": last, "station": rng.choice(STATIONS)},
            "vin": {"text": rec["fields"][0]["value"]},
            "vin part": {"text": rec["fields"][0]["value"][-8:]},
            "plate": {"text": rec["fields"][1]["value"]},
            "document id": {"text": rec["document_id"]},
            "deep page": {"offset": 50 * rng.randrange(1, 200)},
        }[kind]
        out.append((kind, kw))
    return out


def pct(values: list[float], q: float) -> float:
    return sorted(values)[min(len(values) - 1, int(q * len(values)))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("what", choices=["records"])
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--database-url")
    args = ap.parse_args()
    rng = random.Random(11)
    with database(args.database_url) as url:
        store = SqlStore.open(url)
        try:
            stored = store.list_records(limit=0, duplicates=True)[1]
            if stored < args.records:
                print(f"generating {args.records - stored:,} records (bulk, not read)")
                sample = load(store, args.records - stored, rng)
            else:
                sample = [store.get_record(r.record_id).record for r in store.list_records(
                    limit=200, offset=rng.randrange(max(1, stored - 200)))[0]]  # fmt: skip
            times: dict[str, list[float]] = {}
            for kind, kw in queries(rng, sample, args.queries):
                t0 = time.perf_counter()
                items, total = store.list_records(limit=50, **kw)
                times.setdefault(kind, []).append((time.perf_counter() - t0) * 1000)
                if kind in ("vin", "document id"):
                    assert total >= 1, (kind, kw)
            every = [t for ts in times.values() for t in ts]
            print(f"records stored: {store.list_records(limit=0, duplicates=True)[1]:,}")
            print(f"{'kind':<16}{'n':>5}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}")
            for kind, ts in sorted(times.items()):
                print(f"{kind:<16}{len(ts):>5}{statistics.median(ts):>9.1f}"
                      f"{pct(ts, 0.95):>9.1f}{max(ts):>9.1f}")  # fmt: skip
            print(f"{'all':<16}{len(every):>5}{statistics.median(every):>9.1f}"
                  f"{pct(every, 0.95):>9.1f}{max(every):>9.1f}")  # fmt: skip
        finally:
            store.close()


if __name__ == "__main__":
    main()
