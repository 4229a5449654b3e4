"""三包期 rules: how long, in months and kilometres, a model's parts are under warranty."""

from __future__ import annotations

import calendar
from datetime import date
from fnmatch import fnmatchcase
from importlib import resources
from pathlib import Path

import yaml
from pydantic import BaseModel, Field, ValidationError

from formdesk.model.errors import FormdeskError

RULES_FILE = "warranty_rules.yaml"


class WarrantyTerm(BaseModel):
    months: int = Field(ge=1, le=240)
    km: int = Field(ge=1)
    note: str = ""


class ModelTerm(WarrantyTerm):
    match: str  # a vehicle model, * and ? as wildcards


class WarrantyRules(BaseModel):
    default: WarrantyTerm
    models: list[ModelTerm] = Field(default_factory=list)

    def term_for(self, vehicle_model: str) -> WarrantyTerm:
        name = vehicle_model.strip().upper()
        for rule in self.models:
            if fnmatchcase(name, rule.match.upper()):
                return rule
        return self.default

    def breach(
        self, vehicle_model: str, purchase: date, repair: date, mileage_km: int
    ) -> str | None:
        """Why a repair is outside the warranty period (Chinese), or None."""
        term = self.term_for(vehicle_model)
        reasons = []
        until = add_months(purchase, term.months)
        if repair > until:
            reasons.append(f"维修日期 {repair} 晚于三包截止 {until}(购买后 {term.months} 个月)")
        if mileage_km > term.km:
            reasons.append(f"行驶里程 {mileage_km} km 超过 {term.km} km")
        return ";".join(reasons) or None


def add_months(day: date, months: int) -> date:
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


class RulesError(FormdeskError, ValueError):
    """The rules file is not valid; the message names the file and the problem (the
    installation's trouble: HTTP 500)."""

    status = 500


def load_rules(data_dir: Path | None = None) -> WarrantyRules:
    """The data folder's warranty_rules.yaml if there is one, else the packaged defaults."""
    own = Path(data_dir) / RULES_FILE if data_dir is not None else None
    if own is not None and own.exists():
        return parse_rules(own.read_text(encoding="utf-8"), str(own))
    text = resources.files(__package__).joinpath(RULES_FILE).read_text(encoding="utf-8")
    return parse_rules(text, RULES_FILE)


def parse_rules(text: str, name: str) -> WarrantyRules:
    try:
        return WarrantyRules.model_validate(yaml.safe_load(text))
    except (yaml.YAMLError, ValidationError) as exc:
        first = str(exc).splitlines()[0]
        raise RulesError(f"三包期规则文件 {name} 有误:{first}") from None
