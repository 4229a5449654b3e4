"""Which fields of a form hold the station it is for (维修站, 来件单位, 单位名称, 站号).

The 打印 page prefills them with a station user's own station, and printing refuses a
station user's form that names another station (`OwnStation.check`: services/stations.py
for forms sent as values, render/record_sources.py for the rows of a print-data file).  The same
keys serve the same purpose on every form that has them (templates/forms/*.yaml): the
station's full name (as stored, e.g. 长沙顺达汽车维修站) or its code (HN01).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from .schema import FieldType, Template
from .values.normalize import FieldValueError, fold

StationPart = Literal["name", "code"]

# field key -> what of the station it holds
STATION_FIELDS: dict[str, StationPart] = {
    "station_name": "name",  # 维修站 / 维修站名称 (表格08–11, SH-ZH/BD-20, 21, 24, 25)
    "service_station": "name",  # 维修站 (表格01, 02, 05, SH-ZH/BD-30)
    "sender_unit": "name",  # 来件单位 (SH-ZH/BD-27)
    "unit_name": "name",  # 单位名称 (SH-ZH/BD-31)
    "station_code": "code",  # 站号 (SH-ZH/BD-24)
}


def station_fields(template: Template) -> dict[str, StationPart]:
    """The fields of `template` (outside its tables) that hold its station: key ->
    "name" or "code", in template order; {} for a form with none."""
    return {
        f.key: STATION_FIELDS[f.key]
        for f in template.fields
        if f.key in STATION_FIELDS and f.type != FieldType.table
    }


class OtherStationValue(FieldValueError):
    """A station user's form whose station field (来件单位, 维修站, 站号 …) names another
    station (HTTP 403; `details()` names the field like any refused value)."""

    status = 403


@dataclass(frozen=True)
class OwnStation:
    """A station user's station (`code`, `name` as stored) and every other stored
    station, as (folded code or name, ``HN02 衡阳广汇汽车维修站``) pairs: plain data, so it
    crosses to the process that parses a print-data file."""

    code: str
    name: str
    others: tuple[tuple[str, str], ...] = ()

    def check(self, template: Template, values: dict[str, Any] | None) -> None:
        """A station user prints only its own station's forms: a station field holding a
        code (站号) must be the user's own code; one holding a name must not name another
        stored station (its code or name, compared after `fold`); a name the installation
        does not know (a short form of the user's own name, a department) is left as
        written.  OtherStationValue (403) naming the field."""
        own = {fold(self.code), fold(self.name)}
        others = dict(self.others)
        for key, part in station_fields(template).items():
            raw = (values or {}).get(key)
            if raw is None or not str(raw).strip() or fold(str(raw)) in own:
                continue
            other = others.get(fold(str(raw)))
            if part == "name" and other is None:
                continue
            raise OtherStationValue(
                key,
                f"维修站用户只能为本站({self.code} {self.name})打印,"
                f"这里填的是其他维修站({other or raw})",
                label=template.field(key).label,
            )
