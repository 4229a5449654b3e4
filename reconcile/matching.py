"""Finding the claim a returned part belongs to, tolerant of OCR confusions.

Claim number first; then VIN + part number; then the same with one or two characters
read wrong (rapidfuzz Levenshtein); then, for tags without a claim number whose VIN was
misread, engine number + part number; last, when the part number could not be read, the
one part claimed for that VIN or engine number.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from typing import Any

from rapidfuzz.distance import Levenshtein

from formdesk.model.claims import Claim
from formdesk.model.reconciliation import ReturnedItem

# characters handwriting OCR confuses, mapped to one representative each
_CONFUSABLE = str.maketrans("OQDILZSBG", "000112586")


def norm(value: Any) -> str:
    """Upper case, NFKC, no spaces: how codes (claim no., VIN, part no.) are compared."""
    if value is None:
        return ""
    return "".join(unicodedata.normalize("NFKC", str(value)).split()).upper()


def canon(value: Any) -> str:
    """`norm` with OCR-confusable characters folded together (0/O, 1/I, 8/B, 5/S...)."""
    return norm(value).translate(_CONFUSABLE)


def confusable(a: Any, b: Any) -> bool:
    """Different, but only by characters OCR confuses: probably a misreading."""
    return norm(a) != norm(b) and canon(a) == canon(b)


class ClaimIndex:
    """A station's claims, looked up by claim number and by VIN + part number."""

    def __init__(self, claims: list[Claim]):
        self.claims = sorted(claims, key=lambda c: (c.repair_date, c.claim_no))
        self._by_no: dict[str, Claim] = {}
        self._by_canon_no: dict[str, list[Claim]] = defaultdict(list)
        self._by_vin_part: dict[tuple[str, str], list[Claim]] = defaultdict(list)
        self._by_canon_vin_part: dict[tuple[str, str], list[Claim]] = defaultdict(list)
        self._by_engine_part: dict[tuple[str, str], list[Claim]] = defaultdict(list)
        self._by_vin: dict[str, list[Claim]] = defaultdict(list)
        self._by_engine: dict[str, list[Claim]] = defaultdict(list)
        for c in self.claims:
            self._by_no[norm(c.claim_no)] = c
            self._by_canon_no[canon(c.claim_no)].append(c)
            self._by_vin_part[norm(c.vin), norm(c.part_no)].append(c)
            self._by_canon_vin_part[canon(c.vin), canon(c.part_no)].append(c)
            self._by_vin[norm(c.vin)].append(c)
            if c.engine_no:
                self._by_engine_part[norm(c.engine_no), norm(c.part_no)].append(c)
                self._by_engine[norm(c.engine_no)].append(c)

    def find(self, item: ReturnedItem) -> tuple[Claim | None, str]:
        """The claim and how it was found ('' when none)."""
        no, vin, part = norm(item.claim_no), norm(item.vin), norm(item.part_no)
        if no and no in self._by_no:
            hit = self._by_no[no]
            other = self._by_vin_part.get((vin, part)) if vin and part else None
            if other and hit not in other and _far(hit, vin, part):
                return _closest_in_time(other, item), "车架号+零件编号(索赔单号疑误)"
            return hit, "索赔单号"
        if no and len(self._by_canon_no.get(canon(no), [])) == 1:
            return self._by_canon_no[canon(no)][0], "索赔单号(按易混字符)"
        if vin and part:
            hits = self._by_vin_part.get((vin, part)) or self._by_canon_vin_part.get(
                (canon(vin), canon(part))
            )
            if hits:
                return _closest_in_time(hits, item), "车架号+零件编号"
        fuzzy = self._fuzzy(no, vin, part, item.doubtful("vin") or item.doubtful("part_no"))
        if fuzzy is not None:
            return fuzzy, "近似匹配"
        engine = norm(item.engine_no)
        if engine and part and self._by_engine_part.get((engine, part)):
            return _closest_in_time(self._by_engine_part[engine, part], item), "发动机号+零件编号"
        if not part and not no:  # part number not readable: the vehicle's only claim
            for key, index, how in (
                (vin, self._by_vin, "车架号"),
                (engine, self._by_engine, "发动机号"),
            ):
                hits = index.get(key) if key else None
                if hits and len({c.part_no for c in hits}) == 1:
                    return _closest_in_time(hits, item), f"{how}(零件编号未识读)"
        return None, ""

    def _fuzzy(self, no: str, vin: str, part: str, unsure: bool) -> Claim | None:
        """The one claim within a few misread characters: the claim number off by one with
        VIN or part number close; or, when the VIN or part number was read unsure, VIN off
        by up to two with the part number close. (A surely read VIN one digit away is
        another vehicle: fleets have consecutive VINs.)"""
        best: list[tuple[int, Claim]] = []
        for c in self.claims:
            d_part = Levenshtein.distance(part, norm(c.part_no), score_cutoff=2) if part else 9
            d_vin = Levenshtein.distance(vin, norm(c.vin), score_cutoff=3) if vin else 9
            d_no = Levenshtein.distance(no, norm(c.claim_no), score_cutoff=2) if no else 9
            if (d_no <= 1 and (d_vin <= 2 or d_part <= 1)) or (
                unsure and d_vin <= 2 and d_part <= 1
            ):
                best.append((min(d_no, 9) + d_vin + d_part, c))
        if not best:
            return None
        best.sort(key=lambda e: e[0])
        if len(best) > 1 and best[1][0] == best[0][0]:
            return None  # two equally close claims: no guess
        return best[0][1]


def _far(claim: Claim, vin: str, part: str) -> bool:
    """Neither VIN nor part number resembles the claim's: the claim number was misread."""
    return (
        Levenshtein.distance(vin, norm(claim.vin)) > 2
        and Levenshtein.distance(part, norm(claim.part_no)) > 1
    )


def _closest_in_time(claims: list[Claim], item: ReturnedItem) -> Claim:
    if item.repair_date is None or len(claims) == 1:
        return claims[0]
    return min(claims, key=lambda c: abs((c.repair_date - item.repair_date).days))
