"""Lexicon-constrained reading: a field with a vocabulary (issue 10, point 2).

Some fields name something the installation already knows — the station that sends the
form (its list of stations), the vehicle model, the part name and part number (the
warranty claims, the catalog).  For such a field the model's output is scored against
the known values near what it read: each candidate's probability given the crop sums
over every CTC alignment (`Recognized.likelihood`).  When one known value takes at
least `POSTERIOR` of the probability among them and is not far less likely than the plain
reading (`MAX_GAP`: else what is written is something the lexicon lacks), that value is
the field's, with evidence `lexicon` — the handwritten S the model reads as 5 (CS75 read
C575) is read as the model it is part of.  A shortlist, not a trie: the values
within `SHORTLIST_SCORE` of the reading (rapidfuzz), at most `SHORTLIST` of them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from rapidfuzz import fuzz, process

from formdesk.templates.schema import FieldType
from formdesk.templates.values.normalize import fold

from .ocr import Recognized
from .ocr.confusion import TWINS, twins_apart

POSTERIOR = 0.97  # the least share of the probability among known values a value needs
MAX_GAP = 5.0  # nats: how much less likely than the plain reading a known value may be
RIVAL_SHARE = 1.0 - POSTERIOR  # a known rival this likely beside the reading leaves it in doubt
SHORTLIST = 6
SHORTLIST_SCORE = 40.0  # rapidfuzz ratio, 0–100

# which known list serves which field (the same thing under the templates' several keys)
FIELD_LISTS: dict[str, str] = {
    "vehicle_model": "vehicle_model",
    "part_name": "part_name",
    "fault_part_name": "part_name",
    "part_no": "part_no",
    "fault_part_no": "part_no",
    "station_name": "station",
    "service_station": "station",
    "sender_unit": "station",
    "unit_name": "station",
    "dealer_name": "station",  # 4S店 of 表格14/15: the network's 4S workshop filling the form
}

# lists of codes whose formats a reading of the field should share (`twin_shape`,
# `short_shape`): a manufacturer numbers its parts and its engines in a few formats, known
# from the claims imported.  Unlike FIELD_LISTS a reading is never decoded against them: an
# engine number is one vehicle's, and a known one is no likelier than an unknown one
SHAPE_LISTS: dict[str, str] = {
    "part_no": "part_no",
    "fault_part_no": "part_no",
    "engine_no": "engine_no",
}
# what the codes of each SHAPE_LISTS list are called in a reason (Chinese)
SHAPE_NAMES: dict[str, str] = {"part_no": "零件编号", "engine_no": "发动机号"}

# lists a value must come from: a form is sent by one of the network's stations, so a
# station name the list lacks is a misreading (汇通 read 江通) or a station to register —
# either way for the back office to see, never ok
CLOSED_LISTS = frozenset({"station"})


@dataclass(frozen=True)
class Lexicon:
    """Known values per list (`FIELD_LISTS` names the lists: vehicle_model, part_name,
    part_no, station).  Plain data, so it crosses to a reader process."""

    lists: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def of(cls, **lists: Iterable[str]) -> Lexicon:
        """From lists of values; blanks dropped, duplicates (after `fold`) kept once."""
        out: dict[str, tuple[str, ...]] = {}
        for name, values in lists.items():
            seen: dict[str, str] = {}
            for v in values:
                v = str(v or "").strip()
                if v and fold(v) not in seen:
                    seen[fold(v)] = v
            out[name] = tuple(seen.values())
        return cls(out)

    def for_field(self, key: str, template: str | None = None) -> tuple[str, ...]:
        """The known values of the field `key` (a column key for table cells); () when
        the field has no vocabulary.  A field no list serves (`FIELD_LISTS`) has the
        values people confirmed in it on earlier forms of `template`, when given
        (`history_list`)."""
        name = FIELD_LISTS.get(key)
        if has_history(key) and template is not None:
            name = history_list(template, key)
        return self.lists.get(name, ()) if name else ()

    def formats_for(self, key: str) -> tuple[str, ...]:
        """The known codes whose formats a reading of the field `key` should share
        (`SHAPE_LISTS`: part numbers and engine numbers of the claims imported); () for
        any other field."""
        name = SHAPE_LISTS.get(key)
        return self.lists.get(name, ()) if name else ()

    def frequent_for(self, key: str, template: str) -> tuple[str, ...]:
        """The values confirmed at least NEAR_TIMES times in field `key` of `template`
        (`frequent_list`); () for a field a catalog list serves (`has_history`)."""
        return self.lists.get(frequent_list(template, key), ()) if has_history(key) else ()

    def closed_for(self, key: str) -> bool:
        """Whether the field `key` must hold one of its known values (`CLOSED_LISTS`),
        the list being non-empty."""
        name = FIELD_LISTS.get(key)
        return name in CLOSED_LISTS and bool(self.lists.get(name))


# read against the values people confirmed in the same field before (`history_list`)
HISTORY_TYPES = frozenset({FieldType.text, FieldType.multiline})


def has_history(key: str) -> bool:
    """Whether field `key` (a column key for table cells) of a text or multiline type
    (`HISTORY_TYPES`) is read against the values people confirmed in it before: a field no
    catalog list serves (`FIELD_LISTS`: stations, models, part names are read against
    those lists instead)."""
    return key not in FIELD_LISTS


def history_list(template: str, key: str) -> str:
    """The name of the list of values confirmed in field `key` (a column key for table
    cells) of form `template` on earlier records: ``history:表格11:purpose``."""
    return f"history:{template}:{key}"


def frequent_list(template: str, key: str) -> str:
    """The name of the list of values confirmed at least NEAR_TIMES times in field `key` of
    form `template` (``frequent:表格11:remarks``): a subset of its `history_list`."""
    return f"frequent:{template}:{key}"


# times a phrase must have been confirmed in a field before a reading one character away
# from it is doubted (`near_known`).  On the calibration hands (cal97h, history of 20
# earlier forms per template): 待料 read 待科 at 0.999–1.000 by both models, 7 times ok;
# at 2 confirmations the rule holds those 7 and 2 right readings (names: 邓国 beside a
# twice-confirmed 邓婷), at 1 it would hold 107 right ones, mostly names.
NEAR_TIMES = 2


def near_known(text: str, frequent: Sequence[str]) -> str | None:
    """The phrase of `frequent` that `text` — or one item of it, when it lists several
    (`list_items`) — differs from in exactly one character (same length), not being one of
    them: a phrase people write again and again read with one character wrong (待料 read
    待科, sure of it; 灭火器 read 天火器 in 随车物品's 天火器、行车记录仪) is likelier than a
    new phrase one character away.  None when there is none."""
    t = "".join(text.split())
    if not t or t in frequent:
        return None
    items = list_items(t)
    # an item of two characters has too many real neighbours (漏气 beside 漏油)
    for part in [t, *(p for p in items if len(p) >= ITEM_CHARS and len(items) > 1)]:
        if part in frequent:
            continue
        for value in frequent:
            if (
                len(value) == len(part)
                and sum(a != b for a, b in zip(value, part, strict=True)) == 1
            ):
                return value
    return None


def code_shape(value: str) -> str:
    """A code's shape: each figure 9, each Latin letter A, anything else as it is
    (78D579-66 → 99A999-99)."""
    return "".join(
        "9" if ch.isdigit() else "A" if ch.isascii() and ch.isalpha() else ch for ch in value
    )


def _unknown_shape(text: str, known: Sequence[str]) -> tuple[str, str, frozenset[str]] | None:
    """(the code without spaces, its shape, the known shapes) when at least SHAPE_KNOWN
    values are known and none has the code's shape; else None."""
    t = "".join(text.split())
    if len(known) < SHAPE_KNOWN or not t:
        return None
    shapes = _known_shapes(tuple(known))
    shape = code_shape(t)
    return None if shape in shapes else (t, shape, shapes)


def twin_shape(text: str, known: Sequence[str]) -> tuple[int, str] | None:
    """For a code no known value shares the shape of (`code_shape`), when at least
    SHAPE_KNOWN values are known: the first position (0-based) where a figure read for its
    twin letter (0/D, 5/S, 8/B, …: ocr/confusion.TWINS), or a letter for its twin figure,
    gives a shape that known values have — and that twin.  A manufacturer numbers its
    parts in a few formats; 78D579-66 read 780579-66 by both models (the digit classifier
    sure of the 0) has a shape no part number has, and 99A999-99 is a format the claims
    hold.  None when the shape is known, too few values are known, or no twin gives a
    known shape."""
    unknown = _unknown_shape(text, known)
    if unknown is None:
        return None
    t, shape, shapes = unknown
    for i, ch in enumerate(t):
        if not ch.isascii() or not ch.isalnum():
            continue
        for twin in TWINS.get(ch.upper(), ""):
            if not twin.isascii() or twin.isdigit() == ch.isdigit():
                continue  # only a figure for a letter or a letter for a figure
            if shape[:i] + code_shape(twin) + shape[i + 1 :] in shapes:
                return i, twin
    return None


def short_shape(text: str, known: Sequence[str]) -> tuple[int, str] | None:
    """For a code no known value shares the shape of, when at least SHAPE_KNOWN values are
    known: the first place (0-based, before the character there) where one letter ('A')
    or one figure ('9') put in gives a shape that known values have — and which of the two.
    Both models drop a letter they do not know a hand's shape of: 96F837-79 read 96837-79
    and 3817083-E479 read 3817083-479 (Long Cang, held-out seeds 443–457), shapes no part
    number has, one letter short of 99A999-99 and 9999999-A999.  None when the shape is
    known, too few values are known, or no one character gives a known shape."""
    unknown = _unknown_shape(text, known)
    if unknown is None:
        return None
    _t, shape, shapes = unknown
    for i in range(len(shape) + 1):
        for kind in ("A", "9"):
            if shape[:i] + kind + shape[i:] in shapes:
                return i, kind
    return None


@lru_cache(maxsize=8)
def _known_shapes(known: tuple[str, ...]) -> frozenset[str]:
    """The shapes of the known codes, once per list (a reader reads many fields against one
    installation's lexicon)."""
    return frozenset(code_shape("".join(v.split())) for v in known)


# known values the shape rule needs before it judges a code: with fewer, a right code of a
# format the list has not met yet would be doubted
SHAPE_KNOWN = 20

ITEM_SEPARATORS = re.compile(r"[、,，;；]")
# the fewest characters an item must have to be doubted beside a frequent one: on the
# held-out seeds 251–269 three right two-character items (漏气) lay beside a frequent 漏油
ITEM_CHARS = 3


def list_items(value: str) -> list[str]:
    """The items of a value that lists several (千斤顶、备胎、随车工具), split at 、 , ， ; ；
    (empty items left out); a value of one item is itself."""
    return [p.strip() for p in ITEM_SEPARATORS.split(value) if p.strip()]


def rememberable(value: str) -> bool:
    """Whether a confirmed value may join its field's history list: words without
    figures (a number, date or code is not repeated on the next form, and one a figure
    away from a remembered one would be read as it), at most HISTORY_CHARS characters."""
    v = value.strip()
    return bool(v) and len(v) <= HISTORY_CHARS and not any(ch.isdigit() for ch in v)


HISTORY_CHARS = 24


@dataclass(frozen=True)
class LexiconMatch:
    value: str  # the known value
    posterior: float  # its share of the probability among the candidates, 0–1


def best_known(
    reading: Recognized,
    known: Sequence[str],
    posterior: float = POSTERIOR,
    max_gap: float = MAX_GAP,
) -> LexiconMatch | None:
    """The known value the crop most probably shows — decoding constrained to the
    lexicon: the shortlisted known value of highest CTC likelihood, when it takes at
    least `posterior` of the probability among the shortlisted known values and its
    log-likelihood is within `max_gap` of the unconstrained reading's (further, the crop
    shows something the lexicon lacks: 新能源车 is no model, 途观 without its L is not
    途观L).  None when the engine cannot score texts, nothing known is near the reading,
    or no known value is that sure."""
    if reading.likelihood is None or not known or not reading.text.strip():
        return None
    text = "".join(reading.text.split())
    near = _shortlist(text, known)
    if not near:
        return None
    scored = {value: reading.likelihood(value) for value in near}
    value, ll = max(scored.items(), key=lambda kv: kv[1])
    if ll == -math.inf or reading.likelihood(text) - ll > max_gap:
        return None
    share = 1.0 / sum(math.exp(v - ll) for v in scored.values())
    return LexiconMatch(value, share) if share >= posterior else None


def drops_read(text: str, value: str) -> bool:
    """Whether the known `value` has fewer characters than the reading `text` (spaces
    ignored): the characters it leaves out were read from ink, so the value does not
    account for all the ink (轩逸1.6L read 轩逸E at 0.212, its suffix one character, and
    settled as 轩逸 by the lexicon at 1.000 — wrong among ok, Long Cang, held-out seed 241)."""
    return len("".join(value.split())) < len("".join(text.split()))


def known_rival(
    reading: Recognized, known: Sequence[str], share: float = RIVAL_SHARE
) -> LexiconMatch | None:
    """A known value other than the plain reading that the crop may well show, for a
    reading the lexicon did not settle (`best_known` gave None):

    - a known value that is the reading with one character more, the reading not being
      known itself — a character the model dropped (途观L read 途观 four times on 80
      pages of the calibration hand Ma Shan Zheng, sure of it and with all ink accounted
      for; on those pages no right reading of a listed field was a known value less one
      character), or with letters and figures swapped for their twins (EQ1043S8 read
      EQ104358 at 0.966, both models agreeing, on the held-out Long Cang seed 151: the
      model gives the S next to nothing: ocr/confusion.twins_apart);
    - else the shortlisted known value, not the reading itself, of highest CTC
      likelihood, when it takes at least `share` of the probability between it and the
      reading.

    The match's `posterior` is the rival's share beside the reading, 0–1.  None when the
    engine cannot score texts or no known value is such a rival."""
    if reading.likelihood is None or not known or not reading.text.strip():
        return None
    text = "".join(reading.text.split())
    others = [
        (value, reading.likelihood(value)) for value in _shortlist(text, known) if value != text
    ]
    if not others:
        return None
    own = reading.likelihood(text)

    def rival_share(ll: float) -> float:
        return 0.0 if ll == -math.inf or own - ll > 700 else 1.0 / (1.0 + math.exp(own - ll))

    if text not in known:
        longer = [(v, ll) for v, ll in others if _one_more(text, v) or twins_apart(text, v)]
        if longer:
            value, ll = max(longer, key=lambda kv: kv[1])
            return LexiconMatch(value, rival_share(ll))
    value, ll = max(others, key=lambda kv: kv[1])
    rival = rival_share(ll)
    return LexiconMatch(value, rival) if rival >= share else None


def _shortlist(text: str, known: Sequence[str]) -> list[str]:
    """The known values within SHORTLIST_SCORE of `text` (rapidfuzz ratio), at most
    SHORTLIST of them, nearest first."""
    near = process.extract(
        text, known, scorer=fuzz.ratio, limit=SHORTLIST, score_cutoff=SHORTLIST_SCORE
    )
    return [value for value, _score, _i in near]


def _one_more(text: str, value: str) -> bool:
    """Whether `value` is `text` with one character added (anywhere)."""
    return len(value) == len(text) + 1 and any(
        value[:i] + value[i + 1 :] == text for i in range(len(value))
    )
