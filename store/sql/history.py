"""The reader's history on PostgreSQL (issue 10): `HistoryStore` with the TinyDB store's
rules — the values people confirmed, from `corrections` (store.history), and the values
the back office excluded, one row each (`history_exclusions`)."""

from __future__ import annotations

from sqlalchemy import Engine, delete, select
from sqlalchemy.dialects.postgresql import insert

from formdesk.model.history import HistoryExclusion, HistoryValue
from formdesk.templates import Template

from ..history import Reviewed, history_lists, history_values, latest_reviews
from .schema import corrections, history_exclusions, records


class SqlHistoryStore:
    """The history of the database of `engine` (schema at the head revision)."""

    engine: Engine

    def _reviewed(self) -> list[Reviewed]:
        """Each field's last reviewed value (store.history.latest_reviews)."""
        q = (
            select(
                corrections.c.record_id, records.c.template, corrections.c.field_key,
                corrections.c.row, corrections.c.column, corrections.c.new_value,
            )
            .join(records, records.c.record_id == corrections.c.record_id)
            .order_by(corrections.c.seq)
        )  # fmt: skip
        with self.engine.connect() as db:
            return latest_reviews(tuple(r) for r in db.execute(q))

    def _exclusions(self) -> list[HistoryExclusion]:
        with self.engine.connect() as db:
            rows = db.execute(select(history_exclusions)).mappings()
            return [HistoryExclusion.model_validate(dict(r)) for r in rows]

    def history_lists(self) -> dict[str, list[str]]:
        """store.history.history_lists of this database, exclusions left out."""
        off = {(e.template, e.field, e.value) for e in self._exclusions()}
        return history_lists(self._reviewed(), off)

    def history_values(self, template: Template) -> list[HistoryValue]:
        return history_values(self._reviewed(), self._exclusions(), template)

    def exclude_history_value(self, exclusion: HistoryExclusion) -> HistoryExclusion:
        t = history_exclusions.c
        q = insert(history_exclusions).values(**exclusion.model_dump()).on_conflict_do_nothing()
        with self.engine.begin() as db:
            db.execute(q)
            row = db.execute(
                select(history_exclusions).where(
                    t.template == exclusion.template, t.field == exclusion.field,
                    t.value == exclusion.value,
                )
            ).mappings().one()  # fmt: skip
        return HistoryExclusion.model_validate(dict(row))

    def restore_history_value(self, template: str, field: str, value: str) -> bool:
        t = history_exclusions.c
        q = delete(history_exclusions).where(
            t.template == template, t.field == field, t.value == value
        )
        with self.engine.begin() as db:
            return db.execute(q).rowcount > 0
