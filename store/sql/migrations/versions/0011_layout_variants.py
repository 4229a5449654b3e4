"""Layout variants (issue 13): catalog forms as other printers laid them out, registered
from a scan — each variant's field boxes (mm of its reference image), a fingerprint of its
ruled lines, and the reference image itself (PNG).

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "layout_variants",
        sa.Column("template", sa.Text, primary_key=True),
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("paper_w_mm", sa.Float, nullable=False),
        sa.Column("paper_h_mm", sa.Float, nullable=False),
        sa.Column("fields", JSONB, nullable=False),
        sa.Column("table_layout", JSONB),
        sa.Column("fingerprint", JSONB, nullable=False),
        sa.Column("reference_sha256", sa.Text, nullable=False),
        sa.Column("reference", sa.LargeBinary, nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("layout_variants")
