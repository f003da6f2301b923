"""和暦 conversion: era boundaries, 元年, ISO beside, JST display of timestamps."""

from __future__ import annotations

import datetime as dt

import pytest

from pia_policy.report import format_date, format_datetime, to_wareki


@pytest.mark.parametrize(
    ("iso", "expected"),
    [
        ("2025-04-01", "令和7年4月1日"),
        ("2019-05-01", "令和元年5月1日"),  # first day of 令和
        ("2019-04-30", "平成31年4月30日"),  # last day of 平成
        ("2020-01-01", "令和2年1月1日"),
        ("1989-01-08", "平成元年1月8日"),  # first day of 平成
        ("1989-01-07", "昭和64年1月7日"),  # last day of 昭和
        ("1990-12-31", "平成2年12月31日"),
        ("2025-11-26", "令和7年11月26日"),
    ],
)
def test_era_boundaries(iso: str, expected: str) -> None:
    assert to_wareki(dt.date.fromisoformat(iso)) == expected


def test_format_date_puts_iso_beside() -> None:
    assert format_date(dt.date(2025, 4, 1)) == "令和7年4月1日 (2025-04-01)"
    assert format_date(dt.datetime(2019, 5, 1, 23, 59)) == "令和元年5月1日 (2019-05-01)"


def test_before_gregorian_adoption_is_iso_only() -> None:
    assert to_wareki(dt.date(1872, 12, 31)) is None
    assert format_date(dt.date(1872, 12, 31)) == "1872-12-31"


def test_timestamps_are_shown_in_jst() -> None:
    # 15:00 UTC is midnight JST the next day: the date changes with the zone.
    assert format_datetime("2025-03-31T15:00:00Z") == "令和7年4月1日 (2025-04-01) 00:00"
    assert format_datetime("2025-03-31T14:59:00+00:00") == "令和7年3月31日 (2025-03-31) 23:59"
    assert format_datetime("2025-04-01T09:30:00+09:00") == "令和7年4月1日 (2025-04-01) 09:30"
    # naive: the engine's UTC (docs/DESIGN.md "Time")
    assert format_datetime("2019-04-30T15:00:00") == "令和元年5月1日 (2019-05-01) 00:00"
    assert format_datetime("2025-04-01") == "令和7年4月1日 (2025-04-01) 00:00"


def test_unreadable_or_missing_timestamp() -> None:
    assert format_datetime(None) == ""
    assert format_datetime("not a time") == "not a time"
