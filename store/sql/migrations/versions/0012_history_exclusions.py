"""Values taken out of the reader's history (issue 10): a value a reviewer confirmed in a
text field, which the back office no longer wants the reader to read against (停用).

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "history_exclusions",
        sa.Column("template", sa.Text, primary_key=True),
        sa.Column("field", sa.Text, primary_key=True),
        sa.Column("value", sa.Text, primary_key=True),
        sa.Column("excluded_by", sa.Text, nullable=False),
        sa.Column("excluded_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("history_exclusions")
