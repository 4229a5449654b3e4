"""Importing warranty claims (三包索赔单) into the store: a claims file, or the rows of a
read SH-ZH/BD-25 record; parsed and checked by `ingest.claims`, stored all or nothing,
each import logged (`ClaimImport`) with the stations it added."""

from __future__ import annotations

import hashlib
import json

from formdesk.ingest.claims import (
    claims_from_feedback,
    new_import_id,
    parse_claims_file,
    resolve_stations,
)
from formdesk.model.claims import Claim, ClaimImport
from formdesk.model.stored import StoredRecord
from formdesk.store import Store


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
