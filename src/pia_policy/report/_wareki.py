"""Japanese era dates (和暦) with the ISO date beside: 令和7年4月1日 (2025-04-01)."""

from __future__ import annotations

import datetime as dt

from ..models import JST

__all__ = ["ERAS", "JST", "to_wareki", "format_date", "format_datetime", "parse_ts", "to_jst"]

#: (era name, first day), newest first. Dates before 明治6年 (the Gregorian calendar's
#: adoption in Japan, 1873-01-01) have no 和暦 here: they are shown in ISO only.
ERAS: tuple[tuple[str, dt.date], ...] = (
    ("令和", dt.date(2019, 5, 1)),
    ("平成", dt.date(1989, 1, 8)),
    ("昭和", dt.date(1926, 12, 25)),
    ("大正", dt.date(1912, 7, 30)),
    ("明治", dt.date(1868, 1, 25)),
)
_GREGORIAN_FROM = dt.date(1873, 1, 1)


def to_wareki(day: dt.date) -> str | None:
    """The 和暦 of ``day`` (令和7年4月1日; year 1 is 元年), or None before 1873-01-01."""
    if isinstance(day, dt.datetime):
        day = day.date()
    if day < _GREGORIAN_FROM:
        return None
    for name, first in ERAS:
        if day >= first:
            year = day.year - first.year + 1
            year_text = "元" if year == 1 else str(year)
            return f"{name}{year_text}年{day.month}月{day.day}日"
    return None  # pragma: no cover - unreachable after the _GREGORIAN_FROM check


def format_date(day: dt.date) -> str:
    """``令和7年4月1日 (2025-04-01)``; ISO only where no era applies."""
    if isinstance(day, dt.datetime):
        day = day.date()
    era = to_wareki(day)
    return f"{era} ({day.isoformat()})" if era else day.isoformat()


def parse_ts(value: str | dt.datetime | dt.date | None) -> dt.datetime | None:
    """An aware datetime from an ISO string (``Z`` accepted); None for None or unparsable text.

    A time without an offset is the engine's naive UTC (docs/DESIGN.md "Time"); a bare date
    is 00:00 JST of that day (SPEC §4 readings).
    """
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=JST)
    else:
        text = str(value).strip()
        if len(text) == 10:
            try:
                d = dt.date.fromisoformat(text)
            except ValueError:
                return None
            return dt.datetime(d.year, d.month, d.day, tzinfo=JST)
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            parsed = dt.datetime.fromisoformat(text)
        except ValueError:
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.timezone.utc)
    return parsed


def to_jst(value: str | dt.datetime | dt.date | None) -> dt.datetime | None:
    """``parse_ts`` converted to JST."""
    parsed = parse_ts(value)
    return parsed.astimezone(JST) if parsed else None


def format_datetime(value: str | dt.datetime | dt.date | None, *, seconds: bool = False) -> str:
    """``令和7年4月1日 (2025-04-01) 09:30`` in JST; the raw text if it cannot be read; "" for None."""
    if value is None or value == "":
        return ""
    when = to_jst(value)
    if when is None:
        return str(value)
    clock = when.strftime("%H:%M:%S" if seconds else "%H:%M")
    return f"{format_date(when.date())} {clock}"
