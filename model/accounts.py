"""Who may use formdesk: users, their API tokens and browser sessions."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from .time import Timestamp, utcnow

Role = Literal["back_office", "station", "auditor"]


class User(BaseModel):
    username: str
    password_hash: str
    role: Role
    station: str | None = None  # the station a station user belongs to
    created_at: Timestamp = Field(default_factory=utcnow)
    disabled: bool = False  # 停用: cannot sign in; sessions and API tokens refused


TokenScope = Literal["read", "write"]


class ApiToken(BaseModel):
    """A script's key: only its sha256 is stored, never the token itself.

    `token_id` names it for listing and revoking (rows from before ids get the first ten
    hex digits of their hash); `scope` None marks a row from before scopes: it may write
    if its user may (see `effective_scope`).
    """

    token_hash: str
    username: str
    created_at: Timestamp = Field(default_factory=utcnow)
    label: str = ""
    token_id: str | None = None
    scope: TokenScope | None = None

    def effective_scope(self, role: Role) -> TokenScope:
        """What the token may do for a user of `role`: an auditor's token only reads."""
        if role == "auditor":
            return "read"
        return self.scope or "write"


class UserSession(BaseModel):
    """A browser sign-in. The cookie carries a random id; only its sha256 is stored here,
    with the CSRF token of the session and when it ends (absolute, not sliding)."""

    session_hash: str
    username: str
    csrf: str
    created_at: Timestamp = Field(default_factory=utcnow)
    expires_at: Timestamp
