"""The template catalog: every form of the network, defined once for printing and reading."""

from .catalog import CatalogError, UnknownTemplateError, get_template, load_catalog
from .schema import Column, FieldType, FormField, Template

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
