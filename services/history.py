"""识读词库: what the reader learned from reviews, for the back office (issue 10).

The reader reads a text field against the values people confirmed in the same field of
the same form before (store/history.py).  A value a reviewer confirmed by mistake would
teach it a slip; here the back office sees each form's confirmed values and takes one
out (停用) or puts it back (恢复).  Each change is audited."""

from __future__ import annotations

from pydantic import BaseModel

from formdesk.model.errors import NotFoundError
from formdesk.model.history import HistoryExclusion, HistoryValue
from formdesk.model.time import utcnow
from formdesk.store import HistoryStore
from formdesk.templates import get_template

from .audit import audit


class FormHistory(BaseModel):
    """A form's history: its code and title, and every value confirmed in its text
    fields or excluded from them (`HistoryStore.history_values`), in the form's field
    order, most often confirmed first."""

    template: str
    title: str
    values: list[HistoryValue]


def form_history(store: HistoryStore, code: str) -> FormHistory:
    """The history of form `code` (any name `get_template` takes: UnknownTemplateError,
    404, otherwise)."""
    template = get_template(code)
    return FormHistory(
        template=template.code, title=template.title, values=store.history_values(template)
    )


def _find(store: HistoryStore, code: str, field: str, value: str) -> HistoryValue:
    history = form_history(store, code)
    for v in history.values:
        if v.field == field and v.value == value:
            return v
    raise NotFoundError(f"{history.template} 的识读词库中没有“{value}”")


def exclude(store: HistoryStore, user: str, code: str, field: str, value: str) -> HistoryValue:
    """Takes `value` out of the history of field `field` of form `code` (停用): the reader
    no longer reads against it.  NotFoundError (404) when no record confirmed it there;
    a value already excluded stays as first excluded."""
    found = _find(store, code, field, value)
    if found.excluded_by is None:
        done = store.exclude_history_value(
            HistoryExclusion(
                template=found.template, field=field, value=value, excluded_by=user,
                excluded_at=utcnow(),
            )
        )  # fmt: skip
        audit(user, "history.exclude", found.template, field=field, value=value)
        found = found.model_copy(
            update={"excluded_by": done.excluded_by, "excluded_at": done.excluded_at}
        )
    return found


def restore(store: HistoryStore, user: str, code: str, field: str, value: str) -> HistoryValue:
    """Puts an excluded value back (恢复).  NotFoundError (404) when it is not in the
    history of that field."""
    found = _find(store, code, field, value)
    if found.excluded_by is not None:
        store.restore_history_value(found.template, field, value)
        audit(user, "history.restore", found.template, field=field, value=value)
    return found.model_copy(update={"excluded_by": None, "excluded_at": None})
