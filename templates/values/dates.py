"""Chinese date and time notations: 2026年3月15日, 2026.3.15, 26/3/15, 14时30分 ...

A year is taken as written when it has four digits (`0001` is the year 1, never 2001) and
as 20xx when it has two (`45/3/15` is 2045-03-15). A two-digit year written with `-`, `/`
or `.` is only taken when no other order of the three numbers is a date: `25-03-04` may be
2025年3月4日 (年/月/日, as Chinese writes dates) or 2004年3月25日 (日/月/年, as European
exports and Excel in those locales write them), `03/04/25` also 2025年3月4日 (月/日/年, US
Excel), so such a date is refused and a four-digit year asked for (`ambiguous_date`);
`00/1/1` can only be 2000-01-01, and `26年3月15日` names its year. Every date and month on these forms must lie
in EARLIEST_YEAR–LATEST_YEAR: the oldest date a form holds is a vehicle's purchase date
(a car bought before 1990 is past any warranty, 三包 exists since 2013), the latest a
deadline or validity (有效期至), and two-digit years all fall inside. A year outside is a
slip of the pen or of the keyboard (`0000-01-01`, `9999-12-31`), refused with its reason,
never stored as some other date (OWASP ASVS 4.0 V5.1.4: structured data checked against
its allowed range).
"""

from __future__ import annotations

import calendar
import re
from datetime import date, datetime, time, timedelta, timezone

_SEP = r"\s*[年./\-]\s*"
_SEP2 = r"\s*[月./\-]\s*"
_DATE = re.compile(rf"^(\d{{2}}|\d{{4}}){_SEP}(\d{{1,2}}){_SEP2}(\d{{1,2}})\s*日?$")
_COMPACT_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_MONTH = re.compile(rf"^(\d{{2}}|\d{{4}}){_SEP}(\d{{1,2}})\s*月?$")
_TIME = re.compile(r"^(\d{1,2})\s*[:：时点]\s*(\d{1,2})\s*分?$")


# Users are in China: forms are dated, and reports stamped, in Beijing time whatever the
# server's zone.
CHINA_TIME = timezone(timedelta(hours=8), "UTC+8")


def china_today() -> date:
    return datetime.now(CHINA_TIME).date()


class DateValueError(ValueError):
    """A date, month or time that cannot be read or does not exist; message in Chinese."""


EARLIEST_YEAR = 1990
LATEST_YEAR = 2099


def _year(digits: str, text: str) -> int:
    """The year `digits` (2 or 4 of them) of the date or month `text`: four digits as
    written, two as 20xx; DateValueError if outside EARLIEST_YEAR–LATEST_YEAR."""
    y = int(digits)
    if len(digits) == 2:
        y += 2000
    if not EARLIEST_YEAR <= y <= LATEST_YEAR:
        raise DateValueError(
            f"日期无效:{text}(年份应在 {EARLIEST_YEAR}–{LATEST_YEAR} 年之间,而不是 {y} 年)"
        )
    return y


def _maybe(y: int, mo: int, d: int) -> date | None:
    try:
        return date(2000 + y, mo, d)
    except ValueError:
        return None


def two_digit_readings(first: int, middle: int, last: int) -> list[date]:
    """Every date the numbers of a two-digit-year date may stand for, oldest first:
    年/月/日 (first is the year), 日/月/年 and 月/日/年 (last is the year)."""
    orders = ((first, middle, last), (last, middle, first), (last, first, middle))
    return sorted({d for d in (_maybe(*o) for o in orders) if d is not None})


def ambiguous_date(text: str, readings: list[date]) -> str:
    """The refusal of a two-digit-year date that reads as more than one date (Chinese)."""
    dates = " 或 ".join(chinese_date(d) for d in readings)
    return (
        f"日期有歧义:{text.strip()} 的年份只有两位,可以读作 {dates};"
        "请写四位年份,如 2026-03-15 或 2026年3月15日"
    )


def parse_date(text: str) -> date:
    """A date written 2026年3月15日, 2026-03-15, 2026.3.15, 2026/3/15, 20260315 or with a
    two-digit year (module doc). DateValueError (Chinese) for anything else, a date that
    does not exist, a year out of range, or a two-digit year that reads two ways."""
    s = text.strip()
    m = _DATE.match(s) or _COMPACT_DATE.match(s)
    if not m:
        raise DateValueError(f"无法识别的日期:{text}(应如 2026年3月15日 或 2026-03-15)")
    if len(m[1]) == 2 and "年" not in s:
        readings = two_digit_readings(int(m[1]), int(m[2]), int(m[3]))
        if len(readings) > 1:
            raise DateValueError(ambiguous_date(text, readings))
    y, mo, d = _year(m[1], text), int(m[2]), int(m[3])
    if not 1 <= mo <= 12:
        raise DateValueError(f"日期无效:{text}(月份应为1–12)")
    try:
        return date(y, mo, d)
    except ValueError:
        raise DateValueError(f"日期无效:{text}({y}年{mo}月没有{d}日)") from None


def parse_month(text: str) -> date:
    """Returns the first day of the month. A two-digit year is refused when the other
    order (月/年) is a month too (`03-04`: March 2004 or April 2003)."""
    s = text.strip()
    m = _MONTH.match(s)
    if not m:
        raise DateValueError(f"无法识别的年月:{text}(应如 2026年11月 或 2026-11)")
    first, second = int(m[1]), int(m[2])
    if (
        len(m[1]) == 2
        and "年" not in s
        and first != second
        and min(first, second) >= 1
        and max(first, second) <= 12
    ):
        raise DateValueError(
            f"年月有歧义:{s} 的年份只有两位,可以读作 20{m[1]}年{int(m[2])}月"
            f" 或 20{int(m[2]):02d}年{int(m[1])}月;请写四位年份,如 2026-03"
        )
    y, mo = _year(m[1], text), int(m[2])
    if not 1 <= mo <= 12:
        raise DateValueError(f"年月无效:{text}(月份应为1–12)")
    return date(y, mo, 1)


def month_span(text: str) -> tuple[date, date]:
    """First and last day of a month written 2026-11 or 2026年11月 (DateValueError)."""
    first = parse_month(text)
    return first, first.replace(day=calendar.monthrange(first.year, first.month)[1])


def parse_time(text: str) -> time:
    m = _TIME.match(text.strip())
    if not m:
        raise DateValueError(f"无法识别的时间:{text}(应如 14:30 或 14时30分)")
    h, mi = int(m[1]), int(m[2])
    if h > 23 or mi > 59:
        raise DateValueError(f"时间无效:{text}")
    return time(h, mi)


def parse_datetime(text: str) -> datetime:
    s = text.strip()
    m = re.match(r"^(.*?日|\S+)\s*(\d{1,2}\s*[:：时点]\s*\d{1,2}\s*分?)$", s)
    if not m:
        raise DateValueError(f"无法识别的日期时间:{text}(应如 2026年3月15日 14时30分)")
    return datetime.combine(parse_date(m[1]), parse_time(m[2]))


def chinese_date(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def chinese_month(d: date) -> str:
    return f"{d.year}年{d.month}月"


def chinese_datetime(dt: datetime) -> str:
    return f"{chinese_date(dt.date())} {chinese_time(dt.time())}"


def chinese_time(t: time) -> str:
    return f"{t.hour}时{t.minute:02d}分"
