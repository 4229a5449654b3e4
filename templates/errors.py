"""The one error base of formdesk (issue 11): every refusal a person should read carries
its HTTP status and a Chinese message, so the API answers it with one handler
(api/errors.py) and the command line with one line and exit code 1 (api/cli.py).

It lives at the bottom of the layers (templates), so that every stage's errors — the
catalog's and the values' here, ingest's, the store's, reconciliation's — derive from it;
`formdesk.model.errors` is where the other layers import it from.
"""

from __future__ import annotations

from typing import Any, ClassVar


class FormdeskError(Exception):
    """A refusal with a reason for the user: str() is the Chinese message, `status` the
    HTTP status it is answered with (set by each subclass), `details()` any
    more that the answer carries (row problems, field names)."""

    status: ClassVar[int] = 400

    def details(self) -> dict[str, Any]:
        """What the JSON answer carries besides {"reason", "status"} (none by default)."""
        return {}
