"""The warranty claims an installation holds when the forms of a bench set come in.

`read_bench.py --hands … --claims` files every record as the service does
(store.corroborate: the claim of the same vehicle, the station list) before scoring it.
The claims are those of the vehicles on the set's warranty paperwork — the part tags
(SH-ZH/BD-27, 保修零部件鉴别标签; SH-ZH/BD-30, 三包换件故障标签), the returned-part
manifests' rows (SH-ZH/BD-31) and the monthly repair reports' rows (SH-ZH/BD-25) — as the
warranty system would have them, with the mess of a real network: `MISSING` of the
vehicles have no claim (a part sent back before its claim, or without one) and
`DIFFERING` have a claim that says one thing otherwise than the form (another part, an
engine number or mileage typed wrong into the claim).  Seeded: the same set and seed give
the same claims.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np

from formdesk.model.claims import Claim, Station

CLAIMED = ("SH-ZH/BD-25", "SH-ZH/BD-27", "SH-ZH/BD-30", "SH-ZH/BD-31")
MISSING = 0.10
DIFFERING = 0.10
FAR = date(1999, 1, 1)  # a date no form of the bench carries
STATION_KEYS = ("station_name", "service_station", "sender_unit", "unit_name", "dealer_name")


@dataclass(frozen=True)
class KnownClaims:
    """Claims and stations in the shape store.corroborate asks of a store (`Known`)."""

    claims: tuple[Claim, ...] = ()
    stations: tuple[Station, ...] = field(default_factory=tuple)

    def list_claims(self) -> list[Claim]:
        return list(self.claims)

    def list_stations(self) -> list[Station]:
        return list(self.stations)


def _vehicles(values: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The form's own values when it names a VIN, and every table row that does."""
    if values.get("vin"):
        yield values
    for v in values.values():
        if isinstance(v, list):
            yield from (row for row in v if isinstance(row, dict) and row.get("vin"))


def _differ(text: str) -> str:
    """The same value with its last character changed (a digit to another digit)."""
    last = text[-1]
    swap = str((int(last) + 3) % 10) if last.isdigit() else ("1" if last != "1" else "2")
    return text[:-1] + swap


def bench_claims(forms: Iterable[dict[str, Any]], seed: int) -> KnownClaims:
    """`KnownClaims` of the generator's forms (dicts with "template" and "values", as the
    set's truth gives them): a claim per vehicle on `CLAIMED` forms, less `MISSING`, with
    `DIFFERING` of them saying one of engine number, part number, mileage or repair date
    otherwise; the stations are those the forms name (station code = its index)."""
    rng = np.random.default_rng(seed)
    claims: list[Claim] = []
    stations: dict[str, Station] = {}
    for form in forms:
        values = form["values"]
        for key in STATION_KEYS:
            name = values.get(key)
            if name and str(name) not in stations:
                stations[str(name)] = Station(code=f"B{len(stations):04d}", name=str(name))
        if form["template"] not in CLAIMED:
            continue
        for v in _vehicles(values):
            if rng.random() < MISSING:
                continue
            said = {
                "engine_no": v.get("engine_no") or None,
                "part_no": str(v.get("part_no") or v.get("fault_part_no") or "—"),
                "mileage_km": int(v.get("mileage_km") or 0),
                "repair_date": v.get("repair_date") or FAR,
            }
            if rng.random() < DIFFERING:
                what = str(rng.choice(["engine_no", "part_no", "mileage_km", "repair_date"]))
                if what == "mileage_km":
                    said[what] += 100
                elif what == "repair_date":
                    said[what] = FAR
                elif said[what]:
                    said[what] = _differ(str(said[what]))
            claims.append(
                Claim(
                    claim_no=str(v.get("claim_no") or f"BENCH{len(claims):06d}"),
                    station="B0000",
                    vin=str(v["vin"]),
                    vehicle_model=str(v.get("vehicle_model") or "—"),
                    part_name=str(v.get("part_name") or v.get("fault_part_name") or "—"),
                    quantity=max(1, int(v.get("quantity") or 1)),
                    purchase_date=v.get("purchase_date") or FAR,
                    source="import:bench",
                    source_line=len(claims) + 2,
                    **said,
                )  # fmt: skip
            )
    return KnownClaims(tuple(claims), tuple(stations.values()))
