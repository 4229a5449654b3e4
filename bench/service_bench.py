"""Service throughput: uploads/s, record-listing latency with 10,000 records stored, and
the latency of /health and of a records list while a 1,500-form print batch and a 200-page
upload are being handled.

    python bench/service_bench.py [--records 10000] [--uploads 200] [--clients 10]
                                  [--print-rows 1500] [--upload-pages 200] [--skip-load]

Uploads and listing: the real app under uvicorn on loopback, in this process (the
background reader off, so uploads are timed alone), on a real TinyDB folder.
Under load: `formdesk serve` as its own process (reader, inspection and render processes
as in production) on a folder holding the same records; this process only measures.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import uvicorn
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from formdesk.api.app import create_app  # noqa: E402
from formdesk.model.accounts import User  # noqa: E402
from formdesk.model.claims import Station  # noqa: E402
from formdesk.render.document import PdfRenderer  # noqa: E402
from formdesk.services.passwords import hash_password  # noqa: E402
from formdesk.templates import get_template  # noqa: E402

PASSWORD = "bench-password"
TEMPLATES = ["SH-ZH/BD-27", "SH-ZH/BD-30", "SH-ZH/BD-31", "表格04", "表格18"]


def fake_record(i: int, rng: random.Random) -> dict:
    """A record as the reader stores it, with a few fields of every status."""
    statuses = ["ok"] * 8 + ["check", "empty"]
    fields = [
        {
            "key": f"field_{k}",
            "label": f"栏目{k}",
            "type": "text",
            "value": f"值{i}-{k}",
            "raw": f"值{i}-{k}",
            "confidence": rng.uniform(0.5, 1.0),
            "status": rng.choice(statuses),
            "box": [10, 30 + 8 * k, 80, 8],
            "page": 1,
        }
        for k in range(12)
    ]
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


def serve(app) -> tuple[str, uvicorn.Server]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    threading.Thread(target=server.run, daemon=True).start()
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            httpx.get(f"{url}/health", timeout=1)
            break
        except httpx.HTTPError:
            time.sleep(0.1)
    return url, server


def client(url: str) -> httpx.Client:
    c = httpx.Client(base_url=url, timeout=60)
    c.headers["X-CSRF-Token"] = c.post(
        "/api/login", data={"username": "office", "password": PASSWORD}
    ).json()["csrf"]
    return c


def jpeg(i: int) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (1240, 1754), (i % 256, (i // 256) % 256, 200)).save(
        buf, "JPEG", quality=80
    )  # all distinct
    return buf.getvalue()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=10_000)
    ap.add_argument("--uploads", type=int, default=200)
    ap.add_argument("--clients", type=int, default=10)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--print-rows", type=int, default=1500)
    ap.add_argument("--upload-pages", type=int, default=200)
    ap.add_argument("--skip-load", action="store_true", help="only uploads and listing")
    args = ap.parse_args()
    rng = random.Random(1)
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(Path(tmp), start_worker=False)
        store = app.state.store
        for code in ("HN01", "HN02", "HN03"):
            store.add_station(Station(code=code, name=f"维修站{code}"))
        store.add_user(
            User(username="office", password_hash=hash_password(PASSWORD), role="back_office")
        )
        t0 = time.perf_counter()
        start = datetime(2026, 1, 1, tzinfo=UTC)
        store._bulk_load_records(
            [
                (
                    f"{i:064x}",
                    fake_record(i, rng),
                    rng.choice(["HN01", "HN02", "HN03"]),
                    start + timedelta(minutes=i),
                )
                for i in range(args.records)
            ]
        )
        print(f"stored {args.records} records in {time.perf_counter() - t0:.1f} s")
        url, server = serve(app)

        files = [jpeg(i) for i in range(args.uploads)]

        clients = [client(url) for _ in range(args.clients)]  # each signs in once

        def client_run(k: int) -> list[float]:
            """Client k uploads its share of the files one after another."""
            c, times = clients[k], []
            for i in range(k, args.uploads, args.clients):
                t = time.perf_counter()
                one = [("files", (f"scan{i}.jpg", files[i], "image/jpeg"))]
                res = c.post("/api/uploads", files=one)
                assert res.status_code == 202, res.text
                times.append(time.perf_counter() - t)
            return times

        t0 = time.perf_counter()
        with ThreadPoolExecutor(args.clients) as pool:
            upload_times = [t for ts in pool.map(client_run, range(args.clients)) for t in ts]
        wall = time.perf_counter() - t0
        print(
            f"uploads: {args.uploads} single-file uploads from {args.clients} clients in {wall:.1f} s "
            f"-> {args.uploads / wall:.1f} uploads/s (p50 {1000 * statistics.median(upload_times):.0f} ms)"
        )

        c = client(url)
        queries = [
            {},
            {"order": "least_confident", "status": "needs_review"},
            {"station": "HN02"},
            {"template": "SH-ZH/BD-27", "date_from": "2026-01-02"},
            {"q": "值77-3"},
        ]
        for params in queries:
            times = []
            for _ in range(args.queries // len(queries)):
                t = time.perf_counter()
                res = c.get("/api/records", params=params)
                times.append(time.perf_counter() - t)
                assert res.status_code == 200
            times.sort()
            p95 = times[int(0.95 * (len(times) - 1))]
            print(
                f"list {str(params):<55} total {res.json()['total']:>6}  "
                f"p50 {1000 * statistics.median(times):6.1f} ms  p95 {1000 * p95:6.1f} ms"
            )
        server.should_exit = True
        if not args.skip_load:
            under_load(Path(tmp), args)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * (len(ordered) - 1) + 0.5))]


def many_page_pdf(pages: int) -> bytes:
    """A PDF of `pages` prefilled 表格04 forms, as a scanner batch of that many pages."""
    template = get_template("表格04")
    values = __import__("json").loads(
        (ROOT / "samples" / "records" / f"{template.slug}.json").read_text(encoding="utf-8")
    )["values"]
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "many.pdf"
        with PdfRenderer(out, b"bench-key") as r:
            for _ in range(pages):
                r.add(template, values)
        return out.read_bytes()


def under_load(data: Path, args: argparse.Namespace) -> None:
    """/health and a records list timed while the served process prints and reads."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    env = os.environ | {"FORMDESK_SECRET": "bench-key", "FORMDESK_OCR_THREADS": "1"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "formdesk.api",
            "serve",
            "--port",
            str(port),
            "--data-dir",
            str(data),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(300):
            try:
                httpx.get(f"{url}/health", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        c = client(url)
        rows = ["来件单位,零部件名称,行驶里程"] + [
            f"长沙顺达汽车维修站,机油泵总成,{10_000 + i}" for i in range(args.print_rows)
        ]
        pdf = many_page_pdf(args.upload_pages)
        idle = {"health": [], "list": []}
        for _ in range(20):
            for name, path in (("health", "/health"), ("list", "/api/records")):
                t = time.perf_counter()
                c.get(path)
                idle[name].append(time.perf_counter() - t)
        t0 = time.perf_counter()
        job = c.post(
            "/api/print/sh-zh-bd-27/batch",
            files={"file": ("tags.csv", ("\n".join(rows) + "\n").encode(), "text/csv")},
        ).json()
        t_upload = time.perf_counter()
        up = c.post("/api/uploads", files=[("files", ("many.pdf", pdf, "application/pdf"))])
        t_upload = time.perf_counter() - t_upload
        assert up.status_code == 202, up.text
        batch_id = up.json()["batch_id"]
        busy = {"health": [], "list": []}
        while job["state"] in ("queued", "rendering"):
            for name, path in (("health", "/health"), ("list", "/api/records")):
                t = time.perf_counter()
                res = c.get(path)
                busy[name].append(time.perf_counter() - t)
                assert res.status_code in (200, 503), res.text
            job = c.get(job["status_url"]).json()
            time.sleep(0.05)
        t_print = time.perf_counter() - t0
        batch = c.get(f"/api/batches/{batch_id}").json()
        print(
            f"under load: {args.print_rows}-form print batch {job['state']} in {t_print:.1f} s "
            f"while a {args.upload_pages}-page PDF ({len(pdf) / 1e6:.1f} MB) was accepted in "
            f"{t_upload:.2f} s and queued for reading (reader busy on it: {batch['state']})"
        )
        for name in ("health", "list"):
            label = "/health" if name == "health" else "/api/records (10,000 stored)"
            print(
                f"  {label:<30} idle p50 {1000 * statistics.median(idle[name]):6.1f} ms "
                f"p95 {1000 * percentile(idle[name], 0.95):6.1f} ms | under load "
                f"p50 {1000 * statistics.median(busy[name]):6.1f} ms "
                f"p95 {1000 * percentile(busy[name], 0.95):6.1f} ms "
                f"max {1000 * max(busy[name]):6.1f} ms ({len(busy[name])} requests; target p95 < 200 ms)"
            )
    finally:
        proc.terminate()
        proc.wait(timeout=30)


if __name__ == "__main__":
    main()
