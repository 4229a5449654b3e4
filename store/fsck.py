"""`formdesk check`: a data folder's files checked against each other, and repaired where
the files themselves allow it. Works on the files, not through `TinyStore`, so it runs on
a folder the store refuses to open.

Checked: every db file (parses, has its shape, not lost — as at open), the users, every
record file against its index row (revision, pending files), every scan row against its
file (size; `deep`: sha256), every queued job against the scan and batch it names.

Repaired (`repair`, under the store's write lock): a damaged or lost db file from its good
`.prev` copy; db/records.json and db/scans.json, when they have none, rebuilt from the
record and scan files (`rebuild`); the index row of a record whose file is at another
revision, from the file; a committed pending record file put in place; a disposable file
(sessions) removed. Whatever cannot be repaired is said, with what to do.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .files import atomic_write, prev_path
from .integrity import (
    DISPOSABLE,
    TABLES,
    Damaged,
    Tables,
    check_users,
    damaged_file_error,
    good_prev,
    lost_record_index,
    read_db_file,
    read_record_file,
)
from .interface import DamagedFileError
from .jsondb import encode_tables
from .lock import WriteLock
from .rebuild import (
    record_files,
    records_from_files,
    row_of_record,
    scan_files,
    scan_row,
    scans_from_files,
    sha256_of,
)

_PENDING = ".json.pending-"
LOST_RECORD = "记录内容无法恢复:原始扫描件仍在,重新上传识读即可(在此之前该记录显示为已损坏)"


@dataclass
class Finding:
    """One thing found about `path`: `problem` (Chinese); `repaired` says what --repair
    did, else `advice` what to do; `fixable` when --repair would do it. A `note` is
    harmless and leaves the folder clean."""

    path: Path
    problem: str
    repaired: str | None = None
    advice: str | None = None
    fixable: bool = False
    note: bool = False


@dataclass
class Report:
    """Every finding, and how many db files, records and scans were checked."""

    findings: list[Finding] = field(default_factory=list)
    db_files: int = 0
    records: int = 0
    scans: int = 0

    @property
    def unresolved(self) -> list[Finding]:
        return [f for f in self.findings if not f.note and f.repaired is None]

    @property
    def clean(self) -> bool:
        """Nothing left to do (repaired findings and notes aside)."""
        return not self.unresolved


def check_folder(data_dir: Path, *, repair: bool = False, deep: bool = False) -> Report:
    """Checks (and with `repair`, repairs) the data folder `data_dir`; see the module doc."""
    data_dir = Path(data_dir)
    lock = WriteLock(data_dir / ".lock") if repair else contextlib.nullcontext()
    try:
        with lock:
            return _Check(data_dir, repair, deep).run()
    finally:
        if isinstance(lock, WriteLock):
            lock.close()


class _Check:
    def __init__(self, data_dir: Path, repair: bool, deep: bool):
        self.data_dir = data_dir
        self.db_dir = data_dir / "db"
        self.records_dir = data_dir / "records"
        self.scans_dir = data_dir / "scans"
        self.repair = repair
        self.deep = deep
        self.report = Report()
        self.tables: dict[str, Tables | None] = {}
        self.broken: set[str] = set()  # db files still damaged: checks that need them skip

    def run(self) -> Report:
        self._db_files()
        self._users()
        records = self._records()
        self._scans(records)
        self._queue()
        return self.report

    # -- findings ---------------------------------------------------------------------------------
    def _add(self, path: Path, problem: str, **kw: Any) -> None:
        self.report.findings.append(Finding(path, problem, **kw))

    def _fix(self, path: Path, problem: str, action: str, do: Callable[[], object]) -> bool:
        """Does `do` under --repair (said as "已" + `action`, a verb phrase); else says
        that --repair can do it."""
        if not self.repair:
            self._add(path, problem, advice=action, fixable=True)
            return False
        do()
        self._add(path, problem, repaired=f"已{action}")
        return True

    # -- db files ---------------------------------------------------------------------------------
    def _db_names(self) -> list[str]:
        names = set(TABLES) | {p.name for p in self.db_dir.glob("*.json")}
        names |= {p.name.removesuffix(".prev") for p in self.db_dir.glob("*.json.prev")}
        return sorted(names)

    def _db_files(self) -> None:
        for name in self._db_names():
            path = self.db_dir / name
            problem = None
            try:
                tables = read_db_file(path)
            except Damaged as exc:
                tables, problem = None, str(exc)
            else:
                if tables is None and prev_path(path).exists() and name not in DISPOSABLE:
                    problem = "不见了(只剩上一版本的副本)"
                elif name == "records.json":
                    problem = lost_record_index(self.data_dir, tables)
            if tables is not None or problem is not None:
                self.report.db_files += 1
            if problem is not None:
                tables = self._fix_db_file(path, problem)
            self.tables[name] = tables

    def _fix_db_file(self, path: Path, problem: str, users_lost: bool = False) -> Tables | None:
        """Restores or rebuilds a damaged db file; its tables, or None if it stays broken.
        (Record files that cannot give their row are said by `_records`.)"""
        name = path.name
        prev = good_prev(path)
        if prev is not None:
            action = f"从 {prev} 恢复(它是上一版本:对该文件的最后一次写入会丢失)"
            if self._fix(path, problem, action, lambda: atomic_write(path, prev.read_bytes())):
                return read_db_file(path)
        elif name == "records.json":
            rows, _ = records_from_files(self.records_dir)
            tables = {"records": rows, "corrections": {}}
            action = f"由 {len(rows)} 个记录文件重建(更正历史和确认状态无法恢复)"
            if self._fix(path, problem, action, lambda: atomic_write(path, encode_tables(tables))):
                return tables
        elif name == "scans.json":
            records = (self.tables.get("records.json") or {}).get("records", {})
            rows = scans_from_files(self.scans_dir, records)
            tables = {"scans": rows}
            action = f"由 {len(rows)} 个扫描件文件重建(原文件名和上传人无法恢复)"
            if self._fix(path, problem, action, lambda: atomic_write(path, encode_tables(tables))):
                return tables
        elif name in DISPOSABLE:
            self._fix(path, problem, "删除(所有人需重新登录)", lambda: path.unlink(missing_ok=True))
        else:
            hint = damaged_file_error(path, problem, users_lost=users_lost).hint
            self._add(path, problem, advice=hint)
        self.broken.add(name)
        return None

    def _users(self) -> None:
        if "meta.json" in self.broken:
            return
        try:
            check_users(self.data_dir, self.tables, "required")
        except DamagedFileError as exc:
            self.tables["meta.json"] = self._fix_db_file(exc.path, exc.problem, users_lost=True)

    # -- records ----------------------------------------------------------------------------------
    def _read(self, path: Path, record_id: str) -> tuple[dict[str, Any] | None, str | None]:
        try:
            return read_record_file(path, record_id), None
        except Damaged as exc:
            return None, str(exc)

    def _records(self) -> dict[str, dict[str, Any]]:
        tables = self.tables.get("records.json")
        if "records.json" in self.broken or tables is None:
            return {}
        rows = dict(tables.get("records", {}))
        files = record_files(self.records_dir)
        changed = False
        for record_id, row in list(rows.items()):
            path = self.records_dir / f"{record_id}.json"
            body, problem = self._read(path, record_id) if record_id in files else (None, None)
            rev = row["rev"]
            if body is not None and body["rev"] == rev:
                continue
            pending = self.records_dir / f"{record_id}{_PENDING}{rev}"
            staged, _ = self._read(pending, record_id)
            if staged is not None and staged["rev"] == rev:
                self._fix(
                    path,
                    f"第 {rev} 版已提交但仍在待就位文件中",
                    "放到位",
                    lambda p=pending, f=path: os.replace(p, f),
                )
                continue
            if body is not None:
                changed |= self._record_out_of_step(path, rows, body, rev)
            else:
                self._add(path, problem or "记录文件缺失", advice=LOST_RECORD)
        for record_id in sorted(files.keys() - rows.keys()):
            path = files[record_id]
            body, problem = self._read(path, record_id)
            row = row_of_record(body) if body is not None else None
            if row is None:
                reason = problem or "不在索引中,文件中也没有摘要(旧格式),无法据此重建索引行"
                self._add(path, reason, advice=LOST_RECORD)
            elif self._fix(
                path,
                "不在索引中",
                "据记录文件补回索引行",
                lambda r=row: rows.update({r["record_id"]: r}),
            ):
                changed = True
        known = rows.keys()
        orphans = {c["record_id"] for c in tables.get("corrections", {}).values()} - known
        for record_id in sorted(orphans):
            self._add(
                self.db_dir / "records.json", f"有记录 {record_id} 的更正,但没有这条记录", note=True
            )
        if changed:
            path = self.db_dir / "records.json"
            atomic_write(path, encode_tables({**tables, "records": rows}), keep_prev=True)
            self.tables["records.json"] = {**tables, "records": rows}
        self.report.records = len(rows)
        return rows

    def _record_out_of_step(
        self, path: Path, rows: dict[str, dict[str, Any]], body: dict[str, Any], rev: int
    ) -> bool:
        """A record file at another revision than its row: the row follows the file."""
        problem = f"记录文件是第 {body['rev']} 版,索引为第 {rev} 版"
        row = row_of_record(body)
        if row is None:
            self._add(path, problem, advice=f"文件中没有摘要(旧格式),无法据此修复;{LOST_RECORD}")
            return False
        action = f"将索引按记录文件改为第 {body['rev']} 版"
        if body["rev"] < rev:
            action += f"(第 {rev} 版的内容已丢失)"
        return self._fix(path, problem, action, lambda: rows.update({row["record_id"]: row}))

    # -- scans and the queue ------------------------------------------------------------------------
    def _scans(self, records: dict[str, dict[str, Any]]) -> None:
        tables = self.tables.get("scans.json")
        if "scans.json" in self.broken:
            return
        rows = dict((tables or {}).get("scans", {}))
        files = scan_files(self.scans_dir)
        for sha, row in sorted(rows.items()):
            path = self.scans_dir / sha[:2] / sha
            if sha not in files:
                self._add(path, "扫描件文件缺失", advice="原始文件无法恢复,请从备份恢复")
            elif path.stat().st_size != row["size"]:
                self._add(path, f"大小不符(登记为 {row['size']} 字节)", advice="请从备份恢复")
            elif self.deep and sha256_of(path) != sha:
                self._add(path, "内容与校验值不符(文件已损坏)", advice="请从备份恢复")
        wanted = {r["scan_id"] for r in records.values()}
        jobs = (self.tables.get("queue.json") or {}).get("jobs", {})
        wanted |= {j["scan_id"] for j in jobs.values()}
        added = {}
        for sha in sorted(files.keys() - rows.keys()):
            if sha not in wanted:
                self._add(files[sha], "扫描件文件没有登记(上传中断时留下的,无害)", note=True)
                continue
            station = next((r["station"] for r in records.values() if r["scan_id"] == sha), None)
            self._fix(
                files[sha],
                "扫描件文件没有登记,但有记录或任务用到它",
                "补回登记(原文件名和上传人无法恢复)",
                lambda s=sha, st=station: added.update({s: scan_row(files[s], st)}),
            )
        missing = sorted({r["scan_id"] for r in records.values()} - rows.keys() - files.keys())
        for sha in missing:
            self._add(
                self.db_dir / "scans.json",
                f"记录所依据的扫描件 {sha[:16]}… 不存在",
                advice="原始文件无法恢复",
            )
        if added:
            rows.update(added)
            path = self.db_dir / "scans.json"
            atomic_write(path, encode_tables({**(tables or {}), "scans": rows}), keep_prev=True)
            self.tables["scans.json"] = {**(tables or {}), "scans": rows}
        self.report.scans = len(rows)

    def _queue(self) -> None:
        if self.broken & {"queue.json", "scans.json"}:
            return
        queue = self.tables.get("queue.json") or {}
        scans = (self.tables.get("scans.json") or {}).get("scans", {})
        batches = queue.get("batches", {})
        path = self.db_dir / "queue.json"
        for job_id, job in sorted(queue.get("jobs", {}).items()):
            if job["batch_id"] not in batches:  # harmless: the job is read all the same
                self._add(path, f"任务 {job_id} 指向的批次 {job['batch_id']} 不存在", note=True)
            if job["scan_id"] in scans:
                continue
            waiting = job["state"] in ("pending", "processing")
            self._add(
                path,
                f"任务 {job_id} 指向的扫描件 {job['scan_id'][:16]}… 不存在",
                advice="该任务无法识读" if waiting else None,
                note=not waiting,
            )
