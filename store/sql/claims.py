"""Stations and warranty claims on PostgreSQL: `StationStore` and `ClaimStore` with the
TinyDB store's rules (store/interface.py) — an import is one transaction, all or nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import Engine, Text, any_, bindparam, delete, select, text, update
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.exc import IntegrityError

from formdesk.model.claims import Claim, ClaimImport, Station

from ..claim_import import check_numbers, plan_import, undo_plan
from ..interface import ConflictError
from .history import SqlHistoryStore
from .schema import claim_imports, claims, stations

IMPORT_LOCK = 0x46_44_43_4C  # "FDCL": the advisory lock key claims imports take


class SqlClaimStore(SqlHistoryStore):
    """Stations and claims in the database of `engine` (schema at the head revision:
    `store.sql.upgrade`)."""

    def __init__(self, engine: Engine):
        self.engine = engine

    # -- stations -------------------------------------------------------------------------
    def add_station(self, station: Station) -> Station:
        """Refuses a code already used (ConflictError)."""
        try:
            with self.engine.begin() as db:
                db.execute(stations.insert().values(**station.model_dump()))
        except IntegrityError:
            raise ConflictError(f"站点编码“{station.code}”已存在") from None
        return station

    def list_stations(self) -> list[Station]:
        with self.engine.connect() as db:
            q = select(stations).order_by(stations.c.code.collate("C"))  # code points, as Python
            rows = db.execute(q).mappings()
            return [Station.model_validate(dict(r)) for r in rows]

    def get_station(self, code: str) -> Station | None:
        with self.engine.connect() as db:
            row = db.execute(select(stations).where(stations.c.code == code)).mappings().first()
        return Station.model_validate(dict(row)) if row else None

    # -- claims ---------------------------------------------------------------------------
    def import_claims(
        self,
        claims_in: list[Claim],
        log: ClaimImport,
        new_stations: list[Station],
        replace: bool = False,
    ) -> ClaimImport:
        """As `ClaimStore.import_claims`: one transaction, and one import at a time (a
        transaction-level advisory lock, `IMPORT_LOCK`): row locks cannot stop two imports
        of numbers not yet stored from both counting them new."""
        check_numbers(claims_in)
        numbers = [c.claim_no for c in claims_in]
        with self.engine.begin() as db:
            db.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": IMPORT_LOCK})
            taken = db.execute(
                select(claim_imports.c.import_id).where(claim_imports.c.import_id == log.import_id)
            ).first()
            if taken is not None:
                raise ConflictError(f"导入批次“{log.import_id}”已存在")
            stored = {
                r["claim_no"]: Claim.model_validate(dict(r))
                # one array parameter: IN (...) would take one per claim (at most 65,535)
                for r in db.execute(
                    select(claims).where(
                        claims.c.claim_no == any_(bindparam("nos", numbers, ARRAY(Text)))
                    )
                ).mappings()
            }
            known = {r[0] for r in db.execute(select(stations.c.code))}
            new, added, log = plan_import(claims_in, stored, known, new_stations, log, replace)
            rows = [c.model_dump() for c in new]
            if added:
                db.execute(stations.insert(), [st.model_dump() for st in added])
            if rows:
                stmt = insert(claims)
                columns = {c.name: stmt.excluded[c.name] for c in claims.c if c.name != "claim_no"}
                db.execute(
                    stmt.on_conflict_do_update(index_elements=["claim_no"], set_=columns), rows
                )
            db.execute(claim_imports.insert().values(**log.model_dump()))
        return log

    def undo_claim_import(self, import_id: str, user: str) -> tuple[ClaimImport, int]:
        """As `ClaimStore.undo_claim_import`: one transaction, under the import lock."""
        i = claim_imports
        with self.engine.begin() as db:
            db.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": IMPORT_LOCK})
            row = db.execute(select(i).where(i.c.import_id == import_id)).mappings().first()
            log = ClaimImport.model_validate(dict(row)) if row else None
            same = []
            if log is not None:
                every = [
                    ClaimImport.model_validate(dict(r)) for r in db.execute(select(i)).mappings()
                ]
                same = [x for x in every if x.claims_source() == log.claims_source()]
            source, ids = undo_plan(log, import_id, same)
            gone = db.execute(delete(claims).where(claims.c.source == source)).rowcount
            now = datetime.now(UTC)
            db.execute(
                update(i)
                .where(i.c.import_id == any_(bindparam("ids", ids, ARRAY(Text))))
                .values(undone_by=user, undone_at=now)
            )
            done = db.execute(select(i).where(i.c.import_id == import_id)).mappings().first()
        return ClaimImport.model_validate(dict(done)), gone

    def list_claims(
        self,
        station: str | None = None,
        repair_from: date | None = None,
        repair_to: date | None = None,
    ) -> list[Claim]:
        """By repair date (both bounds inclusive), then claim number."""
        q = select(claims).order_by(claims.c.repair_date, claims.c.claim_no.collate("C"))
        if station is not None:
            q = q.where(claims.c.station == station)
        if repair_from is not None:
            q = q.where(claims.c.repair_date >= _day(repair_from))
        if repair_to is not None:
            q = q.where(claims.c.repair_date <= _day(repair_to))
        with self.engine.connect() as db:
            return [Claim.model_validate(dict(r)) for r in db.execute(q).mappings()]

    def get_claim(self, claim_no: str) -> Claim | None:
        with self.engine.connect() as db:
            row = db.execute(select(claims).where(claims.c.claim_no == claim_no)).mappings().first()
        return Claim.model_validate(dict(row)) if row else None

    def list_claim_imports(self) -> list[ClaimImport]:
        """Newest first."""
        q = select(claim_imports).order_by(
            claim_imports.c.imported_at.desc(), claim_imports.c.import_id.collate("C").desc()
        )
        with self.engine.connect() as db:
            return [ClaimImport.model_validate(dict(r)) for r in db.execute(q).mappings()]

    def known_values(self) -> dict[str, list[str]]:
        """Station names and the claims' models, part numbers, names and engine numbers
        (DISTINCT), and the values people confirmed on earlier records (store.history,
        exclusions left out)."""
        out = {"station": self._distinct(stations.c.name)}
        for key in ("vehicle_model", "part_no", "part_name", "engine_no"):
            out[key] = self._distinct(claims.c[key])
        return {**out, **self.history_lists()}

    def _distinct(self, column) -> list[str]:
        q = select(column).where(column != "").distinct()
        with self.engine.connect() as db:
            return sorted(r[0] for r in db.execute(q) if r[0])  # code points, as the TinyDB store


def _day(value: date) -> date:
    """A bound's day (a datetime counts as its date, as the TinyDB store compares)."""
    return value.date() if hasattr(value, "date") and callable(value.date) else value
