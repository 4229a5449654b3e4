"""Checking a user name and password, the same way for the API, the sign-in page and the
password change: names normalised as stored, the same argon2 work for known and unknown
names, failures counted and lock-outs enforced (api.login_guard)."""

from __future__ import annotations

from fastapi import HTTPException, Request

from formdesk.store import InvalidUsernameError, Store, User, normalize_username

from .login_guard import LockedOut, LoginGuard
from .security import verify_password

WRONG = "用户名或密码不对"


def client_address(request: Request) -> str:
    """The client's address as uvicorn saw it (the proxy's X-Forwarded-For only when
    `formdesk serve --forwarded-allow-ips` trusts the proxy)."""
    return request.client.host if request.client else "unknown"


def locked_error(exc: LockedOut) -> HTTPException:
    """429 with the wait in the reason and in Retry-After (seconds)."""
    return HTTPException(429, str(exc), headers={"Retry-After": exc.retry_after})


def authenticate(request: Request, store: Store, username: str, password: str) -> User:
    """The user whose name and password these are.

    Raises HTTPException 429 (with Retry-After) while the name or the client address is
    locked out, even for the right password, and 401 `WRONG` for a wrong name or password
    (or 429 when that failure was the last one allowed). An unknown name costs the same
    argon2 verification as a known one.
    """
    guard: LoginGuard = request.app.state.login_guard
    address = client_address(request)
    try:
        name = normalize_username(username)
    except InvalidUsernameError:
        name = (username or "").strip()[:64]
        user = None
    else:
        user = store.get_user(name)
    try:
        guard.check(name, address)
    except LockedOut as exc:
        raise locked_error(exc) from None
    if verify_password(user.password_hash if user else None, password) and user is not None:
        guard.succeeded(name)
        return user
    try:
        guard.failed(name, address)
    except LockedOut as exc:
        raise locked_error(exc) from None
    raise HTTPException(401, WRONG)
