"""The whole PostgreSQL store: every role of `Store` (store/interface.py) on one engine.

Chosen with FORMDESK_DATABASE_URL=postgresql://… (`store.open_store`); the schema must be
at this version's head revision (`formdesk db upgrade`). Several processes and machines
may open it at once: every write is one transaction, the reading queue hands a job to one
worker only (row locks, SKIP LOCKED), and uploaded bytes live in the database.
"""

from __future__ import annotations

from sqlalchemy import Engine

from ..interface import StoreError
from .accounts import SqlAccountStore
from .claims import SqlClaimStore
from .documents import SqlDocumentStore
from .engine import SchemaTooNew, check_url, connect, head_revision, revision_of
from .layouts import SqlLayoutStore
from .print_jobs import SqlPrintJobStore
from .records import SqlRecordStore
from .scans import SqlScanStore


class SchemaOutOfDate(StoreError):
    """The database's schema is not this version's (HTTP 503 until `formdesk db upgrade`)."""

    status = 503


class SqlStore(
    SqlAccountStore,
    SqlClaimStore,
    SqlDocumentStore,
    SqlLayoutStore,
    SqlPrintJobStore,
    SqlRecordStore,
    SqlScanStore,
):
    """`Store` on PostgreSQL (SQLAlchemy 2 Core, psycopg 3). `SqlStore.open(url)` checks
    that the server answers (DatabaseUnavailable) and that the schema is at the head
    revision (SchemaOutOfDate)."""

    def __init__(self, engine: Engine):
        self.engine = engine

    @classmethod
    def open(cls, url: str) -> SqlStore:
        engine = connect(check_url(url))
        try:
            current = revision_of(engine)
        except StoreError:
            engine.dispose()
            raise
        head = head_revision()
        if current != head:
            engine.dispose()
            if current is not None and current > head:  # revisions are 0001, 0002, …
                raise SchemaTooNew(
                    f"数据库表结构为版本 {current},比本程序(版本 {head})新:"
                    "请把本机的 formdesk 升级到与其他机器相同的版本"
                )
            raise SchemaOutOfDate(
                f"数据库表结构为版本 {current or '(空)'},本程序需要版本 {head}:"
                "请先运行 formdesk db upgrade"
            )
        return cls(engine)

    def close(self) -> None:
        """Closes the engine's pooled connections."""
        self.engine.dispose()

    def __enter__(self) -> SqlStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
