"""How a record listing's arguments are read, the same in every store: the order and the
paging checked, date bounds as instants, the free text as casefolded terms."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from datetime import time as day_start

from .interface import DateBound

ORDERS = ("newest", "least_confident")


def check_listing(order: str, offset: int, limit: int) -> None:
    """A Chinese ValueError for an order no store knows or a negative offset or limit."""
    if order not in ORDERS:
        raise ValueError(f"不支持的排序:{order}")
    if offset < 0 or limit < 0:
        raise ValueError("分页参数不能为负数")


def date_bound(value: DateBound | None, *, end: bool) -> tuple[datetime, bool] | None:
    """A date filter as an instant (UTC) and whether it is inclusive; None for no bound.

    A date is a whole day on this machine's clock (date_to includes that day); a datetime
    is an instant (naive = UTC); strings are ISO dates or datetimes (a Chinese ValueError
    if not).
    """
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        try:
            value = date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"日期格式不对:{text!r}(应为 2026-01-05 或 ISO 时间)") from None
    if isinstance(value, datetime):
        instant = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return instant, True
    day = value + timedelta(days=1) if end else value
    return datetime.combine(day, day_start.min).astimezone().astimezone(UTC), not end


def search_terms(text: str | None) -> list[str]:
    """The free-text filter's terms: each must be a substring of the record's casefolded
    search text."""
    return text.casefold().split() if text else []
