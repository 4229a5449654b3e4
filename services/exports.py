"""Exporting records, with the same filters as the list: XLSX with a sheet per form (and
per table field), CSV per form (one file, or a ZIP of one file per form), JSON for
programs (reports/records_export.py builds the spreadsheets; issue 12, point 6).

Text that a spreadsheet would take for a formula (starting with = + - @, a tab or a
carriage return) is written as text (render/cells.py).
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from typing import Any, Literal

from formdesk.model.stored import StoredRecord
from formdesk.reports.records_export import (
    ExportedRecord,
    FormExport,
    file_stem,
    form_csv,
    records_xlsx,
)
from formdesk.store import Store
from formdesk.templates import UnknownTemplateError, get_template, load_catalog
from formdesk.templates.values.dates import china_today

from .records import RecordQuery, find_records
from .viewers import Viewer

ExportFormat = Literal["csv", "xlsx", "json"]
MAX_EXPORT = 10_000  # records in one export
DAMAGED = "damaged"  # the JSON status of a record whose file cannot be read: summary only
MEDIA_TYPES: dict[str, str] = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "zip": "application/zip",
}


@dataclass(frozen=True)
class ExportFile:
    """An export as downloaded: its bytes, media type, file name (Chinese, with the date
    in Beijing time) and an ASCII name for old clients."""

    data: bytes
    media_type: str
    filename: str
    ascii_name: str


def exported_records(store: Store, who: Viewer, query: RecordQuery) -> list[StoredRecord]:
    """The records matching `query` that `who` sees, at most MAX_EXPORT of them from the
    first (`query`'s offset and limit ignored); a record gone since it was listed is left
    out.  The store's errors propagate."""
    q = query.model_copy(update={"offset": 0, "limit": MAX_EXPORT})
    items, _ = find_records(store, who, q)
    full = [store.get_record(s.record_id) for s in items]
    return [stored for stored in full if stored is not None]  # gone since it was listed


def _values(stored: StoredRecord) -> dict[str, Any]:
    return {f["key"]: f.get("value") for f in stored.record.get("fields", [])}


def by_form(records: list[StoredRecord]) -> list[FormExport]:
    """The records grouped by form, forms in the catalog's order (SH-ZH/BD-20 first), each
    form's records in the list's order; fields a record holds that its form no longer has
    (an older version's) become the form's `extras`, under the label stored with them."""
    order = {code: i for i, code in enumerate(load_catalog())}
    groups: dict[str, list[StoredRecord]] = {}
    for stored in records:
        groups.setdefault(stored.summary.template, []).append(stored)
    forms = []
    for code in sorted(groups, key=lambda c: (order.get(c, len(order)), c)):
        try:
            template = get_template(code)
        except UnknownTemplateError:  # a form no longer in the catalog: nothing to label it
            continue
        known = {f.key for f in template.fields}
        extras: dict[str, str] = {}
        for stored in groups[code]:
            for f in stored.record.get("fields", []):
                if f["key"] not in known:
                    extras.setdefault(f["key"], f.get("label") or f["key"])
        rows = [
            ExportedRecord(s.summary, {} if s.damaged else _values(s), s.damaged)
            for s in groups[code]
        ]
        forms.append(FormExport(template, rows, tuple(extras.items())))
    return forms


def _json(records: list[StoredRecord]) -> bytes:
    docs = []
    for stored in records:
        meta = stored.summary.model_dump(mode="json")
        doc: dict[str, Any] = {"summary": meta, "values": _values(stored)}
        if stored.damaged:
            meta["status"] = DAMAGED
            doc["damaged"] = stored.damaged
        docs.append(doc)
    return json.dumps(docs, ensure_ascii=False, indent=1).encode("utf-8")


def export_records(store: Store, who: Viewer, query: RecordQuery, fmt: ExportFormat) -> ExportFile:
    """The file exporting what `who` sees of `query`:

    - "xlsx": one sheet per form (Chinese headers in template order, statuses in Chinese,
      Beijing time) and one per table field, headers frozen, widths fitted;
    - "csv": the form's CSV (UTF-8 with a BOM) when the records are of one form, else a
      ZIP holding one CSV per form (a CSV has one header);
    - "json": a list of {"summary", "values"[, "damaged"]} for programs (keys in English).
    """
    records = exported_records(store, who, query)
    day = china_today().isoformat()
    if fmt == "json":
        return ExportFile(_json(records), MEDIA_TYPES["json"], f"记录-{day}.json",
                          f"formdesk-records-{day}.json")  # fmt: skip
    forms = by_form(records)
    if fmt == "xlsx" and len(forms) == 1:  # one form: named by it
        stem, ascii_stem = (
            f"{file_stem(forms[0].template)}-{day}",
            f"{forms[0].template.slug}-{day}",
        )
        return ExportFile(
            records_xlsx(forms), MEDIA_TYPES["xlsx"], f"{stem}.xlsx", f"{ascii_stem}.xlsx"
        )
    if fmt == "xlsx":
        return ExportFile(records_xlsx(forms), MEDIA_TYPES["xlsx"], f"记录-{day}.xlsx",
                          f"formdesk-records-{day}.xlsx")  # fmt: skip
    if len(forms) == 1:
        stem, ascii_stem = (
            f"{file_stem(forms[0].template)}-{day}",
            f"{forms[0].template.slug}-{day}",
        )
        return ExportFile(
            form_csv(forms[0]), MEDIA_TYPES["csv"], f"{stem}.csv", f"{ascii_stem}.csv"
        )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for form in forms:
            zf.writestr(f"{file_stem(form.template)}-{day}.csv", form_csv(form))
    return ExportFile(out.getvalue(), MEDIA_TYPES["zip"], f"记录-CSV-{day}.zip",
                      f"formdesk-records-csv-{day}.zip")  # fmt: skip
