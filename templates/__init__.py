"""The template catalog: every form of the network, defined once for printing and reading.

The names below load on first use (PEP 562), so importing a light module of this package
(`templates.errors`, the error base every layer derives from) does not load the catalog,
pydantic models and all: a spreadsheet-parsing child process stays small."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .catalog import CatalogError, UnknownTemplateError, get_template, load_catalog
    from .schema import Column, FieldType, FormField, Template

_WHERE = {
    "CatalogError": ".catalog",
    "UnknownTemplateError": ".catalog",
    "get_template": ".catalog",
    "load_catalog": ".catalog",
    "Column": ".schema",
    "FieldType": ".schema",
    "FormField": ".schema",
    "Template": ".schema",
}


def __getattr__(name: str) -> Any:
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(where, __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "CatalogError",
    "Column",
    "FieldType",
    "FormField",
    "Template",
    "UnknownTemplateError",
    "get_template",
    "load_catalog",
]
