"""LOG_GAP (business-hours gaps, jpholiday calendar) and LOG_SEQUENCE_GAP."""

from __future__ import annotations

import datetime as dt

import pytest
from rules_world import World

from pia_policy.audit import is_business_day


def _gaps(world: World, **thresholds: object) -> list[tuple[str | None, str | None]]:
    return [(f.first_ts, f.last_ts) for f in world.run(**thresholds) if f.rule == "LOG_GAP"]


def _gap_finding(world: World, system: str = "fukushi"):
    return [f for f in world.run() if f.rule == "LOG_GAP" and f.system == system]


def _two(world: World, a: str, b: str, system: str = "fukushi") -> None:
    world.event(a, "S1", system=system)
    world.event(b, "S1", system=system)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("2025-05-01T09:00:00", "2025-05-01T10:00:00", False),  # exactly 60 minutes
        ("2025-05-01T09:00:00", "2025-05-01T10:01:00", True),   # 61 minutes
        ("2025-05-01T07:00:00", "2025-05-01T09:30:00", False),  # 60 min inside business hours (from 08:30)
        ("2025-05-01T07:00:00", "2025-05-01T09:31:00", True),
        ("2025-05-01T16:00:00", "2025-05-01T23:00:00", True),   # 75 min until 17:15
        ("2025-05-01T16:15:00", "2025-05-01T23:00:00", False),  # exactly 60 min until 17:15
        ("2025-05-01T17:00:00", "2025-05-02T08:50:00", False),  # 15 + 20 minutes over the night
        ("2025-05-09T16:45:00", "2025-05-12T09:00:00", False),  # Fri 30 + Mon 30 = 60 (weekend skipped)
        ("2025-05-09T16:45:00", "2025-05-12T09:01:00", True),   # 61
        ("2025-05-02T17:00:00", "2025-05-07T08:40:00", False),  # Golden Week: 5/5 祝日, 5/6 振替休日
        ("2025-05-06T09:00:00", "2025-05-06T12:00:00", False),  # a holiday (振替休日)
        ("2025-05-07T09:00:00", "2025-05-07T12:00:00", True),   # the next business day
        ("2025-09-19T17:00:00", "2025-09-24T08:40:00", True),   # 9/23 祝日, but Mon 9/22 is a business day
        ("2025-09-22T17:00:00", "2025-09-24T08:40:00", False),  # 15 + (9/23 祝日) + 10 minutes
    ],
)
def test_log_gap_business_hours(world: World, a: str, b: str, expected: bool) -> None:
    world.account("S1")
    world.as_of = "2025-10-01"
    _two(world, a, b)
    assert bool(_gaps(world)) is expected


def test_log_gap_year_end_holidays(policy) -> None:
    world = World(policy, as_of="2026-01-10")
    world.account("S1")
    _two(world, "2025-12-26T17:00:00", "2026-01-05T08:40:00")  # 12/29–1/3 closed, weekends too
    assert not _gaps(world)
    assert not is_business_day(dt.date(2025, 12, 29)) and not is_business_day(dt.date(2026, 1, 2))
    assert is_business_day(dt.date(2025, 12, 26)) and is_business_day(dt.date(2026, 1, 5))


def test_national_holiday_calendar() -> None:
    assert not is_business_day(dt.date(2025, 5, 6))    # 振替休日
    assert not is_business_day(dt.date(2026, 9, 22))   # 国民の休日 (between 敬老の日 and 秋分の日)
    assert not is_business_day(dt.date(2025, 5, 10))   # Saturday
    assert is_business_day(dt.date(2025, 5, 7))


def test_log_gap_per_system_and_reported_span(world: World) -> None:
    world.account("S1")
    world.event("2025-05-01T09:00:00", "S1", system="fukushi")
    world.event("2025-05-01T09:30:00", "S1", system="hyojun")
    late = world.event("2025-05-01T10:30:00", "S1", system="fukushi")
    world.event("2025-05-01T10:00:00", "S1", system="hyojun")
    (f,) = _gap_finding(world, "fukushi")
    assert (f.first_ts, f.last_ts) == ("2025-05-01T09:00:00+09:00", "2025-05-01T10:30:00+09:00")
    assert f.account_id is None and f.person_id is None and f.event_count == 1
    assert [e.event_id for e in f.evidence] == [late]
    assert not _gap_finding(world, "hyojun")


def test_log_gap_threshold_is_configurable(world: World) -> None:
    world.account("S1")
    _two(world, "2025-05-01T09:00:00", "2025-05-01T09:40:00")
    assert not _gaps(world)
    assert _gaps(world, gap_minutes=30)


def _seq_findings(world: World):
    return {f.system: f for f in world.run() if f.rule == "LOG_SEQUENCE_GAP"}


def test_log_sequence_complete_is_not_flagged(world: World) -> None:
    world.account("S1")
    for i, s in enumerate((5, 6, 7, 8)):
        world.event(f"2025-05-01T09:0{i}:00", "S1", seq=s)
    world.event("2025-05-01T09:05:00", "S1")  # no seq: not judged
    assert not _seq_findings(world)


def test_log_sequence_missing_and_repeated(world: World) -> None:
    world.account("S1")
    world.event("2025-05-01T09:00:00", "S1", seq=1)
    world.event("2025-05-01T09:01:00", "S1", seq=2)
    after_hole = world.event("2025-05-01T09:02:00", "S1", seq=5)     # 3 and 4 missing
    world.event("2025-05-01T09:00:00", "S1", seq=1, system="hyojun")
    repeated = world.event("2025-05-01T09:01:00", "S1", seq=1, system="hyojun")
    world.event("2025-05-01T09:02:00", "S1", seq=2, system="hyojun")
    got = _seq_findings(world)
    assert got["fukushi"].event_count == 2 and [e.event_id for e in got["fukushi"].evidence] == [after_hole]
    assert got["hyojun"].event_count == 1 and [e.event_id for e in got["hyojun"].evidence] == [repeated]


def test_log_sequence_systems_are_independent(world: World) -> None:
    world.account("S1")
    world.event("2025-05-01T09:00:00", "S1", seq=1, system="fukushi")
    world.event("2025-05-01T09:01:00", "S1", seq=2, system="hyojun")
    world.event("2025-05-01T09:02:00", "S1", seq=2, system="fukushi")
    world.event("2025-05-01T09:03:00", "S1", seq=3, system="hyojun")
    assert not _seq_findings(world)


# --- issue 16 item 4: seq spans the whole BIGINT range (a difference does not fit in a BIGINT) ------------

def test_log_sequence_extreme_numbers_do_not_overflow(world: World) -> None:
    world.account("S1")
    low = -9223372036854775808
    world.event("2025-05-01T09:00:00", "S1", seq=low)
    after = world.event("2025-05-01T09:01:00", "S1", seq=5)
    world.event("2025-05-01T09:00:00", "S1", seq=low + 1, system="hyojun")  # near miss: consecutive extremes
    world.event("2025-05-01T09:01:00", "S1", seq=low + 2, system="hyojun")
    world.event("2025-05-01T09:00:00", "S1", seq=9223372036854775806, system="gyomu_kyotsu")
    world.event("2025-05-01T09:01:00", "S1", seq=9223372036854775807, system="gyomu_kyotsu")
    got = _seq_findings(world)
    assert set(got) == {"fukushi"}
    # 2^63 + 4 numbers are missing: the count is capped at the largest BIGINT
    assert got["fukushi"].event_count == 9223372036854775807
    assert [e.event_id for e in got["fukushi"].evidence] == [after]


def test_log_sequence_gap_across_zero_counts_exactly(world: World) -> None:
    world.account("S1")
    world.event("2025-05-01T09:00:00", "S1", seq=-3)
    after = world.event("2025-05-01T09:01:00", "S1", seq=4)  # -2 .. 3 missing: 6
    got = _seq_findings(world)
    assert got["fukushi"].event_count == 6 and [e.event_id for e in got["fukushi"].evidence] == [after]
