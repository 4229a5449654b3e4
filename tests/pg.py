"""A real PostgreSQL for the tests: on this project's machines it listens on
127.0.0.1:5432 with trust auth (`.ci/run` makes sure it is up). Each test session gets a
database of its own, made fresh, migrated to the head revision and dropped at the end;
each test starts with empty tables. `fresh_database()` makes one for a module's service.

STORES names the stores the store-, API-, service- and reconciliation tests run on
(issue 11: one suite, both stores): `store_settings` gives a service's Settings on one,
`store_of` a store of its own of one kind (conftest's `any_store` and `any_settings`: an
empty store, or a service's Settings, of each kind per test). `reopened` opens a store's
data again (as another process would), `store_copy` copies it, and `database_url` says
which database a store is on, for a command or process to be given."""

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
        names = [t.name for t in metadata.sorted_tables] + [
            "procrastinate_jobs", "procrastinate_events", "procrastinate_workers",
            "procrastinate_periodic_defers",
        ]  # fmt: skip
        db.execute(text(f"TRUNCATE {', '.join(names)} CASCADE"))
    yield engine
    engine.dispose()


STORES = ("tinydb", "postgresql")


@contextmanager
def store_settings(data_dir, kind: str, **overrides) -> Iterator[object]:
    """Settings of a service whose store is `kind` ("tinydb": the data folder's own;
    "postgresql": a fresh database of its own), with `data_dir` for its other files."""
    from formdesk.settings import Settings

    if kind == "tinydb":
        yield Settings.from_env(data_dir, database_url=None, **overrides)
        return
    with fresh_database() as url:
        yield Settings.from_env(data_dir, database_url=url, **overrides)


@contextmanager
def store_of(kind: str, data_dir) -> Iterator[object]:
    """A store of `kind` of its own, closed afterwards: the TinyDB store of `data_dir`, or
    the PostgreSQL store on a fresh database (dropped afterwards)."""
    from formdesk.store import TinyStore
    from formdesk.store.sql.store import SqlStore

    if kind == "tinydb":
        with TinyStore(data_dir) as store:
            yield store
        return
    with fresh_database() as url, SqlStore.open(url) as store:
        yield store


def database_url(store) -> str | None:
    """postgresql://… of the database a PostgreSQL store is on (for FORMDESK_DATABASE_URL
    of a command or a served process); None for the TinyDB store (its data folder)."""
    engine = getattr(store, "engine", None)
    return None if engine is None else engine.url.render_as_string(hide_password=False)


@contextmanager
def store_copy(store, data_dir) -> Iterator[object]:
    """A store of its own holding what `store` holds, closed afterwards: the TinyDB store of
    a copy of its data folder at `data_dir`, or the PostgreSQL store on a copy of its
    database (dropped afterwards; `store`'s pooled connections are closed first: a database
    is copied only with none open on it)."""
    import shutil

    from formdesk.store import TinyStore
    from formdesk.store.sql.store import SqlStore

    url = database_url(store)
    if url is None:
        shutil.copytree(store.data_dir, data_dir)
        with TinyStore(data_dir) as copy:
            yield copy
        return
    store.engine.dispose()
    name = f"formdesk_test_{os.getpid()}_{secrets.token_hex(4)}"
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{store.engine.url.database}"')
    try:
        with SqlStore.open(f"{SERVER}/{name}") as copy:
            yield copy
    finally:
        with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def reopened(store):
    """The same data opened again, as another process (or a restart) opens it: a TinyDB
    store on the same folder, or a PostgreSQL store on the same database. The caller
    closes it (both are context managers)."""
    from formdesk.store import TinyStore
    from formdesk.store.sql.store import SqlStore

    url = database_url(store)
    return TinyStore(store.data_dir) if url is None else SqlStore.open(url)
