"""Printed documents on PostgreSQL: `DocumentStore` with the TinyDB store's rules
(store/interface.py), and the picklable lookup of their values for reader processes."""

from __future__ import annotations

import os
from typing import Any

from sqlalchemy import Connection, Engine, select
from sqlalchemy.dialects.postgresql import insert

from formdesk.model.documents import IssuedDocument

from .engine import connect
from .schema import documents, installation

_VALUES = documents.c["values"]  # not `.c.values`: that is the collection's method


_ENGINES: dict[tuple[int, str], Engine] = {}  # (process id, URL): one pool per process


def _engine(url: str) -> Engine:
    """This process's engine for `url`, made once (again in a forked child)."""
    key = (os.getpid(), url)
    if key not in _ENGINES:
        _ENGINES[key] = connect(url)
    return _ENGINES[key]


class SqlDocumentValues:
    """Read-only lookup of printed documents' values, for another process: called with a
    document id, the document's prefilled values (a dict of JSON values, the caller's own
    copy), or None when the id is unknown or the document was printed blank.

    Picklable: only the database URL travels. A reader process gets a fresh copy with
    every job; they all share that process's one engine (`_engine`), so a job opens no
    connection pool of its own."""

    def __init__(self, url: str):
        self.url = url

    def __call__(self, document_id: str) -> dict[str, Any] | None:
        q = select(_VALUES).where(documents.c.document_id == document_id)
        with _engine(self.url).connect() as db:
            values = db.execute(q).scalar()
        return values or None  # decoded afresh from the row: nobody else holds it


class SqlDocumentStore:
    """Printed documents in the database of `engine` (schema at the head revision:
    `store.sql.upgrade`)."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def signing_key_fingerprint(self, fingerprint: str) -> str:
        """Records `fingerprint` under "signing_key" unless one is recorded (a race of
        two first starts keeps one: ON CONFLICT DO NOTHING), and returns the recorded."""
        add = (
            insert(installation)
            .values(name="signing_key", value=fingerprint)
            .on_conflict_do_nothing(index_elements=["name"])
        )
        q = select(installation.c.value).where(installation.c.name == "signing_key")
        with self.engine.begin() as db:
            db.execute(add)
            return db.execute(q).scalar_one()

    def register_documents(self, docs: list[IssuedDocument]) -> None:
        """Every printed document, in one transaction; registering one again (or twice in
        `docs`: the last wins) replaces it. `values` are stored as JSON (mode="json":
        dates and Decimals become strings, as the TinyDB store keeps them)."""
        with self.engine.begin() as db:
            self.register_in(db, docs)

    @staticmethod
    def register_in(db: Connection, docs: list[IssuedDocument]) -> None:
        """`register_documents` inside the transaction of `db` (a print job's PDF and its
        documents are kept together)."""
        rows = {
            d.document_id: {**d.model_dump(exclude={"values"}), "values": _json_values(d)}
            for d in docs
        }
        if not rows:
            return
        stmt = insert(documents)
        stmt = stmt.on_conflict_do_update(
            index_elements=["document_id"],
            set_={c.name: stmt.excluded[c.name] for c in documents.c if c.name != "document_id"},
        )
        # by id: two registrations lock rows in one order
        db.execute(stmt, [rows[k] for k in sorted(rows)])

    def get_document(self, document_id: str) -> IssuedDocument | None:
        """The registered document of that id (its values as stored: JSON), or None."""
        q = select(documents).where(documents.c.document_id == document_id)
        with self.engine.connect() as db:
            row = db.execute(q).mappings().first()
        return IssuedDocument.model_validate(dict(row)) if row else None

    def document_values_reader(self) -> SqlDocumentValues:
        """A picklable, read-only lookup of a printed document's prefilled values (None
        when unknown or printed blank), for reader processes (`SqlDocumentValues`)."""
        return SqlDocumentValues(self.engine.url.render_as_string(hide_password=False))

    def document_ids(self, template: str) -> list[str]:
        """The ids of every registered document of `template` (a form code), in no order."""
        q = select(documents.c.document_id).where(documents.c.template == template)
        with self.engine.connect() as db:
            return list(db.execute(q).scalars())


def _json_values(doc: IssuedDocument) -> dict[str, Any]:
    return doc.model_dump(mode="json", include={"values"})["values"]
