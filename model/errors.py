"""The error base every layer's refusals derive from (`FormdeskError`: a Chinese message
and an HTTP status); defined in `templates.errors`, the bottom layer, so the catalog's own
errors can derive from it too."""

from __future__ import annotations

from formdesk.templates.errors import FormdeskError

__all__ = ["FormdeskError"]
