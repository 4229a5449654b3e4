"""Service stations (维修站) as the API's pages and actions need them (issue 11)."""

from __future__ import annotations

from typing import Any

from formdesk.model.claims import Station
from formdesk.model.errors import NotFoundError
from formdesk.store import Store
from formdesk.templates.schema import Template
from formdesk.templates.station_fields import OtherStationValue, OwnStation, station_fields
from formdesk.templates.values.normalize import fold

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
    if not station:
        return station
    found = find_station(store, station)
    if found is None:
        raise Refused(f"没有维修站 {station}")
    return found.code


def find_station(store: Store, code: str) -> Station | None:
    """The stored station with code `code` as a person types it: exactly, else compared
    after NFKC, without spaces and casefolded (``hn01``, ``ＨＮ０１`` and `` HN01`` are
    HN01; `fold`); None when there is none."""
    exact = store.get_station(code)
    if exact is not None or not code.strip():
        return exact
    want = fold(code)
    return next((s for s in store.list_stations() if fold(s.code) == want), None)


def stations_to_choose(store: Store, who: Viewer) -> list[Station]:
    """The stations a page offers `who` to pick from (code and name, as stored): none for
    a station user (it acts for its own only), every stored one for the others."""
    if who.role == "station":
        return []
    return store.list_stations()


def require_station(store: Store, code: str) -> Station:
    """The station with code `code` (as typed: `find_station`); NotFoundError (404) ``没有代码为 HN09 的维修站
    (导入索赔单或添加该站用户时登记)`` when none is registered."""
    station = find_station(store, code)
    if station is None:
        raise NotFoundError(f"没有代码为 {code} 的维修站(导入索赔单或添加该站用户时登记)")
    return station


def station_code(store: Store, code_or_name: str) -> str:
    """The code of the station named by its code or its full name (维修站名称), as a
    clerk may type either; `code_or_name` itself when neither matches."""
    found = find_station(store, code_or_name)
    if found is not None:
        return found.code
    want = fold(code_or_name)
    return next((s.code for s in store.list_stations() if fold(s.name) == want), code_or_name)


def own_station(store: Store, who: Viewer) -> Station | None:
    """A station user's own station (code and name as stored; its code as the name when
    it is not stored); None for the other roles."""
    if who.role != "station" or not who.station:
        return None
    return store.get_station(who.station) or Station(code=who.station, name=who.station)


def own_station_scope(store: Store, who: Viewer) -> OwnStation | None:
    """What a station user may print (`templates.station_fields.OwnStation`: its own
    station, the others' codes and names); None for the other roles."""
    mine = own_station(store, who)
    if mine is None:
        return None
    others: dict[str, str] = {}
    for s in store.list_stations():
        if s.code != mine.code:
            others.setdefault(fold(s.code), f"{s.code} {s.name}")
            others.setdefault(fold(s.name), f"{s.code} {s.name}")
    return OwnStation(mine.code, mine.name, tuple(others.items()))


def check_own_station_values(
    store: Store, who: Viewer, template: Template, records: list[dict[str, Any] | None]
) -> None:
    """A station user's records (field key -> value) checked by `OwnStation.check`:
    OtherStationValue (403) naming the field, ``第n条记录`` first when there are several
    records; nothing for the other roles or a form without a station field."""
    scope = own_station_scope(store, who) if station_fields(template) else None
    if scope is None:
        return
    for n, values in enumerate(records, start=1):
        try:
            scope.check(template, values)
        except OtherStationValue as exc:
            if len(records) > 1:
                exc.args = (f"第{n}条记录 {exc}",)
                exc.record = n
            raise
