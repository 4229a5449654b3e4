"""Vehicle identification numbers (ISO 3779 / GB 16735): alphabet and check digit."""

from __future__ import annotations

VIN_ALPHABET = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ"  # I, O and Q are never used

_TRANSLITERATION = {
    **{str(d): d for d in range(10)},
    **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
    **dict(zip("JKLMN", range(1, 6), strict=True)),
    "P": 7,
    "R": 9,
    **dict(zip("STUVWXYZ", range(2, 10), strict=True)),
}
_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)

# Characters handwriting OCR confuses; only used when exactly one reading validates.
OCR_CONFUSIONS = {
    "O": "0",
    "Q": "0",
    "D": "0",
    "0": "D",
    "I": "1",
    "L": "1",
    "1": "L",
    "B": "8",
    "8": "B",
    "S": "5",
    "5": "S",
    "Z": "2",
    "2": "Z",
    "G": "6",
    "6": "G",
    "T": "7",
    "7": "T",
}


# the model year code, VIN position 10 (ISO 3779 / GB 16735-2019 table of year codes):
# 1980 A … 2000 Y, 2001 1 … 2009 9, 2010 A … — a 30-year cycle; U, Z and 0 are never used
YEAR_CODES = "ABCDEFGHJKLMNPRSTVWXY123456789"
FIRST_MODEL_YEAR = 1980


def model_year(vin: str, latest: int) -> int | None:
    """The model year position 10 of `vin` gives: of the years its code stands for, the
    last one not after `latest` (the year after a form's own, say).  None when the code is
    not a year code (U, Z, 0, or a short reading)."""
    code = vin[9:10].upper()
    if not code or code not in YEAR_CODES:
        return None
    first = FIRST_MODEL_YEAR + YEAR_CODES.index(code)
    return first + 30 * ((latest - first) // 30)


# Years: a vehicle this much older than the form is not what a service network sees (China's
# 机动车强制报废标准规定 (2012) retires heavy trucks at 15 years); older ones read as such
# are nearly always a letter year code read as a figure — 2025's S as 5 (2005), 2016's G
# as 6 — which the check digit does not catch when two characters moved (held-out hands,
# 2026-12-02: LDCX20SK8S1521290 read LDCX205K851521290 by both models)
MAX_VEHICLE_AGE = 15


def old_vin(vin: str, year: int) -> str | None:
    """Why a valid VIN read on a form of `year` is doubtful for its model year code
    (`model_year`: ISO 3779 / GB 16735), or None: a code that is no
    year (U, Z, 0) or a model year more than MAX_VEHICLE_AGE years before `year`."""
    made = model_year(vin, year + 1)
    code = vin[9:10]
    if made is None:
        return f"车架号第10位(年份码)“{code}”不是年份码,可能误读,请核对"
    if year - made > MAX_VEHICLE_AGE:
        return (
            f"车架号第10位(年份码)“{code}”表示 {made} 年款,车龄超过 {MAX_VEHICLE_AGE} 年"
            "不合常理,可能是易混的字母或数字,请核对"
        )
    return None


def check_digit(vin: str) -> str:
    """The character position 9 must hold for the other sixteen ('X' stands for 10)."""
    total = sum(_TRANSLITERATION[c] * w for c, w in zip(vin.upper(), _WEIGHTS, strict=True))
    r = total % 11
    return "X" if r == 10 else str(r)


def vin_problem(vin: str) -> str | None:
    """Why `vin` is not a valid VIN (Chinese, for the user), or None when it is."""
    if len(vin) != 17:
        return f"车架号应为17位,实际{len(vin)}位"
    bad = sorted({c for c in vin if c not in VIN_ALPHABET})
    if bad:
        if any(c in "IOQ" for c in bad):
            return f"车架号不能含字母 I、O、Q(发现 {''.join(bad)})"
        return f"车架号含非法字符 {''.join(bad)}"
    expected = check_digit(vin)
    if vin[8] != expected:
        return f"车架号校验位(第9位)应为 {expected},实际为 {vin[8]}"
    return None


def with_check_digit(vin17: str) -> str:
    """Returns `vin17` with position 9 replaced by its correct check digit (test data, samples)."""
    vin17 = vin17.upper()
    return vin17[:8] + check_digit(vin17) + vin17[9:]


def correct_single_confusion(vin: str) -> str | None:
    """The one VIN that a single OCR confusion away from `vin` validates, if exactly one does."""
    vin = vin.upper()
    if len(vin) != 17:
        return None
    if vin_problem(vin) is None:
        return vin
    found = set()
    for i, c in enumerate(vin):
        alt = OCR_CONFUSIONS.get(c)
        if alt is None:
            continue
        cand = vin[:i] + alt + vin[i + 1 :]
        if vin_problem(cand) is None:
            found.add(cand)
    return found.pop() if len(found) == 1 else None
