"""Accounts: users (added, their passwords set or changed), their API tokens (made and
shown once, listed, revoked, looked up), and the first admin of a fresh installation.

User names follow model.usernames (the caller normalises what was typed), passwords
services.passwords; the store keeps only argon2id hashes of passwords and sha256 hashes
of tokens.  Every refusal is a FormdeskError with a Chinese message and its HTTP status.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from anyio import to_thread

from formdesk.model.accounts import ApiToken, Role, TokenScope, User
from formdesk.model.claims import Station
from formdesk.model.errors import ConflictError, FormdeskError, NotFoundError, StoreError

from .login_guard import LoginGuard
from .password_work import PasswordWork
from .passwords import (
    SAME_PASSWORD,
    WeakPasswordError,
    check_password,
    generate_password,
    hash_password,
    password_to_set,
    verify_password,
)
from .signin import WrongPasswordError, authenticate
from .stores import Store
from .tokens import new_token, token_hash

TOKEN_LABEL_MAX = 64


# -- users ---------------------------------------------------------------------------------


def find_user(store: Store, username: str) -> User:
    """The user named `username` (already normalised, model.usernames; found in any
    case), as stored.  NotFoundError (404, ``用户“…”不存在``) if there is none."""
    user = store.get_user(username)
    if user is None:
        raise NotFoundError(f"用户“{username}”不存在")
    return user


def add_user(
    store: Store,
    username: str,
    role: Role,
    password: str,
    *,
    station: str | None = None,
    station_name: str | None = None,
) -> User:
    """Adds the user `username` (already normalised) with `role` and `password` (already
    passing the policy: `passwords.password_to_set`), stored as its argon2id hash; returns
    the stored user.

    `station` (a station code) is added first as a station named `station_name` (else its
    code) when the store does not know it; it becomes the user's station only for the
    role "station".  ConflictError (409) when the name is taken in any case:
    ``用户名“bob”已存在`` or ``用户名“Bob”已存在(与“bob”只差大小写)``; the store's
    InvalidUsernameError (422) for a name outside the rule."""
    taken = store.get_user(username)
    if taken is not None:
        same = "" if taken.username == username else f"(与“{taken.username}”只差大小写)"
        raise ConflictError(f"用户名“{username}”已存在{same}")
    if station and store.get_station(station) is None:
        store.add_station(Station(code=station, name=station_name or station))
    return store.add_user(
        User(
            username=username,
            password_hash=hash_password(password),
            role=role,
            station=station if role == "station" else None,
        )
    )


@dataclass(frozen=True)
class PasswordReset:
    """What `reset_password` did: the user's name as stored, the password set (to show
    once when `generated`), and how many sign-in sessions of the user it ended."""

    username: str
    password: str
    generated: bool
    ended_sessions: int


def reset_password(store: Store, username: str, password: str | None) -> PasswordReset:
    """Sets the password of the user `username` (already normalised; any case) to
    `password`, or to a generated one when None, and ends every sign-in session of the
    user (API tokens keep working).  `formdesk user password`.

    NotFoundError (404, ``用户“…”不存在``); WeakPasswordError (422) when `password` breaks
    the policy (checked against the name as stored) or is the current one
    (``新密码不能与原密码相同``)."""
    user = find_user(store, username)
    name = user.username  # as stored, whatever case was typed
    secret, generated = password_to_set(password, name)
    if not generated and verify_password(user.password_hash, secret):
        raise WeakPasswordError(SAME_PASSWORD)
    store.set_password_hash(name, hash_password(secret))
    return PasswordReset(name, secret, generated, store.delete_sessions(name))


class OldPasswordWrongError(FormdeskError):
    """The current password given with a password change is not right (HTTP 403,
    ``原密码不对``); it counts as a failed sign-in."""

    status = 403

    def __init__(self) -> None:
        super().__init__("原密码不对")


def _store_new_hash(store: Store, username: str, new_hash: str, keep: str | None) -> int:
    store.set_password_hash(username, new_hash)
    return store.delete_sessions(username, keep=keep)


async def change_password(
    store: Store,
    guard: LoginGuard,
    work: PasswordWork,
    username: str,
    old_password: str,
    new_password: str,
    address: str,
    *,
    keep: str | None = None,
) -> int:
    """Changes the password of the signed-in user `username` (as stored) from
    `old_password` to `new_password`, asked from the client `address`; ends every other
    sign-in session of the user, all but the one hashed `keep` (the session asking).
    Returns how many sessions it ended.  Awaited on the event loop (see services.signin).

    The old password is checked as a sign-in (`signin.authenticate`: counted, locked out
    alike): OldPasswordWrongError (403, ``原密码不对``), LockedOut (429), Busy (503).
    Then WeakPasswordError (422) when the new password is the old one
    (``新密码不能与原密码相同``) or breaks the policy; Busy (503) when the argon2 pool is
    full."""
    try:
        await authenticate(store, guard, work, username, old_password, address)
    except WrongPasswordError:
        raise OldPasswordWrongError from None
    if new_password == old_password:
        raise WeakPasswordError(SAME_PASSWORD)
    await to_thread.run_sync(check_password, new_password, username)
    new_hash = await work.hash(new_password)
    return await to_thread.run_sync(_store_new_hash, store, username, new_hash, keep)


def ensure_admin(store: Store) -> str | None:
    """The first start makes user `admin` (back office) and returns its generated
    password, to show once; None when there are users already (or another process
    sharing the database made `admin` at the same moment).

    Only in a fresh data folder: no users next to records or batches means they were lost
    (StoreError, 500: ``数据目录中已有记录或上传批次,却没有任何用户:…``), never a fresh
    start (the store refuses to open such a folder already)."""
    if store.list_users():
        return None
    if store.list_records(limit=0)[1] or store.list_batches():
        raise StoreError(
            "数据目录中已有记录或上传批次,却没有任何用户:用户数据已丢失,不会新建管理员"
        )
    password = generate_password("admin")
    try:
        store.add_user(
            User(username="admin", password_hash=hash_password(password), role="back_office")
        )
    except ConflictError:  # another process sharing the database made it first
        return None
    return password


# -- API tokens ----------------------------------------------------------------------------


class TokenRefusedError(FormdeskError, ValueError):
    """A token that cannot be made as asked: its label or scope (HTTP 422; the Chinese
    message says what is wrong)."""

    status = 422


class ReadOnlyTokenError(TokenRefusedError):
    """An auditor asked for a write token (HTTP 403); auditors only get read tokens."""

    status = 403


@dataclass(frozen=True)
class NewToken:
    """A token just made: `token` (``fd_…``) to show this once, never stored; `stored`
    the row kept (its `token_id`, label, scope, created_at; only the token's sha256)."""

    token: str
    stored: ApiToken


def _issue(store: Store, username: str, label: str, scope: TokenScope) -> NewToken:
    token, digest = new_token()
    row = ApiToken(token_hash=digest, username=username, label=label, scope=scope)
    return NewToken(token, store.add_token(row))


def _web_label(label: str) -> str:
    label = label.strip()
    if len(label) > TOKEN_LABEL_MAX:
        raise TokenRefusedError(f"令牌名称最多 {TOKEN_LABEL_MAX} 个字符")
    if any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Zl", "Zp") for c in label):
        raise TokenRefusedError("令牌名称不能包含控制字符")
    return label


def create_own_token(
    store: Store, username: str, role: Role, label: str, scope: TokenScope | None
) -> NewToken:
    """A new API token of the signed-in user `username` (as stored) of `role`, named
    `label` (trimmed), for POST /api/tokens.  `scope` None is "write", or "read" for an
    auditor.  ReadOnlyTokenError (403, ``审计员只能创建只读(read)令牌``) for an auditor's
    write token; TokenRefusedError (422) for a label longer than TOKEN_LABEL_MAX
    (``令牌名称最多 64 个字符``) or with control or format characters
    (``令牌名称不能包含控制字符``)."""
    can_write = role != "auditor"
    if scope is None:
        scope = "write" if can_write else "read"
    if scope == "write" and not can_write:
        raise ReadOnlyTokenError("审计员只能创建只读(read)令牌")
    return _issue(store, username, _web_label(label), scope)


def create_token_for(store: Store, username: str, label: str, scope: str | None) -> NewToken:
    """A new API token of the user `username` (already normalised; any case), named
    `label` (trimmed), for `formdesk token add`.  `scope` None is "read" for an auditor,
    else "write".  NotFoundError (404, ``用户“…”不存在``); TokenRefusedError (422) for a
    scope other than read or write (``--scope 应为 read 或 write,而不是 …``) or a label
    longer than TOKEN_LABEL_MAX or not printable (``令牌名称最多 64 个字符,且不能包含控制字符``);
    ReadOnlyTokenError (403, ``审计员只能有只读(read)令牌``) for an auditor's write token."""
    user = find_user(store, username)
    if scope is None:
        scope = "read" if user.role == "auditor" else "write"
    if scope not in ("read", "write"):
        raise TokenRefusedError(f"--scope 应为 read 或 write,而不是 {scope}")
    checked: TokenScope = "write" if scope == "write" else "read"
    if checked == "write" and user.role == "auditor":
        raise ReadOnlyTokenError("审计员只能有只读(read)令牌")
    label = label.strip()
    if len(label) > TOKEN_LABEL_MAX or not label.isprintable():
        raise TokenRefusedError(f"令牌名称最多 {TOKEN_LABEL_MAX} 个字符,且不能包含控制字符")
    return _issue(store, user.username, label, checked)


def list_tokens(store: Store, username: str | None = None) -> list[ApiToken]:
    """Every API token (of the user `username`, already normalised, any case), oldest
    first, each with its `token_id` and with `scope` the one it really has for its user's
    role now (an auditor's, or a user's who is gone, only reads; rows from before scopes
    write if their user may).  Hashes are included; the tokens themselves are not stored."""
    if username is None:
        roles = {u.username: u.role for u in store.list_users()}
    else:
        user = store.get_user(username)
        username = user.username if user is not None else username  # as stored
        roles = {user.username: user.role} if user is not None else {}
    return [
        t.model_copy(update={"scope": t.effective_scope(roles.get(t.username, "auditor"))})
        for t in store.list_tokens(username)
    ]


def revoke_token(store: Store, token_id: str, username: str | None = None) -> ApiToken:
    """Deletes the token `token_id` (only if it is `username`'s, when given) and returns
    it; it stops working at once.  NotFoundError (404, ``找不到令牌 …``) if there is none."""
    return store.revoke_token(token_id, username)


def token_holder(store: Store, token: str) -> tuple[User, TokenScope] | None:
    """The user an API token (as sent after ``Bearer ``; surrounding spaces ignored)
    belongs to, and the scope it really has for their role; None when the token is
    unknown or revoked or its user is gone or disabled (停用)."""
    row = store.get_token(token_hash(token.strip()))
    user = store.get_user(row.username) if row is not None else None
    if row is None or user is None or user.disabled:
        return None
    return user, row.effective_scope(user.role)
