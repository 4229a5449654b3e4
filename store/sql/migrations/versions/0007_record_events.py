"""Record actions and refused pages (issue 12, point 3): an audit table of people's actions on whole records
(作废 void, 恢复 restore, 撤销确认 unverify, 设置维修站 set station), and the station a
reading was filed under (`read_station`), so a record whose station a person set is still
the one a new reading of its scan replaces; the pages the reader refused, until a person
chooses their form or discards them (`page_refusals`).

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

# the migration's own copy: a later change of store.summary must not change what it did
KEY_VALUES = {
    "vin": ("vin",),
    "plate": ("plate_no", "plate"),
    "claim_no": ("claim_no",),
    "repair_date": ("repair_date", "entry_date"),
    "part_no": ("part_no",),
    "month": ("report_month", "record_month"),
}

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("records", sa.Column("read_station", sa.Text))
    op.execute("UPDATE records SET read_station = station")
    # the values a list shows (store.summary.key_values), from each stored body
    op.add_column("records", sa.Column("key_values", JSONB, nullable=False, server_default="{}"))
    pairs = " UNION ALL ".join(
        f"SELECT '{name}' AS name, {i} AS rank, '{key}' AS key"
        for name, keys in KEY_VALUES.items()
        for i, key in enumerate(keys)
    )
    op.execute(
        f"""
        UPDATE records r SET key_values = coalesce((
            SELECT jsonb_object_agg(name, value) FROM (
                SELECT DISTINCT ON (k.name) k.name, (f -> 'value')::jsonb AS value
                FROM json_array_elements(r.body -> 'fields') AS f
                JOIN ({pairs}) AS k ON k.key = f ->> 'key'
                WHERE json_typeof(f -> 'value') IN ('string', 'number', 'boolean')
                  AND f ->> 'value' <> ''
                ORDER BY k.name, k.rank
            ) AS found
        ), '{{}}'::jsonb)
        """
    )
    op.drop_index("records_reading", table_name="records")
    op.create_index(
        "records_reading",
        "records",
        ["scan_id", "read_station", "document_id", "copy_index"],
        unique=True,
        postgresql_nulls_not_distinct=True,
    )
    op.create_table(
        "record_events",
        sa.Column("event_id", sa.Text, primary_key=True),
        sa.Column("record_id", sa.Text, sa.ForeignKey("records.record_id"), nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("user", sa.Text, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("old", sa.Text),
        sa.Column("new", sa.Text),
        sa.Column("seq", sa.BigInteger, sa.Identity(), nullable=False),
    )
    op.create_index("record_events_record", "record_events", ["record_id", "seq"])
    op.create_table(
        "page_refusals",
        sa.Column("refusal_id", sa.Text, primary_key=True),
        sa.Column("scan_id", sa.Text, nullable=False),
        sa.Column("file_page", sa.Integer, nullable=False),
        sa.Column("filename", sa.Text, nullable=False),
        sa.Column("station", sa.Text),
        sa.Column("batch_id", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("template", sa.Text),
        sa.Column("form_page", sa.Integer),
        sa.Column("settled_by", sa.Text),
        sa.Column("note", sa.Text),
        sa.Column("record_ids", JSONB, nullable=False),
    )
    op.create_index("page_refusals_state", "page_refusals", ["state", "created_at"])
    op.create_index("page_refusals_scan", "page_refusals", ["scan_id"])


def downgrade() -> None:
    op.drop_table("page_refusals")
    op.drop_table("record_events")
    op.drop_index("records_reading", table_name="records")
    op.create_index(
        "records_reading",
        "records",
        ["scan_id", "station", "document_id", "copy_index"],
        unique=True,
        postgresql_nulls_not_distinct=True,
    )
    op.drop_column("records", "key_values")
    op.drop_column("records", "read_station")
