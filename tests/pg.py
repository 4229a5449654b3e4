"""A real PostgreSQL for the tests: on this project's machines it listens on
127.0.0.1:5432 with trust auth (`.ci/run` makes sure it is up). Each test session gets a
database of its own, made fresh, migrated to the head revision and dropped at the end;
each test starts with empty tables. `fresh_database()` makes one for a module's service.

STORES names the stores the store-, API-, service- and reconciliation tests run on
(issue 11: one suite, both stores); `store_settings` gives a service's Settings on one."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
from sqlalchemy import text

SERVER = os.environ.get("FORMDESK_TEST_PG", "postgresql://postgres@127.0.0.1:5432")


@contextmanager
def fresh_database() -> Iterator[str]:
    """postgresql://… of a new database at the head revision, dropped afterwards (even
    with connections still open on it)."""
    from formdesk.store.sql import upgrade

    name = f"formdesk_test_{os.getpid()}_{secrets.token_hex(4)}"
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = f"{SERVER}/{name}"
    try:
        upgrade(url)
        yield url
    finally:
        with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """postgresql://… of a fresh database at the head revision (dropped afterwards)."""
    with fresh_database() as url:
        yield url


@pytest.fixture
def pg_engine(pg_url):
    """An engine on the session's database, every table emptied first."""
    from formdesk.store.sql import connect
    from formdesk.store.sql.schema import metadata

    engine = connect(pg_url)
    with engine.begin() as db:
        names = ", ".join(t.name for t in metadata.sorted_tables)
        db.execute(text(f"TRUNCATE {names} CASCADE"))
    yield engine
    engine.dispose()


class ClaimsOnPostgres:
    """A whole store whose stations and claims (StationStore, ClaimStore) live in
    PostgreSQL and whose other roles are the TinyDB store's — how the claims tests run on
    both stores while the PostgreSQL store is built role by role."""

    SQL = frozenset(
        {"add_station", "list_stations", "get_station", "import_claims", "list_claims",
         "get_claim", "list_claim_imports", "known_values"}
    )  # fmt: skip

    def __init__(self, tiny, sql):
        self._tiny, self._sql = tiny, sql

    def __getattr__(self, name):
        return getattr(self._sql if name in self.SQL else self._tiny, name)

    def close(self):
        self._tiny.close()


STORES = ("tinydb", "postgresql")


@contextmanager
def store_settings(data_dir, kind: str, **overrides) -> Iterator[object]:
    """Settings of a service whose store is `kind` ("tinydb": the data folder's own;
    "postgresql": a fresh database of its own), with `data_dir` for its other files."""
    from formdesk.api.settings import Settings

    if kind == "tinydb":
        yield Settings.from_env(data_dir, database_url=None, **overrides)
        return
    with fresh_database() as url:
        yield Settings.from_env(data_dir, database_url=url, **overrides)
