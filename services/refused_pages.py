"""Pages the reader refused, settled by a person (issue 12, point 3): the clerk sees the
page, chooses which form (and which page of it) it is and has it read again — the file is
queued once more, the reader reads that page as the chosen form (extract.reader
`classify_by_hand`), and the refusal is resolved with the records it gave, or open again
with the new reason — or discards it with a reason.  Kept and audited either way (who,
when, why)."""

from __future__ import annotations

from formdesk.model.scans import Batch, PageRefusal
from formdesk.store import Store
from formdesk.templates import get_template
from formdesk.templates.catalog import UnknownTemplateError

from .records import not_found
from .refusals import Refused, stated_reason
from .viewers import Viewer

OPEN = ["open"]


def visible_refusals(
    store: Store, who: Viewer, states: list[str] | None = None
) -> list[PageRefusal]:
    """The refused pages `who` sees (a station user: its own uploads'), of `states` when
    given, newest first."""
    return [r for r in store.list_page_refusals(states=states) if who.sees(r.station)]


def visible_refusal(store: Store, who: Viewer, refusal_id: str) -> PageRefusal:
    """The refusal if `who` sees it; NotFoundError (404, ``找不到这一页``) otherwise."""
    found = store.get_page_refusal(refusal_id)
    if found is None or not who.sees(found.station):
        raise not_found("这一页")
    return found


def classify(
    store: Store, who: Viewer, refusal_id: str, template: str, form_page: int = 1
) -> tuple[PageRefusal, Batch]:
    """The clerk's choice for a refused page: form `template` (a catalog code), page
    `form_page` (from 1) of it.  The refusal becomes requeued and its file is queued
    again as a new batch of the uploader's station (the caller wakes the reader).
    NotFoundError (404), Refused (422: an unknown form, a page out of 1–20),
    ConflictError (409: the page was settled meanwhile)."""
    found = visible_refusal(store, who, refusal_id)
    try:
        template = get_template(template).code  # BD-27, 表格04 … as the catalog spells it
    except UnknownTemplateError:
        raise Refused(f"没有表单 {template}") from None
    if not 1 <= form_page <= 20:
        raise Refused("页码应在 1 到 20 之间")
    pages = {j.scan_id: j.pages for j in store.list_jobs(found.batch_id)}
    refusal = store.update_page_refusal(
        refusal_id,
        OPEN,
        state="requeued",
        template=template,
        form_page=form_page,
        settled_by=who.username,
        note=None,
    )
    batch = store.create_batch(
        who.username,
        found.station,
        [found.scan_id],
        pages={found.scan_id: pages.get(found.scan_id, 0)},
    )
    return refusal, batch


def discard(store: Store, who: Viewer, refusal_id: str, reason: str) -> PageRefusal:
    """放弃 a refused page with `reason` (1–200 characters): it leaves the list of pages
    waiting.  NotFoundError (404), Refused (422: no reason), ConflictError (409)."""
    visible_refusal(store, who, refusal_id)
    why = stated_reason(reason, "请说明放弃这一页的原因")
    return store.update_page_refusal(
        refusal_id, OPEN, state="discarded", settled_by=who.username, note=why
    )
