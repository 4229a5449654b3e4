"""Checking a user name and password, the same way for the API, the sign-in page and the
password change: names normalised and case-folded as stored (model.usernames), the same
argon2 work for known and unknown names, every check counted before it is made and
lock-outs enforced (services.login_guard), the argon2 work bounded
(services.password_work).

Awaited on the event loop: the store's work runs in the request thread pool (anyio's, as
FastAPI's `run_in_threadpool`), the argon2 work in its own bounded pool.
"""

from __future__ import annotations

import asyncio

from anyio import to_thread

from formdesk.model.accounts import User
from formdesk.model.errors import FormdeskError
from formdesk.model.usernames import InvalidUsernameError, fold_username, normalize_username

from .login_guard import Attempt, LoginGuard, Wait
from .password_work import Busy, PasswordWork
from .stores import Store

WRONG = "用户名或密码不对"
DISABLED = "该账户已停用,请联系售后服务部"
WAIT_STEP_S = 0.05  # while the checks that fill a limit are still running
WAIT_MAX_S = 10.0


class WrongPasswordError(FormdeskError):
    """No user of that name, or not their password (HTTP 401, `WRONG`: ``用户名或密码不对``;
    which of the two is never said)."""

    status = 401

    def __init__(self) -> None:
        super().__init__(WRONG)


class DisabledUserError(FormdeskError):
    """The right password of a disabled (停用) user (HTTP 403, ``该账户已停用,请联系售后服务部``):
    said only to whoever knows the password."""

    status = 403

    def __init__(self) -> None:
        super().__init__(DISABLED)


async def _reserve(guard: LoginGuard, name: str, address: str) -> Attempt:
    """The counted attempt; waits (on the event loop) while the limit is full of checks
    still running. LockedOut (429) while locked out, Busy (503) if the wait grows longer
    than WAIT_MAX_S."""
    waited = 0.0
    while True:
        try:
            return guard.reserve(name, address)
        except Wait:
            if waited >= WAIT_MAX_S:
                raise Busy from None
            await asyncio.sleep(WAIT_STEP_S)
            waited += WAIT_STEP_S


async def authenticate(
    store: Store,
    guard: LoginGuard,
    work: PasswordWork,
    username: str,
    password: str,
    address: str,
) -> User:
    """The user whose name (as typed: any case, full-width, surrounding spaces) and
    password these are, signing in from the client `address`.

    The attempt is counted first (for the case-folded name and `address`); then the
    password is checked in `work`'s bounded argon2 pool. Raises LockedOut (429, with its
    `retry_after` seconds) while the name or the address is locked out, even for the
    right password, and for a wrong password that used up the last allowed attempt; Busy
    (503, `retry_after` seconds) when the pool is full, the attempt not counted;
    WrongPasswordError (401, ``用户名或密码不对``) for a wrong name or password;
    DisabledUserError (403) for the right password of a disabled user. An unknown name
    costs the same argon2 verification as a known one.
    """
    try:
        name = normalize_username(username)
    except InvalidUsernameError:
        name, known = (username or "").strip()[:64], False
    else:
        known = True
    attempt = await _reserve(guard, fold_username(name), address)
    user = await to_thread.run_sync(store.get_user, name) if known else None
    try:
        right = await work.verify(user.password_hash if user else None, password)
    except Busy:
        guard.released(attempt)
        raise
    if right and user is not None:
        guard.succeeded(attempt)
        if user.disabled:
            raise DisabledUserError
        return user
    guard.failed(attempt)  # LockedOut when it was the last attempt allowed
    raise WrongPasswordError
