"""Which fields of a form hold the station it is for (维修站, 来件单位, 单位名称, 站号).

The 打印 page prefills them with a station user's own station, and printing refuses a
station user's form that names another station (services/print_requests.py).  The same
keys serve the same purpose on every form that has them (templates/forms/*.yaml): the
station's full name (as stored, e.g. 长沙顺达汽车维修站) or its code (HN01).
"""

from __future__ import annotations

from typing import Literal

from .schema import FieldType, Template

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
