"""The storage interface the rest of formdesk uses.

Kept narrow on purpose: everything goes through these methods and the models, so a
server database can implement `Store` later without touching the service or the CLI.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any, Literal, Protocol, runtime_checkable

from formdesk.model.accounts import ApiToken, User, UserSession
from formdesk.model.claims import Claim, ClaimImport, Station
from formdesk.model.documents import IssuedDocument
from formdesk.model.errors import (  # noqa: F401  (re-exported: the store's errors)
    ConflictError,
    DamagedFileError,
    DiskFullError,
    NotFoundError,
    StorageError,
    StoreError,
)
from formdesk.model.history import HistoryExclusion, HistoryValue
from formdesk.model.installation import InstallationSetting
from formdesk.model.layouts import LayoutVariant
from formdesk.model.print_jobs import PrintJob
from formdesk.model.scans import Batch, Job, PageRefusal, Scan
from formdesk.model.stored import Correction, RecordEvent, RecordSummary, StoredRecord
from formdesk.templates import Template

Order = Literal["newest", "least_confident"]
DateBound = date | datetime | str


@runtime_checkable
class StationStore(Protocol):
    """The network's stations (维修站)."""

    def add_station(self, station: Station) -> Station:
        """Refuses a code already used (ConflictError)."""
        ...

    def list_stations(self) -> list[Station]: ...

    def get_station(self, code: str) -> Station | None: ...


@runtime_checkable
class AccountStore(Protocol):
    """Users, their API tokens and their browser sessions."""

    def add_user(self, user: User) -> User:
        """Stores `user` under its name trimmed and NFKC-normalised (model.usernames) and
        returns it so; refuses a name outside the rule (InvalidUsernameError, a ValueError)
        or already used in any case (ConflictError, a ValueError: `Admin` beside `admin`)."""
        ...

    def get_user(self, username: str) -> User | None:
        """The user of that (normalised) name, found regardless of case; None if none
        (or if several stored before names were unique regardless of case share it and
        none is spelt exactly so)."""
        ...

    def list_users(self) -> list[User]: ...

    def set_password_hash(self, username: str, password_hash: str) -> User:
        """The user's new hash (the name found as by `get_user`; NotFoundError if none)."""
        ...

    def set_user_disabled(self, username: str, disabled: bool) -> User:
        """The user (found as by `get_user`; NotFoundError if none) with `disabled` set
        (停用: the services refuse their sign-in, sessions and tokens)."""
        ...

    def add_token(self, token: ApiToken) -> ApiToken:
        """The user must exist (NotFoundError); a token hash is stored once (ConflictError).
        Returns the token with its `token_id` (a fresh short id when none was given)."""
        ...

    def get_token(self, token_hash: str) -> ApiToken | None:
        """The token row of that sha256 (with its id), or None (unknown or revoked)."""
        ...

    def user_for_token(self, token_hash: str) -> User | None: ...

    def list_tokens(self, username: str | None = None) -> list[ApiToken]:
        """Every token (of `username`), oldest first, each with its id; hashes included,
        never the tokens themselves (they are not stored)."""
        ...

    def revoke_token(self, token_id: str, username: str | None = None) -> ApiToken:
        """Deletes the token (only if it is `username`'s, when given); NotFoundError if
        there is none. The token stops working at once."""
        ...

    # browser sessions (db/sessions.json)
    def add_session(self, session: UserSession) -> UserSession:
        """Stores a sign-in (and drops expired ones in the same write)."""
        ...

    def get_session(self, session_hash: str) -> UserSession | None:
        """The live session of that id hash; None if unknown, ended or expired."""
        ...

    def delete_session(self, session_hash: str) -> bool:
        """Ends one session (logout); False if it was not there."""
        ...

    def delete_sessions(self, username: str, keep: str | None = None) -> int:
        """Ends every session of `username` except the one hashed `keep`; how many."""
        ...


@runtime_checkable
class InstallationStore(Protocol):
    """The installation's settings (设置): a few named values (model.installation)."""

    def list_installation_settings(self) -> list[InstallationSetting]:
        """Every stored setting, by name."""
        ...

    def set_installation_settings(
        self, values: Mapping[str, str], updated_by: str
    ) -> list[InstallationSetting]:
        """Sets each named value (an empty one deletes the setting) by `updated_by`, now,
        in one write; returns every stored setting, by name."""
        ...


@runtime_checkable
class DocumentStore(Protocol):
    """Printed documents (registered when printed, services/printing.py)."""

    def signing_key_fingerprint(self, fingerprint: str) -> str:
        """The fingerprint of the installation's signing key as this store records it:
        `fingerprint` recorded when none is yet (the first process to start) and
        returned; the one recorded before otherwise, so a process whose key differs can
        refuse to start.  TinyDB keeps the key file in its own data folder, one key per
        folder, and returns `fingerprint`."""
        ...

    def register_documents(self, docs: list[IssuedDocument]) -> None:
        """Every printed document; registering one again replaces it."""
        ...

    def get_document(self, document_id: str) -> IssuedDocument | None: ...

    def document_values_reader(self) -> Callable[[str], dict[str, Any] | None]:
        """A picklable, read-only lookup of a printed document's prefilled values (None
        when unknown or printed blank), for reader processes: the reader verifies those
        fields against how they were printed instead of reading them again."""
        ...

    def document_ids(self, template: str) -> list[str]:
        """The ids of every registered document of `template` (a form code), in no order:
        what an id read by OCR is matched against (store/ocr_identity.py)."""
        ...


@runtime_checkable
class ScanStore(Protocol):
    """Uploaded files (content-addressed), their batches and the reading queue."""

    def put_scan(
        self,
        data: bytes,
        filename: str,
        content_type: str,
        uploaded_by: str,
        station: str | None,
    ) -> tuple[Scan, bool]:
        """Stores the bytes once, by sha256, and `station`'s upload of them (None: the back
        office's) among the scan's owners; (scan, True) if that upload is new, else
        (scan, False). Whether another station uploaded the same bytes is never told."""
        ...

    def get_scan(self, sha256: str) -> Scan | None: ...

    def scan_bytes(self, sha256: str) -> bytes: ...

    def record_page_outcomes(
        self,
        scan_id: str,
        station: str | None,
        batch_id: str,
        filename: str,
        problems: dict[int, str],
        records: dict[int, list[str]],
    ) -> None:
        """After reading scan `scan_id` for `station` in batch `batch_id`: every refused
        page (0-based file page → Chinese reason) kept as an open PageRefusal (one a person
        already resolved or discarded is left alone); a requeued refusal whose page now
        gave records (file page → record ids) is resolved with them, one whose page was
        refused again is open again with the new reason."""
        ...

    def list_page_refusals(
        self, states: list[str] | None = None, scan_ids: list[str] | None = None
    ) -> list[PageRefusal]:
        """Refused pages (of those states, of those scans, when given), newest first."""
        ...

    def get_page_refusal(self, refusal_id: str) -> PageRefusal | None: ...

    def update_page_refusal(
        self, refusal_id: str, from_states: list[str], **changes: Any
    ) -> PageRefusal:
        """Sets `changes` (state, template, form_page, settled_by, note …) on a refusal
        whose state is one of `from_states`, updated_at now; NotFoundError if none,
        ConflictError (409, ``这一页已经处理过了``) if its state is another."""
        ...

    def find_scans(self, name: str, station: str | None = None, limit: int = 500) -> list[Scan]:
        """Scans an upload of which has a file name holding `name` (ignoring case), those
        uploaded by `station` only when given (None: any upload), newest first, at most
        `limit`."""
        ...

    # batches and the reading queue
    def create_batch(
        self,
        created_by: str,
        station: str | None,
        scan_ids: list[str],
        pages_total: int | None = None,
        *,
        pages: Mapping[str, int] | None = None,
    ) -> Batch:
        """The batch and one pending job per distinct scan, in one write. `scan_ids` lists
        the files sent (a file sent twice is there twice: files_total counts both, and both
        are done when its job ends); `pages` maps a scan to its page count (the job's time
        budget; pages_total defaults to the sum over the distinct scans)."""
        ...

    def get_batch(self, batch_id: str) -> Batch | None: ...

    def list_batches(self, station: str | None = None, scan_id: str | None = None) -> list[Batch]:
        """Newest first; only `station`'s, and only those that brought scan `scan_id`, when
        given."""
        ...

    def list_jobs(self, batch_id: str) -> list[Job]: ...

    def claim_job(self) -> Job | None:
        """The next pending job, now processing; never the same job to two workers. Jobs
        never tried come first, then round robin by station (the station served longest
        ago), then the oldest."""
        ...

    def finish_job(self, job_id: str, error: str | None, pages_done: int) -> Job:
        """Done (or failed with `error`); adds `pages_done` to the batch's progress and the
        job's files to its files_done. ConflictError unless the job is processing."""
        ...

    def release_job(self, job_id: str, error: str) -> Job:
        """An attempt that failed (`error` kept on the job) goes back to pending, behind the
        jobs never tried. ConflictError unless the job is processing."""
        ...

    def take_job(self, job_id: str, max_attempts: int | None = None) -> Job | None:
        """For a job queue's worker handed `job_id` (PostgreSQL: procrastinate): the job,
        now processing (attempts + 1). A pending job is taken; a processing one — its
        worker died and the queue handed it on — is taken again, unless it was already
        claimed `max_attempts` times: then it fails with its reason (as in
        `requeue_stale_jobs`) and None comes back; a done or failed job gives None (read
        already). NotFoundError for an unknown job."""
        ...

    def requeue_stale_jobs(self, max_attempts: int | None = None) -> int:
        """At start, after a crash: processing jobs back to pending — except those already
        claimed `max_attempts` times, which fail with their reason (a file that kills the
        service is not read again at every start); how many were requeued."""
        ...


@runtime_checkable
class RecordStore(Protocol):
    """Read records, their summaries, and the reviewers' corrections (append-only)."""

    def save_records(
        self, scan_id: str, records: list[dict[str, Any]], station: str | None
    ) -> list[RecordSummary]:
        """Reading a scan again replaces its records of the same (station, document id,
        copy): two stations that upload the same bytes each keep their own records."""
        ...

    def get_record(self, record_id: str) -> StoredRecord | None:
        """None if no such record; a record whose file is damaged or missing comes back with
        `damaged` (the Chinese reason) set and an empty `record`, never an exception."""
        ...

    def list_records(
        self,
        template: str | None = None,
        station: str | None = None,
        status: str | None = None,
        date_from: DateBound | None = None,
        date_to: DateBound | None = None,
        text: str | None = None,
        order: Order = "newest",
        offset: int = 0,
        limit: int = 50,
        duplicates: bool = False,
        scan_ids: list[str] | None = None,
    ) -> tuple[list[RecordSummary], int]:
        """One page of summaries and how many match in all (only those read from the scans
        `scan_ids`, when given: a batch's or a file name's). A second scan of a document
        already stored (`duplicate_of` set, 重复扫描) is left out unless `duplicates`, and a
        voided record (作废) unless `status` is "voided": every
        list, count, export and reconciliation counts the document once."""
        ...

    def correct_field(
        self,
        record_id: str,
        field_key: str,
        new_value: Any,
        user: str,
        row: int | None = None,
        column: str | None = None,
    ) -> Correction:
        """Sets a field (a table cell: `row` numbered from 1 as printed, `column` its key) to a
        person's value: status ok, confidence 1.0, raw text kept; appends the Correction and
        clears a verification. A ValueError (Chinese) names a field, row or column not there."""
        ...

    def list_corrections(self, record_id: str) -> list[Correction]:
        """Oldest first."""
        ...

    def void_records(self, record_ids: list[str], user: str, reason: str) -> list[RecordSummary]:
        """作废: every record of `record_ids` gets status "voided" — kept, out of every list
        and count unless listed by that status — with one RecordEvent each (the reason, the
        status it had), all or none.  NotFoundError for an id not stored; ConflictError
        (409) for one already voided; ValueError (Chinese) for an empty or overlong reason
        (store.record_actions)."""
        ...

    def restore_record(self, record_id: str, user: str) -> RecordSummary:
        """恢复 a voided record: verified again if a person had confirmed it, else as read;
        ConflictError (409) if it is not voided."""
        ...

    def unverify_record(self, record_id: str, user: str) -> RecordSummary:
        """撤销确认: a verified record goes back to its reader status, its verifier cleared;
        ConflictError (409) if it is not verified (or is voided)."""
        ...

    def set_record_station(self, record_id: str, station: str | None, user: str) -> RecordSummary:
        """设置维修站: the record's station (None: the back office's) as a person says; a
        new reading of its scan keeps it (the reading is filed under the station it was
        read for).  ConflictError (409) when unchanged or voided.  The caller checks that
        the station exists."""
        ...

    def list_record_events(self, record_id: str) -> list[RecordEvent]:
        """Every action on the record (void, restore, unverify, set_station), oldest first."""
        ...

    def records_with_event(self, action: str) -> set[str]:
        """The ids of the records that had an action of this kind at least once (e.g.
        set_station: a person chose their station) — one query for a whole listing."""
        ...

    def verify_record(self, record_id: str, user: str) -> RecordSummary:
        """Marks the record verified by `user` (a later correction or changed reading clears it)."""
        ...


@runtime_checkable
class ClaimStore(Protocol):
    """Warranty claims (三包索赔单) and the imports that brought them."""

    def import_claims(
        self,
        claims: list[Claim],
        log: ClaimImport,
        new_stations: list[Station],
        replace: bool = False,
    ) -> ClaimImport:
        """Stores checked claims and the import's log, all or nothing; returns the log with
        its counts. A claim number stored with the same content (source and time aside)
        counts as unchanged; with other content it is a ConflictError naming the numbers,
        unless `replace`. Every claim's station must be stored or among `new_stations`
        (added here, codes already stored skipped)."""
        ...

    def list_claims(
        self,
        station: str | None = None,
        repair_from: date | None = None,
        repair_to: date | None = None,
    ) -> list[Claim]:
        """By repair date (both bounds inclusive), then claim number."""
        ...

    def get_claim(self, claim_no: str) -> Claim | None: ...

    def undo_claim_import(self, import_id: str, user: str) -> tuple[ClaimImport, int]:
        """撤销 an import: the claims it brought in (those carrying its source) deleted and
        the import (with every other of the same source) marked undone by `user`, all or
        nothing; (the import as now stored, claims deleted).  NotFoundError, ConflictError
        as `store.claim_import.undo_plan`."""
        ...

    def list_claim_imports(self) -> list[ClaimImport]:
        """Newest first."""
        ...

    def known_values(self) -> dict[str, list[str]]:
        """What the installation knows that forms name, per list (extract/lexicon.py):
        `station` (station names), `vehicle_model`, `part_no`, `part_name`, `engine_no`
        (from the imported claims; engine numbers for their formats only,
        extract/lexicon.py SHAPE_LISTS), each sorted, blanks left out; and the values people confirmed
        or typed in text fields of earlier records, ``history:<form code>:<field key>``
        (store.history.history_lists: most often confirmed first)."""
        ...


@runtime_checkable
class HistoryStore(Protocol):
    """What the reader learned from reviews (issue 10, store/history.py): the values
    people confirmed in each form's text fields, and those the back office excluded
    (停用) from the reader's history."""

    def history_values(self, template: Template) -> list[HistoryValue]:
        """`template`'s history: store.history.history_values over this store's
        corrections and exclusions."""
        ...

    def exclude_history_value(self, exclusion: HistoryExclusion) -> HistoryExclusion:
        """The reader stops reading `exclusion.value` in that field of that form
        (`known_values` leaves it out); a value already excluded keeps its first
        exclusion, which is returned."""
        ...

    def restore_history_value(self, template: str, field: str, value: str) -> bool:
        """Reads against the value again; False when it was not excluded."""
        ...


@runtime_checkable
class LayoutStore(Protocol):
    """Layout variants of catalog forms registered from a scan (issue 13,
    model.layouts): each with its reference image (PNG bytes, content-addressed)."""

    def add_layout(self, variant: LayoutVariant, reference_png: bytes) -> LayoutVariant:
        """Stores `variant` and its reference image (its `reference_sha256` must be the
        bytes' SHA-256: ValueError otherwise); ConflictError when the template already
        has a variant of that name."""
        ...

    def update_layout(self, variant: LayoutVariant) -> LayoutVariant:
        """Replaces the stored variant of the same template and name (its boxes, as a
        person corrected them; the reference image stays); NotFoundError when none."""
        ...

    def list_layouts(self, template: str | None = None) -> list[LayoutVariant]:
        """Every variant (of `template`, a form code, when given), by template then name."""
        ...

    def get_layout(self, template: str, name: str) -> LayoutVariant | None: ...

    def layout_reference(self, sha256: str) -> bytes:
        """A variant's reference image (PNG); NotFoundError when none is stored so."""
        ...

    def delete_layout(self, template: str, name: str) -> bool:
        """Removes the variant (its image stays while another variant names it); False
        when there was none."""
        ...

    def layout_reader(self) -> Callable[[str], list[tuple[LayoutVariant, bytes]]]:
        """A picklable, read-only lookup for reader processes: a form code's variants,
        each with its reference image (PNG), by name."""
        ...


@runtime_checkable
class Store(
    StationStore,
    AccountStore,
    InstallationStore,
    DocumentStore,
    ScanStore,
    RecordStore,
    ClaimStore,
    HistoryStore,
    LayoutStore,
    Protocol,
):
    """The whole store, every role; a function that needs one role takes that protocol
    (a `ClaimStore`, a `RecordStore`…), so a second implementation (issue 11: PostgreSQL)
    can be built and tested role by role."""


@runtime_checkable
class PrintJobStore(Protocol):
    """Print batches kept for every machine of an installation: a server store's role
    (PostgreSQL: `sql.print_jobs`), beside `Store`.  Without it the service keeps its
    print jobs in its own process (services.print_jobs.PrintJobs), as on TinyDB."""

    def add_print_job(
        self,
        job: PrintJob,
        records: list[dict[str, Any] | None],
        *,
        max_unfinished: int,
        keep_s: float,
    ) -> PrintJob:
        """Stores and queues `job`; TooManyPrintJobs (429) at `max_unfinished`."""
        ...

    def get_print_job(self, job_id: str) -> PrintJob | None: ...

    def print_job_records(self, job_id: str) -> list[dict[str, Any] | None] | None: ...

    def print_job_progress(self, job_id: str, done: int) -> None: ...

    def finish_print_job(self, job_id: str, pdf: bytes, docs: list[IssuedDocument]) -> None:
        """The PDF kept and the documents registered in one transaction."""
        ...

    def fail_print_job(self, job_id: str, reason: str) -> None: ...

    def print_job_pdf(self, job_id: str) -> bytes | None: ...
