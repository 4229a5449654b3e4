"""Typed field values: parsing, normalising and checking what a field may hold."""
