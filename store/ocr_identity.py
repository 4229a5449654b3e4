"""An id read by OCR (the QR lost) checked against the registry of printed documents.

The rule (issue 10, point 5 — one physical tag became two records because an OCR'd id
was taken as fact): when a record's form was named by OCR (`identified_by == "ocr"`), the
footer's 文档号 it carries (``YYMMDD-XXXXXXXXXX``, 10 hex digits) is used only when exactly
one registered document of the same template matches it:

1. the same id, registered for that template; else
2. every registered id of the template within `MAX_EDITS` (a character dropped, added or
   changed) of the read one once both are folded with OCR's usual confusions
   (0/O/D/Q, 8/B, 1/I/L, 5/S, 2/Z, 6/G — `CONFUSIONS`);

and only documents whose page count and copies fit the pages read (form page n ≤ pages,
联 ≤ copies) count. Exactly one → the registry's id replaces the read one (kept in
``filing.ocr_document_id``) with the note "文档号由OCR识别,已与登记的文档 X 对应", no
review forced. None or several → the read id stays and the record needs review with the
problem `OCR_ID_UNMATCHED`. Records read from a QR or a text layer are left alone.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from rapidfuzz.distance import Levenshtein

from formdesk.model.documents import IssuedDocument
from formdesk.model.record import FormRecord

from .interface import Store
from .summary import OCR_ID_UNMATCHED, ocr_id_matched

# what OCR reads for what was printed, folded to one character each (digits win: the id
# is digits and A-F; O/Q/D → 0, B → 8, I/L → 1, S → 5, Z → 2, G → 6)
CONFUSIONS = str.maketrans("OQDBILSZG", "000811526")
DASHES = str.maketrans({"—": "-", "–": "-", "－": "-", "_": "-"})
MAX_EDITS = 1  # characters dropped, added or changed after folding


def fold_id(text: str) -> str:
    """`text` upper-case, NFKC, without spaces, dashes made ASCII, confusions folded."""
    plain = unicodedata.normalize("NFKC", text or "").upper().translate(DASHES)
    return "".join(plain.split()).translate(CONFUSIONS)


def candidate_ids(read: str, registered: Iterable[str]) -> list[str]:
    """The registered ids the OCR'd `read` may stand for: [read] when it is registered as
    read, else every id within MAX_EDITS of it after folding (sorted); [] for an empty read."""
    ids = list(registered)
    if read in ids:
        return [read]
    folded = fold_id(read)
    if not folded:
        return []
    return sorted(
        i
        for i in ids
        if Levenshtein.distance(folded, fold_id(i), score_cutoff=MAX_EDITS) <= MAX_EDITS
    )


def fits(doc: IssuedDocument, record: FormRecord) -> bool:
    """The pages and copy read can be of `doc` (form page n ≤ its pages, 联 ≤ its copies)."""
    pages = [p.form_page for p in record.pages]
    return max(pages, default=1) <= doc.pages and record.copy_index <= doc.copies


def resolve_ocr_id(store: Store, record: FormRecord) -> None:
    """Applies the rule above to one record, in place (its document id, filing, problems)."""
    if record.identified_by != "ocr":
        return
    problems = record.problems
    notes = record.filing.notes
    read = record.document_id or ""
    ids = candidate_ids(read, store.document_ids(record.template))
    docs = [d for d in map(store.get_document, ids) if d is not None and fits(d, record)]
    if len(docs) == 1:
        found = docs[0].document_id
        if found != read:
            record.filing.ocr_document_id = read
            record.document_id = found
        if ocr_id_matched(found) not in notes:
            notes.append(ocr_id_matched(found))
    elif OCR_ID_UNMATCHED not in problems:
        problems.append(OCR_ID_UNMATCHED)
