"""The typed records every stage shares, at the bottom of the layers (it depends on
`templates/` only): what reading produces (`record`), what the store keeps (`stored`,
`scans`, `accounts`, `documents`, `claims`), what a reconciliation finds
(`reconciliation`), and times as stored (`time`).

Layers (tests/test_layers.py keeps them): api → services → {reports, reconcile, store,
extract, render, ingest} → model → templates.
"""
