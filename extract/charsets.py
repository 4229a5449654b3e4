"""What characters each field type may contain, and the OCR slips to undo before checking.

Handwriting OCR mostly confuses digits with look-alike letters (6/G, 1/I, 0/O); a type
that cannot hold letters maps them back, and the CTC decoder is limited to the set."""

from __future__ import annotations

import re
import re._constants as _regex_constants  # the stdlib's own regex parser (Python ≥ 3.11)
import re._parser as _regex_parser
from functools import lru_cache
from itertools import product
from typing import Any

from formdesk.templates.schema import Column, FieldType, FormField
from formdesk.templates.values.identifiers import PROVINCES
from formdesk.templates.values.vin import VIN_ALPHABET

DIGITS = "0123456789"
UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
DATE_GUIDES = "年月日时分"
AMOUNT_WORDS = "零壹贰叁肆伍陆柒捌玖拾佰仟万亿元圆角分整正"

CHARSETS: dict[FieldType, str] = {
    FieldType.integer: DIGITS,
    FieldType.serial: DIGITS,
    FieldType.decimal: DIGITS + ".",
    FieldType.money: DIGITS + ".,",
    FieldType.vin: VIN_ALPHABET,
    FieldType.engine_no: DIGITS + UPPER + "-",
    FieldType.plate: PROVINCES + UPPER + DIGITS + "挂学警港澳",
    FieldType.phone: DIGITS + "-",
    FieldType.date: DIGITS + DATE_GUIDES + ".-/",
    FieldType.month: DIGITS + DATE_GUIDES + ".-/",
    FieldType.datetime: DIGITS + DATE_GUIDES + ".-/: ",
    FieldType.time: DIGITS + DATE_GUIDES + ":",
    FieldType.money_words: AMOUNT_WORDS,
}

_TO_DIGIT = str.maketrans(
    {
        "O": "0",
        "o": "0",
        "D": "0",
        "Q": "0",
        "I": "1",
        "l": "1",
        "|": "1",
        "Z": "2",
        "S": "5",
        "s": "5",
        "G": "6",
        "b": "6",
        "B": "8",
        "g": "9",
        "q": "9",
        "T": "7",
    }
)


def charset(t: FieldType) -> str | None:
    return CHARSETS.get(t)


def field_charset(spec: FormField | Column) -> str | None:
    """The characters a field or column may hold: its type's (CHARSETS), or for free text
    whose template pattern names every character it admits — part numbers
    `[0-9A-Z][0-9A-Z.\\-/]{2,24}`, 质量|非质量|待定, [优良中差] — those characters (a
    handwritten w read among A–Z is W).  None: any character."""
    own = charset(spec.type)
    if own is not None or spec.type != FieldType.text or not spec.constraints.pattern:
        return own
    return pattern_charset(spec.constraints.pattern)


@lru_cache(maxsize=256)
def pattern_charset(pattern: str) -> str | None:
    """Every character a regular expression can match, when it names them all (literals,
    ranges and classes of them); None when it admits more (`.`, `\\w`, a negated class) or
    cannot be parsed."""
    try:
        tree = _regex_parser.parse(pattern)
    except Exception:  # noqa: BLE001 (an unparsable pattern is refused where it is used)
        return None
    found: set[str] = set()
    if not _admitted(tree, found) or not found:
        return None
    return "".join(sorted(found))


def _admitted(items: Any, found: set[str]) -> bool:
    """Adds the characters the parsed `items` (re's parser's tree) match to `found`;
    False at the first construct that matches characters it does not name."""
    c = _regex_constants
    for op, arg in items:
        if op == c.LITERAL:
            found.add(chr(arg))
        elif op == c.RANGE:
            lo, hi = arg
            if hi - lo > 256:
                return False
            found.update(chr(x) for x in range(lo, hi + 1))
        elif op == c.IN:
            if not _admitted(arg, found):
                return False
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT):
            if not _admitted(arg[2], found):
                return False
        elif op == c.SUBPATTERN:
            if not _admitted(arg[-1], found):
                return False
        elif op == c.BRANCH:
            if not all(_admitted(branch, found) for branch in arg[1]):
                return False
        elif op not in (c.AT,):
            return False  # ANY, CATEGORY, NEGATE, NOT_LITERAL, lookarounds …
    return True


def clean_ocr(t: FieldType, text: str) -> str:
    """Undoes what OCR typically gets wrong for this type, before the value is checked."""
    s = text.strip()
    if t in (
        FieldType.integer,
        FieldType.serial,
        FieldType.decimal,
        FieldType.money,
        FieldType.phone,
    ):
        s = s.translate(_TO_DIGIT).replace(" ", "").replace("，", ",").replace("。", ".")
        if t in (FieldType.integer, FieldType.serial):
            s = s.replace(",", "").replace(".", "")
        s = s.strip(".,-")  # a speck beside the figures is read as a point
    elif t in (FieldType.vin, FieldType.engine_no):
        s = re.sub(r"\s+", "", s).upper()
        if t == FieldType.vin:
            s = s.replace("O", "0").replace("Q", "0").replace("I", "1")
            if len(s) == 17:  # the last four characters are numeric (ISO 3779, GB 16735)
                s = s[:13] + s[13:].translate(_VIS_DIGITS)
    elif t == FieldType.plate:
        s = re.sub(r"[\s·.]", "", s).upper()
        if len(s) >= 2:
            # the second character of a plate is always a letter
            s = (
                s[0]
                + {"0": "D", "1": "I", "8": "B", "5": "S", "2": "Z", "6": "G"}.get(s[1], s[1])
                + s[2:].translate(_PLATE_SERIAL)
            )
    elif t in (FieldType.date, FieldType.month, FieldType.datetime, FieldType.time):
        s = s.translate(_TO_DIGIT)
    elif t == FieldType.money_words:
        s = re.sub(r"\s+", "", s)
    if t in (FieldType.text, FieldType.choice):
        # a handwritten X in a code or a model name is read as the multiplication sign
        # (WX2026 read W×2026, X3000 read ×3000); between figures (3×4) it stays
        s = _CODE_X.sub("X", s)
    if t == FieldType.text and plate_shaped(s):
        # a plate written in a text field (表格02's time slots hold a plate or a word)
        s = s[0] + s[1:2].upper() + s[2:].upper().translate(_PLATE_SERIAL)
    elif t in (FieldType.text, FieldType.choice) and _CODE.fullmatch(s) and _MIXED.search(s):
        s = s.upper()  # a code (工单号 WX…, 索赔单号 SP…): handwriting's w/W, x/X, p/P, s/S
    elif t in (FieldType.text, FieldType.multiline):
        # the kilometre after a figure is written km (SI), whatever case the model saw
        s = _KM.sub(r"\1km", s)
    return s


_KM = re.compile(r"(\d)\s*[kK][mM](?![A-Za-z])")
# × beside a letter, or opening a word before figures (×3000, 、×3000), is a letter X
_CODE_X = re.compile(r"(?<=[A-Za-z])×|×(?=[A-Za-z])|(?:^|(?<=[、,，;；/\s]))×(?=\d)")


_VIS_DIGITS = str.maketrans("SBZGDTLA", "58260714")
# a plate's serial never holds the letters I and O (GA 36-2018, 5.4): read, they are 1 and 0
_PLATE_SERIAL = str.maketrans({"O": "0", "I": "1"})
_PLATE_SHAPED = re.compile(rf"[{PROVINCES}][A-Za-z0-9]{{6,7}}")


def plate_shaped(text: str) -> bool:
    """A province character and 6–7 letters or digits: a plate number, wherever written."""
    return bool(_PLATE_SHAPED.fullmatch(text))


# a province and its city letter, then no other Chinese (a 挂/学/警 suffix aside)
_PLATE_LIKE = re.compile(rf"[{PROVINCES}][A-Za-z][^\u3400-\u9fff]{{3,8}}[挂学警港澳]?")


# … or one Chinese character that is no province where the province stands: a plate whose
# province was misread (冀AM0H68 read 美AMOH68 and 冀A8C3Y6 read 美A8C3Y6 in 表格02's slots,
# ok as text; cal seed 19: every text reading of this shape was a plate)
_PLATE_MISREAD = re.compile(r"[\u3400-\u9fff][A-Za-z][A-Za-z0-9]{4,6}")


def plate_like(text: str) -> bool:
    """Plate-shaped, or begun as a plate is (a province, its city letter) with 3–8 more
    characters and no other Chinese: a plate, or a plate misread (a figure dropped, 1
    read /, 7 read >: 云AU4311 read 云AU431); or a plate whose province was read as
    another character (美AMOH68).  GA 36-2018 plate numbers."""
    return (
        plate_shaped(text)
        or bool(_PLATE_LIKE.fullmatch(text))
        or bool(_PLATE_MISREAD.fullmatch(text))
    )


# in a cell that holds a plate or a word (templates: `holds_plates`), letters and figures
# alone: a plate whose province was dropped or read as a letter (冀A24125F read MA24125F,
# 冀AD7CE3 read MAD7CE3, 冀AJ0T6G read MAJOT6G in 表格02's slots, ok as text: ZCOOL KuaiLe,
# cal seed 29; 赣AT4V63 read AT4V63)
_PLATE_UNPROVINCED = re.compile(r"[A-Za-z][A-Za-z0-9]{4,7}")


# … or a figure where the province stands (川 read 1, 冀 read 3) before its city letter
_PLATE_FIGURE_FIRST = re.compile(r"\d[A-Za-z][A-Za-z0-9]{4,6}")
# the separators people write in a plate (鄂A·12345, 鄂A-12345, 鄂A 12345) or OCR reads
# into one; they are no part of it (GA 36-2018 prints a dot the writer may copy)
_PLATE_SEPARATORS = re.compile(r"[·・•.\-—\s]")


def plate_in_slot(text: str) -> bool:
    """Whether a reading of a cell that holds a plate or a word is a plate, once the
    separators written in plates are left out (`_PLATE_SEPARATORS`): plate-like
    (`plate_like`), or 5–8 letters and figures, a letter first and a figure among them (its
    province dropped or read as a letter), or a figure then a letter then 4–6 letters and
    figures (its province read as a figure).  Judged a plate, a reading is never ok on OCR
    alone, so a wider net only sends more to review.  GA 36-2018 plate numbers."""
    bare = _PLATE_SEPARATORS.sub("", text)
    return (
        plate_like(bare)
        or bool(_PLATE_UNPROVINCED.fullmatch(bare) and any(ch.isdigit() for ch in bare))
        or bool(_PLATE_FIGURE_FIRST.fullmatch(bare))
    )


# letters and digits together, nothing else: an order or claim number, a model code
_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9\-/]*")
_MIXED = re.compile(r"(?=.*[A-Za-z])(?=.*\d)")


_RUN_TOGETHER = re.compile(r"^(\d{2,4}[-./年]\d{1,2}[-./月])(\d{2,4})日?(\d{2}\s*分?)$")
_RUN_TOGETHER_TIME = re.compile(r"^(\d{2,4}[-./年]\d{1,2}[-./月])(\d{2,4})[:：时](\d{2})分?$")


def date_splits(text: str, with_time: bool = False) -> list[str]:
    """A date written as figures in groups with no printed 年/月/日(时/分) between them (an
    external form's box, `2024 7 10`, `2026 5 28 11 40`) is read as one run, `2024710`,
    `20265281140`: every way to split a run of figures into a four-figure year, a month and
    a day (and an hour) of one or two figures each (and two of minutes), as `YYYY-M-D`
    (`YYYY-M-D H:MM`) strings to check; none when `text` is not such a run."""
    s = re.sub(r"\s+", "", text)
    groups = 3 if with_time else 2  # of one or two figures between the year and minutes
    tail = 2 if with_time else 0
    if not (s.isdigit() and s.isascii() and 4 + groups + tail <= len(s) <= 4 + 2 * groups + tail):
        return []
    year, middle, minutes = s[:4], s[4 : len(s) - tail], s[len(s) - tail :]
    out = []
    for widths in product((1, 2), repeat=groups):
        if sum(widths) != len(middle):
            continue
        parts, at = [], 0
        for w in widths:
            parts.append(middle[at : at + w])
            at += w
        day = f"{year}-{parts[0]}-{parts[1]}"
        out.append(f"{day} {parts[2]}:{minutes}" if with_time else day)
    return out


def datetime_readings(text: str) -> list[str]:
    """OCR loses the space between a date and a time (2024-3-116:00): every way to split
    the run of digits into a day and an hour, as `YYYY-M-D H:MM` strings to check."""
    s = re.sub(r"\s+", "", text)
    m = _RUN_TOGETHER_TIME.match(s)
    if not m:
        return [text]
    head, run, minutes = m[1], m[2], m[3]
    out = []
    for cut in (1, 2):
        day, hour = run[:cut], run[cut:]
        if 1 <= len(hour) <= 2:
            out.append(f"{head.rstrip('月')}{day} {hour}:{minutes}".replace("年", "-"))
    return out
