"""Browser sessions kept on the server (OWASP ASVS 4.0 V3; OWASP Session Management Cheat
Sheet): the cookie carries only a random id (256 bits); the store keeps its sha256 with the
user, the CSRF token and when the session ends (Settings.session_hours after signing in).
Logging out or changing the password deletes the row, so a copied cookie stops working.

The cookie `formdesk_session` is HttpOnly, SameSite=Strict, Path=/, and Secure when
Settings.secure_cookies (behind HTTPS).
"""

from __future__ import annotations

from datetime import timedelta

from fastapi import Request, Response

from formdesk.model.accounts import User, UserSession
from formdesk.model.time import utcnow
from formdesk.settings import Settings
from formdesk.store import Store

from .security import new_csrf_token, new_session_id, token_hash

COOKIE = "formdesk_session"
_MAX_ID = 128  # a longer cookie value is not one of ours
_STATE = "fd_session"  # the request's session, once looked up


def open_session(store: Store, settings: Settings, user: User) -> tuple[str, UserSession]:
    """A new session of `user`: (the id for the cookie, the stored row)."""
    sid, digest = new_session_id()
    now = utcnow()
    row = UserSession(
        session_hash=digest,
        username=user.username,
        csrf=new_csrf_token(),
        created_at=now,
        expires_at=now + timedelta(hours=settings.session_hours),
    )
    return sid, store.add_session(row)


def current_session(request: Request, store: Store) -> UserSession | None:
    """The live session named by the request's cookie (looked up once per request), or
    None: no cookie, or one that was logged out, replaced or has expired."""
    cached = request.scope.setdefault("state", {})
    if _STATE not in cached:
        sid = request.cookies.get(COOKIE, "")
        ok = sid and len(sid) <= _MAX_ID
        cached[_STATE] = store.get_session(token_hash(sid)) if ok else None
    return cached[_STATE]


def use_session(request: Request, session: UserSession | None) -> None:
    """What `current_session` answers for the rest of this request (after a sign-in)."""
    request.scope.setdefault("state", {})[_STATE] = session


def end_session(request: Request, store: Store) -> None:
    """Deletes the request's session, if any (logout)."""
    session = current_session(request, store)
    if session is not None:
        store.delete_session(session.session_hash)
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
