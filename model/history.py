"""The reader's history of a form's text fields (issue 10): the values people confirmed
in them on earlier records (store.history), and the values the back office took out of
it (停用) so a slip a reviewer confirmed does not teach the reader."""

from __future__ import annotations

from pydantic import BaseModel, Field

from .time import Timestamp


class HistoryExclusion(BaseModel):
    """A confirmed value the reader no longer reads against (停用): in field `field` (a
    column key for a table's cells) of form `template`, excluded by `excluded_by` at
    `excluded_at` (UTC; shown in Beijing time)."""

    template: str
    field: str
    value: str = Field(min_length=1, max_length=200)
    excluded_by: str
    excluded_at: Timestamp


class HistoryValue(BaseModel):
    """One value people confirmed in a text field of form `template`: the field's key
    (`field`, a column key for a table's cells) and Chinese label, on how many records
    the field last held it (`times`), and whether the back office took it out of the
    reader's history (`excluded_by`/`excluded_at`, None while it is read against)."""

    template: str
    field: str
    label: str
    value: str
    times: int
    excluded_by: str | None = None
    excluded_at: Timestamp | None = None
