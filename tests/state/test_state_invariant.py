"""SPEC §8 invariant: nights N1..Nk with one state give on Nk the findings of one audit without
state over all the nights' events at --as-of Nk (finding_id, rule, severity, system, account_id,
first_ts, last_ts, event_count)."""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from state_world import START, base_events, keys, run_all, run_nights, ts_of

from pia_policy.models import JST

EVENTS = base_events()
DAYS = [dt.date(2025, 3, d) for d in range(21, 27)]


@st.composite
def nights(draw: Any) -> list[tuple[str, list[dict[str, Any]]]]:
    """Cut instants on distinct days (each night's --as-of is its cut's JST day: events of the day
    after 00:00 are deferred), a last night after the cuts, and re-sent earlier events."""
    days = sorted(draw(st.lists(st.sampled_from(DAYS), min_size=1, max_size=4, unique=True)))
    cuts = [dt.datetime.combine(d, dt.time(), JST) + dt.timedelta(minutes=draw(st.integers(0, 24 * 60 - 1)))
            for d in days]
    last = days[-1] + dt.timedelta(days=draw(st.integers(1, 3)))
    out: list[tuple[str, list[dict[str, Any]]]] = []
    lo = START - dt.timedelta(days=1)
    for cut, day in zip(cuts + [None], days + [last]):
        chunk = [e for e in EVENTS if lo <= ts_of(e) and (cut is None or ts_of(e) < cut)]
        if out and draw(st.booleans()):  # a log shipped twice: an earlier night's event again
            earlier = [e for _, evs in out for e in evs]
            if earlier:
                chunk = chunk + [draw(st.sampled_from(earlier))]
        out.append((day.isoformat(), chunk))
        lo = cut  # type: ignore[assignment]
    return out


def _check(tmp: Path, split: list[tuple[str, list[dict[str, Any]]]], state: str) -> None:
    results = run_nights(tmp, split, state)
    whole = run_all(tmp, split)
    assert keys(results[-1].findings) == keys(whole.findings)
    last = results[-1].summary["counts"]
    assert last["lines_read"] == (last["events_evaluated"] + last["duplicates"] + last["lines_rejected"]
                                  + last["deferred"])


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(split=nights())
def test_invariant_random_cuts(split: list[tuple[str, list[dict[str, Any]]]]) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="pia-state-inv-"))
    try:
        _check(tmp, split, str(tmp / "state.db"))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _cut(days: list[tuple[int, int]], last: int) -> list[tuple[str, list[dict[str, Any]]]]:
    """Nights cut at (day, hour) JST on March 2025, then a last night with --as-of March ``last``."""
    out, lo = [], START - dt.timedelta(days=1)
    for d, h in days + [(last, -1)]:
        cut = None if h < 0 else dt.datetime(2025, 3, d, h, tzinfo=JST)
        out.append((dt.date(2025, 3, d).isoformat(),
                    [e for e in EVENTS if lo <= ts_of(e) and (cut is None or ts_of(e) < cut)]))
        lo = cut  # type: ignore[assignment]
    return out


@pytest.mark.parametrize("cuts,last", [
    ([(21, 22), (22, 12)], 27),   # mid-session (the 12 h session across midnight of the 21st)
    ([(25, 14)], 26),             # mid-bulk-day and mid-gap
    ([(23, 12), (24, 9)], 27),    # across the 2025-03-24 version change and the personnel transfer
    ([(22, 0), (23, 0), (24, 0), (25, 0), (26, 0)], 27),  # one night per day, cut at midnight
])
def test_invariant_named_cuts(tmp_path: Path, cuts: list[tuple[int, int]], last: int) -> None:
    _check(tmp_path, _cut(cuts, last), str(tmp_path / "state.db"))


def test_the_world_has_every_kind_of_finding(tmp_path: Path) -> None:
    """The invariant is not vacuous: the stateless run over the world finds what the cuts split."""
    whole = run_all(tmp_path, _cut([], 27))
    rules = {f.rule for f in whole.findings}
    assert {"LONG_SESSION", "BULK_ACCESS", "LOG_GAP", "LOG_SEQUENCE_GAP", "UNKNOWN_ACCOUNT",
            "TRANSFER_NOT_PERMITTED", "ACCESS_AFTER_DEPARTURE", "ACCESS_AFTER_REVOCATION",
            "ACCOUNT_DORMANT"} <= rules, rules
