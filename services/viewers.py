"""Who asks a service for something: the signed-in user of a request, as far as the
services need to know (issue 11).  `api.principal.Principal` is one; the services take
any object of this shape, so they import nothing from the API."""

from __future__ import annotations

from typing import Protocol


class Viewer(Protocol):
    """The user a service answers: `username` (recorded as who did a change), `role`
    ("back_office", "station" or "auditor"), `station` (a station user's own code, else
    None); `station_filter` is the station whose things alone the user sees (None: all),
    and `sees(code)` whether a thing of station `code` (None: the back office's) is
    visible to them.  A thing the viewer does not see does not exist for them: services
    answer it with NotFoundError (404), never 403."""

    @property
    def username(self) -> str: ...

    @property
    def role(self) -> str: ...

    @property
    def station(self) -> str | None: ...

    @property
    def station_filter(self) -> str | None: ...

    def sees(self, station: str | None) -> bool: ...
