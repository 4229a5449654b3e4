"""Signing in over HTTP: the password check of services.signin with this request's client
address and the service's login guard and argon2 pool, its refusals as HTTP errors (with
Retry-After where there is a wait)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from fastapi import HTTPException, Request

from formdesk.model.accounts import User
from formdesk.services import signin
from formdesk.services.login_guard import LockedOut
from formdesk.services.password_work import Busy
from formdesk.services.stores import Store

WRONG = signin.WRONG


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


@contextmanager
def waits_as_http() -> Iterator[None]:
    """Turns LockedOut into HTTPException 429 and Busy into 503, each with Retry-After."""
    try:
        yield
    except LockedOut as exc:
        raise locked_error(exc) from None
    except Busy as exc:
        raise busy_error(exc) from None


async def authenticate(request: Request, store: Store, username: str, password: str) -> User:
    """The user whose name and password these are (services.signin.authenticate, from
    this request's client address).

    Raises HTTPException 429 (with Retry-After) while the name or the client address is
    locked out, even for the right password, and for a wrong password that used up the
    last allowed attempt; 503 (with Retry-After) when the argon2 pool is full, the attempt
    not counted; 401 `WRONG` (``用户名或密码不对``) for a wrong name or password.
    """
    with waits_as_http():
        try:
            return await signin.authenticate(
                store,
                request.app.state.login_guard,
                request.app.state.password_work,
                username,
                password,
                client_address(request),
            )
        except (signin.WrongPasswordError, signin.DisabledUserError) as exc:
            raise HTTPException(exc.status, str(exc)) from None
