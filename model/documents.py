"""A printed document: what `render` drew and the store registers, so a scan of it can be
checked against it (its QR carries the document id and a signature)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from .time import Timestamp, utcnow


class IssuedDocument(BaseModel):
    """One printed document (all its pages and copies).

    `values` are the prefilled values as printed (dates, Decimals; JSON-friendly once
    dumped with mode="json"); `station` and `issued_by` are set when it is registered
    (`registered`); `pages` counts the pages of one copy."""

    document_id: str
    template: str  # template code, e.g. "SH-ZH/BD-30"
    template_version: int
    pages: int = 1
    copies: int = 1
    values: dict[str, Any] = Field(default_factory=dict)
    station: str | None = None
    issued_by: str | None = None
    issued_at: Timestamp = Field(default_factory=utcnow)

    def registered(self, *, station: str | None, issued_by: str | None = None) -> IssuedDocument:
        """This document as registered for `station` (None: the back office) by a user."""
        return self.model_copy(update={"station": station, "issued_by": issued_by})
