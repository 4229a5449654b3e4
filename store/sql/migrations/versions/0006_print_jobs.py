"""Print batches on the job queue: the job, the rows it prints, its progress and its PDF
in the database, so any web server answers for a job and any `formdesk worker` renders it
(procrastinate queue `printing`, task `formdesk.print_batch`).

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "print_jobs",
        sa.Column("job_id", sa.Text, primary_key=True),
        sa.Column("template", sa.Text, nullable=False),
        sa.Column("slug", sa.Text, nullable=False),
        sa.Column("filename", sa.Text, nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("station", sa.Text),
        sa.Column("total", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("done", sa.Integer, nullable=False),
        sa.Column("error", sa.Text),
        sa.Column("document_ids", sa.Text, nullable=False),  # JSON list
        sa.Column("skipped", sa.Text, nullable=False),  # JSON list: bad rows left out
        sa.Column("records", sa.Text),  # JSON: the rows to print, until done
        sa.Column("pdf", sa.LargeBinary),
    )
    op.create_index("print_jobs_by_user_state", "print_jobs", ["created_by", "state"])


def downgrade() -> None:
    op.drop_table("print_jobs")
