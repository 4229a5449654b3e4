"""Users, API tokens and browser sessions on PostgreSQL: `AccountStore` with the TinyDB
store's rules (store/interface.py, model/usernames.py).

Uniqueness is the database's: a user name once regardless of case (`users.username_fold`,
UNIQUE), a token hash once (`api_tokens.token_hash`, UNIQUE), a token id once (its primary
key) — so two processes adding the same name or token at once cannot both succeed."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError

from formdesk.model.accounts import ApiToken, User, UserSession
from formdesk.model.installation import InstallationSetting
from formdesk.model.usernames import fold_username, normalize_username

from ..interface import ConflictError, NotFoundError
from .schema import api_tokens, installation_settings, user_sessions, users

# the constraints' names (PostgreSQL's defaults, as migration 0002 creates them)
_USER_NAME = "users_pkey"
_USER_FOLD = "users_username_fold_key"
_TOKEN_ID = "api_tokens_pkey"
_TOKEN_HASH = "api_tokens_token_hash_key"
_TOKEN_USER = "api_tokens_username_fkey"


def _now() -> datetime:
    return datetime.now(UTC)


def _stored_name(db: Connection, username: str) -> str | None:
    """The stored name `username` means: the one stored name equal to it but for case
    (`usernames.fold_username`; the fold is unique, so an exact spelling is that one),
    None if there is none. `username` is taken as given (not normalised)."""
    q = select(users.c.username).where(users.c.username_fold == fold_username(username))
    return db.execute(q).scalar()


def _constraint(exc: IntegrityError) -> str | None:
    """The name of the constraint an INSERT broke (psycopg's diagnostics), if told."""
    diag = getattr(exc.orig, "diag", None)
    return getattr(diag, "constraint_name", None)


class SqlAccountStore:
    """Users, their API tokens and their browser sessions in the database of `engine`
    (schema at the head revision: `store.sql.upgrade`)."""

    def __init__(self, engine: Engine):
        self.engine = engine

    # -- users ----------------------------------------------------------------------------
    def add_user(self, user: User) -> User:
        """Stores `user` under its name trimmed and NFKC-normalised (model.usernames) and
        returns it so. Refuses a name outside the rule (InvalidUsernameError, a ValueError)
        or already used in any case (ConflictError: `Admin` beside `admin`, the message
        naming the stored spelling)."""
        user = user.model_copy(update={"username": normalize_username(user.username)})
        folded = fold_username(user.username)
        try:
            with self.engine.begin() as db:
                db.execute(users.insert().values(**user.model_dump(), username_fold=folded))
        except IntegrityError as exc:
            if _constraint(exc) not in (_USER_NAME, _USER_FOLD):
                raise
            with self.engine.connect() as db:
                taken = db.execute(
                    select(users.c.username).where(users.c.username_fold == folded)
                ).scalar()
            note = "" if taken in (None, user.username) else f"(与“{taken}”只差大小写)"
            raise ConflictError(f"用户名“{user.username}”已存在{note}") from None
        return user

    def get_user(self, username: str) -> User | None:
        """The user of that name, found regardless of case; None if none."""
        q = select(users).where(users.c.username_fold == fold_username(username))
        with self.engine.connect() as db:
            row = db.execute(q).mappings().first()
        return User.model_validate(dict(row)) if row else None

    def list_users(self) -> list[User]:
        """Every user, by name (code points, as Python sorts)."""
        q = select(users).order_by(users.c.username.collate("C"))
        with self.engine.connect() as db:
            return [User.model_validate(dict(r)) for r in db.execute(q).mappings()]

    def set_password_hash(self, username: str, password_hash: str) -> User:
        """The user's new hash (the name found as by `get_user`); NotFoundError if none."""
        q = (
            users.update()
            .where(users.c.username_fold == fold_username(username))
            .values(password_hash=password_hash)
            .returning(*users.c)
        )
        with self.engine.begin() as db:
            row = db.execute(q).mappings().first()
        if row is None:
            raise NotFoundError(f"用户“{username}”不存在")
        return User.model_validate(dict(row))

    def set_user_disabled(self, username: str, disabled: bool) -> User:
        """The user (found as by `get_user`) with `disabled` set; NotFoundError if none."""
        q = (
            users.update()
            .where(users.c.username_fold == fold_username(username))
            .values(disabled=disabled)
            .returning(*users.c)
        )
        with self.engine.begin() as db:
            row = db.execute(q).mappings().first()
        if row is None:
            raise NotFoundError(f"用户“{username}”不存在")
        return User.model_validate(dict(row))

    # -- installation settings ------------------------------------------------------------
    def list_installation_settings(self) -> list[InstallationSetting]:
        """Every stored setting, by name (code points)."""
        q = select(installation_settings).order_by(installation_settings.c.name.collate("C"))
        with self.engine.connect() as db:
            rows = db.execute(q).mappings()
            return [InstallationSetting.model_validate(dict(r)) for r in rows]

    def set_installation_settings(
        self, values: Mapping[str, str], updated_by: str
    ) -> list[InstallationSetting]:
        """Sets each named value (an empty one deletes the setting) by `updated_by`, now,
        in one transaction; every stored setting, by name."""
        now = _now()
        table = installation_settings
        with self.engine.begin() as db:
            for name, value in values.items():
                if not value:
                    db.execute(table.delete().where(table.c.name == name))
                    continue
                row = {"name": name, "value": value, "updated_by": updated_by, "updated_at": now}
                stmt = insert(table).values(**row)
                stmt = stmt.on_conflict_do_update(
                    index_elements=["name"],
                    set_={k: stmt.excluded[k] for k in row if k != "name"},
                )
                db.execute(stmt)
        return self.list_installation_settings()

    # -- API tokens -----------------------------------------------------------------------
    def add_token(self, token: ApiToken) -> ApiToken:
        """Stores the token under its user's stored name; the user must exist (found as by
        `get_user`, else NotFoundError) and a token hash is stored once (ConflictError).
        Returns the token with its `token_id`: a fresh one of ten hex digits, unique, when
        none was given; a given id already used is a ConflictError."""
        with self.engine.begin() as db:
            key = _stored_name(db, token.username)
            if key is None:
                raise NotFoundError(f"用户“{token.username}”不存在")
            token = token.model_copy(update={"username": key})
            hashed = select(api_tokens.c.token_id).where(
                api_tokens.c.token_hash == token.token_hash
            )
            if db.execute(hashed).first() is not None:
                raise ConflictError("该令牌已登记")
            while True:
                row = token
                if row.token_id is None:
                    row = token.model_copy(update={"token_id": secrets.token_hex(5)})
                try:
                    with db.begin_nested():  # a savepoint: an id drawn twice is drawn again
                        db.execute(api_tokens.insert().values(**row.model_dump()))
                except IntegrityError as exc:
                    broken = _constraint(exc)
                    if broken == _TOKEN_ID and token.token_id is None:
                        continue
                    if broken == _TOKEN_ID:
                        raise ConflictError(f"令牌编号“{token.token_id}”已存在") from None
                    if broken == _TOKEN_HASH:  # the same hash, added meanwhile
                        raise ConflictError("该令牌已登记") from None
                    if broken == _TOKEN_USER:  # the user, gone meanwhile
                        raise NotFoundError(f"用户“{token.username}”不存在") from None
                    raise
                return row

    def get_token(self, token_hash: str) -> ApiToken | None:
        """The token row of that sha256 (with its id), or None (unknown or revoked)."""
        q = select(api_tokens).where(api_tokens.c.token_hash == token_hash)
        with self.engine.connect() as db:
            row = db.execute(q).mappings().first()
        return ApiToken.model_validate(dict(row)) if row else None

    def user_for_token(self, token_hash: str) -> User | None:
        """The user the token of that sha256 belongs to; None if no such token."""
        q = (
            select(users)
            .join(api_tokens, api_tokens.c.username == users.c.username)
            .where(api_tokens.c.token_hash == token_hash)
        )
        with self.engine.connect() as db:
            row = db.execute(q).mappings().first()
        return User.model_validate(dict(row)) if row else None

    def list_tokens(self, username: str | None = None) -> list[ApiToken]:
        """Every token (of `username`, spelt as stored), oldest first — by creation time,
        then id, as the TinyDB store sorts — each with its id and hash."""
        q = select(api_tokens).order_by(
            api_tokens.c.created_at, api_tokens.c.token_id.collate("C"), api_tokens.c.seq
        )
        if username is not None:
            q = q.where(api_tokens.c.username == username)
        with self.engine.connect() as db:
            return [ApiToken.model_validate(dict(r)) for r in db.execute(q).mappings()]

    def revoke_token(self, token_id: str, username: str | None = None) -> ApiToken:
        """Deletes the token (only if it is `username`'s, spelt as stored, when given) and
        returns it; NotFoundError if there is none. The token stops working at once."""
        q = api_tokens.delete().where(api_tokens.c.token_id == token_id)
        if username is not None:
            q = q.where(api_tokens.c.username == username)
        with self.engine.begin() as db:
            row = db.execute(q.returning(*api_tokens.c)).mappings().first()
        if row is None:
            raise NotFoundError(f"找不到令牌 {token_id}")
        return ApiToken.model_validate(dict(row))

    # -- browser sessions -----------------------------------------------------------------
    def add_session(self, session: UserSession) -> UserSession:
        """Stores a sign-in (replacing one of the same hash) and drops the expired ones
        (expires_at now or earlier) in the same transaction."""
        row = session.model_dump()
        stmt = insert(user_sessions).values(**row)
        stmt = stmt.on_conflict_do_update(
            index_elements=["session_hash"],
            set_={k: stmt.excluded[k] for k in row if k != "session_hash"},
        )
        with self.engine.begin() as db:
            db.execute(user_sessions.delete().where(user_sessions.c.expires_at <= _now()))
            db.execute(stmt)
        return session

    def get_session(self, session_hash: str) -> UserSession | None:
        """The live session of that id hash; None if unknown, ended or expired."""
        q = select(user_sessions).where(
            user_sessions.c.session_hash == session_hash, user_sessions.c.expires_at > _now()
        )
        with self.engine.connect() as db:
            row = db.execute(q).mappings().first()
        return UserSession.model_validate(dict(row)) if row else None

    def delete_session(self, session_hash: str) -> bool:
        """Ends one session (logout); False if it was not there (an expired one not yet
        dropped still counts as there)."""
        q = user_sessions.delete().where(user_sessions.c.session_hash == session_hash)
        with self.engine.begin() as db:
            return db.execute(q).rowcount > 0

    def delete_sessions(self, username: str, keep: str | None = None) -> int:
        """Ends every session of `username` (spelt as stored; expired ones too) except the
        one hashed `keep`; how many rows were deleted."""
        q = user_sessions.delete().where(user_sessions.c.username == username)
        if keep is not None:
            q = q.where(user_sessions.c.session_hash != keep)
        with self.engine.begin() as db:
            return db.execute(q).rowcount
