"""Moving an installation from the TinyDB store to PostgreSQL without loss
(`formdesk db migrate-from-tinydb DATA_DIR`, issue 11 point 4).

Every row is copied as stored — ids, times, revisions, verification, corrections, scan
owners, job attempts — in one transaction into an empty database at the head revision, and
then compared: every station, user, token, document, scan (its bytes by sha256), batch,
job, record (summary and body), correction, claim and claim import read back through the
`Store` protocol from both stores must be equal. Browser sign-ins that have not expired
are copied too, so nobody is signed out by the move.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, func, select

from formdesk.model.accounts import User, UserSession
from formdesk.model.documents import IssuedDocument
from formdesk.model.history import HistoryExclusion
from formdesk.model.layouts import LayoutVariant
from formdesk.model.scans import Batch, Job, PageRefusal, Scan
from formdesk.model.stored import Correction, RecordEvent
from formdesk.model.usernames import fold_username

from ..interface import ConflictError, Store, StoreError
from ..tinydb_store import TinyStore
from . import schema
from .queue import defer_reading
from .records import record_row


@dataclass
class MigrationReport:
    """How many of each kind were copied (`counts`) and what differs after the copy
    (`differences`, Chinese, empty when the two stores agree)."""

    counts: dict[str, int] = field(default_factory=dict)
    differences: list[str] = field(default_factory=list)


def _models(rows: Iterable[dict[str, Any]], model: type) -> list[Any]:
    return [model.model_validate(r) for r in rows]


def _ensure_empty(db) -> None:
    for table in schema.metadata.sorted_tables:
        if db.execute(select(func.count()).select_from(table)).scalar_one():
            raise ConflictError(
                f"目标数据库不是空的(表 {table.name} 已有数据):只能迁移到新建的空数据库"
            )


def _check_usernames(users: list[User]) -> None:
    seen: dict[str, str] = {}
    for user in users:
        other = seen.setdefault(fold_username(user.username), user.username)
        if other != user.username:
            raise StoreError(
                f"用户名“{other}”与“{user.username}”只差大小写,PostgreSQL 存储要求用户名"
                "不分大小写唯一:请先停用其中一个(删除后重新添加为别的名字)再迁移"
            )


def copy_tinydb(
    tiny: TinyStore, engine: Engine, progress: Callable[[str, int], None] | None = None
) -> dict[str, int]:
    """Copies every row of `tiny` into the empty database of `engine` in one transaction;
    how many of each kind. ConflictError when the database holds data already; StoreError
    when a record's file is damaged (`formdesk check --repair` first) or two user names
    differ only in case."""
    tell = progress or (lambda _kind, _n: None)
    counts: dict[str, int] = {}
    now = datetime.now(UTC)
    users = _models(tiny.table_rows("users").values(), User)
    _check_usernames(users)
    with engine.begin() as db:
        _ensure_empty(db)

        def put(kind: str, table, rows: list[dict[str, Any]]) -> None:
            for start in range(0, len(rows), 2000):
                db.execute(table.insert(), rows[start : start + 2000])
            counts[kind] = len(rows)
            tell(kind, len(rows))

        put("stations", schema.stations, [s.model_dump() for s in tiny.list_stations()])
        put(
            "users",
            schema.users,
            [{**u.model_dump(), "username_fold": fold_username(u.username)} for u in users],
        )
        put(
            "settings",
            schema.installation_settings,
            [s.model_dump() for s in tiny.list_installation_settings()],
        )
        tokens = sorted(tiny.list_tokens(), key=lambda t: (t.created_at, t.token_id or ""))
        put("tokens", schema.api_tokens, [t.model_dump() for t in tokens])
        sessions = _models(tiny.table_rows("sessions").values(), UserSession)
        put(
            "sessions",
            schema.user_sessions,
            [s.model_dump() for s in sessions if s.expires_at > now],
        )
        documents = _models(tiny.table_rows("documents").values(), IssuedDocument)
        put(
            "documents",
            schema.documents,
            [d.model_dump(mode="json") | {"issued_at": d.issued_at} for d in documents],
        )
        scans = _models(tiny.table_rows("scans").values(), Scan)
        put("scans", schema.scans, [_scan_row(s) for s in scans])
        for scan in scans:  # the bytes one file at a time: memory bounded by the largest
            data = tiny.scan_bytes(scan.sha256)
            db.execute(schema.scan_contents.insert().values(sha256=scan.sha256, data=data))
        batches = _models(tiny.table_rows("batches").values(), Batch)
        put("batches", schema.batches, [b.model_dump() for b in batches])
        jobs = _models(tiny.table_rows("jobs").values(), Job)
        put("jobs", schema.jobs, [j.model_dump() for j in jobs])
        # what was queued or being read when the service stopped goes to the job queue
        # (a job left processing is taken up again as an attempt, as after a crash)
        defer_reading(db, [j.job_id for j in jobs if j.state in ("pending", "processing")])
        records = tiny.table_rows("records")
        rows = []
        for record_id, row in records.items():
            stored = tiny.get_record(record_id)
            if stored is None or stored.damaged:
                why = stored.damaged if stored else "已不存在"
                raise StoreError(
                    f"记录 {record_id} 的文件无法读取({why}):请先运行 formdesk check --repair"
                )
            read_station = row.get("read_station", stored.summary.station)
            rows.append(record_row(stored.summary, stored.record, row["rev"], read_station))
            if len(rows) >= 2000:
                db.execute(schema.records.insert(), rows)
                rows.clear()
        if rows:
            db.execute(schema.records.insert(), rows)
        counts["records"] = len(records)
        tell("records", counts["records"])
        corrections = _models(tiny.table_rows("corrections").values(), Correction)
        corrections.sort(key=lambda c: c.at)
        put("corrections", schema.corrections, [c.model_dump() for c in corrections])
        events = _models(tiny.table_rows("events").values(), RecordEvent)
        events.sort(key=lambda e: (e.at, e.event_id))
        put("record events", schema.record_events, [e.model_dump() for e in events])
        refusals = _models(tiny.table_rows("refusals").values(), PageRefusal)
        put("refused pages", schema.page_refusals, [r.model_dump() for r in refusals])
        put("claims", schema.claims, [c.model_dump() for c in tiny.list_claims()])
        put(
            "claim_imports",
            schema.claim_imports,
            [i.model_dump() for i in reversed(tiny.list_claim_imports())],
        )
        off = _models(tiny.table_rows("history_off").values(), HistoryExclusion)
        put("history exclusions", schema.history_exclusions, [e.model_dump() for e in off])
        layouts = tiny.list_layouts()
        for v in layouts:  # the reference images one at a time, as the scans' bytes
            db.execute(schema.layout_variants.insert().values(_layout_row(tiny, v)))
        counts["layouts"] = len(layouts)
        tell("layouts", len(layouts))
    return counts


def _layout_row(tiny: TinyStore, v: LayoutVariant) -> dict[str, Any]:
    data = v.model_dump(mode="json")
    return {
        "template": v.template, "name": v.name, "paper_w_mm": v.paper_mm[0],
        "paper_h_mm": v.paper_mm[1], "fields": data["fields"], "table_layout": data["table"],
        "fingerprint": data["fingerprint"], "reference_sha256": v.reference_sha256,
        "reference": tiny.layout_reference(v.reference_sha256), "created_by": v.created_by,
        "created_at": v.created_at,
    }  # fmt: skip


def _scan_row(scan: Scan) -> dict[str, Any]:
    row = scan.model_dump()
    row["owners"] = [o.model_dump(mode="json") for o in scan.all_owners()]
    return row


def compare_stores(tiny: TinyStore, sql: Store) -> list[str]:
    """What differs between the two stores, read back through the `Store` protocol
    (Chinese lines naming the kind and id; empty when they agree)."""
    out: list[str] = []

    def same(kind: str, key: str, a: Any, b: Any) -> None:
        if a != b:
            out.append(f"{kind} {key} 不一致")

    same("站点", "全部", tiny.list_stations(), sql.list_stations())
    same("用户", "全部", tiny.list_users(), sql.list_users())
    same("令牌", "全部", tiny.list_tokens(), sql.list_tokens())
    same("设置", "全部", tiny.list_installation_settings(), sql.list_installation_settings())
    for doc_id in tiny.table_rows("documents"):
        same("单据", doc_id, tiny.get_document(doc_id), sql.get_document(doc_id))
    for sha in tiny.table_rows("scans"):
        same("扫描件", sha, tiny.get_scan(sha), sql.get_scan(sha))
        digest = hashlib.sha256(sql.scan_bytes(sha)).hexdigest()
        same("扫描件内容", sha, sha, digest)
    same("上传批次", "全部", tiny.list_batches(), sql.list_batches())
    for batch in tiny.list_batches():
        key = lambda j: j.job_id  # noqa: E731
        same(
            "识读任务",
            batch.batch_id,
            sorted(tiny.list_jobs(batch.batch_id), key=key),
            sorted(sql.list_jobs(batch.batch_id), key=key),
        )
    # corrections grouped once (TinyStore.list_corrections reads them all for each record)
    corrections: dict[str, list[Correction]] = {}
    for row in tiny.table_rows("corrections").values():
        corrections.setdefault(row["record_id"], []).append(Correction.model_validate(row))
    records = tiny.table_rows("records")
    for record_id in records:
        same("记录", record_id, tiny.get_record(record_id), sql.get_record(record_id))
        expected = corrections.get(record_id, [])
        same("更正", record_id, expected, sql.list_corrections(record_id))
        events = tiny.list_record_events(record_id)
        if events:
            same("记录操作", record_id, events, sql.list_record_events(record_id))
    same("索赔单", "全部", tiny.list_claims(), sql.list_claims())
    same("索赔导入", "全部", tiny.list_claim_imports(), sql.list_claim_imports())
    key = lambda r: r.refusal_id  # noqa: E731
    same(
        "未能识读的页面",
        "全部",
        sorted(tiny.list_page_refusals(), key=key),
        sorted(sql.list_page_refusals(), key=key),
    )
    same("版式", "全部", tiny.list_layouts(), sql.list_layouts())
    # the reader's lists: stations, the claims' models and parts, the history less what
    # the back office excluded from it (识读词库)
    same("识读词库", "全部", tiny.known_values(), sql.known_values())
    for v in tiny.list_layouts():
        digest = hashlib.sha256(sql.layout_reference(v.reference_sha256)).hexdigest()
        same("版式图像", v.name, v.reference_sha256, digest)
    listed = sql.list_records(limit=0, duplicates=True)[1]
    voided = sql.list_records(status="voided", limit=0, duplicates=True)[1]  # 作废: kept too
    same("记录数", "全部", len(records), listed + voided)
    return out
