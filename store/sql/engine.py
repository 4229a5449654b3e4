"""Connecting to PostgreSQL and bringing its schema up to date (Alembic)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, create_engine
from sqlalchemy.exc import DBAPIError, OperationalError

from ..interface import StoreError

MIGRATIONS = Path(__file__).with_name("migrations")


class DatabaseUnavailable(StoreError):
    """The database server cannot be reached, or refuses the connection (HTTP 503)."""

    status = 503


def unavailable(exc: OperationalError) -> DatabaseUnavailable:
    """The driver's error as one Chinese line (its first line, which names the cause)."""
    reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
    return DatabaseUnavailable(f"无法连接数据库:{reason}")


class DatabaseRefused(StoreError):
    """The server answers but refuses what formdesk asks (no rights on the schema or the
    tables): the database's setup, not the request (HTTP 503)."""

    status = 503


class SchemaTooNew(StoreError):
    """The database was upgraded by a newer formdesk than this one (HTTP 503)."""

    status = 503


def refused(exc: DBAPIError) -> StoreError:
    """A driver error as one Chinese line: unreachable (DatabaseUnavailable) or refused —
    a permission the database user lacks names the fix."""
    if isinstance(exc, OperationalError):
        return unavailable(exc)
    reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
    if "permission denied" in reason:
        return DatabaseRefused(
            f"数据库拒绝访问:{reason};请让数据库用户拥有该数据库"
            "(如 createdb -O 用户 库名,或 ALTER DATABASE 库名 OWNER TO 用户)"
        )
    return DatabaseRefused(f"数据库出错:{reason}")


def check_url(url: str) -> str:
    """`url` if it is a PostgreSQL URL formdesk takes (postgresql://…, or
    postgresql+psycopg://…); else StoreError naming the scheme it has (never the rest,
    which may hold a password)."""
    if not url.startswith(("postgresql://", "postgresql+psycopg://")):
        scheme = url.split("://")[0] if "://" in url else url[:20]
        raise StoreError(f"数据库地址应以 postgresql:// 开头,而不是 {scheme}://…")
    return url


def connect(url: str) -> Engine:
    """An engine for `url` (postgresql://user@host:port/db, psycopg 3 as the driver);
    connections are checked before use, so a restarted server is no error."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return create_engine(url, pool_pre_ping=True, future=True)


def revision_of(engine: Engine) -> str | None:
    """The schema revision of `engine`'s database (None: never upgraded); DatabaseRefused
    or DatabaseUnavailable when it cannot be read."""
    from alembic.migration import MigrationContext

    try:
        with engine.connect() as db:
            return MigrationContext.configure(db).get_current_revision()
    except DBAPIError as exc:
        raise refused(exc) from None


def current_revision(url: str) -> str | None:
    """`revision_of` the database at `url`."""
    engine = connect(url)
    try:
        return revision_of(engine)
    finally:
        engine.dispose()


def head_revision() -> str:
    """The newest migration this version ships (store/sql/migrations/versions)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(cfg).get_current_head()
    assert head is not None
    return head


def upgrade(url: str, revision: str = "head") -> None:
    """Runs the migrations up to `revision` on the database at `url` (`formdesk db
    upgrade`); idempotent. DatabaseUnavailable when the server cannot be reached,
    DatabaseRefused when the user may not create tables, SchemaTooNew when a newer formdesk
    upgraded it."""
    from alembic import command
    from alembic.config import Config
    from alembic.util.exc import CommandError

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    engine = connect(url)
    cfg.attributes["engine"] = engine
    try:
        command.upgrade(cfg, revision)
    except DBAPIError as exc:
        raise refused(exc) from None
    except CommandError as exc:  # a revision this version does not know: a newer formdesk's
        if "Can't locate revision" in str(exc):
            raise SchemaTooNew(
                "数据库表结构来自更新版本的 formdesk,本程序无法使用或降级它:请升级本机的 formdesk"
            ) from None
        raise
    finally:
        engine.dispose()
