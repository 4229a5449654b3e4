"""Print jobs say the paper their small tags print on (issue 12, point 5): "a4x4" ganged
four to an A4 sheet (every job before this revision), or "a6" one tag per A6 page.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("print_jobs", sa.Column("paper", sa.Text, nullable=False, server_default="a4x4"))


def downgrade() -> None:
    op.drop_column("print_jobs", "paper")
