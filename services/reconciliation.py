"""Reconciling a station's month and building the monthly summary, with the
installation's own rules: the 三包期 rules file and the fault keywords in its data folder
(`reconcile.rules.RULES_FILE`, `reconcile.faults.KEYWORDS_FILE`), else the shipped ones.
The data folder is passed explicitly (the settings' `data_dir`), never taken from a store."""

from __future__ import annotations

from pathlib import Path

from formdesk.model.reconciliation import Reconciliation
from formdesk.reconcile import engine, monthly
from formdesk.reconcile.faults import load_fault_keywords
from formdesk.reconcile.rules import WarrantyRules, load_rules
from formdesk.store import Store


def warranty_rules(data_dir: Path | None) -> WarrantyRules:
    """The installation's 三包期 rules; RulesError (500) names a broken rules file."""
    return load_rules(data_dir)


def reconcile_station(
    store: Store, data_dir: Path | None, station: str, month: str
) -> Reconciliation:
    """One station's month (YYYY-MM, Beijing time) reconciled under the installation's
    rules; LookupError names an unknown station, ValueError a bad month."""
    return engine.reconcile_station(store, station, month, warranty_rules(data_dir))


def monthly_summary(
    store: Store, data_dir: Path | None, month: str, station: str | None = None
) -> monthly.MonthlySummary:
    """The month's summary (every station, or one) with the installation's fault
    keywords; ValueError for a bad month, LookupError for an unknown station."""
    faults = load_fault_keywords(data_dir)
    return monthly.monthly_summary(store, month, station, faults=faults)
