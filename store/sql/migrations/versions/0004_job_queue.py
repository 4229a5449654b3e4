"""The job queue: procrastinate's schema (tables procrastinate_jobs, _events, _workers,
_periodic_defers and their functions), as the installed procrastinate 3.x ships it.

A later procrastinate release that changes its schema ships migration scripts of its own
(procrastinate/sql/migrations); formdesk applies them in a migration of its own when it
moves to that release (pyproject pins procrastinate below 4).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    from procrastinate.schema import SchemaManager

    # psycopg's own execute with no parameters, in the migration's transaction: the SQL
    # holds % and : that are no placeholders
    op.get_bind().connection.driver_connection.execute(SchemaManager.get_schema())


def downgrade() -> None:
    op.execute(
        "DROP TABLE IF EXISTS procrastinate_events, procrastinate_periodic_defers,"
        " procrastinate_jobs, procrastinate_workers CASCADE"
    )
    op.execute(
        "DO $$ DECLARE f record; BEGIN"
        " FOR f IN SELECT oid::regprocedure AS sig FROM pg_proc"
        " WHERE proname LIKE 'procrastinate%' LOOP EXECUTE 'DROP FUNCTION ' || f.sig || ' CASCADE';"
        " END LOOP; END $$"
    )
    op.execute(
        "DROP TYPE IF EXISTS procrastinate_job_to_defer_v1, procrastinate_job_event_type,"
        " procrastinate_job_status CASCADE"
    )
