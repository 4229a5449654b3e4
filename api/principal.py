"""Who is asking, and what their role (and, for an API token, its scope) lets them see
and change."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Role = Literal["back_office", "station", "auditor"]
Scope = Literal["read", "write"]
ROLE_LABELS = {"back_office": "售后服务部(后台)", "station": "维修站", "auditor": "审计员"}
SCOPE_LABELS = {"read": "只读", "write": "读写"}


@dataclass(frozen=True)
class Principal:
    """The signed-in user of a request, by browser session or API token."""

    username: str
    role: Role
    station: str | None
    via_token: bool = False  # API token (no CSRF check) or browser session
    scope: Scope = "write"  # a token's scope; a read token may not use POST/PATCH/PUT/DELETE

    @property
    def can_write(self) -> bool:
        """True unless an auditor (auditors only look; their changes are refused, 403)."""
        return self.role != "auditor"

    def sees(self, station: str | None) -> bool:
        """A station user sees only its own station's records, documents and scans."""
        return self.role != "station" or (station is not None and station == self.station)

    @property
    def station_filter(self) -> str | None:
        """The station code a listing is limited to: a station user's own; None (all)
        for everyone else."""
        return self.station if self.role == "station" else None
