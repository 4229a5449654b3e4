"""Passwords (argon2), API tokens (only their hash is stored) and CSRF tokens."""

from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def new_password() -> str:
    return secrets.token_urlsafe(12)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> tuple[str, str]:
    """(the token, shown once; its hash, the only thing stored)."""
    token = "fd_" + secrets.token_urlsafe(32)
    return token, token_hash(token)


def new_csrf_token() -> str:
    return secrets.token_urlsafe(24)
