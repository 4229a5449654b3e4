"""Undoing a claims import (issue 12: 导入为索赔单 could not be taken back): each import
keeps the source its claims carry, and who undid it and when.  An import stored before
keeps NULL: a file's claims carry "import:<its id>", which is what undoing one assumes.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("claim_imports", sa.Column("source", sa.Text))
    op.add_column("claim_imports", sa.Column("undone_by", sa.Text))
    op.add_column("claim_imports", sa.Column("undone_at", sa.DateTime(timezone=True)))


def downgrade() -> None:
    op.drop_column("claim_imports", "undone_at")
    op.drop_column("claim_imports", "undone_by")
    op.drop_column("claim_imports", "source")
