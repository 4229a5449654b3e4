"""Alembic's environment: runs the migrations on the engine `store.sql.engine.upgrade`
passes (config attribute "engine")."""

from __future__ import annotations

from alembic import context

engine = context.config.attributes["engine"]
with engine.begin() as connection:
    context.configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()
