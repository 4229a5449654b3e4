"""Users, API tokens and sessions; printed documents; scans, their bytes, batches and
reading jobs; records and corrections — every role of the store (issue 11).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # trigram index for the records' free-text search (substring, any script)
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_table(
        "batches",
        sa.Column("batch_id", sa.Text(), nullable=False),
        sa.Column("station", sa.Text(), nullable=True),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("scan_ids", JSONB(), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("pages_total", sa.Integer(), nullable=False),
        sa.Column("pages_done", sa.Integer(), nullable=False),
        sa.Column("files_total", sa.Integer(), nullable=False),
        sa.Column("files_done", sa.Integer(), nullable=False),
        sa.Column("errors", JSONB(), nullable=False),
        sa.PrimaryKeyConstraint("batch_id"),
    )
    op.create_index("batches_created", "batches", ["created_at"], unique=False)
    op.create_index("batches_station_created", "batches", ["station", "created_at"], unique=False)
    op.create_table(
        "documents",
        sa.Column("document_id", sa.Text(), nullable=False),
        sa.Column("template", sa.Text(), nullable=False),
        sa.Column("template_version", sa.Integer(), nullable=False),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("copies", sa.Integer(), nullable=False),
        sa.Column("values", sa.JSON(), nullable=False),
        sa.Column("station", sa.Text(), nullable=True),
        sa.Column("issued_by", sa.Text(), nullable=True),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("document_id"),
    )
    op.create_index("documents_template", "documents", ["template"], unique=False)
    op.create_table(
        "records",
        sa.Column("record_id", sa.Text(), nullable=False),
        sa.Column("rev", sa.Integer(), nullable=False),
        sa.Column("template", sa.Text(), nullable=False),
        sa.Column("template_version", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Text(), nullable=False),
        sa.Column("copy_index", sa.Integer(), nullable=False),
        sa.Column("station", sa.Text(), nullable=True),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("min_confidence", sa.Float(), nullable=False),
        sa.Column("fields_to_check", sa.Integer(), nullable=False),
        sa.Column("scan_id", sa.Text(), nullable=False),
        sa.Column("file_pages", JSONB(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("verified_by", sa.Text(), nullable=True),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column("search_folded", sa.Text(), nullable=False),
        sa.Column("duplicate_of", sa.Text(), nullable=True),
        sa.Column("reasons", JSONB(), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("record_id"),
    )
    op.create_index("records_document", "records", ["document_id"], unique=False)
    op.create_index(
        "records_least_confident",
        "records",
        ["min_confidence", sa.text("created_at DESC"), sa.text("record_id DESC")],
    )
    op.create_index(
        "records_newest", "records", [sa.text("created_at DESC"), sa.text("record_id DESC")]
    )
    op.create_index(
        "records_reading",
        "records",
        ["scan_id", "station", "document_id", "copy_index"],
        unique=True,
        postgresql_nulls_not_distinct=True,
    )
    op.create_index(
        "records_search",
        "records",
        ["search_folded"],
        unique=False,
        postgresql_using="gin",
        postgresql_ops={"search_folded": "gin_trgm_ops"},
    )
    op.create_index("records_station", "records", ["station", "created_at"], unique=False)
    op.create_index("records_status", "records", ["status", "created_at"], unique=False)
    op.create_index("records_template", "records", ["template", "created_at"], unique=False)
    op.create_table(
        "scan_contents",
        sa.Column("sha256", sa.Text(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("sha256"),
    )
    op.create_table(
        "scans",
        sa.Column("sha256", sa.Text(), nullable=False),
        sa.Column("filename", sa.Text(), nullable=False),
        sa.Column("content_type", sa.Text(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("station", sa.Text(), nullable=True),
        sa.Column("uploaded_by", sa.Text(), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("owners", JSONB(), nullable=False),
        sa.PrimaryKeyConstraint("sha256"),
    )
    op.create_table(
        "user_sessions",
        sa.Column("session_hash", sa.Text(), nullable=False),
        sa.Column("username", sa.Text(), nullable=False),
        sa.Column("csrf", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("session_hash"),
    )
    op.create_index("user_sessions_expiry", "user_sessions", ["expires_at"], unique=False)
    op.create_index("user_sessions_user", "user_sessions", ["username"], unique=False)
    op.create_table(
        "users",
        sa.Column("username", sa.Text(), nullable=False),
        sa.Column("username_fold", sa.Text(), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("station", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("username"),
        sa.UniqueConstraint("username_fold"),
    )
    op.create_table(
        "api_tokens",
        sa.Column("token_id", sa.Text(), nullable=False),
        sa.Column("token_hash", sa.Text(), nullable=False),
        sa.Column("username", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("scope", sa.Text(), nullable=True),
        sa.Column("seq", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.ForeignKeyConstraint(["username"], ["users.username"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("token_id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("api_tokens_user", "api_tokens", ["username"], unique=False)
    op.create_table(
        "corrections",
        sa.Column("correction_id", sa.Text(), nullable=False),
        sa.Column("record_id", sa.Text(), nullable=False),
        sa.Column("field_key", sa.Text(), nullable=False),
        sa.Column("row", sa.Integer(), nullable=True),
        sa.Column("column", sa.Text(), nullable=True),
        sa.Column("old_value", JSONB(), nullable=True),
        sa.Column("new_value", JSONB(), nullable=True),
        sa.Column("user", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seq", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["records.record_id"],
        ),
        sa.PrimaryKeyConstraint("correction_id"),
    )
    op.create_index("corrections_record", "corrections", ["record_id", "seq"], unique=False)
    op.create_table(
        "jobs",
        sa.Column("job_id", sa.Text(), nullable=False),
        sa.Column("batch_id", sa.Text(), nullable=False),
        sa.Column("scan_id", sa.Text(), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("files", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seq", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["batches.batch_id"],
        ),
        sa.ForeignKeyConstraint(
            ["scan_id"],
            ["scans.sha256"],
        ),
        sa.PrimaryKeyConstraint("job_id"),
    )
    op.create_index("jobs_batch", "jobs", ["batch_id"], unique=False)
    op.create_index("jobs_state", "jobs", ["state", "attempts", "seq"], unique=False)


def downgrade() -> None:
    op.drop_index("jobs_state", table_name="jobs")
    op.drop_index("jobs_batch", table_name="jobs")
    op.drop_table("jobs")
    op.drop_index("corrections_record", table_name="corrections")
    op.drop_table("corrections")
    op.drop_index("api_tokens_user", table_name="api_tokens")
    op.drop_table("api_tokens")
    op.drop_table("users")
    op.drop_index("user_sessions_user", table_name="user_sessions")
    op.drop_index("user_sessions_expiry", table_name="user_sessions")
    op.drop_table("user_sessions")
    op.drop_table("scans")
    op.drop_table("scan_contents")
    op.drop_index("records_template", table_name="records")
    op.drop_index("records_status", table_name="records")
    op.drop_index("records_station", table_name="records")
    op.drop_index(
        "records_search",
        table_name="records",
        postgresql_using="gin",
        postgresql_ops={"search_folded": "gin_trgm_ops"},
    )
    op.drop_index("records_reading", table_name="records", postgresql_nulls_not_distinct=True)
    op.drop_index("records_newest", table_name="records")
    op.drop_index("records_least_confident", table_name="records")
    op.drop_index("records_document", table_name="records")
    op.drop_table("records")
    op.drop_index("documents_template", table_name="documents")
    op.drop_table("documents")
    op.drop_index("batches_station_created", table_name="batches")
    op.drop_index("batches_created", table_name="batches")
    op.drop_table("batches")
