"""Index rows made again from the files they describe, for `formdesk check --repair`.

- A record file carries its summary row (all but the search text, which its fields give
  again): db/records.json is rebuilt from records/*.json. Older files, written before the
  summary was kept in them, cannot give their row (their scan, station and time are not
  in them). Corrections live only in db/records.json: lost with it.
- A scan file is named by its sha256: db/scans.json is rebuilt from scans/ab/<sha256>, its
  type sniffed from the bytes; the original file name and uploader are not in the file.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from formdesk.model.time import format_time

from .integrity import Damaged, check_tables, read_record_file
from .summary import search_text

REBUILT_BY = "formdesk-check"  # the uploader of a scan whose row was rebuilt
_EXTENSIONS = {"pdf": ".pdf", "jpeg": ".jpg", "png": ".png", "tiff": ".tif"}
_TYPES = {"pdf": "application/pdf", "jpeg": "image/jpeg", "png": "image/png", "tiff": "image/tiff"}


def record_files(records_dir: Path) -> dict[str, Path]:
    """Every final record file by record id (pending and temporary files left out)."""
    out = {}
    for path in records_dir.glob("*.json"):
        if not path.name.startswith("."):
            out[path.name.removesuffix(".json")] = path
    return out


def row_of_record(body: Mapping[str, Any]) -> dict[str, Any] | None:
    """The summary row a record file's body gives (its search text computed again), or
    None when the file has no summary (written before files kept one) or a broken one."""
    summary = body.get("summary")
    if not isinstance(summary, dict):
        return None
    record_id = body.get("record_id")
    row = {
        **summary,
        "record_id": record_id,
        "rev": body["rev"],
        "search_text": search_text(body["record"], summary.get("station")),
    }
    try:
        check_tables("records.json", {"records": {record_id: row}})
    except Damaged:
        return None
    return row


def records_from_files(records_dir: Path) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """(record rows by id, Chinese reason by record id for each file that gave none)."""
    rows: dict[str, dict[str, Any]] = {}
    failed: dict[str, str] = {}
    for record_id, path in sorted(record_files(records_dir).items()):
        try:
            body = read_record_file(path, record_id)
        except Damaged as exc:
            failed[record_id] = str(exc)
            continue
        row = row_of_record(body or {})
        if row is None:
            failed[record_id] = "记录文件中没有摘要(旧格式),无法重建索引行"
        else:
            rows[record_id] = row
    return rows, failed


def scan_files(scans_dir: Path) -> dict[str, Path]:
    """Every stored scan file by sha256 (the name it is stored under)."""
    out = {}
    for path in scans_dir.glob("??/*"):
        name = path.name
        if len(name) == 64 and name[:2] == path.parent.name and not name.startswith("."):
            out[name] = path
    return out


def scan_row(path: Path, station: str | None) -> dict[str, Any]:
    """A scans.json row for a stored file: type sniffed, name made from the hash."""
    from formdesk.ingest import IngestError, sniff

    data = path.read_bytes()
    try:
        kind = sniff(data)
    except IngestError:
        kind = ""
    sha = path.name
    mtime = datetime.fromtimestamp(os.stat(path).st_mtime, UTC)
    return {
        "sha256": sha,
        "filename": f"{sha[:12]}{_EXTENSIONS.get(kind, '')}",
        "content_type": _TYPES.get(kind, "application/octet-stream"),
        "size": len(data),
        "station": station,
        "uploaded_by": REBUILT_BY,
        "uploaded_at": format_time(mtime),
    }


def scans_from_files(
    scans_dir: Path, records: Mapping[str, Mapping[str, Any]]
) -> dict[str, dict[str, Any]]:
    """scans.json rows for every stored scan file; a scan's station is that of a record
    read from it (else none: only the back office sees it)."""
    stations: dict[str, str] = {}
    for row in records.values():
        if row.get("station"):
            stations.setdefault(row["scan_id"], row["station"])
    return {
        sha: scan_row(path, stations.get(sha))
        for sha, path in sorted(scan_files(scans_dir).items())
    }


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
