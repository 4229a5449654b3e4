"""Chinese date and time notations: 2026年3月15日, 2026.3.15, 26/3/15, 14时30分 ...

A year is taken as written when it has four digits (`0001` is the year 1, never 2001) and
as 20xx when it has two (`26/3/15` is 2026). Every date and month on these forms must lie
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


def parse_date(text: str) -> date:
    s = text.strip()
    m = _DATE.match(s) or _COMPACT_DATE.match(s)
    if not m:
        raise DateValueError(f"无法识别的日期:{text}(应如 2026年3月15日 或 2026-03-15)")
    y, mo, d = _year(m[1], text), int(m[2]), int(m[3])
    if not 1 <= mo <= 12:
        raise DateValueError(f"日期无效:{text}(月份应为1–12)")
    try:
        return date(y, mo, d)
    except ValueError:
        raise DateValueError(f"日期无效:{text}({y}年{mo}月没有{d}日)") from None


def parse_month(text: str) -> date:
    """Returns the first day of the month."""
    s = text.strip()
    m = _MONTH.match(s)
    if not m:
        raise DateValueError(f"无法识别的年月:{text}(应如 2026年11月 或 2026-11)")
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
