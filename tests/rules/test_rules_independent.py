"""TERMINAL_NOT_AUTHORIZED, LONG_SESSION and BULK_ACCESS (judged independently of the precedence)."""

from __future__ import annotations

from rules_world import HOLDER, World, flagged


def test_terminal_registered_in_business_departments_only(world: World) -> None:
    world.account("S1")
    world.terminal("T-HOLDER", HOLDER)
    world.terminal("T-RECIP", "中央区健康課")
    world.terminal("T-OTHER", "総務課")
    ok_holder = world.event("2025-05-01T10:00", "S1", terminal_id="T-HOLDER")
    ok_recipient = world.event("2025-05-01T10:01", "S1", terminal_id="T-RECIP")
    other_dept = world.event("2025-05-01T10:02", "S1", terminal_id="T-OTHER")
    unregistered = world.event("2025-05-01T10:03", "S1", terminal_id="T-NOPE")
    no_terminal = world.event("2025-05-01T10:04", "S1")
    got = flagged(world.run(), "TERMINAL_NOT_AUTHORIZED")
    assert got == {other_dept, unregistered}
    assert not {ok_holder, ok_recipient, no_terminal} & got


def test_terminal_rule_skipped_without_terminals_file(world: World) -> None:
    world.account("S1")
    world.event("2025-05-01T10:03", "S1", terminal_id="T-NOPE")
    world.present.discard("terminals.csv")
    assert not flagged(world.run(), "TERMINAL_NOT_AUTHORIZED")
    assert {"rule": "TERMINAL_NOT_AUTHORIZED", "missing": "terminals.csv"} in world.last.rules_skipped


def test_long_session_more_than_ten_hours(world: World) -> None:
    world.account("S1")
    exactly = world.event("2025-05-01T08:00:00", "S1", "login", session_id="a")
    world.event("2025-05-01T18:00:00", "S1", "logout", session_id="a")
    longer = world.event("2025-05-02T08:00:00", "S1", "login", session_id="b")
    world.event("2025-05-02T18:00:01", "S1", "logout", session_id="b")
    other_logout = world.event("2025-05-03T08:00:00", "S1", "login", session_id="c")
    world.event("2025-05-03T09:00:00", "S1", "logout", session_id="d")  # another session's logout
    got = flagged(world.run(), "LONG_SESSION")
    assert longer in got and other_logout in got
    assert exactly not in got


def test_open_session_runs_until_the_audit_time(world: World) -> None:
    world.account("S1")
    # audit time: 2025-06-02 00:00 JST
    exactly = world.event("2025-06-01T14:00:00", "S1", "login", session_id="a")
    longer = world.event("2025-06-01T13:59:59", "S1", "login", session_id="b")
    got = flagged(world.run(), "LONG_SESSION")
    assert got == {longer}
    assert exactly not in got


def test_long_session_threshold_is_configurable(world: World) -> None:
    world.account("S1")
    login = world.event("2025-05-01T08:00:00", "S1", "login", session_id="a")
    world.event("2025-05-01T10:30:00", "S1", "logout", session_id="a")
    assert not flagged(world.run(), "LONG_SESSION")
    assert flagged(world.run(session_hours=2), "LONG_SESSION") == {login}


def _touch(world: World, account: str, day: str, n: int, start: int = 0) -> list[str]:
    return [
        world.event(f"{day}T09:{(i // 60) % 60:02d}:{i % 60:02d}", account, subject_id=f"S{start + i:05d}")
        for i in range(n)
    ]


def test_bulk_access_more_than_500_subjects_a_day(world: World) -> None:
    world.account("A500")
    world.account("A501")
    _touch(world, "A500", "2025-05-01", 500)
    world.event("2025-05-01T11:00", "A500", subject_id="S00001")  # repeat: still 500 distinct
    bulk = _touch(world, "A501", "2025-05-01", 501)
    findings = world.run()
    got = flagged(findings, "BULK_ACCESS")
    assert got and got <= set(bulk)
    (finding,) = [f for f in findings if f.rule == "BULK_ACCESS"]
    assert finding.account_id == "A501" and finding.event_count == 501 and len(finding.evidence) == 20


def test_bulk_access_counts_per_jst_day(world: World) -> None:
    world.account("A1")
    # 300 subjects late on 1 May JST and 201 early on 2 May JST: 501 in one UTC day, not in one JST day.
    for i in range(300):
        world.event(f"2025-05-01T23:{i // 60 % 60:02d}:{i % 60:02d}", "A1", subject_id=f"X{i:05d}")
    for i in range(201):
        world.event(f"2025-05-02T00:{i // 60 % 60:02d}:{i % 60:02d}", "A1", subject_id=f"Y{i:05d}")
    assert not flagged(world.run(), "BULK_ACCESS")
    assert flagged(world.run(bulk_subjects=299), "BULK_ACCESS")


# --- issue 16 item 8: logins and logouts sharing a session_id pair in one sorted pass ---------------------

def test_long_session_pairs_each_login_with_the_next_logout_of_a_shared_session_id(world: World) -> None:
    world.account("S1")
    short = world.event("2025-05-01T08:00:00", "S1", "login", session_id="s")
    world.event("2025-05-01T09:00:00", "S1", "logout", session_id="s")
    long = world.event("2025-05-02T08:00:00", "S1", "login", session_id="s")
    world.event("2025-05-02T18:00:01", "S1", "logout", session_id="s")
    exactly = world.event("2025-05-03T08:00:00", "S1", "login", session_id="s")
    world.event("2025-05-03T18:00:00", "S1", "logout", session_id="s")
    same_instant = world.event("2025-05-04T08:00:00", "S1", "login", session_id="s")
    world.event("2025-05-04T08:00:00", "S1", "logout", session_id="s")  # a logout at the login's instant ends it
    last_open = world.event("2025-06-01T13:59:59", "S1", "login", session_id="s")  # no later logout
    no_id = world.event("2025-05-05T08:00:00", "S1", "login")  # without session_id: never pairs
    world.event("2025-05-05T09:00:00", "S1", "logout")
    got = flagged(world.run(), "LONG_SESSION")
    assert got == {long, last_open, no_id}
    assert not {short, exactly, same_instant} & got


def test_long_session_many_pairs_of_one_session_id(world: World) -> None:
    # 2,000 sequential pairs share one session_id; every 100th lasts 10 h 1 s, the others 1 h (and the
    # 50th of each hundred exactly 10 h). The self-join was quadratic in such pairs.
    import datetime as dt

    world.account("S1")
    expected = set()
    start = dt.datetime(2022, 8, 1, 8)
    for i in range(2000):
        login_at = start + dt.timedelta(hours=12 * i)
        length = dt.timedelta(hours=10, seconds=1) if i % 100 == 0 else dt.timedelta(
            hours=10 if i % 100 == 50 else 1)
        login = world.event(login_at.isoformat(), "S1", "login", session_id="shared")
        world.event((login_at + length).isoformat(), "S1", "logout", session_id="shared")
        if i % 100 == 0:
            expected.add(login)
    assert flagged(world.run(), "LONG_SESSION") == expected
