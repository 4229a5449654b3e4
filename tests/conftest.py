"""Shared fixtures: the catalog, sample records, a signing key and PDF inspection helpers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from formdesk.templates import Template, load_catalog

from .exclusive import (  # noqa: F401 (hooks: two workers)
    pytest_collection_modifyitems,
    pytest_configure,
    pytest_runtest_protocol,
)
from .pg import STORES, pg_engine, pg_url  # noqa: F401 (fixtures: a real PostgreSQL database)

ROOT = Path(__file__).resolve().parents[1]
RECORDS = ROOT / "samples" / "records"
TEST_KEY = b"formdesk-test-key"


def sample_values(template: Template) -> dict:
    return json.loads((RECORDS / f"{template.slug}.json").read_text(encoding="utf-8"))["values"]


def all_templates() -> list[Template]:
    return list(load_catalog().values())


def template_ids() -> list[str]:
    return [t.slug for t in all_templates()]


@pytest.fixture
def key() -> bytes:
    return TEST_KEY


@pytest.fixture(params=STORES)
def any_store(request, tmp_path):
    """An empty store of each kind (issue 11: the same test on both): the TinyDB store of
    tmp_path/data, or the PostgreSQL store on the session's database with every table
    emptied (`pg_engine`, asked for only then)."""
    from formdesk.store import TinyStore
    from formdesk.store.sql.store import SqlStore

    if request.param == "tinydb":
        with TinyStore(tmp_path / "data") as store:
            yield store
    else:
        with SqlStore(request.getfixturevalue("pg_engine")) as store:
            yield store


@pytest.fixture(params=STORES)
def any_settings(request, tmp_path):
    """Settings of a service on each store, its data folder tmp_path/data: the folder's
    own TinyDB store, or the session's PostgreSQL database with every table emptied."""
    from formdesk.settings import Settings

    url = None
    if request.param == "postgresql":
        request.getfixturevalue("pg_engine")  # the tables emptied
        url = request.getfixturevalue("pg_url")
    return Settings.from_env(tmp_path / "data", database_url=url)


def finished_print_job(client, job: dict, timeout: float = 60) -> dict:
    """A print job's status (POST …/batch answer `job`), polled until done or failed."""
    import time

    end = time.time() + timeout
    while job["state"] not in ("done", "failed") and time.time() < end:
        time.sleep(0.2)
        job = client.get(job["status_url"]).json()
    return job
