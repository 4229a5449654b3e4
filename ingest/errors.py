"""The one error the ingest stage raises, so callers catch a single type."""

from __future__ import annotations

from formdesk.model.errors import FormdeskError


class IngestError(FormdeskError, ValueError):
    """One clear Chinese reason why a file was refused (HTTP 422).

    The message is meant for the person who uploaded the file: it names what is wrong
    (empty, encrypted, too large, not a supported type ...), never a library's traceback.
    """

    status = 422
