"""The PostgreSQL store's own behaviour (issue 11, point 2), on a real server: its schema
from the migrations (`formdesk db upgrade`), and what only a server shows — two imports
of the same claims at once."""

from __future__ import annotations

import subprocess
import sys
import threading
from datetime import date
from decimal import Decimal

import psycopg
import pytest

from formdesk.model.claims import Claim, ClaimImport, Station
from formdesk.store.sql.claims import SqlClaimStore

from .pg import SERVER


def _claim(n: int, **kw) -> Claim:
    base = dict(
        claim_no=f"SP26030{n:02d}", station="HN01", vin="LGBH52E05AY123456",
        vehicle_model="EQ1090TJ", part_no="1011010-E02", part_name="机油泵总成", quantity=1,
        purchase_date=date(2025, 6, 18), repair_date=date(2026, 3, n), mileage_km=48260,
        labor_fee=Decimal("120.5"), material_fee=Decimal("0"), source="import:t",
    )  # fmt: skip
    return Claim(**{**base, **kw})


def _log(i: str) -> ClaimImport:
    return ClaimImport(import_id=i, filename="c.csv", sha256="0" * 64, imported_by="t", claims=0)


def test_claims_round_trip_exactly(pg_engine):
    store = SqlClaimStore(pg_engine)
    store.add_station(Station(code="HN01", name="长沙顺达汽车维修站"))
    c = _claim(3, engine_no="YC4E14020", fault_description="漏油\n异响")
    store.import_claims([c], _log("a"), [])
    got = store.get_claim(c.claim_no)
    assert got == c.model_copy(update={"imported_at": got.imported_at})
    assert got.labor_fee == Decimal("120.50") and got.amount == Decimal("120.5")
    assert store.list_claims(repair_from=date(2026, 3, 3), repair_to=date(2026, 3, 3)) == [got]
    assert store.known_values()["part_name"] == ["机油泵总成"]


def test_two_imports_of_the_same_claims_at_once_count_them_once(pg_engine):
    """The claim rows are locked while compared: of two imports racing with the same
    numbers, one adds them and the other finds them unchanged — never both added."""
    store = SqlClaimStore(pg_engine)
    store.add_station(Station(code="HN01", name="站"))
    batch = [_claim(n) for n in range(1, 21)]
    logs: list[ClaimImport] = []
    start = threading.Barrier(2)

    def run(i: str) -> None:
        start.wait()
        logs.append(store.import_claims(batch, _log(i), []))

    threads = [threading.Thread(target=run, args=(i,)) for i in ("x", "y")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted((log.claims, log.unchanged) for log in logs) == [(0, 20), (20, 0)]
    assert len(store.list_claims()) == 20


def test_db_upgrade_makes_the_schema_and_says_so_in_one_line(tmp_path):
    name = f"formdesk_cli_{tmp_path.name[-12:].lower().replace('-', '_')}"
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        url = f"{SERVER}/{name}"
        from formdesk.store.sql.store import head_revision

        said = [f"数据库表结构已从版本 (空) 升级到版本 {head_revision()}", "数据库表结构已是最新"]
        for line in said:  # what it did, then idempotent
            res = subprocess.run(
                [sys.executable, "-m", "formdesk.api", "db", "upgrade", "--database-url", url],
                capture_output=True, text=True, timeout=120, cwd=tmp_path,
            )  # fmt: skip
            assert res.returncode == 0, res.stderr
            assert res.stdout.strip() == line
        with psycopg.connect(url) as db:
            tables = {
                r[0]
                for r in db.execute("select tablename from pg_tables where schemaname = 'public'")
            }
        assert {"stations", "claims", "claim_imports", "alembic_version"} <= tables
        bad = subprocess.run(
            [sys.executable, "-m", "formdesk.api", "db", "upgrade", "--database-url",
             "postgresql://postgres@127.0.0.1:1/none"],
            capture_output=True, text=True, timeout=120, cwd=tmp_path,
        )  # fmt: skip
        assert bad.returncode == 1 and len(bad.stderr.strip().splitlines()) == 1
        assert bad.stderr.startswith("错误:无法连接数据库")
    finally:
        with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_a_network_sized_import_and_a_station_named_at_length(pg_engine):
    """What a big service center sends in one file (more claims than PostgreSQL's 65,535
    parameters of one statement) and a station known only by a long name (ingest allows
    100 characters; resolve_stations makes it the code) import as on TinyDB."""
    store = SqlClaimStore(pg_engine)
    long_name = "长沙市" + "顺达" * 48 + "站"  # 100 characters
    batch = [_claim(1, claim_no=f"SP{n:07d}", station=long_name) for n in range(66_000)]
    log = store.import_claims(batch, _log("big"), [Station(code=long_name, name=long_name)])
    assert (log.claims, log.stations_added) == (66_000, [long_name])
    again = store.import_claims(batch, _log("again"), [])
    assert (again.claims, again.unchanged) == (0, 66_000)


def test_the_migrations_make_exactly_the_tables_the_queries_are_written_against(pg_url):
    """schema.py (what the code queries) and the Alembic migrations (what `db upgrade`
    makes) must not drift apart: autogenerate finds nothing to change."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from formdesk.store.sql import connect
    from formdesk.store.sql.schema import metadata

    engine = connect(pg_url)
    try:
        with engine.connect() as db:
            # procrastinate's own tables (migration 0004) are the job queue's, not ours
            ours = {"include_name": lambda name, kind, _: not str(name).startswith("procrastinate")}
            assert compare_metadata(MigrationContext.configure(db, opts=ours), metadata) == []
    finally:
        engine.dispose()


def test_a_store_on_a_database_not_upgraded_or_not_there_is_refused_in_one_line(tmp_path):
    from formdesk.store import open_store
    from formdesk.store.sql.engine import DatabaseUnavailable
    from formdesk.store.sql.store import SchemaOutOfDate

    from .pg import fresh_database

    with fresh_database() as url:
        with psycopg.connect(url, autocommit=True) as db:
            db.execute("UPDATE alembic_version SET version_num = '0001'")
        with pytest.raises(SchemaOutOfDate, match="formdesk db upgrade"):
            open_store(tmp_path, database_url=url)
    with pytest.raises(DatabaseUnavailable, match="无法连接数据库"):
        open_store(tmp_path, database_url="postgresql://postgres@127.0.0.1:1/none")


def test_a_user_who_may_not_create_tables_and_a_newer_schema_get_one_line(tmp_path):
    """The README's setup done wrong (the database not owned by formdesk's user) and a
    machine left on an older formdesk: one line each, saying what to do."""
    from formdesk.store import open_store
    from formdesk.store.sql.engine import SchemaTooNew

    from .pg import fresh_database

    role = f"fd_{tmp_path.name[-8:].lower().replace('-', '_')}"
    with fresh_database() as url, psycopg.connect(f"{SERVER}/postgres", autocommit=True) as a:
        a.execute(f'DROP ROLE IF EXISTS "{role}"')
        a.execute(f'CREATE ROLE "{role}" LOGIN')
        try:
            name = url.rsplit("/", 1)[1]
            other = f"postgresql://{role}@127.0.0.1:5432/{name}"
            res = subprocess.run(
                [sys.executable, "-m", "formdesk.api", "db", "upgrade", "--database-url", other],
                capture_output=True, text=True, timeout=120, cwd=tmp_path,
            )  # fmt: skip
            # the schema is there (fresh_database), but this user may not read it
            assert res.returncode == 1 and len(res.stderr.strip().splitlines()) == 1, res.stderr
            assert "数据库拒绝访问" in res.stderr and "OWNER" in res.stderr
            with psycopg.connect(url, autocommit=True) as db:
                db.execute("UPDATE alembic_version SET version_num = '0099'")
            with pytest.raises(SchemaTooNew, match="升级到与其他机器相同的版本"):
                open_store(tmp_path, database_url=url)
            res = subprocess.run(
                [sys.executable, "-m", "formdesk.api", "db", "upgrade", "--database-url", url],
                capture_output=True, text=True, timeout=120, cwd=tmp_path,
            )  # fmt: skip
            assert res.returncode == 1 and len(res.stderr.strip().splitlines()) == 1, res.stderr
            assert "更新版本的 formdesk" in res.stderr
        finally:
            with psycopg.connect(f"{SERVER}/{url.rsplit('/', 1)[1]}", autocommit=True) as db:
                db.execute(f'DROP OWNED BY "{role}"')
            a.execute(f'DROP ROLE IF EXISTS "{role}"')


def test_the_service_answers_503_when_its_database_goes_away(tmp_path):
    from fastapi.testclient import TestClient

    from formdesk.api.app import create_app
    from formdesk.settings import Settings

    from .pg import fresh_database

    with fresh_database() as url:
        app = create_app(settings=Settings.from_env(tmp_path, database_url=url),
                         start_worker=False)  # fmt: skip
        name = url.rsplit("/", 1)[1]
        with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        res = TestClient(app).post("/api/login", data={"username": "admin", "password": "x"})
        assert res.status_code == 503, res.text
        assert res.json()["reason"].startswith("无法连接数据库")
        app.state.store.close()
