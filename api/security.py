"""Passwords (argon2id), API tokens and session ids (only their sha256 is stored), CSRF
tokens."""

from __future__ import annotations

import hashlib
import secrets
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from .password_policy import generate_password

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    """The argon2id hash (argon2-cffi's default parameters, RFC 9106) of `password`."""
    return _hasher.hash(password)


@cache
def _dummy_hash() -> str:
    """A hash of a random password with the same parameters as real ones, made once."""
    return _hasher.hash(secrets.token_urlsafe(16))


def verify_password(password_hash: str | None, password: str) -> bool:
    """True if `password` matches `password_hash`. With no hash (an unknown user) a dummy
    hash is verified instead, so a known and an unknown user name cost the same work and
    answer in the same time (OWASP Authentication Cheat Sheet, "authentication responses");
    the answer is then always False."""
    try:
        if password_hash is None:
            _hasher.verify(_dummy_hash(), password)
            return False
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def new_password(username: str = "admin") -> str:
    """A generated password for `username` that passes the password policy."""
    return generate_password(username)


def token_hash(token: str) -> str:
    """sha256 hex of a token or session id: what the store keeps."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> tuple[str, str]:
    """(the token, shown once; its hash, the only thing stored)."""
    token = "fd_" + secrets.token_urlsafe(32)
    return token, token_hash(token)


def new_session_id() -> tuple[str, str]:
    """(the session id for the cookie, 256 random bits; its hash, the only thing stored)."""
    sid = secrets.token_urlsafe(32)
    return sid, token_hash(sid)


def new_csrf_token() -> str:
    """A session's CSRF token (192 random bits), sent back in X-CSRF-Token or a form."""
    return secrets.token_urlsafe(24)
