"""The PostgreSQL server option's schema and driver errors, for `formdesk db` and the
API's error handler (issue 11).  The store implements them (`store.sql.engine`); the
layers above reach them only through here."""

from __future__ import annotations

from dataclasses import dataclass

from formdesk.model.errors import StoreError


@dataclass(frozen=True)
class SchemaUpgrade:
    """What `upgrade_schema` did: the Alembic revision before (None: an empty database)
    and after."""

    before: str | None
    after: str | None

    @property
    def changed(self) -> bool:
        """True when a migration ran."""
        return self.before != self.after


def check_database_url(url: str) -> str:
    """`url` if it is a PostgreSQL URL formdesk takes (postgresql://… or
    postgresql+psycopg://…); else StoreError (500, a Chinese line naming only the scheme,
    never the rest, which may hold a password)."""
    from formdesk.store.sql.engine import check_url

    return check_url(url)


def upgrade_schema(url: str) -> SchemaUpgrade:
    """Runs the migrations up to this version's newest on the database at `url`
    (idempotent) and says from which revision to which.  Raises DatabaseUnavailable (503)
    when the server cannot be reached, DatabaseRefused (503) when the user may not create
    tables, SchemaTooNew (503) when a newer formdesk upgraded it."""
    from formdesk.store.sql.engine import current_revision, upgrade

    before = current_revision(url)
    upgrade(url)
    return SchemaUpgrade(before, current_revision(url))


def database_refusal(exc: Exception) -> StoreError:
    """A database driver error (sqlalchemy DBAPIError) as the store's one-line Chinese
    error: DatabaseUnavailable when the server cannot be reached, DatabaseRefused when it
    refused (a missing permission names the fix); both HTTP 503."""
    from formdesk.store.sql.engine import refused

    return refused(exc)  # type: ignore[arg-type]


def database_errors() -> tuple[type[Exception], ...]:
    """The exception classes of the database driver the API must answer with 503
    (`database_refusal`); imported only when asked, so the TinyDB default does not load
    SQLAlchemy's driver errors at start."""
    from sqlalchemy.exc import DBAPIError

    return (DBAPIError,)
