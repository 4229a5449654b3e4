"""The one error the ingest stage raises, so callers catch a single type (defined in
`model.errors`, so the layers above catch it without importing a stage)."""

from __future__ import annotations

from formdesk.model.errors import IngestError

__all__ = ["IngestError"]
