"""Service stations (维修站) as the API's pages and actions need them (issue 11)."""

from __future__ import annotations

from typing import Any

from formdesk.model.claims import Station
from formdesk.model.errors import NotFoundError
from formdesk.store import Store
from formdesk.templates.schema import Template
from formdesk.templates.station_fields import station_fields
from formdesk.templates.values.normalize import FieldValueError, fold

from .refusals import NotYourStation, Refused
from .viewers import Viewer


def acting_station(store: Store, who: Viewer, station: str | None) -> str | None:
    """The station an upload or a print is done for: a station user's own (`station`
    empty or their own code, else NotYourStation, 403 ``维修站用户只能为本站(HN01)办理,
    不能为 HN02``); for the back office `station` (a code, or None: the back office
    itself) once it is found stored.  Refused (422, ``没有维修站 HN99``) for a code not
    stored; the store's errors propagate."""
    if who.role == "station":
        if station and fold(station) != fold(who.station or ""):
            raise NotYourStation(f"维修站用户只能为本站({who.station})办理,不能为 {station}")
        return who.station
    if station and store.get_station(station) is None:
        raise Refused(f"没有维修站 {station}")
    return station


def stations_to_choose(store: Store, who: Viewer) -> list[Station]:
    """The stations a page offers `who` to pick from (code and name, as stored): none for
    a station user (it acts for its own only), every stored one for the others."""
    if who.role == "station":
        return []
    return store.list_stations()


def require_station(store: Store, code: str) -> Station:
    """The station with code `code`; NotFoundError (404) ``没有代码为 HN09 的维修站
    (导入索赔单或添加该站用户时登记)`` when none is registered."""
    station = store.get_station(code)
    if station is None:
        raise NotFoundError(f"没有代码为 {code} 的维修站(导入索赔单或添加该站用户时登记)")
    return station


def station_code(store: Store, code_or_name: str) -> str:
    """The code of the station named by its code or its full name (维修站名称), as a
    clerk may type either; `code_or_name` itself when neither matches."""
    if store.get_station(code_or_name) is not None:
        return code_or_name
    return next((s.code for s in store.list_stations() if s.name == code_or_name), code_or_name)


def own_station(store: Store, who: Viewer) -> Station | None:
    """A station user's own station (code and name as stored; its code as the name when
    it is not stored); None for the other roles."""
    if who.role != "station" or not who.station:
        return None
    return store.get_station(who.station) or Station(code=who.station, name=who.station)


class OtherStationValue(FieldValueError):
    """A station user's form whose station field (来件单位, 维修站, 站号 …) names another
    station (HTTP 403; `details()` names the field like any refused value)."""

    status = 403


def check_own_station_values(
    store: Store, who: Viewer, template: Template, records: list[dict[str, Any] | None]
) -> None:
    """A station user prints only its own station's forms: in every record, a station
    field (`templates.station_fields`) holding a code (站号) must be the user's own code,
    one holding a name must not name another stored station (its code or name, compared
    after `fold`); a name the installation does not know (a short form of the user's own
    name, a department) is left as written.  OtherStationValue (403) naming the field,
    ``第n条记录`` first when there are several records; nothing for the other roles."""
    held = station_fields(template)
    if who.role != "station" or not held:
        return
    mine = own_station(store, who)
    assert mine is not None
    own = {fold(mine.code), fold(mine.name)}
    others: dict[str, Station] = {}
    for s in store.list_stations():
        if s.code != mine.code:
            others.setdefault(fold(s.code), s)
            others.setdefault(fold(s.name), s)
    labels = {f.key: f.label for f in template.fields}
    for n, values in enumerate(records, start=1):
        for key, part in held.items():
            raw = (values or {}).get(key)
            if raw is None or not str(raw).strip() or fold(str(raw)) in own:
                continue
            other = others.get(fold(str(raw)))
            if part == "name" and other is None:
                continue
            named = f"其他维修站({other.code} {other.name})" if other else f"其他维修站({raw})"
            exc = OtherStationValue(
                key,
                f"维修站用户只能为本站({mine.code} {mine.name})打印,这里填的是{named}",
                label=labels[key],
            )
            if len(records) > 1:
                exc.args = (f"第{n}条记录 {exc}",)
                exc.record = n
            raise exc
