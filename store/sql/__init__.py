"""The PostgreSQL store (issue 11, point 2): the Store's roles implemented on SQLAlchemy 2
Core and psycopg 3, the schema managed by Alembic migrations (`formdesk db upgrade`).

Built role by role; implemented so far: stations (`StationStore`) and warranty claims
(`ClaimStore`) in `claims.SqlClaimStore`.  The TinyDB store stays the embedded default.
Also accounts (`accounts.SqlAccountStore`) and documents (`documents.SqlDocumentStore`).
"""

from __future__ import annotations

from .engine import connect, upgrade

__all__ = ["connect", "upgrade"]
