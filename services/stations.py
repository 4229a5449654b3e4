"""Service stations (维修站) as the API's pages and actions need them (issue 11)."""

from __future__ import annotations

from formdesk.model.claims import Station
from formdesk.model.errors import NotFoundError
from formdesk.store import Store

from .refusals import Refused
from .viewers import Viewer


def acting_station(store: Store, who: Viewer, station: str | None) -> str | None:
    """The station an upload or a print is done for: a station user's own (whatever
    `station` says); for the back office `station` (a code, or None: the back office
    itself) once it is found stored.  Refused (422, ``没有维修站 HN99``) for a code not
    stored; the store's errors propagate."""
    if who.role == "station":
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
