"""Browser sessions kept in the store (OWASP ASVS 4.0 V3; OWASP Session Management Cheat
Sheet): the cookie carries only a random id (256 bits); the store keeps its sha256 with
the user, the CSRF token and when the session ends (a number of hours after signing in,
absolute, not sliding).  Logging out or changing the password deletes the row, so a
copied cookie stops working.  The cookie itself is the API's business (api.sessions).
"""

from __future__ import annotations

from datetime import timedelta

from formdesk.model.accounts import User, UserSession
from formdesk.model.time import utcnow

from .stores import Store
from .tokens import new_csrf_token, new_session_id, token_hash

SESSION_ID_MAX = 128  # a longer cookie value is not one of ours


def find_session(store: Store, sid: str) -> UserSession | None:
    """The live session whose id (the cookie's value) is `sid`, or None: empty, longer
    than SESSION_ID_MAX characters, unknown, logged out, replaced or expired."""
    if not sid or len(sid) > SESSION_ID_MAX:
        return None
    return store.get_session(token_hash(sid))


def session_user(store: Store, session: UserSession) -> User | None:
    """The user `session` belongs to (as stored now), or None if they are gone or
    disabled (停用: their sessions are refused even if one was left)."""
    user = store.get_user(session.username)
    return None if user is None or user.disabled else user


def start_session(
    store: Store, user: User, hours: int, *, replacing: UserSession | None = None
) -> tuple[str, UserSession]:
    """Signs `user` in for `hours` hours: ends `replacing` (the session the browser had,
    if any) and stores a new one with a fresh CSRF token.  Returns (the session id for
    the cookie, shown only to this browser; the stored row).  The store drops expired
    sessions in the same write."""
    if replacing is not None:
        store.delete_session(replacing.session_hash)
    sid, digest = new_session_id()
    now = utcnow()
    row = UserSession(
        session_hash=digest,
        username=user.username,
        csrf=new_csrf_token(),
        created_at=now,
        expires_at=now + timedelta(hours=hours),
    )
    return sid, store.add_session(row)


def end_session(store: Store, session: UserSession) -> bool:
    """Logs `session` out: its row is deleted, the cookie stops working at once.  False
    if it was gone already."""
    return store.delete_session(session.session_hash)
