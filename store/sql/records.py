"""Read records and their corrections on PostgreSQL: `RecordStore` with the TinyDB store's
rules (store/interface.py; the summary, the correction and the listing arguments are
store/summary.py's and store/filters.py's, shared with it).

A record is one row: its summary columns, the record itself (`body`, corrections
applied) and its search text casefolded (`search_folded`, which a trigram index serves).
Every write is one transaction that locks the rows it rewrites, so a correction is never
lost to another correction or to a second reading of the scan made at the same time."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy import (
    Connection,
    Engine,
    Integer,
    Text,
    and_,
    any_,
    bindparam,
    func,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, insert

from formdesk.model.errors import ConflictError
from formdesk.model.stored import Correction, RecordAction, RecordEvent, RecordSummary, StoredRecord

from ..filters import check_listing, date_bound, search_terms
from ..interface import DateBound, NotFoundError, Order
from ..record_actions import VOIDED, act, kept_state
from ..summary import apply_correction, parse_record, summarise
from .schema import corrections, record_counts, record_events, scans
from .schema import records as records_table

# (scan id, station, document id, copy): the reading a record comes from (`records_reading`)
Key = tuple[str, str | None, str, int]
# (scan id, record dict, station, created at or None for now): one record to save
Item = tuple[str, dict[str, Any], str | None, datetime | None]

_SUMMARY = [records_table.c[name] for name in RecordSummary.model_fields]
_CHUNK = 5000  # keys looked up, ids checked and rows written per statement
_T = TypeVar("_T")


def _now() -> datetime:
    return datetime.now(UTC)


def _chunks(items: Sequence[_T], size: int = _CHUNK) -> Iterator[Sequence[_T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _key(scan_id: str, record: dict[str, Any], station: str | None) -> Key:
    return scan_id, station, record["document_id"], record.get("copy_index", 1)


def _pattern(term: str) -> str:
    """A LIKE pattern matching `term` anywhere, its own % _ and \\ taken literally."""
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


_SAME = object()


def record_row(
    summary: RecordSummary, record: dict[str, Any], rev: int, read_station: Any = _SAME
) -> dict[str, Any]:
    """The table row of a record: its summary, revision, folded search text, body and the
    station its reading was filed under (`read_station`; by default the summary's)."""
    return {
        **summary.model_dump(),
        "rev": rev,
        "search_folded": summary.search_text.casefold(),
        "body": record,
        "read_station": summary.station if read_station is _SAME else read_station,
    }


def _stored_rows(db: Connection, keys: list[Key]) -> dict[Key, dict[str, Any]]:
    """The stored rows of those readings, locked (FOR UPDATE) until the transaction ends."""
    t = records_table
    found: dict[Key, dict[str, Any]] = {}
    for chunk in _chunks(keys):
        wanted = (
            func.unnest(
                bindparam("scan_ids", [k[0] for k in chunk], ARRAY(Text)),
                bindparam("stations", [k[1] for k in chunk], ARRAY(Text)),
                bindparam("document_ids", [k[2] for k in chunk], ARRAY(Text)),
                bindparam("copies", [k[3] for k in chunk], ARRAY(Integer)),
            )
            .table_valued("scan_id", "station", "document_id", "copy_index")
            .render_derived("wanted")
        )
        q = (
            select(t)
            .join(
                wanted,
                and_(
                    t.c.scan_id == wanted.c.scan_id,
                    t.c.read_station.is_not_distinct_from(wanted.c.station),
                    t.c.document_id == wanted.c.document_id,
                    t.c.copy_index == wanted.c.copy_index,
                ),
            )
            .with_for_update(of=t)
        )
        for r in db.execute(q).mappings():
            found[(r["scan_id"], r["read_station"], r["document_id"], r["copy_index"])] = dict(r)
    return found


def _corrections_of(db: Connection, record_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Each record's corrections, oldest first."""
    out: dict[str, list[dict[str, Any]]] = {}
    for chunk in _chunks(record_ids):
        q = (
            select(corrections)
            .where(corrections.c.record_id == any_(bindparam("ids", list(chunk), ARRAY(Text))))
            .order_by(corrections.c.seq)
        )
        for r in db.execute(q).mappings():
            out.setdefault(r["record_id"], []).append(dict(r))
    return out


def _fresh_ids(db: Connection, count: int) -> list[str]:
    """`count` new record ids as the TinyDB store makes them (ten hex digits), distinct
    and not stored."""
    ids: set[str] = set()
    while len(ids) < count:
        candidates = {secrets.token_hex(5) for _ in range(count - len(ids))} - ids
        taken: set[str] = set()
        for chunk in _chunks(sorted(candidates)):
            ids_param = bindparam("ids", list(chunk), ARRAY(Text))
            q = select(records_table.c.record_id).where(
                records_table.c.record_id == any_(ids_param)
            )
            taken.update(db.scalars(q))
        ids |= candidates - taken
    return list(ids)


def _save(db: Connection, items: list[Item]) -> list[RecordSummary]:
    """TinyStore._save_parsed in one transaction: a record of a reading already stored
    replaces it (its id, created_at and corrections kept; untouched, verification and
    all, when the reading did not change it); the summaries in the items' order, each
    record once."""
    now = _now()
    keys = list(dict.fromkeys(_key(scan_id, rec, st) for scan_id, rec, st, _ in items))
    stored = _stored_rows(db, keys)
    rows = {r["record_id"]: r for r in stored.values()}
    fixes = _corrections_of(db, list(rows)) if rows else {}
    fresh = iter(_fresh_ids(db, len(keys) - len(stored)))
    by_key = {k: r["record_id"] for k, r in stored.items()}
    changed: dict[str, dict[str, Any]] = {}
    new: set[str] = set()
    order: list[str] = []
    for scan_id, record, station, created in items:
        key = _key(scan_id, record, station)
        rid = by_key.get(key)
        placed = station  # the record's station: as read, or as a person set it since
        if rid is None:
            rid = by_key[key] = next(fresh)
            new.add(rid)
            rev, created_at = 1, created or now
        else:
            for c in fixes.get(rid, []):
                with contextlib.suppress(ValueError):  # a field the new reading lacks
                    apply_correction(
                        record,
                        c["field_key"],
                        c["new_value"],
                        c["row"],
                        c["column"],
                        c.get("user"),
                        c.get("at"),
                    )
            old = changed.get(rid) or rows[rid]
            if old["body"] == record:
                order.append(rid)
                continue
            rev, created_at = old["rev"] + 1, old["created_at"]
            placed = old["station"]
        summary = summarise(rid, scan_id, placed, record, created_at, now)
        row = record_row(summary, record, rev, station)
        changed[rid] = kept_state(row, rows.get(rid)) if rid not in new else row
        order.append(rid)
    inserts = [row for rid, row in changed.items() if rid in new]
    updates = [
        {**{k: v for k, v in row.items() if k != "record_id"}, "b_record_id": rid}
        for rid, row in changed.items()
        if rid not in new
    ]
    for chunk in _chunks(inserts):
        db.execute(records_table.insert(), list(chunk))
    if updates:
        stmt = update(records_table).where(records_table.c.record_id == bindparam("b_record_id"))
        for chunk in _chunks(updates):
            db.execute(stmt, list(chunk))
    return [
        RecordSummary.model_validate(changed.get(rid) or rows[rid]) for rid in dict.fromkeys(order)
    ]


class SqlRecordStore:
    """Read records and reviewers' corrections in the database of `engine` (schema at
    the head revision: `store.sql.upgrade`)."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def save_records(
        self,
        scan_id: str,
        records: list[dict[str, Any]] | list[BaseModel],
        station: str | None,
    ) -> list[RecordSummary]:
        """Records of one stored scan (NotFoundError if it is not); a second reading of the
        scan replaces the records of the same (station, document id, copy) — keeping their
        ids, reapplying their corrections — and leaves a record untouched (verification
        kept) when the reading did not change it. The scan's row is locked (FOR NO KEY
        UPDATE) meanwhile: two readings of one scan at once are saved one after the other."""
        parsed = [parse_record(r) for r in records]
        with self.engine.begin() as db:
            q = select(scans.c.sha256).where(scans.c.sha256 == scan_id)
            if db.execute(q.with_for_update(key_share=True)).first() is None:
                raise NotFoundError(f"扫描件“{scan_id[:16]}…”不存在")
            return _save(db, [(scan_id, r, station, None) for r in parsed])

    def bulk_load_records(
        self, items: list[tuple[str, dict[str, Any], str | None, datetime]]
    ) -> list[RecordSummary]:
        """Tests and benchmarks only (TinyStore._bulk_load_records): many (scan id, record,
        station, created at) in one transaction, written in batches; the scans are not
        checked."""
        parsed: list[Item] = [(s, parse_record(r), st, at) for s, r, st, at in items]
        with self.engine.begin() as db:
            return _save(db, parsed)

    def get_record(self, record_id: str) -> StoredRecord | None:
        """None if no such record; never `damaged` (the record is a column of its row)."""
        t = records_table
        with self.engine.connect() as db:
            row = db.execute(select(t).where(t.c.record_id == record_id)).mappings().first()
        if row is None:
            return None
        return StoredRecord(summary=RecordSummary.model_validate(dict(row)), record=row["body"])

    def list_records(
        self,
        template: str | None = None,
        station: str | None = None,
        status: str | None = None,
        date_from: DateBound | None = None,
        date_to: DateBound | None = None,
        text: str | None = None,
        order: Order = "newest",
        offset: int = 0,
        limit: int = 50,
        duplicates: bool = False,
        scan_ids: list[str] | None = None,
    ) -> tuple[list[RecordSummary], int]:
        """One page of summaries and how many match in all (both of one snapshot): newest
        first (created_at, then record id, descending) or least confident first (ties
        newest first). Second scans (`duplicate_of`) are left out unless `duplicates`;
        `text` keeps records whose search text holds every one of its words, ignoring case."""
        check_listing(order, offset, limit)
        lo, hi = date_bound(date_from, end=False), date_bound(date_to, end=True)
        t = records_table
        where = []
        if not duplicates:
            where.append(t.c.duplicate_of.is_(None))  # stored as NULL, never ''

        if template is not None:
            where.append(t.c.template == template)
        if station is not None:
            where.append(t.c.station == station)
        if status is not None:
            where.append(t.c.status == status)
        else:  # 作废: only when asked for by its status
            where.append(t.c.status != "voided")
        if lo is not None:
            where.append(t.c.created_at >= lo[0])
        if hi is not None:
            where.append(t.c.created_at <= hi[0] if hi[1] else t.c.created_at < hi[0])
        where += [t.c.search_folded.like(_pattern(term)) for term in search_terms(text)]
        if scan_ids is not None:
            where.append(t.c.scan_id == any_(bindparam("scan_ids", list(scan_ids), ARRAY(Text))))
        # record ids are lowercase hex: every collation orders them as Python does, so the
        # records_newest and records_least_confident indexes serve these orders
        newest = [t.c.created_at.desc(), t.c.record_id.desc()]
        by = newest if order == "newest" else [t.c.min_confidence, *newest]
        page = select(*_SUMMARY).where(*where).order_by(*by).offset(offset).limit(limit)
        if duplicates or lo or hi or text and search_terms(text) or scan_ids is not None:
            count = select(func.count()).select_from(t).where(*where)
        else:  # the trigger-kept counts: a sum over a few hundred rows, not every record
            c = record_counts
            count = select(func.coalesce(func.sum(c.c.n), 0)).where(
                *([c.c.template == template] if template is not None else []),
                *([c.c.station == station] if station is not None else []),
                c.c.status == status if status is not None else c.c.status != "voided",
            )
        with self.engine.connect() as db:
            db.execution_options(isolation_level="REPEATABLE READ")
            rows = db.execute(page).mappings().all() if limit else []
            total = db.execute(count).scalar_one()
        return [RecordSummary.model_validate(dict(r)) for r in rows], total

    def correct_field(
        self,
        record_id: str,
        field_key: str,
        new_value: Any,
        user: str,
        row: int | None = None,
        column: str | None = None,
    ) -> Correction:
        """As `RecordStore.correct_field`; the record's row is locked (FOR UPDATE) from
        reading to rewriting, so two corrections at once both stay."""
        t = records_table
        with self.engine.begin() as db:
            q = select(t).where(t.c.record_id == record_id).with_for_update()
            stored = db.execute(q).mappings().first()
            if stored is None:
                raise NotFoundError(f"记录“{record_id}”不存在")
            record = stored["body"]
            now = _now()
            correction = Correction(
                correction_id="-",
                record_id=record_id,
                field_key=field_key,
                row=row,
                column=column,
                new_value=new_value,
                user=user,
                at=now,
            )
            value = correction.model_dump(mode="json")["new_value"]  # as it will be stored
            old = apply_correction(record, field_key, value, row, column, user, now)
            summary = summarise(
                record_id, stored["scan_id"], stored["station"], record, stored["created_at"], now
            )
            values = kept_state(
                record_row(summary, record, stored["rev"] + 1, stored["read_station"]), stored
            )
            del values["record_id"]
            db.execute(update(t).where(t.c.record_id == record_id).values(**values))
            correction = correction.model_copy(update={"old_value": old, "new_value": value})
            while True:  # ten hex digits, as the TinyDB store's; another one if taken
                correction_id = secrets.token_hex(5)
                stmt = (
                    insert(corrections)
                    .values(**{**correction.model_dump(), "correction_id": correction_id})
                    .on_conflict_do_nothing(index_elements=["correction_id"])
                    .returning(corrections.c.correction_id)
                )
                if db.execute(stmt).first() is not None:
                    break
        return correction.model_copy(update={"correction_id": correction_id})

    def list_corrections(self, record_id: str) -> list[Correction]:
        """Oldest first."""
        q = (
            select(corrections)
            .where(corrections.c.record_id == record_id)
            .order_by(corrections.c.seq)
        )
        with self.engine.connect() as db:
            return [Correction.model_validate(dict(r)) for r in db.execute(q).mappings()]

    def verify_record(self, record_id: str, user: str) -> RecordSummary:
        """Marks the record verified by `user` (NotFoundError if there is none): one
        UPDATE, which locks the row as it changes it. The record itself is unchanged (its
        revision too); a later correction or changed reading clears the verification."""
        t = records_table
        now = _now()
        stmt = (
            update(t)
            .where(t.c.record_id == record_id, t.c.status != "voided")
            .values(status="verified", verified_by=user, verified_at=now, updated_at=now)
            .returning(*_SUMMARY)
        )
        with self.engine.begin() as db:
            row = db.execute(stmt).mappings().first()
            if row is None:
                q = select(t.c.status).where(t.c.record_id == record_id)
                if db.execute(q).first() is not None:
                    raise ConflictError(VOIDED)
        if row is None:
            raise NotFoundError(f"记录“{record_id}”不存在")
        return RecordSummary.model_validate(dict(row))

    def _act(
        self,
        record_ids: list[str],
        action: RecordAction,
        user: str,
        reason: str | None = None,
        station: str | None = None,
    ) -> list[RecordSummary]:
        """One RecordAction on every record of `record_ids` in one transaction, the rows
        locked (FOR UPDATE): store.record_actions decides the new row and the event."""
        t = records_table
        ids = list(dict.fromkeys(record_ids))
        now = _now()
        out: list[RecordSummary] = []
        with self.engine.begin() as db:
            q = select(t).where(t.c.record_id == any_(bindparam("ids", ids, ARRAY(Text))))
            found = {r["record_id"]: dict(r) for r in db.execute(q.with_for_update()).mappings()}
            for rid in ids:
                if rid not in found:
                    raise NotFoundError(f"记录“{rid}”不存在")
                old = found[rid]
                shaped = RecordSummary.model_validate(old).model_dump(mode="json")
                new, event = act(
                    shaped, old["body"], action, user, now, reason=reason, station=station
                )
                summary = RecordSummary.model_validate(new)
                values = {
                    k: v
                    for k, v in summary.model_dump().items()
                    if k in ("status", "station", "verified_by", "verified_at", "updated_at",
                             "search_text")
                }  # fmt: skip
                values["search_folded"] = summary.search_text.casefold()
                db.execute(update(t).where(t.c.record_id == rid).values(**values))
                while True:  # ten hex digits, as the TinyDB store's; another one if taken
                    event_id = secrets.token_hex(5)
                    stmt = (
                        insert(record_events)
                        .values(**{**event, "at": now, "event_id": event_id})
                        .on_conflict_do_nothing(index_elements=["event_id"])
                        .returning(record_events.c.event_id)
                    )
                    if db.execute(stmt).first() is not None:
                        break
                out.append(summary)
        return out

    def void_records(self, record_ids: list[str], user: str, reason: str) -> list[RecordSummary]:
        """As `RecordStore.void_records`."""
        return self._act(record_ids, "void", user, reason=reason)

    def restore_record(self, record_id: str, user: str) -> RecordSummary:
        """As `RecordStore.restore_record`."""
        return self._act([record_id], "restore", user)[0]

    def unverify_record(self, record_id: str, user: str) -> RecordSummary:
        """As `RecordStore.unverify_record`."""
        return self._act([record_id], "unverify", user)[0]

    def set_record_station(self, record_id: str, station: str | None, user: str) -> RecordSummary:
        """As `RecordStore.set_record_station`."""
        return self._act([record_id], "set_station", user, station=station)[0]

    def list_record_events(self, record_id: str) -> list[RecordEvent]:
        """Oldest first."""
        e = record_events
        q = select(e).where(e.c.record_id == record_id).order_by(e.c.seq)
        with self.engine.connect() as db:
            return [RecordEvent.model_validate(dict(r)) for r in db.execute(q).mappings()]

    def records_with_event(self, action: str) -> set[str]:
        """As `RecordStore.records_with_event`."""
        e = record_events
        q = select(e.c.record_id).where(e.c.action == action).distinct()
        with self.engine.connect() as db:
            return {r[0] for r in db.execute(q)}
