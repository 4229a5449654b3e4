"""Printing and registering documents: the one way a document comes into being (issue 11).

Every printed document is registered in the store before its PDF is handed out, so a scan
of it is recognised (its id and signature) and its prefilled values can be verified
without OCR.  The API (forms now, and batch jobs rendered in the render process), the
command line (`formdesk render`), the monthly report (SH-ZH/BD-24) and the samples loader
all print through here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from formdesk.model.documents import IssuedDocument
from formdesk.render.document import render_documents
from formdesk.store import Store
from formdesk.templates.schema import Template

from .installation import print_names


def register_printed(
    store: Store,
    documents: Sequence[IssuedDocument],
    *,
    station: str | None,
    issued_by: str | None,
) -> list[IssuedDocument]:
    """Registers documents just printed (here, or in a render process) for `station`
    (None: the back office) by `issued_by`; returns them as registered.  The store's
    errors (StorageError, DiskFullError) propagate: a document not registered must not
    be handed out."""
    registered = [d.registered(station=station, issued_by=issued_by) for d in documents]
    store.register_documents(registered)
    return registered


def print_documents(
    store: Store,
    key: bytes,
    template: Template,
    records: Sequence[dict[str, Any] | None],
    out: Path,
    *,
    station: str | None = None,
    issued_by: str | None = None,
    copies: int = 1,
    gang: bool = True,
    progress: Callable[[int], None] | None = None,
) -> list[IssuedDocument]:
    """Prints every record (None: a blank form) `copies` times into the PDF `out`
    (`render.document.render_documents`) and registers every document printed
    (`register_printed`).  If registering fails the PDF is removed: nothing is handed out
    that a scan could not be checked against.

    The installation's names are printed instead of the seed's placeholders
    (`installation.print_names`, for `station`).

    Raises ValueDoesNotFitError (its `record` numbered from 1), FieldValueError for a
    value the form does not take, and the store's errors."""
    names = print_names(store, station)
    docs = render_documents(
        out, key, template, records, copies=copies, gang=gang, progress=progress, names=names
    )
    try:
        return register_printed(store, docs, station=station, issued_by=issued_by)
    except BaseException:
        Path(out).unlink(missing_ok=True)
        raise


def load_print_data(path: Path, template: Template) -> list[tuple[int, dict[str, Any]]]:
    """The records of a print-data file (CSV in UTF-8/GB18030, XLSX, or JSON: one record
    or a list) for `template`, each with the line it came from (the sheet row; 0 for
    JSON).  Raises RecordSourceError (422) naming the file and what is wrong
    (`render.record_sources`, `ingest.tables`' encoding and header policy)."""
    from formdesk.render.record_sources import load_records

    return load_records(path, template)
