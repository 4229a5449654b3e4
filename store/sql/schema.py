"""The tables, as SQLAlchemy Core describes them (the migrations create them; this is what
the queries are written against).  Money in NUMERIC(14, 2) 元, dates as DATE, times as
timestamptz (UTC); text as TEXT (the lengths are ingest's to check: a station's code may be
its name, up to 100 characters)."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    Table,
    Text,
)
from sqlalchemy.dialects.postgresql import JSONB

metadata = MetaData()

stations = Table(
    "stations",
    metadata,
    Column("code", Text, primary_key=True),  # 维修站代码
    Column("name", Text, nullable=False),
)

claims = Table(
    "claims",
    metadata,
    Column("claim_no", Text, primary_key=True),  # 索赔单号
    Column("station", Text, ForeignKey("stations.code"), nullable=False),
    Column("vin", Text, nullable=False),
    Column("engine_no", Text),
    Column("vehicle_model", Text, nullable=False),
    Column("part_no", Text, nullable=False),
    Column("part_name", Text, nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("purchase_date", Date, nullable=False),
    Column("repair_date", Date, nullable=False),
    Column("mileage_km", Integer, nullable=False),
    Column("fault_description", Text, nullable=False, default=""),
    Column("labor_fee", Numeric(14, 2), nullable=False),
    Column("material_fee", Numeric(14, 2), nullable=False),
    Column("source", Text, nullable=False),
    Column("source_line", Integer),
    Column("imported_at", DateTime(timezone=True), nullable=False),
    Index("claims_station_repair", "station", "repair_date"),
    Index("claims_repair", "repair_date", "claim_no"),
    Index("claims_vin", "vin"),
)

claim_imports = Table(
    "claim_imports",
    metadata,
    Column("import_id", Text, primary_key=True),
    Column("filename", Text, nullable=False),
    Column("sha256", Text, nullable=False),
    Column("imported_by", Text, nullable=False),
    Column("imported_at", DateTime(timezone=True), nullable=False),
    Column("claims", Integer, nullable=False),
    Column("replaced", Integer, nullable=False),
    Column("unchanged", Integer, nullable=False),
    Column("stations_added", JSON, nullable=False),
    Column("source", Text),  # migration 0010: the Claim.source of its claims
    Column("undone_by", Text),  # migration 0010: 撤销
    Column("undone_at", DateTime(timezone=True)),
)

# -- accounts (AccountStore) ------------------------------------------------------------------
users = Table(
    "users",
    metadata,
    Column("username", Text, primary_key=True),  # trimmed, NFKC (model.usernames)
    Column("username_fold", Text, nullable=False, unique=True),  # fold_username: one per case
    Column("password_hash", Text, nullable=False),
    Column("role", Text, nullable=False),
    Column("station", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("disabled", Boolean, nullable=False, default=False),  # migration 0009
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("token_id", Text, primary_key=True),
    Column("token_hash", Text, nullable=False, unique=True),  # sha256 hex of the token
    Column("username", Text, ForeignKey("users.username", ondelete="CASCADE"), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("label", Text, nullable=False, default=""),
    Column("scope", Text),  # None: a token from before scopes
    Column("seq", BigInteger, Identity(), nullable=False),  # oldest first
    Index("api_tokens_user", "username"),
)

user_sessions = Table(
    "user_sessions",
    metadata,
    Column("session_hash", Text, primary_key=True),
    Column("username", Text, nullable=False),
    Column("csrf", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Index("user_sessions_user", "username"),
    Index("user_sessions_expiry", "expires_at"),
)

# -- printed documents (DocumentStore) ---------------------------------------------------------
documents = Table(
    "documents",
    metadata,
    Column("document_id", Text, primary_key=True),
    Column("template", Text, nullable=False),
    Column("template_version", Integer, nullable=False),
    Column("pages", Integer, nullable=False),
    Column("copies", Integer, nullable=False),
    Column("values", JSON, nullable=False),  # JSON, not JSONB: the fields keep their order
    Column("station", Text),
    Column("issued_by", Text),
    Column("issued_at", DateTime(timezone=True), nullable=False),
    Index("documents_template", "template"),
)

# -- scans, batches, reading jobs (ScanStore) --------------------------------------------------
scans = Table(
    "scans",
    metadata,
    Column("sha256", Text, primary_key=True),
    Column("filename", Text, nullable=False),
    Column("content_type", Text, nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("station", Text),
    Column("uploaded_by", Text, nullable=False),
    Column("uploaded_at", DateTime(timezone=True), nullable=False),
    Column("owners", JSONB, nullable=False),  # [ScanOwner], one per station that uploaded it
)

scan_contents = Table(  # the uploaded bytes, content-addressed, written once
    "scan_contents",
    metadata,
    Column("sha256", Text, primary_key=True),
    Column("data", LargeBinary, nullable=False),
)

batches = Table(
    "batches",
    metadata,
    Column("batch_id", Text, primary_key=True),
    Column("station", Text),
    Column("created_by", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("scan_ids", JSONB, nullable=False),
    Column("state", Text, nullable=False),
    Column("pages_total", Integer, nullable=False),
    Column("pages_done", Integer, nullable=False),
    Column("files_total", Integer, nullable=False),
    Column("files_done", Integer, nullable=False),
    Column("errors", JSONB, nullable=False),
    Index("batches_station_created", "station", "created_at"),
    Index("batches_created", "created_at"),
)

jobs = Table(
    "jobs",
    metadata,
    Column("job_id", Text, primary_key=True),
    Column("batch_id", Text, ForeignKey("batches.batch_id"), nullable=False),
    Column("scan_id", Text, ForeignKey("scans.sha256"), nullable=False),
    Column("state", Text, nullable=False),  # pending, processing, done, failed
    Column("attempts", Integer, nullable=False),
    Column("error", Text),
    Column("pages", Integer, nullable=False),
    Column("files", Integer, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("seq", BigInteger, Identity(), nullable=False),  # the oldest first
    Index("jobs_batch", "batch_id"),
    Index("jobs_state", "state", "attempts", "seq"),
)

# -- records and corrections (RecordStore) -----------------------------------------------------
records = Table(
    "records",
    metadata,
    Column("record_id", Text, primary_key=True),
    Column("rev", Integer, nullable=False),
    Column("template", Text, nullable=False),
    Column("template_version", Integer, nullable=False),
    Column("document_id", Text, nullable=False),
    Column("copy_index", Integer, nullable=False),
    Column("station", Text),
    Column("status", Text, nullable=False),
    Column("min_confidence", Float, nullable=False),
    Column("fields_to_check", Integer, nullable=False),
    Column("scan_id", Text, nullable=False),
    Column("file_pages", JSONB, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("verified_by", Text),
    Column("verified_at", DateTime(timezone=True)),
    Column("search_text", Text, nullable=False),  # RecordSummary.search_text
    Column("search_folded", Text, nullable=False),  # its casefold(): what search matches
    Column("duplicate_of", Text),
    Column("reasons", JSONB, nullable=False),
    Column("body", JSON, nullable=False),  # FormRecord dump, corrected; JSON keeps key order
    # the station the reading was filed under; `station` may be one a person set since
    Column("read_station", Text),  # migration 0007
    Column("key_values", JSONB, nullable=False, server_default="{}"),  # migration 0007
    # one record per (scan, station read for, document id, copy): a second reading replaces it
    Index(
        "records_reading",
        "scan_id",
        "read_station",
        "document_id",
        "copy_index",
        unique=True,
        postgresql_nulls_not_distinct=True,
    ),  # fmt: skip
    Index("records_template", "template", "created_at"),
    Index("records_station", "station", "created_at"),
    Index("records_status", "status", "created_at"),
    Index("records_document", "document_id"),
    Index(
        "records_search",
        "search_folded",
        postgresql_using="gin",
        postgresql_ops={"search_folded": "gin_trgm_ops"},
    ),
)

corrections = Table(
    "corrections",
    metadata,
    Column("correction_id", Text, primary_key=True),
    Column("record_id", Text, ForeignKey("records.record_id"), nullable=False),
    Column("field_key", Text, nullable=False),
    Column("row", Integer),
    Column("column", Text),
    Column("old_value", JSONB),
    Column("new_value", JSONB),
    Column("user", Text, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("seq", BigInteger, Identity(), nullable=False),  # oldest first
    Index("corrections_record", "record_id", "seq"),
)

# pages the reader refused, until a person settles them (migration 0007): PageRefusal
page_refusals = Table(
    "page_refusals",
    metadata,
    Column("refusal_id", Text, primary_key=True),
    Column("scan_id", Text, nullable=False),
    Column("file_page", Integer, nullable=False),
    Column("filename", Text, nullable=False),
    Column("station", Text),
    Column("batch_id", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("state", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("template", Text),
    Column("form_page", Integer),
    Column("settled_by", Text),
    Column("note", Text),
    Column("record_ids", JSONB, nullable=False),
    Index("page_refusals_state", "state", "created_at"),
    Index("page_refusals_scan", "scan_id"),
)

# people's actions on whole records (migration 0007): RecordEvent, oldest first by seq
record_events = Table(
    "record_events",
    metadata,
    Column("event_id", Text, primary_key=True),
    Column("record_id", Text, ForeignKey("records.record_id"), nullable=False),
    Column("action", Text, nullable=False),
    Column("user", Text, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("reason", Text),
    Column("old", Text),
    Column("new", Text),
    Column("seq", BigInteger, Identity(), nullable=False),
    Index("record_events_record", "record_id", "seq"),
)

# the listing orders: newest first, and least confident first (ties newest first)
Index("records_newest", records.c.created_at.desc(), records.c.record_id.desc())
Index(
    "records_least_confident",
    records.c.min_confidence,
    records.c.created_at.desc(),
    records.c.record_id.desc(),
)

# how many first-scan records per (form, station, status): kept by the trigger
# records_count (migration 0003), read for the totals of unfiltered and simply filtered
# lists; the back office's records (no station) under station ''
record_counts = Table(
    "record_counts",
    metadata,
    Column("template", Text, primary_key=True),
    Column("station", Text, primary_key=True),
    Column("status", Text, primary_key=True),
    Column("n", BigInteger, nullable=False),
)

# what every machine of the installation shares (migration 0005): "signing_key" → the
# fingerprint of the HMAC key (never the key)
installation = Table(
    "installation",
    metadata,
    Column("name", Text, primary_key=True),
    Column("value", Text, nullable=False),
)

# the installation's settings (设置, migration 0009): company_name, service_center_name
# (model.installation), who set each and when
installation_settings = Table(
    "installation_settings",
    metadata,
    Column("name", Text, primary_key=True),
    Column("value", Text, nullable=False),
    Column("updated_by", Text, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# print batches on the job queue (migration 0006): the rows to print until done, the
# progress the worker writes, the PDF once done; finished jobs go after a day
print_jobs = Table(
    "print_jobs",
    metadata,
    Column("job_id", Text, primary_key=True),
    Column("template", Text, nullable=False),
    Column("slug", Text, nullable=False),
    Column("filename", Text, nullable=False),
    Column("created_by", Text, nullable=False),
    Column("station", Text),
    Column("total", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("state", Text, nullable=False),  # queued, rendering, done, failed
    Column("done", Integer, nullable=False),
    Column("error", Text),
    Column("document_ids", Text, nullable=False),  # JSON list
    Column("skipped", Text, nullable=False),  # JSON list: the file's bad rows left out
    # the paper small tags print on (model.print_jobs.PAPERS; migration 0008)
    Column("paper", Text, nullable=False, server_default="a4x4"),
    Column("records", Text),  # JSON: the rows to print, until done
    Column("pdf", LargeBinary),
    Index("print_jobs_by_user_state", "created_by", "state"),
)

# layout variants of catalog forms registered from a scan (issue 13, migration 0011):
# model.layouts.LayoutVariant, its reference image (PNG) beside it
layout_variants = Table(
    "layout_variants",
    metadata,
    Column("template", Text, primary_key=True),
    Column("name", Text, primary_key=True),
    Column("paper_w_mm", Float, nullable=False),
    Column("paper_h_mm", Float, nullable=False),
    Column("fields", JSONB, nullable=False),  # [FieldBox]
    Column("table_layout", JSONB),  # TableLayout, or NULL
    Column("fingerprint", JSONB, nullable=False),  # [float] (extract/ruling.py)
    Column("reference_sha256", Text, nullable=False),
    Column("reference", LargeBinary, nullable=False),
    Column("created_by", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# values the back office took out of the reader's history (issue 10, migration 0012):
# model.history.HistoryExclusion; the history itself is built from `corrections`
history_exclusions = Table(
    "history_exclusions",
    metadata,
    Column("template", Text, primary_key=True),
    Column("field", Text, primary_key=True),
    Column("value", Text, primary_key=True),
    Column("excluded_by", Text, nullable=False),
    Column("excluded_at", DateTime(timezone=True), nullable=False),
)
