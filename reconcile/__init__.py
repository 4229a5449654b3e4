"""Reconciliation of returned warranty parts against claims, and the monthly summary.

Data flows in from the store (claims imported from the warranty system or read from
SH-ZH/BD-25, and the records read from manifests SH-ZH/BD-31 and tags SH-ZH/BD-27/-30);
what comes out is plain models that `render/`, the CLI and the API present.
"""
