"""Importing warranty claims (三包索赔单) into the store: a claims file, or the rows of a
read SH-ZH/BD-25 record; parsed and checked by `ingest.claims`, stored all or nothing,
each import logged (`ClaimImport`) with the stations it added."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import BinaryIO

from formdesk.ingest.claims import (
    MAX_CLAIMS_BYTES,
    ClaimFileError,
    check_size,
    claims_from_feedback,
    new_import_id,
    parse_claims_file,
    resolve_stations,
)
from formdesk.model.claims import Claim, ClaimImport
from formdesk.model.errors import ConflictError
from formdesk.model.stored import StoredRecord
from formdesk.store import Store
from formdesk.templates.values.dates import DateValueError, month_span

from .pools import LimitedPool, TaskFailed
from .records import usable_record
from .refusals import Refused
from .stations import station_code
from .viewers import Viewer


def _store_claims(
    store: Store,
    claims: list[Claim],
    import_id: str,
    filename: str,
    sha256: str,
    user: str,
    replace: bool,
) -> ClaimImport:
    claims, new_stations = resolve_stations(store.list_stations(), claims)
    log = ClaimImport(
        import_id=import_id,
        filename=filename,
        sha256=sha256,
        imported_by=user,
        claims=0,  # the store counts what it added or replaced
        stations_added=[s.code for s in new_stations],
        source=claims[0].source if claims else None,
    )
    return store.import_claims(claims, log, new_stations, replace=replace)


def store_claims_file(
    store: Store,
    claims: list[Claim],
    import_id: str,
    filename: str,
    data: bytes,
    user: str,
    replace: bool = False,
) -> ClaimImport:
    """Stores the claims parsed from `data`, all or nothing; the store's ConflictError when
    a claim number is stored with other content and not `replace`."""
    sha = hashlib.sha256(data).hexdigest()
    return _store_claims(store, claims, import_id, filename, sha, user, replace)


def import_claims_file(
    store: Store, data: bytes, filename: str, user: str, replace: bool = False
) -> ClaimImport:
    """Reads, checks and stores a claims file, all or nothing, in this process (the
    command line; the API parses in a worker process, api/routes/claims.py).

    ClaimFileError (ClaimFileTooLarge over the limit) for a bad file; the store's
    ConflictError when a claim number is stored with other content and not `replace`.
    """
    import_id = new_import_id()
    claims = parse_claims_file(data, filename, import_id)
    return store_claims_file(store, claims, import_id, filename, data, user, replace)


def import_claims_from_record(
    store: Store, stored: StoredRecord, user: str, replace: bool = False
) -> ClaimImport:
    """Stores the claims of a read SH-ZH/BD-25 record, all or nothing (as a file)."""
    claims = claims_from_feedback(stored)
    summary = stored.summary
    body = json.dumps(stored.record, ensure_ascii=False, sort_keys=True).encode("utf-8")
    return _store_claims(
        store,
        claims,
        new_import_id(),
        f"{summary.template} {summary.document_id}",
        hashlib.sha256(body).hexdigest(),
        user,
        replace,
    )


def import_claims_upload(
    store: Store,
    pool: LimitedPool,
    stream: BinaryIO,
    *,
    filename: str,
    declared_size: int | None,
    user: str,
    replace: bool = False,
    timeout: float,
) -> ClaimImport:
    """Imports an uploaded claims file (CSV or XLSX) all or nothing, as `user`: refused
    by its declared size before anything is read, then read from `stream` (at most
    MAX_CLAIMS_BYTES + 1 bytes), parsed and checked in the spreadsheet process `pool`
    (at most `timeout` seconds; never in this process), and stored here.

    ClaimFileTooLarge (413, ``<file>:文件 21.0 MB,超过 20 MB 上限``); ClaimFileError (422,
    with every row problem) for a bad file, and for one whose parsing ran out of memory
    or time or killed its process (``<file>:文件过于复杂,无法读取(<why>);请分批导入``);
    the store's ConflictError (409) when a claim number is stored with other content and
    not `replace`."""
    if declared_size is not None:
        check_size(declared_size, filename)  # spooled to disk by the form parser, not read
    data = stream.read(MAX_CLAIMS_BYTES + 1)
    check_size(len(data), filename)
    import_id = new_import_id()
    try:
        claims = pool.call(parse_claims_file, data, filename, import_id, timeout=timeout)
    except TaskFailed as exc:  # out of memory or time, or dead: the file's doing
        raise ClaimFileError(f"{filename}:文件过于复杂,无法读取({exc.reason});请分批导入") from None
    return store_claims_file(store, claims, import_id, filename, data, user, replace)


def import_record_claims(
    store: Store, who: Viewer, record_id: str, replace: bool = False
) -> ClaimImport:
    """Imports the rows of a read SH-ZH/BD-25 record (月份维修信息反馈) as claims, all or
    nothing, as `who.username`.  NotFoundError (404, ``找不到这条记录``); ConflictError
    (409) when its file is damaged (``这条记录的识读结果无法读取(<why>),不能导入``) or,
    from the store, a claim number is stored with other content and not `replace`;
    ClaimFileError (422) for rows that are not claims."""
    stored = usable_record(store, who, record_id, refused="不能导入")
    claims_from_feedback(stored)  # ClaimFileError (422) for a row still doubtful
    if stored.summary.status != "verified":
        raise ConflictError("请先复核这条记录并点“确认无误”,再导入为索赔单")
    return import_claims_from_record(store, stored, who.username, replace)


def undo_import(store: Store, who: Viewer, import_id: str) -> tuple[ClaimImport, int]:
    """撤销 a claims import (a file's, or a BD-25 record's) as `who.username`: the claims
    it brought in are deleted, the import is kept and marked undone; (the import, claims
    deleted).  NotFoundError (404); ConflictError (409) when undone already, or when it
    replaced stored claims (store.claim_import.undo_plan)."""
    return store.undo_claim_import(import_id, who.username)


def find_claims(
    store: Store,
    who: Viewer,
    *,
    station: str | None = None,
    month: str | None = None,
    text: str | None = None,
    import_id: str | None = None,
) -> list[Claim]:
    """The claims of `station` (a station user: its own, whatever `station` says; None:
    every station) repaired in `month` (2026-11 or 2026年11月; None: any), by repair date
    then claim number; with `text`, only those whose claim number or VIN contains it
    (case-insensitive, spaces ignored); with `import_id`, only those the import of that id
    brought in and that it still holds (a later import that replaced a claim took it).
    Refused (422, the month's problem in Chinese) for a month that does not parse."""
    found = claims_of(store, station=who.station_filter or station, month=month)
    if import_id:
        found = [c for c in found if c.source == f"import:{import_id}"]
    needle = "".join((text or "").split()).casefold()
    if needle:
        found = [c for c in found if needle in c.claim_no.casefold() or needle in c.vin.casefold()]
    return found


def claims_of(store: Store, *, station: str | None = None, month: str | None = None) -> list[Claim]:
    """The claims of `station` (its code or its full name, as a clerk may type either;
    None: every station) repaired in `month` (2026-11 or 2026年11月, Beijing time; None:
    any), by repair date then claim number.  Refused (422, the month's problem in Chinese)
    for a month that does not parse."""
    repair_from = repair_to = None
    if month:
        try:
            repair_from, repair_to = month_span(month)
        except DateValueError as exc:
            raise Refused(str(exc)) from None
    code = station_code(store, station) if station else None
    return store.list_claims(station=code, repair_from=repair_from, repair_to=repair_to)


def read_claims_file(path: Path) -> bytes:
    """The bytes of the claims file at `path` (`formdesk claims import`), refused by its
    size before a byte is read: ClaimFileTooLarge (413) over MAX_CLAIMS_BYTES; Refused
    (422) ``找不到文件 …`` / ``无法读取文件 …(没有读取权限)`` when it cannot be read."""
    from formdesk.render.record_sources import os_reason

    try:
        check_size(path.stat().st_size, path.name)
        return path.read_bytes()
    except FileNotFoundError:
        raise Refused(f"找不到文件 {path}") from None
    except OSError as exc:  # strerror is the C library's English
        raise Refused(f"无法读取文件 {path}({os_reason(exc)})") from None


def claim_imports(store: Store) -> list[ClaimImport]:
    """Every claims import logged, newest first (the caller decides who may see them)."""
    return store.list_claim_imports()
