"""What every machine of one installation must share, checked when a process starts:
today the fingerprint of the signing key (HMAC of a fixed text under the key, never the
key itself), so a reader machine with another data/secret.key is refused instead of
reading every printed form as foreign.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "installation",
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("installation")
