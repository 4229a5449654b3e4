"""Putting a planned month into a store as the service would: the stations, the printed
documents (so each read form gets its station), and the read scans."""

from __future__ import annotations

import copy
import os
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from formdesk.extract.reader import FormReader
from formdesk.model.claims import Station
from formdesk.model.documents import IssuedDocument
from formdesk.store import Store
from formdesk.store.placing import save_read_records
from formdesk.templates import get_template

from .synth.month import MonthPlan


def register_month(store: Store, plan: MonthPlan) -> None:
    """The stations and every planned manifest and tag as printed documents."""
    for code, name in plan.stations:
        if store.get_station(code) is None:
            store.add_station(Station(code=code, name=name))
    store.register_documents(
        [
            IssuedDocument(
                document_id=d.document_id,
                template=d.template,
                template_version=get_template(d.template).version,
                station=d.station,
                values=d.values,
            )
            for d in plan.docs
        ]
    )


_reader: tuple[bytes, FormReader] | None = None


def _read(job: tuple[str, bytes]) -> tuple[str, list[dict]]:
    global _reader
    path, key = job
    if _reader is None or _reader[0] != key:
        _reader = (key, FormReader(key))
    result = _reader[1].read_file(Path(path).read_bytes(), Path(path).name)
    return path, [r.model_dump(mode="json") for r in result.records]


def read_files(
    files: list[Path], key: bytes, workers: int = 2
) -> Iterator[tuple[Path, list[dict]]]:
    """(scan, records read from it) of every file, read by the real reader in `workers`
    processes (one core each), in the order of `files`."""
    before = os.environ.get("FORMDESK_OCR_THREADS")
    os.environ["FORMDESK_OCR_THREADS"] = "1"  # one core per process: no oversubscription
    try:
        with ProcessPoolExecutor(workers) as pool:
            jobs = [(str(f), key) for f in files]
            for path, records in pool.map(_read, jobs, chunksize=2):
                yield Path(path), records
    finally:
        if before is None:
            del os.environ["FORMDESK_OCR_THREADS"]
        else:
            os.environ["FORMDESK_OCR_THREADS"] = before


def store_read(store: Store, path: Path, records: list[dict]) -> None:
    """One scan and the records read from it, stored as the service's worker does."""
    scan, _ = store.put_scan(path.read_bytes(), path.name, "image/jpeg", "samples", None)
    save_read_records(store, scan.sha256, copy.deepcopy(records), None)


def read_into_store(store: Store, files: list[Path], key: bytes, workers: int = 2) -> None:
    """Reads every scan with the real reader in `workers` processes (one core each) and
    stores scan and records as the service's worker does."""
    for path, records in read_files(files, key, workers):
        store_read(store, path, records)
