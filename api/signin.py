"""Checking a user name and password, the same way for the API, the sign-in page and the
password change: names normalised and case-folded as stored, the same argon2 work for
known and unknown names, every check counted before it is made and lock-outs enforced
(api.login_guard), the argon2 work bounded (api.password_work)."""

from __future__ import annotations

import asyncio

from fastapi import HTTPException, Request
from fastapi.concurrency import run_in_threadpool

from formdesk.model.accounts import User
from formdesk.store import InvalidUsernameError, Store, fold_username, normalize_username

from .login_guard import Attempt, LockedOut, LoginGuard, Wait
from .password_work import Busy, PasswordWork

WRONG = "用户名或密码不对"


def client_address(request: Request) -> str:
    """The client's address as uvicorn saw it (the proxy's X-Forwarded-For only when
    `formdesk serve --forwarded-allow-ips` trusts the proxy)."""
    return request.client.host if request.client else "unknown"


def locked_error(exc: LockedOut) -> HTTPException:
    """429 with the wait in the reason and in Retry-After (seconds)."""
    return HTTPException(429, str(exc), headers={"Retry-After": exc.retry_after})


def busy_error(exc: Busy) -> HTTPException:
    """503 with the reason and Retry-After (seconds): too many checks pending."""
    return HTTPException(503, str(exc), headers={"Retry-After": str(exc.retry_after)})


WAIT_STEP_S = 0.05  # while the checks that fill a limit are still running
WAIT_MAX_S = 10.0


async def _reserve(guard: LoginGuard, name: str, address: str) -> Attempt:
    """The counted attempt; waits (on the event loop) while the limit is full of checks
    still running. HTTPException 429 while locked out, 503 if the wait grows too long."""
    waited = 0.0
    while True:
        try:
            return guard.reserve(name, address)
        except LockedOut as exc:
            raise locked_error(exc) from None
        except Wait:
            if waited >= WAIT_MAX_S:
                raise HTTPException(
                    503, "同时登录的请求太多,服务器正忙,请 2 秒后再试", headers={"Retry-After": "2"}
                ) from None
            await asyncio.sleep(WAIT_STEP_S)
            waited += WAIT_STEP_S


async def authenticate(request: Request, store: Store, username: str, password: str) -> User:
    """The user whose name and password these are.

    The attempt is counted first (for the case-folded name and the client address); then
    the password is checked in the bounded argon2 pool. Raises HTTPException 429 (with
    Retry-After) while the name or the client address is locked out, even for the right
    password, and for a wrong password that used up the last allowed attempt; 503 (with
    Retry-After) when the pool is full, the attempt not counted; 401 `WRONG` for a wrong
    name or password. An unknown name costs the same argon2 verification as a known one.
    """
    guard: LoginGuard = request.app.state.login_guard
    work: PasswordWork = request.app.state.password_work
    try:
        name = normalize_username(username)
    except InvalidUsernameError:
        name, known = (username or "").strip()[:64], False
    else:
        known = True
    attempt = await _reserve(guard, fold_username(name), client_address(request))
    user = await run_in_threadpool(store.get_user, name) if known else None
    try:
        right = await work.verify(user.password_hash if user else None, password)
    except Busy as exc:
        guard.released(attempt)
        raise busy_error(exc) from None
    if right and user is not None:
        guard.succeeded(attempt)
        return user
    try:
        guard.failed(attempt)
    except LockedOut as exc:
        raise locked_error(exc) from None
    raise HTTPException(401, WRONG)
