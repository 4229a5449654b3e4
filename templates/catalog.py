"""Loads the template catalog (one YAML file per form) shipped as package data."""

from __future__ import annotations

from functools import cache
from importlib import resources

import yaml
from pydantic import ValidationError
from rapidfuzz import process

from .errors import FormdeskError
from .schema import Template


class UnknownTemplateError(FormdeskError, LookupError):
    """A template code that is not in the catalog; the message suggests the closest ones
    (HTTP 404)."""

    status = 404


class CatalogError(FormdeskError, ValueError):
    """A template file in the catalog is malformed (the installation's fault: HTTP 500)."""

    status = 500


def _forms_dir():
    return resources.files(__package__).joinpath("forms")


@cache
def load_catalog() -> dict[str, Template]:
    """All templates by code, parsed and validated once per process."""
    out: dict[str, Template] = {}
    # SH-ZH/BD reports first, then the workshop 表格, each in number order
    for entry in sorted(_forms_dir().iterdir(), key=lambda e: (e.name.startswith("form-"), e.name)):
        if not entry.name.endswith(".yaml"):
            continue
        try:
            tpl = Template.model_validate(yaml.safe_load(entry.read_text(encoding="utf-8")))
        except (ValidationError, yaml.YAMLError) as exc:
            raise CatalogError(f"{entry.name}: {exc}") from exc
        if tpl.code in out:
            raise CatalogError(f"{entry.name}: template code {tpl.code} defined twice")
        out[tpl.code] = tpl
    return out


def _aliases(tpl: Template) -> set[str]:
    code = tpl.code.lower()
    return {code, tpl.name, tpl.slug, code.replace(" ", ""), code.removeprefix("sh-zh/")}


def get_template(code: str) -> Template:
    """Finds a template by code (SH-ZH/BD-27, BD-27, 表格04), slug (form-04) or name."""
    wanted = code.strip().lower()
    catalog = load_catalog()
    for tpl in catalog.values():
        if wanted in _aliases(tpl):
            return tpl
    close = process.extract(code, list(catalog), limit=3, score_cutoff=50)
    hint = ";相近的有:" + "、".join(c for c, *_ in close) if close else ""
    raise UnknownTemplateError(f"没有模板 {code!r}(用 formdesk templates 查看全部){hint}")
