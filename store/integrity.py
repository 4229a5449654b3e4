"""What a good data file looks like, and the one-line message when one is not.

A db file (`<data>/db/*.json`) is one JSON object: an optional commit token and tables,
each an object of rows keyed by id, each row an object. The tables formdesk knows have
the keys the code reads (`TABLES`); a db file it does not know (one added later, such as
db/sessions.json) is checked only for that general shape. A record file
(`<data>/records/<id>.json`) is `{record_id, rev, record, summary?}`.

Lost, not only damaged: a known db file that is missing while its `.prev` copy is there
was deleted; the users table missing or empty while the folder holds records, scans,
batches or printed documents was lost (never a fresh start).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal

from .files import prev_path
from .interface import DamagedFileError

TOKEN_KEY = "_commit"
Tables = dict[str, dict[str, dict[str, Any]]]

# file -> table -> (the row field equal to its key or None, fields every row has)
TABLES: dict[str, dict[str, tuple[str | None, frozenset[str]]]] = {
    "meta.json": {
        "stations": ("code", frozenset({"name"})),
        "users": ("username", frozenset({"password_hash", "role"})),
        "tokens": (None, frozenset({"username"})),
        "settings": ("name", frozenset({"value"})),
    },
    "documents.json": {"documents": ("document_id", frozenset({"template"}))},
    "scans.json": {"scans": ("sha256", frozenset({"filename", "content_type", "size"}))},
    "queue.json": {
        "batches": ("batch_id", frozenset({"station", "created_at", "scan_ids", "pages_done"})),
        "jobs": ("job_id", frozenset({"batch_id", "scan_id", "state", "attempts"})),
        "refusals": ("refusal_id", frozenset({"scan_id", "file_page", "state", "reason"})),
    },
    "records.json": {
        "records": (
            "record_id",
            frozenset(
                {
                    "rev",
                    "template",
                    "document_id",
                    "copy_index",
                    "station",
                    "status",
                    "min_confidence",
                    "scan_id",
                    "created_at",
                    "search_text",
                }
            ),
        ),
        "corrections": ("correction_id", frozenset({"record_id", "field_key", "new_value"})),
        "events": ("event_id", frozenset({"record_id", "action", "user", "at"})),
    },
    "claims.json": {
        "claims": ("claim_no", frozenset({"station", "repair_date"})),
        "imports": ("import_id", frozenset({"imported_at"})),
    },
    "layouts.json": {
        "layouts": (
            None,
            frozenset({"template", "name", "fields", "fingerprint", "reference_sha256"}),
        ),
    },
}
# Losing these loses nothing that matters (everyone signs in again): missing is fine.
DISPOSABLE = frozenset({"sessions.json"})
REBUILDABLE = {"records.json": "记录文件", "scans.json": "扫描件文件"}


class Damaged(ValueError):
    """What is wrong with one file's content (Chinese), before it is named."""


def _json(raw: bytes) -> Any:
    if not raw.strip():
        raise Damaged("是空的")
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise Damaged(f"已损坏(不是完整的 JSON:第 {exc.lineno} 行第 {exc.colno} 列)") from None
    except (UnicodeDecodeError, RecursionError, ValueError):
        raise Damaged("已损坏(不是 JSON 文本)") from None


def decode_tables(raw: bytes) -> Tables:
    """A db file's tables (the commit token dropped); Damaged if not the store's JSON."""
    data = _json(raw)
    if not isinstance(data, dict):
        raise Damaged("格式不对(应为 JSON 对象)")
    data.pop(TOKEN_KEY, None)
    for name, rows in data.items():
        if not isinstance(rows, dict):
            raise Damaged(f"格式不对({name} 表应为对象)")
        for key, row in rows.items():
            if not isinstance(row, dict):
                raise Damaged(f"格式不对({name} 表的 {key[:40]} 行应为对象)")
    return data


def check_tables(file_name: str, tables: Mapping[str, Mapping[str, Any]]) -> None:
    """Damaged if a table formdesk knows in this file lacks a field its rows must have."""
    for table, (key_field, needed) in TABLES.get(file_name, {}).items():
        for key, row in tables.get(table, {}).items():
            missing = needed - row.keys()
            if key_field is not None and row.get(key_field) != key:
                missing = missing | {key_field}
            if missing:
                raise Damaged(
                    f"格式不对({table} 表的 {key[:40]} 行缺少 {'、'.join(sorted(missing))})"
                )
            if table == "records" and not isinstance(row["rev"], int):
                raise Damaged(f"格式不对(records 表的 {key[:40]} 行版本号不是整数)")


def read_db_file(path: Path) -> Tables | None:
    """The tables of one db file, fully checked; None if there is no file; Damaged if bad."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise Damaged(f"无法读取({exc.strerror})") from None
    tables = decode_tables(raw)
    check_tables(path.name, tables)
    return tables


def good_prev(path: Path) -> Path | None:
    """The `.prev` copy of a db file if it is there and whole, else None."""
    prev = prev_path(path)
    try:
        return prev if read_db_file(prev) is not None else None
    except Damaged:
        return None


def damaged_file_error(path: Path, problem: str, *, users_lost: bool = False) -> DamagedFileError:
    """The error naming a damaged db file (`<data>/db/<name>`) and how to get it back."""
    data_dir = path.parent.parent
    repair = f"formdesk check --repair --data-dir {data_dir}"
    prev = good_prev(path)
    if prev is not None:
        hint = f"上一次完好的副本在 {prev},运行 {repair} 可恢复"
    elif path.name in REBUILDABLE:
        hint = f"没有完好的副本;运行 {repair} 可由{REBUILDABLE[path.name]}重建"
    elif path.name in DISPOSABLE:
        hint = f"没有完好的副本;运行 {repair} 将删除它(所有人需重新登录)"
    elif path.name == "meta.json":
        then = "或用" if users_lost else "或删除它后用"
        hint = (
            f"没有完好的副本:请从备份恢复该文件,{then} "
            f"formdesk user add … --data-dir {data_dir} 重新添加用户和维修站"
        )
    else:
        hint = "没有完好的副本:请从备份恢复该文件;若放弃其中的数据,删除它(及其 .prev)即可启动"
    return DamagedFileError(path, problem, hint)


def _any_file(folder: Path, *, depth: int) -> bool:
    """Whether `folder` (and its subfolders, `depth` levels) holds any file."""
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return False
    for entry in entries:
        if entry.is_file() and not entry.name.startswith("."):
            return True
        if depth and entry.is_dir() and _any_file(Path(entry.path), depth=depth - 1):
            return True
    return False


UsersRule = Literal["any", "required", "restoring"]


def _prev_users(data_dir: Path) -> bool:
    try:
        prev = read_db_file(prev_path(data_dir / "db" / "meta.json")) or {}
    except Damaged:
        return False
    return bool(prev.get("users"))


def existing_data(data_dir: Path, loaded: Mapping[str, Tables | None]) -> str | None:
    """What shows the folder is in use (Chinese, e.g. "记录 12 条"), or None."""
    counts = [
        ("records.json", "records", "记录"),
        ("scans.json", "scans", "扫描件"),
        ("queue.json", "batches", "上传批次"),
        ("documents.json", "documents", "打印的表单"),
    ]
    found = [
        f"{label} {len(rows)} 条"
        for name, table, label in counts
        if (rows := (loaded.get(name) or {}).get(table))
    ]
    if not found and _any_file(data_dir / "records", depth=0):
        found.append("记录文件")
    if not found and _any_file(data_dir / "scans", depth=1):
        found.append("扫描件文件")
    return "、".join(found) or None


def check_users(data_dir: Path, loaded: Mapping[str, Tables | None], rule: UsersRule) -> None:
    """DamagedFileError when the users were lost: the users table is missing or empty while
    its `.prev` copy holds users (any `rule`), or while the folder holds records, scans,
    batches or printed documents (`rule` "required": the service, which would otherwise
    start afresh). "restoring" (`formdesk user add`) lets users be added again when there
    is no good copy to restore."""
    meta = loaded.get("meta.json")
    if (meta or {}).get("users"):
        return
    path = data_dir / "db" / "meta.json"
    if _prev_users(data_dir):
        evidence = "上一版本的副本中有用户"
    elif rule == "required":
        evidence = existing_data(data_dir, loaded)
        if evidence is None:
            return  # a fresh data folder
        evidence = f"数据目录里已有{evidence}"
    else:
        return
    if rule == "restoring" and good_prev(path) is None:
        return
    what = "不见了" if meta is None else "中没有任何用户"
    raise damaged_file_error(path, f"{what},但{evidence}", users_lost=True)


def lost_record_index(data_dir: Path, tables: Tables | None) -> str | None:
    """The problem (Chinese) when db/records.json is missing or holds no record while
    records/ holds record files (a record file is only put in place after its row was
    committed), else None."""
    if (tables or {}).get("records"):
        return None
    if not any(not p.name.startswith(".") for p in (data_dir / "records").glob("*.json")):
        return None
    return f"{'不见了' if tables is None else '中没有任何记录'},但 records/ 中有记录文件"


def lost_files(db_dir: Path, present: Iterable[str]) -> list[Path]:
    """Db files missing while their `.prev` copy is there (deleted), the disposable aside."""
    have = set(present)
    lost = []
    for prev in sorted(db_dir.glob("*.json.prev")):
        name = prev.name.removesuffix(".prev")
        if name not in have and name not in DISPOSABLE:
            lost.append(db_dir / name)
    return lost


def other_db_files(db_dir: Path) -> list[Path]:
    """Db files formdesk does not know by name (checked for the general shape only)."""
    return sorted(p for p in db_dir.glob("*.json") if p.name not in TABLES)


# -- record files ----------------------------------------------------------------------------------


def read_record_file(path: Path, record_id: str) -> dict[str, Any] | None:
    """A record file's body `{record_id, rev, record, summary?}`; None if there is no file;
    Damaged (Chinese reason) if it cannot be read or has not that shape."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise Damaged(f"记录文件无法读取({exc.strerror})") from None
    try:
        body = _json(raw)
    except Damaged as exc:
        raise Damaged(f"记录文件{exc}") from None
    record = body.get("record") if isinstance(body, dict) else None
    if (
        not isinstance(record, dict)
        or not isinstance(body.get("rev"), int)
        or body.get("record_id", record_id) != record_id
        or not isinstance(record.get("fields"), list)
        or not all(isinstance(f, dict) and "key" in f for f in record["fields"])
    ):
        raise Damaged("记录文件格式不对")
    return body
