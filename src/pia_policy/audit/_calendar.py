"""Business-day calendar (SPEC §4): jpholiday national holidays, weekends and 12/29–1/3."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import jpholiday
import pyarrow as pa

from ..models import JST_OFFSET

__all__ = [
    "BUSINESS_START",
    "BUSINESS_END",
    "HOLIDAY_YEARS",
    "is_business_day",
    "calendar_rows",
    "calendar_table",
]

#: Business hours in JST (SPEC §4 LOG_GAP).
BUSINESS_START = dt.time(8, 30)
BUSINESS_END = dt.time(17, 15)

#: Years whose national holidays are looked up. 国民の祝日に関する法律 took effect in 1948, so
#: earlier years have none; years after 2100 (a clock gone wrong, not a business day anyone
#: worked) are judged by weekends and 12/29–1/3 alone, which keeps a stray far-future timestamp
#: from costing minutes of holiday computation.
HOLIDAY_YEARS = range(1948, 2101)


@lru_cache(maxsize=None)
def _holidays(year: int) -> frozenset[dt.date]:
    if year not in HOLIDAY_YEARS:
        return frozenset()
    return frozenset(day for day, _name in jpholiday.year_holidays(year))


def is_business_day(day: dt.date) -> bool:
    """False on weekends, national holidays (incl. 振替休日/国民の休日) and 12/29–1/3."""
    if day.weekday() >= 5:
        return False
    if (day.month == 12 and day.day >= 29) or (day.month == 1 and day.day <= 3):
        return False
    return day not in _holidays(day.year)


def calendar_rows(first: dt.date, last: dt.date) -> list[tuple[dt.date, bool, dt.datetime, dt.datetime]]:
    """One row per JST day in [first, last]: (day, is_business, hours start, hours end) in naive UTC."""
    rows = []
    day = first
    one = dt.timedelta(days=1)
    while day <= last:
        start = dt.datetime.combine(day, BUSINESS_START) - JST_OFFSET
        end = dt.datetime.combine(day, BUSINESS_END) - JST_OFFSET
        rows.append((day, is_business_day(day), start, end))
        day += one
    return rows


def calendar_table(first: dt.date, last: dt.date) -> pa.Table:
    """``calendar_rows`` as an Arrow table (columns day, is_business, bh_start, bh_end)."""
    rows = calendar_rows(first, last)
    return pa.table(
        {
            "day": pa.array([r[0] for r in rows], pa.date32()),
            "is_business": pa.array([r[1] for r in rows], pa.bool_()),
            "bh_start": pa.array([r[2] for r in rows], pa.timestamp("us")),
            "bh_end": pa.array([r[3] for r in rows], pa.timestamp("us")),
        }
    )
