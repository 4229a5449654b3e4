"""Shared fixtures: the catalog, sample records, a signing key and PDF inspection helpers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from formdesk.templates import Template, load_catalog

from .pg import pg_engine, pg_url  # noqa: F401 (fixtures: a real PostgreSQL database)

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


def finished_print_job(client, job: dict, timeout: float = 60) -> dict:
    """A print job's status (POST …/batch answer `job`), polled until done or failed."""
    import time

    end = time.time() + timeout
    while job["state"] not in ("done", "failed") and time.time() < end:
        time.sleep(0.2)
        job = client.get(job["status_url"]).json()
    return job
