"""The browser session's cookie and the request's session (the sessions themselves live in
the store: services.sessions; only the sha256 of the random id is kept there).

The cookie `formdesk_session` is HttpOnly, SameSite=Strict, Path=/, and Secure when
Settings.secure_cookies (behind HTTPS); it lasts Settings.session_hours.
"""

from __future__ import annotations

from fastapi import Request, Response

from formdesk.model.accounts import User, UserSession
from formdesk.services import sessions
from formdesk.services.stores import Store
from formdesk.settings import Settings

COOKIE = "formdesk_session"
_STATE = "fd_session"  # the request's session, once looked up


def current_session(request: Request, store: Store) -> UserSession | None:
    """The live session named by the request's cookie (looked up once per request), or
    None: no cookie, or one that was logged out, replaced or has expired."""
    cached = request.scope.setdefault("state", {})
    if _STATE not in cached:
        cached[_STATE] = sessions.find_session(store, request.cookies.get(COOKIE, ""))
    return cached[_STATE]


def use_session(request: Request, session: UserSession | None) -> None:
    """What `current_session` answers for the rest of this request (after a sign-in)."""
    request.scope.setdefault("state", {})[_STATE] = session


def start_session(request: Request, response: Response, store: Store, user: User) -> UserSession:
    """Signs `user` in on this browser (after the password was checked): the session it
    had ends, a new one (Settings.session_hours) is stored and its cookie set on
    `response`; the new session's row (with its CSRF token).  Blocking: call it in the
    request thread pool from an async route."""
    settings: Settings = request.app.state.settings
    sid, session = sessions.start_session(
        store, user, settings.session_hours, replacing=current_session(request, store)
    )
    set_cookie(response, sid, settings)
    use_session(request, session)
    return session


def end_session(request: Request, store: Store) -> None:
    """Deletes the request's session, if any (logout)."""
    session = current_session(request, store)
    if session is not None:
        sessions.end_session(store, session)
    use_session(request, None)


def set_cookie(response: Response, sid: str, settings: Settings) -> None:
    """Sets the session cookie (lifetime Settings.session_hours; Secure if secure_cookies)."""
    response.set_cookie(
        COOKIE,
        sid,
        max_age=settings.session_hours * 3600,
        path="/",
        secure=settings.secure_cookies,
        httponly=True,
        samesite="strict",
    )


def clear_cookie(response: Response, settings: Settings) -> None:
    """Tells the browser to forget the session cookie (after logout)."""
    response.delete_cookie(
        COOKIE, path="/", secure=settings.secure_cookies, httponly=True, samesite="strict"
    )
