"""Random secrets handed out once: API tokens, browser session ids (only their sha256 is
stored) and CSRF tokens."""

from __future__ import annotations

import hashlib
import secrets


def token_hash(token: str) -> str:
    """sha256 hex (64 characters) of a token or session id: what the store keeps."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> tuple[str, str]:
    """(the API token, ``fd_`` and 256 random bits, shown once; its `token_hash`, the only
    thing stored)."""
    token = "fd_" + secrets.token_urlsafe(32)
    return token, token_hash(token)


def new_session_id() -> tuple[str, str]:
    """(the session id for the cookie, 256 random bits; its `token_hash`, the only thing
    stored)."""
    sid = secrets.token_urlsafe(32)
    return sid, token_hash(sid)


def new_csrf_token() -> str:
    """A session's CSRF token (192 random bits), sent back in X-CSRF-Token or a form."""
    return secrets.token_urlsafe(24)
