"""What a returned part is, and how many came back: the one definition the reconciliation
(核对), the monthly summary (月报) and their reports count with (issue 12, point 7).

A physical part is one vehicle's part: VIN + part number (零件编号 on SH-ZH/BD-31, -27 and
-30, key `part_no`). Everything read about it — its line on a manifest (返厂清单), its
鉴别标签 (BD-27) and its 故障标签 (BD-30) — is grouped into one `ReturnedPart`:

- the items matched to one claim are that claim's part (the claim names the vehicle and
  the part, so a tag whose VIN was misread still joins it);
- the items matching no claim are grouped by VIN + part number (else the claim number
  written on them, else each alone: `part_key`).

How many parts came back (`ReturnedPart.quantity`) is the larger of what the manifest lists
(its first line: a part listed on two manifests came back once, and is reported 重复) and
how many parts carry tags. A part carries at most one tag of each kind, so the tagged parts
are the larger of the BD-27 and the BD-30 tags: a part with both counts once.

A part counts in the month of the claim it matches (repaired in the month, whenever it came
back); a part matching no claim in the month its form gives (`item_day`), else of its scan's
upload (Beijing time).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from formdesk.model.claims import Claim
from formdesk.model.reconciliation import ReturnedItem

from .matching import ClaimIndex, norm

PART_TAG = "SH-ZH/BD-27"  # 保修零部件鉴别标签
FAULT_TAG = "SH-ZH/BD-30"  # 三包换件故障标签


@dataclass
class ReturnedPart:
    """One vehicle's part as it came back: the claim it matches (None: no claim) and every
    manifest line and tag read about it."""

    claim: Claim | None
    items: list[ReturnedItem] = field(default_factory=list)

    @property
    def lines(self) -> list[ReturnedItem]:
        """Its manifest lines, the first listed (by manifest date, document, row) first."""
        return sorted(
            (i for i in self.items if i.source == "manifest_line"),
            key=lambda i: (i.manifest_date or date.min, i.document_id, i.row or 0),
        )

    @property
    def tags(self) -> list[ReturnedItem]:
        return [i for i in self.items if i.source == "tag"]

    @property
    def listed(self) -> int:
        """What the manifest says came back: the first line's quantity; 0 when unlisted."""
        lines = self.lines
        return lines[0].quantity if lines else 0

    @property
    def part_tags(self) -> int:
        return sum(1 for i in self.tags if i.template == PART_TAG)

    @property
    def fault_tags(self) -> int:
        return sum(1 for i in self.tags if i.template != PART_TAG)

    @property
    def tagged(self) -> int:
        """Parts carrying a tag: a BD-27 and a BD-30 on one part are one part."""
        return max(self.part_tags, self.fault_tags)

    @property
    def quantity(self) -> int:
        """How many of this part came back (0 when nothing was read of it)."""
        return max(self.listed, self.tagged)


def part_key(item: ReturnedItem) -> tuple[str, ...]:
    """What ties the items of a part matching no claim together: VIN + part number, else
    the claim number written on it, else the item itself."""
    if item.vin and item.part_no:
        return ("vp", norm(item.vin), norm(item.part_no))
    if item.claim_no:
        return ("no", norm(item.claim_no))
    return ("doc", item.document_id, item.record_id, str(item.row))


def item_day(item: ReturnedItem) -> date | None:
    """The day a part matching no claim counts on: the date its form gives (item.written_day)
    or, when none could be read, the day its scan was uploaded (Beijing); None only when
    neither is known — then it counts in no month."""
    return item.written_day or item.received_on


def match_items(
    claims: list[Claim], items: list[ReturnedItem]
) -> tuple[dict[str, list[ReturnedItem]], list[ReturnedItem]]:
    """Returned items by the number of the claim they match — a claim of the item's own
    station (an item of no known station: any claim) — and those matching none."""
    by_station: dict[str, list[Claim]] = defaultdict(list)
    for c in claims:
        by_station[c.station].append(c)
    indexes = {code: ClaimIndex(cs) for code, cs in by_station.items()}
    anywhere: ClaimIndex | None = None
    matched: dict[str, list[ReturnedItem]] = defaultdict(list)
    unmatched: list[ReturnedItem] = []
    for item in items:
        if item.station is None:
            anywhere = anywhere or ClaimIndex(claims)
            index: ClaimIndex | None = anywhere
        else:
            index = indexes.get(item.station)
        claim, _how = index.find(item) if index is not None else (None, "")
        if claim is None:
            unmatched.append(item)
        else:
            matched[claim.claim_no].append(item)
    return matched, unmatched


@dataclass
class MonthParts:
    """A month's claims, each with its part (empty when nothing came back), and the parts
    matching no claim that count in it."""

    claimed: list[ReturnedPart]  # one per claim repaired in the month, in claim order
    unclaimed: list[ReturnedPart]
    all_lines: list[ReturnedItem] = field(default_factory=list)  # every manifest line given

    @property
    def parts(self) -> list[ReturnedPart]:
        return [p for p in self.claimed if p.items] + self.unclaimed

    @property
    def quantity(self) -> int:
        """返厂件数: the parts that came back for the month, each counted once."""
        return sum(p.quantity for p in self.parts)

    @property
    def items(self) -> list[ReturnedItem]:
        return [i for p in self.claimed + self.unclaimed for i in p.items]


def month_parts(
    claims: list[Claim], items: list[ReturnedItem], start: date, end: date
) -> MonthParts:
    """The returned parts of the month `start`..`end`. `claims`: all claims (any month, so
    that a late return finds its claim); `items`: all returned items read so far."""
    matched, unmatched = match_items(claims, items)
    period = sorted(
        (c for c in claims if start <= c.repair_date <= end),
        key=lambda c: (c.repair_date, c.claim_no),
    )
    claimed = [ReturnedPart(c, matched.get(c.claim_no, [])) for c in period]
    groups: dict[tuple[str | None, tuple[str, ...]], list[ReturnedItem]] = defaultdict(list)
    for item in unmatched:
        if (day := item_day(item)) is not None and start <= day <= end:
            groups[item.station, part_key(item)].append(item)
    return MonthParts(
        claimed,
        [ReturnedPart(None, group) for group in groups.values()],
        [i for i in items if i.source == "manifest_line"],
    )
