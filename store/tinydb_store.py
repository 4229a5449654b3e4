"""The store on TinyDB and plain files, all under one data folder:

    .lock                 flock: one writer at a time, across processes
    db/meta.json          stations, users, API tokens
    db/sessions.json      browser sign-ins (hashed ids; login churn never rewrites users)
    db/documents.json     printed documents
    db/scans.json         uploaded files (metadata)
    db/queue.json         batches and their reading jobs
    db/records.json       record summaries and corrections
    db/claims.json        warranty claims (三包索赔单) and the imports that brought them
    db/layouts.json       layout variants registered from a scan (issue 13)
    layouts/<sha256>.png  their reference images, stored once, read-only
    records/<id>.json     each record's full fields and its summary (to rebuild the index)
    scans/ab/<sha256>     uploaded bytes, stored once, read-only

Every db file keeps its previous version beside it (`<name>.json.prev`, see `files`). At
open every db file is checked (`integrity`): a damaged or lost one raises DamagedFileError
naming it and the way back (`formdesk check --repair`, see `fsck`); a record whose own file
is damaged is returned marked `damaged`, never as an error.

TinyDB keeps only small rows, split by how often they change, so claiming a job does not
rewrite the record list. A record file is first written beside its final name
(`<id>.json.pending-<rev>`), then the summary row naming that revision is committed, then
the file is renamed into place: a crash in between leaves a pending file that readers (and
the next start) roll forward, never a file the database does not describe.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import logging
import os
import re
import secrets
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from formdesk.model.accounts import ApiToken, User, UserSession
from formdesk.model.claims import Claim, ClaimImport, Station
from formdesk.model.documents import IssuedDocument
from formdesk.model.history import HistoryExclusion, HistoryValue
from formdesk.model.installation import InstallationSetting
from formdesk.model.layouts import LayoutVariant
from formdesk.model.scans import Batch, Job, PageRefusal, Scan, ScanOwner
from formdesk.model.stored import (
    Correction,
    RecordAction,
    RecordEvent,
    RecordSummary,
    StoredRecord,
)
from formdesk.model.time import format_time
from formdesk.model.usernames import fold_username, normalize_username
from formdesk.templates import Template

from . import integrity
from .claim_import import check_numbers, plan_import, undo_plan
from .files import atomic_write, fsync_dir, write_once
from .filters import check_listing, date_bound, search_terms
from .history import history_lists, history_values, latest_reviews
from .integrity import Damaged, damaged_file_error
from .interface import ConflictError, DateBound, NotFoundError, Order
from .jsondb import JsonDB
from .lock import WriteLock
from .record_actions import VOIDED, act, kept_state
from .refusals import changed_refusal, page_outcomes
from .summary import apply_correction, interrupted, parse_record, summarise

log = logging.getLogger(__name__)

_SAFE_ID = re.compile(r"[0-9A-Za-z][0-9A-Za-z_-]{0,127}")  # ids that become file names
_SHA256 = re.compile(r"[0-9a-f]{64}")
_PENDING = ".json.pending-"


def _now() -> datetime:
    return datetime.now(UTC)


def _new_id(taken: Callable[[str], bool]) -> str:
    """Short and unique: ten hex digits, checked against what is stored."""
    while True:
        candidate = secrets.token_hex(5)
        if not taken(candidate):
            return candidate


def _dump(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _bound(value: DateBound | None, *, end: bool) -> tuple[str, bool] | None:
    """A date filter as a stored-timestamp string and whether it is inclusive
    (`filters.date_bound`)."""
    bound = date_bound(value, end=end)
    return None if bound is None else (format_time(bound[0]), bound[1])


class _RecordIndex:
    """The summaries of one snapshot in both listing orders, search text folded."""

    def __init__(self, rows: Mapping[str, dict[str, Any]]):
        self.rows = rows
        entries = [(r, r["search_text"].casefold()) for r in rows.values()]
        entries.sort(key=lambda e: (e[0]["created_at"], e[0]["record_id"]), reverse=True)
        self.newest = entries
        self.least_confident = sorted(entries, key=lambda e: e[0]["min_confidence"])


def _day(value: date) -> str:
    return value.strftime("%Y-%m-%d")  # as a stored claim's dates (a datetime: its day)


class DocumentValues:
    """Read-only lookup of printed documents' values in `documents.json`, for another
    process (picklable: only the path travels; the file is opened on first use and
    re-read when it changes, as every JsonDB is)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._db: JsonDB | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {"path": self.path, "_db": None}

    def __call__(self, document_id: str) -> dict[str, Any] | None:
        if self._db is None:
            self._db = JsonDB(self.path)
        row = self._db.table("documents").row(document_id)
        return copy.deepcopy(row.get("values")) or None if row else None


class LayoutFiles:
    """Read-only lookup of layout variants in `layouts.json` and their reference images,
    for another process (picklable: only the data folder travels; the file is opened on
    first use and re-read when it changes, as every JsonDB is)."""

    def __init__(self, data_dir: Path):
        self.data_dir = Path(data_dir)
        self._db: JsonDB | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {"data_dir": self.data_dir, "_db": None}

    def __call__(self, template: str) -> list[tuple[LayoutVariant, bytes]]:
        if self._db is None:
            self._db = JsonDB(self.data_dir / "db" / "layouts.json")
        rows = [r for r in self._db.table("layouts").rows().values() if r["template"] == template]
        out = []
        for row in sorted(rows, key=lambda r: r["name"]):
            variant = LayoutVariant.model_validate(row)
            path = self.data_dir / "layouts" / f"{variant.reference_sha256}.png"
            with contextlib.suppress(FileNotFoundError):
                out.append((variant, path.read_bytes()))
        return out


class TinyStore:
    """`Store` on TinyDB files under `data_dir`; safe for threads and for processes.

    Opening checks every db file: DamagedFileError (a StoreError) names the first one that
    is damaged or lost. `users` says how lost users are told (`integrity.check_users`):
    "any" refuses only users certainly lost (their `.prev` copy holds some); "required"
    (the service) also refuses no users next to stored data; "restoring" (`formdesk user
    add`) opens a folder whose users are lost with no good copy, to add them again.
    """

    def __init__(self, data_dir: Path, *, users: integrity.UsersRule = "any"):
        self.data_dir = Path(data_dir)
        self._db_dir = self.data_dir / "db"
        self._records_dir = self.data_dir / "records"
        self._scans_dir = self.data_dir / "scans"
        for folder in (self._db_dir, self._records_dir, self._scans_dir):
            folder.mkdir(parents=True, exist_ok=True)
        self._lock = WriteLock(self.data_dir / ".lock")
        self._meta = JsonDB(self._db_dir / "meta.json")
        self._docs_db = JsonDB(self._db_dir / "documents.json")
        self._scans_db = JsonDB(self._db_dir / "scans.json")
        self._queue = JsonDB(self._db_dir / "queue.json")
        self._records_db = JsonDB(self._db_dir / "records.json")
        self._claims_db = JsonDB(self._db_dir / "claims.json")
        self._sessions_db = JsonDB(self._db_dir / "sessions.json")
        self._layouts_db = JsonDB(self._db_dir / "layouts.json")
        self._layouts_dir = self.data_dir / "layouts"
        self._check_files(
            (
                self._meta,
                self._docs_db,
                self._scans_db,
                self._queue,
                self._records_db,
                self._claims_db,
                self._layouts_db,
            ),
            users,
        )
        self._stations = self._meta.table("stations")
        self._users = self._meta.table("users")
        self._tokens = self._meta.table("tokens")
        self._settings = self._meta.table("settings")
        self._sessions = self._sessions_db.table("sessions")
        self._documents = self._docs_db.table("documents")
        self._scans = self._scans_db.table("scans")
        self._batches = self._queue.table("batches")
        self._jobs = self._queue.table("jobs")
        self._refusals = self._queue.table("refusals")  # PageRefusal
        self._records = self._records_db.table("records")
        self._corrections = self._records_db.table("corrections")
        self._events = self._records_db.table("events")  # RecordEvent: void, restore, …
        self._history_off = self._records_db.table("history_exclusions")  # HistoryExclusion
        self._claims = self._claims_db.table("claims")
        self._claim_imports = self._claims_db.table("imports")
        self._layouts = self._layouts_db.table("layouts")
        self._index: _RecordIndex | None = None
        self._claim_order: tuple[Mapping[str, Any], list[dict[str, Any]]] | None = None
        self._recover()

    def _check_files(self, dbs: tuple[JsonDB, ...], users: integrity.UsersRule) -> None:
        """At open: every db file parses and has the shape the store writes, none was lost
        (`integrity`); the first problem raises DamagedFileError. The parsed files stay
        cached for the reads that follow."""
        loaded = {}
        for db in dbs:
            path = db.json_storage.path
            loaded[path.name] = tables = db.json_storage.read()  # raises if it does not parse
            try:
                if tables is not None:
                    integrity.check_tables(path.name, tables)
            except Damaged as exc:
                raise damaged_file_error(path, str(exc)) from None
        for path in integrity.other_db_files(self._db_dir):
            try:
                integrity.read_db_file(path)
            except Damaged as exc:
                raise damaged_file_error(path, str(exc)) from None
        present = [p.name for p in self._db_dir.glob("*.json")]
        for path in integrity.lost_files(self._db_dir, present):
            if users == "restoring" and path.name == "meta.json" and not integrity.good_prev(path):
                continue
            raise damaged_file_error(path, "不见了(只剩上一版本的副本)")
        lost = integrity.lost_record_index(self.data_dir, loaded["records.json"])
        if lost is not None:
            raise damaged_file_error(self._db_dir / "records.json", lost)
        integrity.check_users(self.data_dir, loaded, users)

    def close(self) -> None:
        self._lock.close()

    def __enter__(self) -> TinyStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _write(self, db: JsonDB) -> Iterator[None]:
        """The write lock and one atomic transaction on `db`."""
        with self._lock, db.transaction():
            yield

    # -- stations, users, tokens ---------------------------------------------------------------
    def add_station(self, station: Station) -> Station:
        with self._write(self._meta):
            if self._stations.row(station.code) is not None:
                raise ConflictError(f"站点编码“{station.code}”已存在")
            self._stations.put(station.code, station.model_dump(mode="json"))
        return station

    def list_stations(self) -> list[Station]:
        rows = sorted(self._stations.rows().values(), key=lambda r: r["code"])
        return [Station.model_validate(r) for r in rows]

    def get_station(self, code: str) -> Station | None:
        row = self._stations.row(code)
        return Station.model_validate(row) if row else None

    def add_user(self, user: User) -> User:
        """Stores the user under its normalised name (see `usernames`); refuses a name
        outside the rule (InvalidUsernameError) or one that is, in any case, already used
        (ConflictError: `Admin` beside `admin`)."""
        user = user.model_copy(update={"username": normalize_username(user.username)})
        with self._write(self._meta):
            rows, folded = self._users.rows(), fold_username(user.username)
            same = [k for k in rows if fold_username(k) == folded]  # several: old data
            taken = user.username if user.username in rows else next(iter(same), None)
            if taken is not None:
                note = "" if taken == user.username else f"(与“{taken}”只差大小写)"
                raise ConflictError(f"用户名“{user.username}”已存在{note}")
            self._users.put(user.username, user.model_dump(mode="json"))
        return user

    def _user_key(self, username: str) -> str | None:
        """The stored name `username` means: itself if stored so, else the one stored name
        equal to it but for case (`usernames.fold_username`); None if there is none, or if
        several are (names stored before names were unique regardless of case: each is
        still found by its exact spelling)."""
        rows = self._users.rows()
        if username in rows:
            return username
        folded = fold_username(username)
        found = [key for key in rows if fold_username(key) == folded]
        return found[0] if len(found) == 1 else None

    def get_user(self, username: str) -> User | None:
        key = self._user_key(username)
        row = self._users.row(key) if key is not None else None
        return User.model_validate(row) if row else None

    def list_users(self) -> list[User]:
        rows = sorted(self._users.rows().values(), key=lambda r: r["username"])
        return [User.model_validate(r) for r in rows]

    def set_password_hash(self, username: str, password_hash: str) -> User:
        with self._write(self._meta):
            key = self._user_key(username)
            if key is None:
                raise NotFoundError(f"用户“{username}”不存在")
            row = {**self._users.row(key), "password_hash": password_hash}
            self._users.put(key, row)
        return User.model_validate(row)

    def set_user_disabled(self, username: str, disabled: bool) -> User:
        with self._write(self._meta):
            key = self._user_key(username)
            if key is None:
                raise NotFoundError(f"用户“{username}”不存在")
            row = {**self._users.row(key), "disabled": disabled}
            self._users.put(key, row)
        return User.model_validate(row)

    # -- layout variants (layouts.json, layouts/<sha256>.png) ----------------------------------
    @staticmethod
    def _layout_key(template: str, name: str) -> str:
        return f"{template}\t{name}"

    def add_layout(self, variant: LayoutVariant, reference_png: bytes) -> LayoutVariant:
        if hashlib.sha256(reference_png).hexdigest() != variant.reference_sha256:
            raise ValueError("reference_sha256 is not the SHA-256 of the reference image")
        write_once(self._layouts_dir / f"{variant.reference_sha256}.png", reference_png)
        key = self._layout_key(variant.template, variant.name)
        with self._write(self._layouts_db):
            if self._layouts.row(key) is not None:
                raise ConflictError(f"表单 {variant.template} 已有名为“{variant.name}”的版式")
            self._layouts.put(key, variant.model_dump(mode="json"))
        return variant

    def update_layout(self, variant: LayoutVariant) -> LayoutVariant:
        key = self._layout_key(variant.template, variant.name)
        with self._write(self._layouts_db):
            row = self._layouts.row(key)
            if row is None:
                raise NotFoundError(f"表单 {variant.template} 没有名为“{variant.name}”的版式")
            kept = {"reference_sha256": row["reference_sha256"]}
            self._layouts.put(key, variant.model_dump(mode="json") | kept)
        return variant.model_copy(update=kept)

    def list_layouts(self, template: str | None = None) -> list[LayoutVariant]:
        rows = [r for r in self._layouts.rows().values() if template in (None, r["template"])]
        rows.sort(key=lambda r: (r["template"], r["name"]))
        return [LayoutVariant.model_validate(r) for r in rows]

    def get_layout(self, template: str, name: str) -> LayoutVariant | None:
        row = self._layouts.row(self._layout_key(template, name))
        return LayoutVariant.model_validate(row) if row else None

    def layout_reference(self, sha256: str) -> bytes:
        if not _SHA256.fullmatch(sha256):
            raise NotFoundError(f"版式图像“{sha256[:16]}”不存在")
        try:
            return (self._layouts_dir / f"{sha256}.png").read_bytes()
        except FileNotFoundError:
            raise NotFoundError(f"版式图像“{sha256[:16]}…”不存在") from None

    def layout_reader(self) -> LayoutFiles:
        return LayoutFiles(self.data_dir)

    def delete_layout(self, template: str, name: str) -> bool:
        key = self._layout_key(template, name)
        with self._write(self._layouts_db):
            if self._layouts.row(key) is None:
                return False
            self._layouts.remove(doc_ids=[key])
        return True

    # -- installation settings (meta.json: settings) -----------------------------------------
    def list_installation_settings(self) -> list[InstallationSetting]:
        rows = sorted(self._settings.rows().values(), key=lambda r: r["name"])
        return [InstallationSetting.model_validate(r) for r in rows]

    def set_installation_settings(
        self, values: Mapping[str, str], updated_by: str
    ) -> list[InstallationSetting]:
        now = _now()
        with self._write(self._meta):
            for name, value in values.items():
                if not value:
                    if self._settings.row(name) is not None:
                        self._settings.remove(doc_ids=[name])
                    continue
                row = InstallationSetting(
                    name=name, value=value, updated_by=updated_by, updated_at=now
                )
                self._settings.put(name, row.model_dump(mode="json"))
        return self.list_installation_settings()

    @staticmethod
    def _token(key: str, row: Mapping[str, Any]) -> ApiToken:
        token = ApiToken.model_validate(row)
        return token if token.token_id else token.model_copy(update={"token_id": key[:10]})

    def add_token(self, token: ApiToken) -> ApiToken:
        with self._write(self._meta):
            key = self._user_key(token.username)
            if key is None:
                raise NotFoundError(f"用户“{token.username}”不存在")
            token = token.model_copy(update={"username": key})
            if self._tokens.row(token.token_hash) is not None:
                raise ConflictError("该令牌已登记")
            if token.token_id is None:
                taken = {self._token(k, r).token_id for k, r in self._tokens.rows().items()}
                token = token.model_copy(update={"token_id": _new_id(taken.__contains__)})
            self._tokens.put(token.token_hash, token.model_dump(mode="json"))
        return token

    def get_token(self, token_hash: str) -> ApiToken | None:
        row = self._tokens.row(token_hash)
        return self._token(token_hash, row) if row else None

    def user_for_token(self, token_hash: str) -> User | None:
        row = self._tokens.row(token_hash)
        return self.get_user(row["username"]) if row else None

    def list_tokens(self, username: str | None = None) -> list[ApiToken]:
        tokens = [
            self._token(key, row)
            for key, row in self._tokens.rows().items()
            if username is None or row["username"] == username
        ]
        return sorted(tokens, key=lambda t: (t.created_at, t.token_id or ""))

    def revoke_token(self, token_id: str, username: str | None = None) -> ApiToken:
        with self._write(self._meta):
            for key, row in self._tokens.rows().items():
                token = self._token(key, row)
                if token.token_id == token_id and username in (None, token.username):
                    self._tokens.remove(doc_ids=[key])
                    return token
        raise NotFoundError(f"找不到令牌 {token_id}")

    def add_session(self, session: UserSession) -> UserSession:
        now = format_time(_now())
        with self._write(self._sessions_db):
            stale = [k for k, r in self._sessions.rows().items() if r["expires_at"] <= now]
            if stale:
                self._sessions.remove(doc_ids=stale)
            self._sessions.put(session.session_hash, session.model_dump(mode="json"))
        return session

    def get_session(self, session_hash: str) -> UserSession | None:
        row = self._sessions.row(session_hash)
        if row is None or row["expires_at"] <= format_time(_now()):
            return None
        return UserSession.model_validate(row)

    def delete_session(self, session_hash: str) -> bool:
        with self._write(self._sessions_db):
            if self._sessions.row(session_hash) is None:
                return False
            self._sessions.remove(doc_ids=[session_hash])
        return True

    def delete_sessions(self, username: str, keep: str | None = None) -> int:
        with self._write(self._sessions_db):
            ended = [
                key
                for key, row in self._sessions.rows().items()
                if row["username"] == username and key != keep
            ]
            if ended:
                self._sessions.remove(doc_ids=ended)
        return len(ended)

    # -- printed documents -----------------------------------------------------------------------
    def signing_key_fingerprint(self, fingerprint: str) -> str:
        """The key file lives in this data folder (settings.signing_key): one key per
        folder, nothing to compare; returns `fingerprint`."""
        return fingerprint

    def register_documents(self, docs: list[IssuedDocument]) -> None:
        if not docs:
            return
        rows = {d.document_id: d.model_dump(mode="json") for d in docs}
        with self._write(self._docs_db):
            self._documents.put_many(rows)

    def get_document(self, document_id: str) -> IssuedDocument | None:
        row = self._documents.row(document_id)
        return IssuedDocument.model_validate(copy.deepcopy(row)) if row else None

    def document_values_reader(self) -> DocumentValues:
        return DocumentValues(self._db_dir / "documents.json")

    def known_values(self) -> dict[str, list[str]]:
        claims = self.list_claims()
        return {
            "station": sorted({s.name for s in self.list_stations() if s.name}),
            "vehicle_model": sorted({c.vehicle_model for c in claims if c.vehicle_model}),
            "part_no": sorted({c.part_no for c in claims if c.part_no}),
            "engine_no": sorted({c.engine_no for c in claims if c.engine_no}),
            "part_name": sorted({c.part_name for c in claims if c.part_name}),
            **history_lists(
                latest_reviews(self._reviews()),
                {(e.template, e.field, e.value) for e in self._exclusions()},
            ),
        }

    # -- the reader's history (records.json: history_exclusions) ----------------------------
    def _exclusions(self) -> list[HistoryExclusion]:
        return [HistoryExclusion.model_validate(r) for r in self._history_off.rows().values()]

    @staticmethod
    def _exclusion_key(template: str, field: str, value: str) -> str:
        return json.dumps([template, field, value], ensure_ascii=False)

    def history_values(self, template: Template) -> list[HistoryValue]:
        return history_values(latest_reviews(self._reviews()), self._exclusions(), template)

    def exclude_history_value(self, exclusion: HistoryExclusion) -> HistoryExclusion:
        key = self._exclusion_key(exclusion.template, exclusion.field, exclusion.value)
        with self._write(self._records_db):
            row = self._history_off.row(key)
            if row is not None:
                return HistoryExclusion.model_validate(row)
            self._history_off.put(key, exclusion.model_dump(mode="json"))
        return exclusion

    def restore_history_value(self, template: str, field: str, value: str) -> bool:
        key = self._exclusion_key(template, field, value)
        with self._write(self._records_db):
            if self._history_off.row(key) is None:
                return False
            self._history_off.remove(doc_ids=[key])
        return True

    def _reviews(self) -> list[tuple[str, str, str, int | None, str | None, Any]]:
        """Every correction, oldest first, as store.history.latest_reviews takes them."""
        out = []
        for c in sorted(self._corrections.rows().values(), key=lambda c: c["at"]):
            row = self._records.row(c["record_id"])
            if row is not None:
                out.append(
                    (c["record_id"], row["template"], c["field_key"], c.get("row"),
                     c.get("column"), c.get("new_value"))
                )  # fmt: skip
        return out

    def document_ids(self, template: str) -> list[str]:
        return [key for key, row in self._documents.rows().items() if row["template"] == template]

    # -- scans -------------------------------------------------------------------------------------
    def _scan_path(self, sha256: str) -> Path:
        return self._scans_dir / sha256[:2] / sha256

    def put_scan(
        self,
        data: bytes,
        filename: str,
        content_type: str,
        uploaded_by: str,
        station: str | None,
    ) -> tuple[Scan, bool]:
        """Stores the bytes once; (scan, True) when `station` (None: the back office) had not
        uploaded them before — its upload is added to the scan's owners — else (scan, False).
        Whether another station uploaded the same bytes is never told."""
        sha = hashlib.sha256(data).hexdigest()
        # The bytes are written outside the lock: content-addressed, written once, so
        # concurrent uploads don't queue behind each other's disk writes.
        write_once(self._scan_path(sha), data)
        existing = self.get_scan(sha)
        if existing is not None and existing.owner(station) is not None:
            return existing, False
        with self._write(self._scans_db):
            now = _now()
            owner = ScanOwner(
                station=station, uploaded_by=uploaded_by, filename=filename, uploaded_at=now
            )
            row = self._scans.row(sha)
            if row is not None:
                scan = Scan.model_validate(row)
                if scan.owner(station) is not None:
                    return scan, False
                scan = scan.model_copy(update={"owners": [*scan.all_owners(), owner]})
            else:
                scan = Scan(
                    sha256=sha,
                    filename=filename,
                    content_type=content_type,
                    size=len(data),
                    station=station,
                    uploaded_by=uploaded_by,
                    uploaded_at=now,
                    owners=[owner],
                )
            self._scans.put(sha, scan.model_dump(mode="json"))
        return scan, True

    def get_scan(self, sha256: str) -> Scan | None:
        row = self._scans.row(sha256)
        return Scan.model_validate(row) if row else None

    def scan_bytes(self, sha256: str) -> bytes:
        if not _SHA256.fullmatch(sha256):
            raise NotFoundError(f"扫描件“{sha256[:16]}”不存在")
        try:
            return self._scan_path(sha256).read_bytes()
        except FileNotFoundError:
            raise NotFoundError(f"扫描件“{sha256[:16]}…”不存在") from None

    # -- refused pages ---------------------------------------------------------------------
    def record_page_outcomes(
        self,
        scan_id: str,
        station: str | None,
        batch_id: str,
        filename: str,
        problems: dict[int, str],
        records: dict[int, list[str]],
    ) -> None:
        with self._write(self._queue):
            rows = page_outcomes(
                self._refusals.row, scan_id, station, batch_id, filename, problems, records
            )
            if rows:
                self._refusals.put_many({r["refusal_id"]: r for r in rows})

    def list_page_refusals(
        self, states: list[str] | None = None, scan_ids: list[str] | None = None
    ) -> list[PageRefusal]:
        out = [
            PageRefusal.model_validate(r)
            for r in self._refusals.rows().values()
            if (states is None or r["state"] in states)
            and (scan_ids is None or r["scan_id"] in scan_ids)
        ]
        return sorted(out, key=lambda r: (r.created_at, r.refusal_id), reverse=True)

    def get_page_refusal(self, refusal_id: str) -> PageRefusal | None:
        row = self._refusals.row(refusal_id)
        return PageRefusal.model_validate(row) if row else None

    def update_page_refusal(
        self, refusal_id: str, from_states: list[str], **changes: Any
    ) -> PageRefusal:
        with self._write(self._queue):
            row = self._refusals.row(refusal_id)
            new = changed_refusal(row, refusal_id, from_states, changes)
            self._refusals.put(refusal_id, new)
        return PageRefusal.model_validate(new)

    def find_scans(self, name: str, station: str | None = None, limit: int = 500) -> list[Scan]:
        folded = name.strip().casefold()
        found = []
        for row in self._scans.rows().values():
            scan = Scan.model_validate(row)
            owners = [o for o in scan.all_owners() if station is None or o.station == station]
            if folded and any(folded in o.filename.casefold() for o in owners):
                found.append(scan)
        found.sort(key=lambda s: (s.uploaded_at, s.sha256), reverse=True)
        return found[:limit]

    # -- batches and the reading queue ---------------------------------------------------------------
    def create_batch(
        self,
        created_by: str,
        station: str | None,
        scan_ids: list[str],
        pages_total: int | None = None,
        *,
        pages: Mapping[str, int] | None = None,
    ) -> Batch:
        ids = list(dict.fromkeys(scan_ids))
        missing = [s for s in ids if self._scans.row(s) is None]
        if missing:
            raise NotFoundError(f"扫描件“{missing[0][:16]}…”不存在")
        pages = pages or {}
        if pages_total is None:
            pages_total = sum(pages.get(s, 0) for s in ids)
        now = _now()
        with self._write(self._queue):
            batch_id = _new_id(lambda k: self._batches.row(k) is not None)
            jobs: dict[str, dict[str, Any]] = {}
            for scan_id in ids:
                job_id = _new_id(lambda k: k in jobs or self._jobs.row(k) is not None)
                job = Job(
                    job_id=job_id,
                    batch_id=batch_id,
                    scan_id=scan_id,
                    pages=pages.get(scan_id, 0),
                    files=scan_ids.count(scan_id),
                    updated_at=now,
                )
                jobs[job_id] = job.model_dump(mode="json")
            batch = Batch(
                batch_id=batch_id,
                station=station,
                created_by=created_by,
                created_at=now,
                scan_ids=ids,
                state="queued" if ids else "done",
                pages_total=pages_total,
                files_total=len(scan_ids),
            )
            self._batches.put(batch_id, batch.model_dump(mode="json"))
            self._jobs.put_many(jobs)
        return batch

    def get_batch(self, batch_id: str) -> Batch | None:
        row = self._batches.row(batch_id)
        return Batch.model_validate(row) if row else None

    def list_batches(self, station: str | None = None, scan_id: str | None = None) -> list[Batch]:
        rows = [
            r
            for r in self._batches.rows().values()
            if (station is None or r["station"] == station)
            and (scan_id is None or scan_id in r["scan_ids"])
        ]
        rows.sort(key=lambda r: (r["created_at"], r["batch_id"]), reverse=True)
        return [Batch.model_validate(r) for r in rows]

    def list_jobs(self, batch_id: str) -> list[Job]:
        return [
            Job.model_validate(j) for j in self._jobs.rows().values() if j["batch_id"] == batch_id
        ]

    def _update_batch(self, batch_id: str, **changes: Any) -> None:
        """Applies `changes` and the state the batch's jobs now imply (inside a transaction)."""
        row = self._batches.row(batch_id)
        if row is None:
            return
        states = [j["state"] for j in self._jobs.rows().values() if j["batch_id"] == batch_id]
        if all(s in ("done", "failed") for s in states):
            state = "done"
        elif any(s != "pending" for s in states):
            state = "reading"
        else:
            state = "queued"
        new = {**row, **changes, "state": state}
        if new != row:
            self._batches.put(batch_id, new)

    def claim_job(self) -> Job | None:
        if not any(j["state"] == "pending" for j in self._jobs.rows().values()):
            return None  # the idle poll takes no lock
        with self._write(self._queue):
            pending = [j for j in self._jobs.rows().values() if j["state"] == "pending"]
            if not pending:
                return None
            row = self._next_job(pending)
            job = {
                **row,
                "state": "processing",
                "attempts": row["attempts"] + 1,
                "updated_at": format_time(_now()),
            }
            self._jobs.put(job["job_id"], job)
            self._update_batch(job["batch_id"])
        return Job.model_validate(job)

    def _next_job(self, pending: list[dict[str, Any]]) -> dict[str, Any]:
        """Which pending job to read next: one never tried before one whose attempt failed;
        among those, one of the station served longest ago (so one station's long files do
        not hold up every other station: round robin by station), then the oldest."""
        fewest = min(j["attempts"] for j in pending)
        candidates = [j for j in pending if j["attempts"] == fewest]
        if len(candidates) == 1:
            return candidates[0]
        batches = self._batches.rows()

        def station(job: dict[str, Any]) -> str | None:
            return (batches.get(job["batch_id"]) or {}).get("station")

        served: dict[str | None, str] = {}  # station -> when a job of it was last claimed/ended
        for j in self._jobs.rows().values():
            if j["state"] != "pending" or j["attempts"]:
                key = station(j)
                served[key] = max(served.get(key, ""), j["updated_at"])
        return min(candidates, key=lambda j: served.get(station(j), ""))

    def _end_job(self, row: dict[str, Any], error: str | None, pages_done: int) -> dict[str, Any]:
        """A job done (or failed with `error`) and its batch's progress (in a transaction)."""
        job = {
            **row,
            "state": "failed" if error else "done",
            "error": error,
            "updated_at": format_time(_now()),
        }
        self._jobs.put(job["job_id"], job)
        batch = self._batches.row(job["batch_id"]) or {
            "pages_done": 0,
            "files_done": 0,
            "errors": [],
        }
        changes: dict[str, Any] = {
            "pages_done": batch["pages_done"] + max(0, pages_done),
            "files_done": batch.get("files_done", 0) + job.get("files", 1),
        }
        if error:
            changes["errors"] = [*batch["errors"], error]
        self._update_batch(job["batch_id"], **changes)
        return job

    def _processing_job(self, job_id: str) -> dict[str, Any]:
        """The row of a job being read (inside a transaction); NotFoundError, ConflictError."""
        row = self._jobs.row(job_id)
        if row is None:
            raise NotFoundError(f"任务“{job_id}”不存在")
        if row["state"] != "processing":
            raise ConflictError(f"任务“{job_id}”不在识读中(现为 {row['state']})")
        return row

    def finish_job(self, job_id: str, error: str | None, pages_done: int) -> Job:
        with self._write(self._queue):
            job = self._end_job(self._processing_job(job_id), error, pages_done)
        return Job.model_validate(job)

    def release_job(self, job_id: str, error: str) -> Job:
        with self._write(self._queue):
            row = self._processing_job(job_id)
            job = {**row, "state": "pending", "error": error, "updated_at": format_time(_now())}
            self._jobs.put(job_id, job)
            self._update_batch(job["batch_id"])
        return Job.model_validate(job)

    def take_job(self, job_id: str, max_attempts: int | None = None) -> Job | None:
        with self._write(self._queue):
            row = self._jobs.row(job_id)
            if row is None:
                raise NotFoundError(f"任务“{job_id}”不存在")
            if row["state"] not in ("pending", "processing"):
                return None
            if (
                row["state"] == "processing"
                and max_attempts is not None
                and row["attempts"] >= max_attempts
            ):
                scan = self._scans.row(row["scan_id"]) or {}
                name = scan.get("filename", job_id)
                self._end_job(row, interrupted(name, row["attempts"]), 0)
                return None
            job = {
                **row,
                "state": "processing",
                "attempts": row["attempts"] + 1,
                "updated_at": format_time(_now()),
            }
            self._jobs.put(job_id, job)
            self._update_batch(job["batch_id"])
        return Job.model_validate(job)

    def requeue_stale_jobs(self, max_attempts: int | None = None) -> int:
        with self._write(self._queue):
            now = format_time(_now())
            stale = [j for j in self._jobs.rows().values() if j["state"] == "processing"]
            requeued = {}
            for j in stale:
                if max_attempts is not None and j["attempts"] >= max_attempts:
                    scan = self._scans.row(j["scan_id"]) or {}
                    name = scan.get("filename", j["scan_id"][:16])
                    self._end_job(j, interrupted(name, j["attempts"]), 0)
                else:
                    requeued[j["job_id"]] = {**j, "state": "pending", "updated_at": now}
            if requeued:
                self._jobs.put_many(requeued)
                for batch_id in {j["batch_id"] for j in requeued.values()}:
                    self._update_batch(batch_id)
        return len(requeued)

    # -- record files ----------------------------------------------------------------------------------
    def _record_path(self, record_id: str) -> Path:
        return self._records_dir / f"{record_id}.json"

    def _pending_path(self, record_id: str, rev: int) -> Path:
        return self._records_dir / f"{record_id}{_PENDING}{rev}"

    @staticmethod
    def _record_body(path: Path, record_id: str) -> tuple[dict[str, Any] | None, str | None]:
        """(the file's body or None if there is none, None) or (None, why it is damaged)."""
        try:
            return integrity.read_record_file(path, record_id), None
        except Damaged as exc:
            return None, str(exc)

    def _read_record(
        self, record_id: str
    ) -> tuple[dict[str, Any], dict[str, Any] | None, str | None] | None:
        """(summary row, record, None) of the row's revision, rolling a committed pending
        file forward; (row, None, Chinese reason) when the record's file is damaged, missing
        or out of step with the index; None when there is no such record."""
        if not _SAFE_ID.fullmatch(record_id):
            return None
        reason = ""
        for _ in range(20):
            row = self._records.row(record_id)
            if row is None:
                return None
            rev = row["rev"]
            stored, problem = self._record_body(self._record_path(record_id), record_id)
            if stored is not None and stored["rev"] == rev:
                return row, stored["record"], None
            if stored is None or stored["rev"] < rev:
                pending, _ = self._record_body(self._pending_path(record_id, rev), record_id)
                if pending is not None and pending["rev"] == rev:
                    return row, pending["record"], None
            if problem is not None:  # files are replaced whole: this is no writer at work
                return row, None, problem
            if stored is None:
                reason = "记录文件缺失"
            elif stored["rev"] < rev:
                reason = f"记录文件是旧版本(第 {stored['rev']} 版,索引为第 {rev} 版)"
            else:
                reason = f"记录索引是旧版本(第 {rev} 版,记录文件为第 {stored['rev']} 版)"
            time.sleep(0.002)  # a writer may be renaming the file into place right now
        return row, None, reason

    def _stage(
        self,
        contents: dict[str, tuple[int, dict]],
        sync: bool,
        rows: dict[str, dict[str, Any]],
    ) -> list[tuple[Path, Path]]:
        """Each record's file written beside its final name, with its summary row (all but
        the search text, which the record gives again) so the index can be rebuilt."""
        staged: list[tuple[Path, Path]] = []
        try:
            for record_id, (rev, record) in contents.items():
                pending = self._pending_path(record_id, rev)
                summary = {k: v for k, v in rows[record_id].items() if k != "search_text"}
                body = {"record_id": record_id, "rev": rev, "summary": summary, "record": record}
                atomic_write(pending, _dump(body), sync=sync)
                staged.append((pending, self._record_path(record_id)))
        except BaseException:
            self._discard(staged)
            raise
        return staged

    @staticmethod
    def _discard(staged: list[tuple[Path, Path]]) -> None:
        for pending, _ in staged:
            with contextlib.suppress(OSError):
                pending.unlink()

    def _promote(self, staged: list[tuple[Path, Path]]) -> None:
        """After the commit: a failure here loses nothing, readers use the pending file."""
        for pending, final in staged:
            try:
                os.replace(pending, final)
            except OSError as exc:
                log.warning(
                    "记录文件 %s 未能就位(%s),读取时由 %s 补上", final.name, exc, pending.name
                )
        fsync_dir(self._records_dir)

    def _commit_records(
        self,
        rows: dict[str, dict[str, Any]],
        contents: dict[str, tuple[int, dict]],
        corrections: dict[str, dict[str, Any]] | None = None,
        *,
        sync: bool = True,
    ) -> None:
        staged = self._stage(contents, sync, rows)
        try:
            with self._records_db.transaction():
                self._records.put_many(rows)
                if corrections:
                    self._corrections.put_many(corrections)
        except BaseException:
            self._discard(staged)
            raise
        self._promote(staged)

    def _recover(self) -> None:
        """At open: pending record files the database committed go into place, others
        (and temporary files a crash left) go away."""
        with self._lock:
            for path in self._records_dir.iterdir():
                name = path.name
                if name.startswith(".") and name.endswith(".tmp"):
                    path.unlink(missing_ok=True)
                    continue
                record_id, sep, rev = name.partition(_PENDING)
                if not sep:
                    continue
                row = self._records.row(record_id)
                stored, _ = self._record_body(self._record_path(record_id), record_id)
                if (
                    row
                    and str(row["rev"]) == rev
                    and (stored is None or stored["rev"] < row["rev"])
                ):
                    os.replace(path, self._record_path(record_id))
                else:
                    path.unlink(missing_ok=True)
            for path in self._db_dir.glob(".*.tmp"):
                path.unlink(missing_ok=True)

    # -- records -------------------------------------------------------------------------------------------
    def _summary_row(
        self,
        record_id: str,
        scan_id: str,
        station: str | None,
        record: dict[str, Any],
        created_at: datetime | str,
        updated_at: datetime,
        rev: int,
    ) -> dict[str, Any]:
        summary = summarise(record_id, scan_id, station, record, created_at, updated_at)
        return {**summary.model_dump(mode="json"), "rev": rev}

    def _corrections_by_record(self) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = {}
        for c in self._corrections.rows().values():
            out.setdefault(c["record_id"], []).append(c)
        return out

    def save_records(
        self,
        scan_id: str,
        records: list[dict[str, Any]] | list[BaseModel],
        station: str | None,
    ) -> list[RecordSummary]:
        """Records of one scan; a second reading of the scan replaces the records of the same
        (document id, copy) — keeping their ids, reapplying their corrections — and leaves a
        record untouched (verification kept) when the reading did not change it."""
        parsed = [parse_record(r) for r in records]
        with self._lock:
            if self._scans.row(scan_id) is None:
                raise NotFoundError(f"扫描件“{scan_id[:16]}…”不存在")
            return self._save_parsed([(scan_id, r, station, None) for r in parsed], sync=True)

    def _bulk_load_records(
        self, items: list[tuple[str, dict[str, Any], str | None, datetime]]
    ) -> list[RecordSummary]:
        """Tests and benchmarks only: many (scan id, record, station, created at) in one
        write, the record files not fsynced one by one."""
        parsed = [(s, parse_record(r), st, at) for s, r, st, at in items]
        with self._lock:
            return self._save_parsed(parsed, sync=False)

    def bulk_load_records(
        self, items: list[tuple[str, dict[str, Any], str | None, datetime]]
    ) -> list[RecordSummary]:
        """Tests and benchmarks only: `_bulk_load_records` under the name the PostgreSQL
        store gives it (SqlRecordStore.bulk_load_records), so one test loads either."""
        return self._bulk_load_records(items)

    def _save_parsed(
        self,
        items: list[tuple[str, dict[str, Any], str | None, datetime | None]],
        *,
        sync: bool,
    ) -> list[RecordSummary]:
        now = _now()
        rows = self._records.rows()
        scans = {scan_id for scan_id, *_ in items}
        # the key is the station the reading was filed under (`read_station`), whatever a
        # person set the record's station to since (set_record_station)
        by_key = {
            (
                r["scan_id"],
                r.get("read_station", r["station"]),
                r["document_id"],
                r["copy_index"],
            ): rid
            for rid, r in rows.items()
            if r["scan_id"] in scans
        }
        changed: dict[str, dict[str, Any]] = {}
        contents: dict[str, tuple[int, dict]] = {}
        order: list[str] = []
        corrections: dict[str, list[dict[str, Any]]] | None = None
        for scan_id, record, station, created in items:
            key = (scan_id, station, record["document_id"], record.get("copy_index", 1))
            rid = by_key.get(key)
            old = (changed.get(rid) or rows.get(rid)) if rid else None
            placed = station  # the record's station: as read, or as a person set it since
            if rid is None or old is None:
                rid = _new_id(lambda k: k in rows or k in changed)
                by_key[key] = rid
                rev, created_at = 1, created or now
            else:
                placed = old["station"]
                if corrections is None:
                    corrections = self._corrections_by_record()
                for c in corrections.get(rid, []):
                    with contextlib.suppress(ValueError):
                        apply_correction(
                            record,
                            c["field_key"],
                            c["new_value"],
                            c["row"],
                            c["column"],
                            c.get("user"),
                            c.get("at"),
                        )
                if rid in contents:
                    current = contents[rid][1]
                else:
                    found = self._read_record(rid)
                    current = found[1] if found else None
                if current == record:
                    order.append(rid)
                    continue
                rev, created_at = old["rev"] + 1, old["created_at"]
            row = self._summary_row(rid, scan_id, placed, record, created_at, now, rev)
            row["read_station"] = station
            changed[rid] = kept_state(row, old)
            contents[rid] = (rev, record)
            order.append(rid)
        if changed:
            self._commit_records(changed, contents, sync=sync)
        return [
            RecordSummary.model_validate(changed.get(rid) or rows[rid])
            for rid in dict.fromkeys(order)
        ]

    def get_record(self, record_id: str) -> StoredRecord | None:
        found = self._read_record(record_id)
        if found is None:
            return None
        row, record, damaged = found
        summary = RecordSummary.model_validate(row)
        return StoredRecord(summary=summary, record=record or {}, damaged=damaged)

    def _record_index(self) -> _RecordIndex:
        rows = self._records.rows()
        index = self._index
        if index is None or index.rows is not rows:
            index = self._index = _RecordIndex(rows)
        return index

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
        check_listing(order, offset, limit)
        lo, hi = _bound(date_from, end=False), _bound(date_to, end=True)
        from_scans = set(scan_ids) if scan_ids is not None else None
        terms = search_terms(text)
        index = self._record_index()
        entries = index.newest if order == "newest" else index.least_confident
        page: list[dict[str, Any]] = []
        total = 0
        for row, folded in entries:
            if not duplicates and row.get("duplicate_of"):
                continue
            if template is not None and row["template"] != template:
                continue
            if station is not None and row["station"] != station:
                continue
            if status is not None and row["status"] != status:
                continue
            if status is None and row["status"] == "voided":  # 作废: only when asked for
                continue
            if from_scans is not None and row["scan_id"] not in from_scans:
                continue
            created = row["created_at"]
            if lo is not None and created < lo[0]:
                continue
            if hi is not None and (created > hi[0] if hi[1] else created >= hi[0]):
                continue
            if terms and not all(t in folded for t in terms):
                continue
            if offset <= total < offset + limit:
                page.append(row)
            total += 1
        return [RecordSummary.model_validate(r) for r in page], total

    def correct_field(
        self,
        record_id: str,
        field_key: str,
        new_value: Any,
        user: str,
        row: int | None = None,
        column: str | None = None,
    ) -> Correction:
        with self._lock:
            found = self._read_record(record_id)
            if found is None:
                raise NotFoundError(f"记录“{record_id}”不存在")
            stored, record, damaged = found
            if record is None:
                raise ConflictError(f"记录“{record_id}”的文件无法读取,不能更正:{damaged}")
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
            correction_id = _new_id(lambda k: self._corrections.row(k) is not None)
            correction = correction.model_copy(
                update={"correction_id": correction_id, "old_value": old, "new_value": value}
            )
            rev = stored["rev"] + 1
            summary = self._summary_row(
                record_id,
                stored["scan_id"],
                stored["station"],
                record,
                stored["created_at"],
                now,
                rev,
            )
            summary["read_station"] = stored.get("read_station", stored["station"])
            summary = kept_state(summary, stored)
            self._commit_records(
                {record_id: summary},
                {record_id: (rev, record)},
                {correction_id: correction.model_dump(mode="json")},
            )
        return correction

    def list_corrections(self, record_id: str) -> list[Correction]:
        return [
            Correction.model_validate(c)
            for c in self._corrections.rows().values()
            if c["record_id"] == record_id
        ]

    def verify_record(self, record_id: str, user: str) -> RecordSummary:
        with self._write(self._records_db):
            row = self._records.row(record_id)
            if row is None:
                raise NotFoundError(f"记录“{record_id}”不存在")
            if row["status"] == "voided":
                raise ConflictError(VOIDED)
            now = format_time(_now())
            row = {
                **row,
                "status": "verified",
                "verified_by": user,
                "verified_at": now,
                "updated_at": now,
            }
            self._records.put(record_id, row)
        return RecordSummary.model_validate(row)

    def _act(
        self,
        record_ids: list[str],
        action: RecordAction,
        user: str,
        reason: str | None = None,
        station: str | None = None,
    ) -> list[RecordSummary]:
        """One RecordAction on every record of `record_ids`, all or none (one write):
        store.record_actions decides the new row and the event."""
        with self._lock:
            rows: dict[str, dict[str, Any]] = {}
            events: dict[str, dict[str, Any]] = {}
            now = _now()
            for rid in dict.fromkeys(record_ids):
                row = self._records.row(rid)
                if row is None:
                    raise NotFoundError(f"记录“{rid}”不存在")
                found = self._read_record(rid) if action != "void" else None
                record = found[1] if found else None
                new, event = act(row, record, action, user, now, reason=reason, station=station)
                event_id = _new_id(lambda k: self._events.row(k) is not None or k in events)
                events[event_id] = {**event, "event_id": event_id}
                rows[rid] = new
            with self._records_db.transaction():
                self._records.put_many(rows)
                self._events.put_many(events)
        return [RecordSummary.model_validate(r) for r in rows.values()]

    def void_records(self, record_ids: list[str], user: str, reason: str) -> list[RecordSummary]:
        return self._act(record_ids, "void", user, reason=reason)

    def restore_record(self, record_id: str, user: str) -> RecordSummary:
        return self._act([record_id], "restore", user)[0]

    def unverify_record(self, record_id: str, user: str) -> RecordSummary:
        return self._act([record_id], "unverify", user)[0]

    def set_record_station(self, record_id: str, station: str | None, user: str) -> RecordSummary:
        return self._act([record_id], "set_station", user, station=station)[0]

    def list_record_events(self, record_id: str) -> list[RecordEvent]:
        rows = [e for e in self._events.rows().values() if e["record_id"] == record_id]
        return [RecordEvent.model_validate(e) for e in sorted(rows, key=lambda e: e["at"])]

    def records_with_event(self, action: str) -> set[str]:
        return {e["record_id"] for e in self._events.rows().values() if e["action"] == action}

    # -- warranty claims -------------------------------------------------------------------------------
    def import_claims(
        self,
        claims: list[Claim],
        log: ClaimImport,
        new_stations: list[Station],
        replace: bool = False,
    ) -> ClaimImport:
        check_numbers(claims)
        with self._lock:  # re-entrant: the checks and both writes under one hold
            if self._claim_imports.row(log.import_id) is not None:
                raise ConflictError(f"导入批次“{log.import_id}”已存在")
            every = self._claims.rows()
            stored = {
                c.claim_no: Claim.model_validate(every[c.claim_no])
                for c in claims
                if c.claim_no in every
            }
            new, added, log = plan_import(
                claims, stored, self._stations.rows().keys(), new_stations, log, replace
            )
            rows = {c.claim_no: c.model_dump(mode="json") for c in new}
            stations = {st.code: st.model_dump(mode="json") for st in added}
            # Stations live in meta.json, claims in claims.json: two files, two atomic
            # writes, stations first. A crash in between leaves stations no claim names yet
            # (harmless: the next import finds them), never a claim of an unknown station.
            if stations:
                with self._write(self._meta):
                    self._stations.put_many(stations)
            with self._write(self._claims_db):
                if rows:
                    self._claims.put_many(rows)
                self._claim_imports.put(log.import_id, log.model_dump(mode="json"))
        return log

    def _claims_in_order(self) -> list[dict[str, Any]]:
        """The stored claim rows by (repair date, claim number), sorted once per snapshot."""
        rows = self._claims.rows()
        cached = self._claim_order
        if cached is None or cached[0] is not rows:
            ordered = sorted(rows.values(), key=lambda r: (r["repair_date"], r["claim_no"]))
            cached = self._claim_order = (rows, ordered)
        return cached[1]

    def list_claims(
        self,
        station: str | None = None,
        repair_from: date | None = None,
        repair_to: date | None = None,
    ) -> list[Claim]:
        lo = _day(repair_from) if repair_from is not None else None
        hi = _day(repair_to) if repair_to is not None else None
        return [
            Claim.model_validate(r)
            for r in self._claims_in_order()
            if (station is None or r["station"] == station)
            and (lo is None or r["repair_date"] >= lo)
            and (hi is None or r["repair_date"] <= hi)
        ]

    def get_claim(self, claim_no: str) -> Claim | None:
        row = self._claims.row(claim_no)
        return Claim.model_validate(row) if row else None

    def undo_claim_import(self, import_id: str, user: str) -> tuple[ClaimImport, int]:
        with self._lock:
            row = self._claim_imports.row(import_id)
            log = ClaimImport.model_validate(row) if row else None
            every = [ClaimImport.model_validate(r) for r in self._claim_imports.rows().values()]
            same = [x for x in every if log and x.claims_source() == log.claims_source()]
            source, ids = undo_plan(log, import_id, same)
            gone = [no for no, c in self._claims.rows().items() if c.get("source") == source]
            now = format_time(_now())
            with self._write(self._claims_db):
                if gone:
                    self._claims.remove(doc_ids=gone)
                self._claim_imports.put_many(
                    {
                        i: {**self._claim_imports.row(i), "undone_by": user, "undone_at": now}
                        for i in ids
                    }
                )
            done = ClaimImport.model_validate(self._claim_imports.row(import_id))
        return done, len(gone)

    def list_claim_imports(self) -> list[ClaimImport]:
        rows = sorted(
            self._claim_imports.rows().values(),
            key=lambda r: (r["imported_at"], r["import_id"]),
            reverse=True,
        )
        return [ClaimImport.model_validate(r) for r in rows]

    # -- export --------------------------------------------------------------------------------------
    _TABLES = (
        "stations", "users", "tokens", "sessions", "documents", "scans", "batches", "jobs",
        "records", "corrections", "claims", "claim_imports", "events", "refusals",
        "history_off",
    )  # fmt: skip

    def table_rows(self, table: str) -> dict[str, dict[str, Any]]:
        """Every stored row of one table, by key, as stored (a copy): what `formdesk db
        migrate-from-tinydb` copies. `table` is one of `_TABLES`; KeyError otherwise."""
        if table not in self._TABLES:
            raise KeyError(table)
        return copy.deepcopy(dict(getattr(self, f"_{table}").rows()))
