"""At filing: a record whose document id and copy are already stored (from another scan,
for the same station, on an overlapping page) is linked to what is there.

- the same paper scanned again (same_form.compare → "same"): the new record gets
  ``filing.duplicate_of`` = the first scan's record id (重复扫描). The store's lists leave it
  out, so the document counts once everywhere; it needs no review of its own. A rescan
  that covers pages the first did not is not a duplicate (the reconciliation puts a
  manifest's pages together by document id and row);
- another paper bearing the same id ("different"): both records get the problem
  疑似复印件 (needs review) and each other's id in ``filing.photocopy_of``; the
  reconciliation counts each physical form;
- undecided ("unsure"): the new record needs review (RESCAN_UNSURE), nothing is linked.

Records of other stations are never compared (a station never learns of another's
scans), nor records of the same scan (reading it again replaces them).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from formdesk.model.record import FormRecord
from formdesk.model.stored import StoredRecord

from .interface import Store
from .same_form import compare, form_pages
from .summary import PHOTOCOPY, RESCAN_UNSURE

MAX_SAME_ID = 200  # records of one document id looked at (a photocopy run is a handful)


@dataclass
class Linked:
    """What linking one new record found: the stored records it is a photocopy of, which
    must be flagged back once the new record has its id."""

    photocopies: list[StoredRecord] = field(default_factory=list)


def _form(stored: StoredRecord) -> FormRecord:
    return FormRecord.model_validate(stored.record)


def stored_same_document(
    store: Store, record: FormRecord, station: str | None, scan_id: str
) -> list[StoredRecord]:
    """The first-scan records (not duplicates, not damaged) of the same document id and
    copy, of `station`, from other scans, sharing a page with `record`; oldest first."""
    doc, copy = record.document_id, record.copy_index
    if not doc:
        return []
    rows, _ = store.list_records(text=doc, limit=MAX_SAME_ID)
    out = []
    for s in sorted(rows, key=lambda s: (s.created_at, s.record_id)):
        if (s.document_id, s.copy_index, s.station) != (doc, copy, station) or s.scan_id == scan_id:
            continue
        stored = store.get_record(s.record_id)
        if stored is None or stored.damaged or not form_pages(record) & form_pages(_form(stored)):
            continue
        out.append(stored)
    return out


def link_record(store: Store, record: FormRecord, station: str | None, scan_id: str) -> Linked:
    """Sets `record`'s filing (duplicate_of, photocopy_of) and problems, in place."""
    filing, problems = record.filing, record.problems
    linked = Linked()
    unsure = False
    for stored in stored_same_document(store, record, station, scan_id):
        other = _form(stored)
        verdict = compare(record, other)
        if verdict == "same" and form_pages(record) <= form_pages(other):
            filing.duplicate_of = stored.summary.record_id
            linked.photocopies = []
            return linked
        if verdict == "different":
            linked.photocopies.append(stored)
        elif verdict == "unsure":
            unsure = True
    if linked.photocopies:
        ids = [s.summary.record_id for s in linked.photocopies]
        filing.photocopy_of = sorted(set(filing.photocopy_of) | set(ids))
        if PHOTOCOPY not in problems:
            problems.append(PHOTOCOPY)
    elif unsure and RESCAN_UNSURE not in problems:
        problems.append(RESCAN_UNSURE)
    return linked


def flag_photocopies(store: Store, linked: Linked, new_id: str) -> None:
    """Marks each stored record of `linked` 疑似复印件 with `new_id` among its photocopies,
    saved again through the store (a changed record loses its verification)."""
    for stored in linked.photocopies:
        record = _form(stored)
        ids = set(record.filing.photocopy_of)
        if new_id in ids and PHOTOCOPY in record.problems:
            continue
        record.filing.photocopy_of = sorted(ids | {new_id})
        if PHOTOCOPY not in record.problems:
            record.problems.append(PHOTOCOPY)
        store.save_records(stored.summary.scan_id, [record], stored.summary.station)
