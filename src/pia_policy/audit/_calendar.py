"""Business-day calendar (SPEC §4): jpholiday national holidays, weekends and 12/29–1/3."""

from __future__ import annotations

import datetime as dt

import jpholiday

__all__ = ["BUSINESS_START", "BUSINESS_END", "is_business_day", "calendar_rows"]

#: Business hours in JST (SPEC §4 LOG_GAP).
BUSINESS_START = dt.time(8, 30)
BUSINESS_END = dt.time(17, 15)
_JST = dt.timedelta(hours=9)


def is_business_day(day: dt.date) -> bool:
    """False on weekends, national holidays (incl. 振替休日/国民の休日) and 12/29–1/3."""
    if day.weekday() >= 5:
        return False
    if (day.month == 12 and day.day >= 29) or (day.month == 1 and day.day <= 3):
        return False
    return not jpholiday.is_holiday(day)


def calendar_rows(first: dt.date, last: dt.date) -> list[tuple[dt.date, bool, dt.datetime, dt.datetime]]:
    """One row per JST day in [first, last]: (day, is_business, hours start, hours end) in naive UTC."""
    rows = []
    day = first
    while day <= last:
        start = dt.datetime.combine(day, BUSINESS_START) - _JST
        end = dt.datetime.combine(day, BUSINESS_END) - _JST
        rows.append((day, is_business_day(day), start, end))
        day += dt.timedelta(days=1)
    return rows
