"""Corroboration when a record is filed (issue 10, point 2).

A reading that OCR alone could not make ok — its score under the type's threshold, a
second reading disagreeing, ink left unread — is ok when it says exactly what another
source says of the same thing:

- the warranty claim of the same vehicle (the VIN read with a valid check digit, ISO 3779):
  engine number, vehicle model, part number and name, purchase and repair date, mileage,
  claim number (evidence `claim`);
- the list of stations, for the field naming the sending station (evidence `stations`).

A VIN that is itself doubted is the claim's when it says exactly a claimed VIN *and* the
same form (or manifest row) says that claim's engine number or claim number too: a
misread VIN that passes its check digit and lands on another claimed vehicle would also
need the other identifier misread into that vehicle's.

Engine numbers carry no check digit, so this is how they become ok when the two readings
disagree.  Nothing is changed that was invalid, overwritten in print (打印值被改写) or on
a page the local alignment could not explain.

The claim is also a witness against a reading.  A reading ok on OCR alone that no claim
of the (surely read) vehicle says, while one says a value the same ink could be read as —
one character otherwise, or only letters and figures swapped for their twins (D/0, S/5,
G/6 …: extract/ocr/confusion.twins_apart) — goes to review with the claim's value in its
reason (`CONTRADICTED`): either the reading or the claim is wrong, and OCR's score cannot
tell which (issue 10: a misread engine number came back ok at ≥ 0.9).  A value verified
against formdesk's own print (evidence `printed`) is not doubted.  Any other difference is
left to the reconciliation, which reports the mismatch with its evidence.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any, Protocol

from formdesk.extract.evidence import (
    CROSS_DISAGREE,
    DISAGREE,
    FIGURE_DOUBT,
    LOW_SCORE,
    NO_THRESHOLD,
    SLANTED_ONE,
    TWIN_DOUBT,
    UNREAD,
)
from formdesk.extract.ocr.confusion import twins_apart
from formdesk.model.claims import Claim, Station
from formdesk.model.record import FieldReading, FormRecord
from formdesk.templates.values.normalize import fold

# field key (tags, manifest rows, feedback forms) -> the claim's attribute
CLAIM_FIELDS = {
    "engine_no": "engine_no",
    "vehicle_model": "vehicle_model",
    "part_no": "part_no",
    "fault_part_no": "part_no",
    "part_name": "part_name",
    "fault_part_name": "part_name",
    "purchase_date": "purchase_date",
    "repair_date": "repair_date",
    "mileage_km": "mileage_km",
    "claim_no": "claim_no",
}
# what names one vehicle's claim beside its VIN: a doubted VIN needs one of these to agree
IDENTIFIERS = {"engine_no": "engine_no", "claim_no": "claim_no"}
STATION_FIELDS = ("sender_unit", "unit_name", "service_station", "station_name")
# the reasons a reading is doubted for its OCR alone (extract/evidence.py): a low score,
# a second reading or the second model disagreeing, ink left unread, a letter's twin, the
# digit classifier seeing another figure, a slanted 1, a type never ok by OCR
OCR_DOUBTS = (
    LOW_SCORE.split(",")[0],
    DISAGREE,
    CROSS_DISAGREE,
    UNREAD.split("(")[0],
    TWIN_DOUBT,
    FIGURE_DOUBT.split("{")[0],
    SLANTED_ONE,
    NO_THRESHOLD,
)
CONTRADICTED = "与该车索赔单不符(索赔单为“{claimed}”),请核对"


class Known(Protocol):
    """What corroboration asks of a store (store.interface: ClaimStore, StationStore)."""

    def list_claims(self) -> list[Claim]: ...

    def list_stations(self) -> list[Station]: ...


class Corroborator:
    """The claims by VIN and the station names, loaded once for a batch of records."""

    def __init__(self, store: Known):
        self._store = store
        self._claims: dict[str, list[Claim]] | None = None
        self._stations: dict[str, str] | None = None

    def claims_for(self, vin: str) -> list[Claim]:
        if self._claims is None:
            self._claims = defaultdict(list)
            for claim in self._store.list_claims():
                self._claims[claim.vin.upper()].append(claim)
        return self._claims.get(vin.upper(), [])

    def station_names(self) -> dict[str, str]:
        """The stations' names by their folded form (`fold`: case, width, spaces)."""
        if self._stations is None:
            self._stations = {fold(s.name): s.name for s in self._store.list_stations()}
        return self._stations

    def record(self, record: FormRecord) -> None:
        """Corroborates the record's doubted readings in place (fields and table rows; a
        table's own status and reason follow its cells: `FieldReading.summarise_rows`)."""
        fields = {f.key: f for f in record.fields}
        self._readings(fields)
        for f in fields.values():
            if not f.rows:
                continue
            changed = False
            for row in f.rows:
                changed |= self._readings(row)
            if changed:
                f.summarise_rows()

    def _readings(self, readings: dict[str, FieldReading]) -> bool:
        changed = self._identify(readings)
        vin = readings.get("vin")
        claims = self.claims_for(str(vin.value)) if vin and vin.status == "ok" and vin.value else []
        for key, attr in CLAIM_FIELDS.items():
            reading = readings.get(key)
            if reading and _doubted(reading) and _said_by(reading.value, claims, attr):
                _make_ok(reading, "claim", _as_said(reading.value, claims, attr))
                changed = True
            elif reading and _ok_by_ocr(reading) and not _said_by(reading.value, claims, attr):
                rival = _near_claimed(reading.value, claims, attr)
                if rival is not None:
                    reading.status = "check"
                    reading.reason = CONTRADICTED.format(claimed=rival)
                    changed = True
        for key in STATION_FIELDS:
            reading = readings.get(key)
            name = self.station_names().get(fold(str(reading.value))) if reading else None
            if reading and name and _doubted(reading):
                _make_ok(reading, "stations", name)
                changed = True
            elif reading and name and reading.status == "ok" and reading.value != name:
                reading.value = name  # 4s店 read for 4S店: the list's spelling
                changed = True
        return changed

    def _identify(self, readings: dict[str, FieldReading]) -> bool:
        """A doubted VIN made ok by a claim of exactly that VIN whose engine number or
        claim number the same readings say too (`IDENTIFIERS`)."""
        vin = readings.get("vin")
        if vin is None or not _doubted(vin):
            return False
        for claim in self.claims_for(str(vin.value)):
            if any(
                (r := readings.get(key)) is not None
                and r.value not in (None, "")
                and _said_by(r.value, [claim], attr)
                for key, attr in IDENTIFIERS.items()
            ):
                _make_ok(vin, "claim")
                return True
        return False


def corroborate(store: Known, records: Iterable[FormRecord]) -> None:
    """`Corroborator.record` for each record (changed in place)."""
    c = Corroborator(store)
    for record in records:
        c.record(record)


def _doubted(reading: FieldReading) -> bool:
    """Doubted for its OCR alone, with a value that checked out."""
    reason = reading.reason or ""
    return (
        reading.status == "check"
        and reading.value not in (None, "")
        and reason.startswith(OCR_DOUBTS)
        and "打印值被改写" not in reason
        and "变形" not in reason
    )


def _said_by(value: Any, claims: list[Claim], attr: str) -> bool:
    want = fold(str(value))
    return any(getattr(c, attr) is not None and fold(str(getattr(c, attr))) == want for c in claims)


def _ok_by_ocr(reading: FieldReading) -> bool:
    """Ok with a value, on the reading's own evidence (not verified against formdesk's
    print, not made ok by a claim)."""
    return (
        reading.status == "ok"
        and reading.value not in (None, "")
        and not {"printed", "claim"} & set(reading.evidence)
    )


def _near_claimed(value: Any, claims: list[Claim], attr: str) -> str | None:
    """The first claimed value (as the claim says it) the reading `value` could be a
    misreading of: the same length, and one character otherwise or every difference a
    twin (extract/ocr/confusion.twins_apart); None when no claim says such a value."""
    read = fold(str(value))
    for c in claims:
        said = getattr(c, attr)
        if said is None:
            continue
        want = fold(str(said))
        if len(want) != len(read) or want == read:
            continue
        if sum(a != b for a, b in zip(read, want, strict=True)) == 1 or twins_apart(read, want):
            return str(said)
    return None


def _as_said(value: Any, claims: list[Claim], attr: str) -> Any:
    """The reading's value spelt as the claim saying it does (case, full-width forms:
    `fold`), for text; other values (dates, numbers) as read."""
    if not isinstance(value, str):
        return value
    want = fold(value)
    for c in claims:
        said = getattr(c, attr)
        if isinstance(said, str) and fold(said) == want:
            return said
    return value


def _make_ok(reading: FieldReading, source: str, value: Any = None) -> None:
    """Ok on `source`'s word; `value`, when given, is the value as that source spells it
    (the same once folded)."""
    if value is not None:
        reading.value = value
    reading.status = "ok"
    reading.reason = None
    reading.evidence = [*reading.evidence, source]
