"""Printing as the API is asked for it (issue 11): blank and prefilled forms and reprints
of read records rendered while the request waits, batches from a CSV/XLSX/JSON file as
print jobs, and the printed documents looked up again.

Values are checked against the template before anything is rendered; rendering runs in
the render process (services/print_jobs.py), parsing a data file in the spreadsheet
process, never in the service; every document printed is registered before its PDF is
handed out (services/printing.py).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio.to_thread

from formdesk.model.documents import IssuedDocument
from formdesk.model.errors import ConflictError, FormdeskError
from formdesk.model.print_jobs import DEFAULT_PAPER, PAPERS
from formdesk.render.record_sources import MAX_BYTES as MAX_DATA_BYTES
from formdesk.render.record_sources import MB, checked_batch, checked_rows
from formdesk.render.reprint_values import reprint_values
from formdesk.store import Store
from formdesk.templates import Template, get_template
from formdesk.templates.station_fields import OwnStation
from formdesk.templates.values.dates import china_today
from formdesk.templates.values.normalize import FieldValueError, normalize_record

from .installation import print_names
from .pools import LimitedPool, TaskFailed
from .print_jobs import (
    MAX_BATCH_FORMS,
    MAX_BATCH_PAGES,
    MAX_NOW_PAGES,
    PrintJob,
    PrintJobQueue,
    form_pages,
    render_now,
)
from .printing import register_printed
from .records import not_found, usable_record
from .refusals import FileTooLarge, Refused, Unavailable, UnsupportedFile
from .stations import acting_station, check_own_station_values, own_station_scope
from .viewers import Viewer

__all__ = [
    "DATA_SUFFIXES",
    "MAX_DATA_BYTES",
    "PARSE_SECONDS",
    "PrintJobExpired",
    "PrintedPdf",
    "check_data_file",
    "checked_paper",
    "normalised_records",
    "print_forms",
    "print_job_pdf",
    "reprint_record",
    "submit_print_batch",
    "visible_document",
    "visible_print_job",
]

DATA_SUFFIXES = (".csv", ".xlsx", ".json")  # the print-data files a batch is made from
# parsing one print-data file in the spreadsheet process; files are bounded like claims
# files (the largest within the table budgets took 29 s as XLSX)
PARSE_SECONDS = 90.0


class PrintJobExpired(FormdeskError):
    """A finished print job whose PDF is gone (kept a day; Chinese message).  HTTP 410."""

    status = 410


@dataclass(frozen=True)
class PrintedPdf:
    """A PDF just printed and registered: its bytes, the documents in it (in print
    order) and the file name to offer (<template slug>.pdf)."""

    data: bytes
    documents: list[IssuedDocument]
    filename: str

    @property
    def document_ids(self) -> list[str]:
        """The printed documents' ids, in print order."""
        return [d.document_id for d in self.documents]


# -- forms now ---------------------------------------------------------------------------------


def checked_paper(template: Template, paper: str) -> str:
    """`paper` (model.print_jobs.PAPERS: "a4x4", "a6") if `template` may print on it:
    "a6" only for small tags ganged on A4 by default (SH-ZH/BD-27, BD-30).  Refused (422)
    ``纸张只能是 a4x4(A4(每张4枚))或 a6(A6(每页1枚))``, or ``表格04 不是小标签,…``."""
    if paper not in PAPERS:
        known = "或".join(f"{k}({v})" for k, v in PAPERS.items())
        raise Refused(f"纸张只能是 {known},不是 {paper}")
    if paper != DEFAULT_PAPER and template.per_sheet <= 1:
        size = template.paper.size
        raise Refused(f"{template.code} 不是小标签,只按 {size} 纸张打印,不能选 {PAPERS[paper]}")
    return paper


def normalised_records(
    template: Template, records: list[dict[str, Any] | None]
) -> list[dict[str, Any] | None]:
    """Every record's values checked and normalised (`normalize_record`; None stays None,
    a blank form).  FieldValueError (422) naming the field by its label (its key in the
    answer's details, for the page to mark it), prefixed ``第n条记录 `` when there are
    several records."""
    clean: list[dict[str, Any] | None] = []
    for n, values in enumerate(records, start=1):
        try:
            clean.append(normalize_record(template, values) if values is not None else None)
        except FieldValueError as exc:  # 422 with the field's key in its details
            raise (exc.of_record(n) if len(records) > 1 else exc) from None
    return clean


async def _print_now(
    store: Store,
    pool: LimitedPool,
    key: bytes,
    template: Template,
    records: list[dict[str, Any] | None],
    copies: int,
    *,
    station: str | None,
    issued_by: str,
    paper: str = DEFAULT_PAPER,
) -> PrintedPdf:
    """A few forms (small tags on `paper`, already checked) rendered in the render
    process `pool` while the caller waits on the event loop; every document registered (in a thread) before the PDF is returned.
    Refused (422) for a bad value or more than MAX_NOW_PAGES pages (a batch job prints
    those); ValueDoesNotFitError (422); Unavailable (503) when rendering ran out of time
    or memory; the store's errors."""
    clean = await anyio.to_thread.run_sync(normalised_records, template, records)
    pages = form_pages(template, clean, copies)
    if pages > MAX_NOW_PAGES:
        raise Refused(
            f"一次最多直接打印 {MAX_NOW_PAGES} 页(这次需要 {pages} 页);"
            "请减少份数或表格行数,或上传表格批量打印"
        )
    try:
        names = await anyio.to_thread.run_sync(print_names, store, station)
        data, docs = await render_now(pool, key, template, clean, copies, paper, names)
    except TaskFailed as exc:  # ValueDoesNotFitError goes on as it is (422)
        raise Unavailable(f"打印失败:{exc.reason},请减少份数后重试") from None
    register = functools.partial(
        register_printed, store, docs, station=station, issued_by=issued_by
    )
    await anyio.to_thread.run_sync(register)
    blank = all(r is None for r in records)
    return PrintedPdf(data, docs, print_filename(template.code, len(docs), blank=blank))


def print_filename(code: str, forms: int, *, blank: bool = False) -> str:
    """A printed PDF's file name as the clerk files it: the form's code (/ as -), 空白 for
    blank forms, the day (Beijing time) and how many forms it holds —
    ``SH-ZH-BD-30_2026-12-01_18份.pdf``, ``表格04_空白_2026-12-01_2份.pdf``."""
    parts = [code.replace("/", "-"), *(["空白"] if blank else []), china_today().isoformat()]
    return "_".join([*parts, f"{forms}份"]) + ".pdf"


async def print_forms(
    store: Store,
    pool: LimitedPool,
    key: bytes,
    who: Viewer,
    slug: str,
    records: list[dict[str, Any] | None],
    copies: int,
    station: str | None = None,
    paper: str = DEFAULT_PAPER,
) -> PrintedPdf:
    """Forms of template `slug` (a slug or code), each record (field key -> value; None:
    a blank form) `copies` times, small tags on `paper` ("a4x4": four to an A4 sheet,
    "a6": one per A6 page), printed now and registered for the station they are for
    (`acting_station`: a station user's own) as issued by `who`.

    Refused (422): ``没有维修站 HN99``, a paper the form does not take (`checked_paper`),
    a value the template does not take (naming the field), too many pages;
    NotYourStation (403) for a station user asking for another station, and
    OtherStationValue (403, naming the field) for a station user's form naming another
    station (`check_own_station_values`); UnknownTemplateError (404, naming the closest
    codes); ValueDoesNotFitError (422); Unavailable (503); the store's errors."""
    code = await anyio.to_thread.run_sync(acting_station, store, who, station)
    template = get_template(slug)
    checked_paper(template, paper)
    await anyio.to_thread.run_sync(check_own_station_values, store, who, template, records)
    return await _print_now(
        store, pool, key, template, records, copies, station=code, issued_by=who.username,
        paper=paper,
    )  # fmt: skip


async def reprint_record(
    store: Store,
    pool: LimitedPool,
    key: bytes,
    who: Viewer,
    record_id: str,
    paper: str = DEFAULT_PAPER,
) -> PrintedPdf:
    """The form of a read record `who` sees printed again with its values as read and
    corrected (`reprint_values`; a small tag on `paper`, `checked_paper`), registered as
    a new document of the record's station.

    NotFoundError (404, ``找不到这条记录``); ConflictError (409) when its file is damaged;
    FieldValueError (422, naming the field, and the row of a cell) for a reading still
    invalid and uncorrected, never printed blank; then as `print_forms`."""
    stored = await anyio.to_thread.run_sync(usable_record, store, who, record_id)
    template = get_template(stored.summary.template)
    checked_paper(template, paper)
    values = reprint_values(stored.record)
    return await _print_now(
        store,
        pool,
        key,
        template,
        [values],
        1,
        station=stored.summary.station,
        issued_by=who.username,
        paper=paper,
    )


# -- batches from a data file --------------------------------------------------------------------


def _too_large(filename: str, size: int) -> FileTooLarge:
    return FileTooLarge(f"{filename}:文件 {size / MB:.1f} MB,超过 {MAX_DATA_BYTES // MB} MB 上限")


def check_data_file(filename: str, declared_size: int | None) -> None:
    """Refuses a print-data file before it is read: UnsupportedFile (415, ``请上传 .csv
    (UTF-8 或 GBK)、.xlsx 或 .json 文件``) by its name, FileTooLarge (413, ``tags.csv:文件 21.0
    MB,超过 20 MB 上限``) by its declared size in bytes (None: not known)."""
    if Path(filename).suffix.lower() not in DATA_SUFFIXES:
        raise UnsupportedFile("请上传 .csv(UTF-8 或 GBK)、.xlsx 或 .json 文件")
    if declared_size is not None and declared_size > MAX_DATA_BYTES:  # spooled, not yet read
        raise _too_large(filename, declared_size)


MAX_PROBLEMS_SHOWN = 200  # bad rows listed one by one; the rest are counted


@dataclass(frozen=True)
class PrintDataCheck:
    """A print-data file checked row by row, nothing printed: `good` rows would print
    (`pages` form pages); `problems` says what is wrong with each bad row, in file order
    (``第5行 车架号码:…``; at most MAX_PROBLEMS_SHOWN, `bad` counts them all)."""

    filename: str
    good: int
    pages: int
    bad: int
    problems: list[str]


async def _parse_rows(
    pool: LimitedPool,
    template: Template,
    data: bytes,
    filename: str,
    timeout: float,
    own: OwnStation | None = None,
) -> tuple[list[dict[str, Any]], list[str]]:
    if len(data) > MAX_DATA_BYTES:  # checked before the bytes go to any process
        raise _too_large(filename, len(data))
    try:
        return await pool.run(
            checked_rows, data, filename, template.code, MAX_BATCH_FORMS, own, timeout=timeout
        )
    except TaskFailed as exc:  # out of memory or time, or dead: the file's doing
        raise Refused(f"{filename}:文件过于复杂,无法读取({exc.reason});请分批打印") from None


async def check_print_data(
    store: Store,
    pool: LimitedPool,
    who: Viewer,
    template: Template,
    data: bytes,
    filename: str,
    *,
    timeout: float = PARSE_SECONDS,
) -> PrintDataCheck:
    """Every row of the print-data file `data` checked against `template` in the
    spreadsheet process `pool` (the 打印 page shows the result before printing); a
    station user's row naming another station is a bad row (`OwnStation.check`).
    FileTooLarge (413); Refused (422) for a file too demanding to parse; RecordSourceError
    (422) for a file that cannot be read at all, has no row or too many."""
    own = await anyio.to_thread.run_sync(own_station_scope, store, who)
    good, bad = await _parse_rows(pool, template, data, filename, timeout, own)
    return PrintDataCheck(
        filename, len(good), form_pages(template, good, 1) if good else 0, len(bad),
        bad[:MAX_PROBLEMS_SHOWN],
    )  # fmt: skip


async def submit_print_batch(
    store: Store,
    jobs: PrintJobQueue,
    pool: LimitedPool,
    who: Viewer,
    template: Template,
    data: bytes,
    filename: str,
    station: str | None = None,
    *,
    skip_bad: bool = False,
    paper: str = DEFAULT_PAPER,
    timeout: float = PARSE_SECONDS,
) -> PrintJob:
    """A print job (queued at once) of one prefilled form per row of the data file `data`
    (read at most MAX_DATA_BYTES + 1 bytes), small tags on `paper` (`checked_paper`), for
    the station it is for (`acting_station`) as created by `who`.  The file is parsed and every row normalised in the spreadsheet
    process `pool` (at most `timeout` seconds), never in the service.  With `skip_bad`
    the good rows print and the job lists the bad ones (`PrintJob.skipped`); without it
    the first bad row refuses the file.

    FileTooLarge (413); Refused (422): ``没有维修站 HN99``, a file too demanding to parse
    (``<file>:文件过于复杂,无法读取(<why>);请分批打印``), more than MAX_BATCH_PAGES
    pages, no good row, a paper the form does not take; RecordSourceError or
    FieldValueError (422) naming the line and field; NotYourStation and
    OtherStationValue (403) as in `print_forms`; TooManyJobs (429) while `who` has
    MAX_JOBS_PER_USER jobs unfinished."""
    code = await anyio.to_thread.run_sync(acting_station, store, who, station)
    checked_paper(template, paper)
    own = await anyio.to_thread.run_sync(own_station_scope, store, who)
    skipped: list[str] = []
    if skip_bad:
        records, skipped = await _parse_rows(pool, template, data, filename, timeout, own)
        if not records:
            shown = ";".join(skipped[:5]) + ("…" if len(skipped) > 5 else "")
            raise Refused(f"{filename}:没有一行可以打印:{shown}")
    else:
        if len(data) > MAX_DATA_BYTES:
            raise _too_large(filename, len(data))
        try:
            records = await pool.run(
                checked_batch, data, filename, template.code, MAX_BATCH_FORMS, own,
                timeout=timeout,
            )  # fmt: skip
        except TaskFailed as exc:  # out of memory or time, or dead: the file's doing
            raise Refused(f"{filename}:文件过于复杂,无法读取({exc.reason});请分批打印") from None
    pages = form_pages(template, records, 1)
    if pages > MAX_BATCH_PAGES:
        raise Refused(
            f"{filename}:一次最多打印 {MAX_BATCH_PAGES} 页(这个文件需要 {pages} 页),请分批"
        )
    return jobs.submit(
        template, records, filename=filename, created_by=who.username, station=code,
        skipped=skipped[:MAX_PROBLEMS_SHOWN], paper=paper,
    )  # fmt: skip


def visible_print_job(jobs: PrintJobQueue, who: Viewer, job_id: str) -> PrintJob:
    """The print job and its progress if `who` created it (the back office sees every
    one); NotFoundError (404, ``找不到这个打印任务``) otherwise."""
    job = jobs.get(job_id)
    if job is None or not (who.role == "back_office" or job.created_by == who.username):
        raise not_found("这个打印任务")
    return job


def print_job_pdf(jobs: PrintJobQueue, who: Viewer, job_id: str) -> tuple[PrintJob, bytes]:
    """A finished print job `who` sees and its PDF.  NotFoundError (404); ConflictError
    (409): ``打印任务尚未完成``, or the reason it failed; PrintJobExpired (410,
    ``这个打印任务的文件已过期,请重新提交``) once its file is gone."""
    job = visible_print_job(jobs, who, job_id)
    if job.state != "done":
        raise ConflictError("打印任务尚未完成" if job.state != "failed" else job.error)
    try:
        return job, jobs.pdf(job)
    except FileNotFoundError:
        raise PrintJobExpired("这个打印任务的文件已过期,请重新提交") from None


# -- printed documents -------------------------------------------------------------------------


def visible_document(store: Store, who: Viewer, document_id: str) -> IssuedDocument:
    """A printed document as registered, if `who` sees its station; NotFoundError (404,
    ``找不到这份文档``) otherwise."""
    doc = store.get_document(document_id)
    if doc is None or not who.sees(doc.station):
        raise not_found("这份文档")
    return doc
