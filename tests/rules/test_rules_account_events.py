"""UNKNOWN_ACCOUNT, ACCESS_AFTER_REVOCATION, ACCESS_AFTER_DEPARTURE, CONTRACTOR_WITHOUT_APPROVAL."""

from __future__ import annotations

from rules_world import HOLDER, World, flagged


def test_unknown_account_violation_near_miss_and_other_system(world: World) -> None:
    world.account("A1", system="fukushi")
    known = world.event("2025-05-01T10:00", "A1", system="fukushi")
    other_system = world.event("2025-05-01T10:05", "A1", system="hyojun")
    unknown = world.event("2025-05-01T10:10", "ZZ9", system="fukushi")
    got = flagged(world.run(), "UNKNOWN_ACCOUNT")
    assert got == {other_system, unknown}
    assert known not in got


def test_access_after_revocation_boundary_is_at_or_after(world: World) -> None:
    world.account("A1", revoked_at="2025-05-10")
    world.account("A2", expires_at="2025-05-10T12:00:00")
    before = world.event("2025-05-09T23:59:59", "A1")
    at = world.event("2025-05-10T00:00:00", "A1")
    after = world.event("2025-05-11T09:00:00", "A1")
    exp_before = world.event("2025-05-10T11:59:59", "A2")
    exp_at = world.event("2025-05-10T12:00:00", "A2")
    got = flagged(world.run(), "ACCESS_AFTER_REVOCATION")
    assert got == {at, after, exp_at}
    assert before not in got and exp_before not in got


def test_access_after_departure_from_midnight_until_return(world: World) -> None:
    world.account("A1", person_id="P1")
    world.personnel("P1", "transfer", "2025-05-01", HOLDER, "保護課")
    world.personnel("P1", "transfer", "2025-05-20", "保護課", HOLDER)
    before = world.event("2025-04-30T23:59:59", "A1")
    at = world.event("2025-05-01T00:00:00", "A1")
    during = world.event("2025-05-19T23:59:59", "A1")
    back = world.event("2025-05-20T00:00:00", "A1")
    got = flagged(world.run(), "ACCESS_AFTER_DEPARTURE")
    assert got == {at, during}
    assert before not in got and back not in got


def test_access_after_departure_other_department_account_not_flagged(world: World) -> None:
    # P1 leaves 保護課, but A1 belongs to the holder department: not a departure for A1.
    world.account("A1", person_id="P1")
    world.personnel("P1", "transfer", "2025-05-01", "保護課", HOLDER)
    e = world.event("2025-05-02T10:00", "A1")
    assert e not in flagged(world.run(), "ACCESS_AFTER_DEPARTURE")


def test_access_after_departure_retire_without_from_department(world: World) -> None:
    world.account("A1", person_id="P1")
    world.personnel("P1", "retire", "2025-05-01")
    e = world.event("2025-05-02T10:00", "A1")
    assert flagged(world.run(), "ACCESS_AFTER_DEPARTURE") == {e}


def test_departure_grace_hours_shift_the_departure_instant(world: World) -> None:
    world.account("A1", person_id="P1")
    world.personnel("P1", "contract_end", "2025-05-01", HOLDER, None)
    early = world.event("2025-05-01T01:59:59", "A1")
    late = world.event("2025-05-01T02:00:00", "A1")
    assert flagged(world.run(), "ACCESS_AFTER_DEPARTURE") == {early, late}
    assert flagged(world.run(departure_grace_hours=2), "ACCESS_AFTER_DEPARTURE") == {late}


def test_contractor_needs_an_approval_window_with_witness(world: World) -> None:
    world.account("C1", employment="contractor")
    world.account("C2", employment="contractor")
    world.account("R1")
    world.approval("C1", "2025-05-01T10:00", "2025-05-01T12:00")
    world.approval("C2", "2025-05-01T10:00", "2025-05-01T12:00", witness=None)
    inside_start = world.event("2025-05-01T10:00:00", "C1")
    inside_end = world.event("2025-05-01T11:59:59", "C1")
    at_to = world.event("2025-05-01T12:00:00", "C1")
    before = world.event("2025-05-01T09:59:59", "C1")
    no_witness = world.event("2025-05-01T11:00:00", "C2")
    regular = world.event("2025-05-01T20:00:00", "R1")
    got = flagged(world.run(), "CONTRACTOR_WITHOUT_APPROVAL")
    assert got == {at_to, before, no_witness}
    assert not {inside_start, inside_end, regular} & got


def test_contractor_rule_skipped_without_approvals_file(world: World) -> None:
    world.account("C1", employment="contractor")
    world.event("2025-05-01T10:00", "C1")
    world.present.discard("approvals.csv")
    findings = world.run()
    assert not flagged(findings, "CONTRACTOR_WITHOUT_APPROVAL")
    assert {"rule": "CONTRACTOR_WITHOUT_APPROVAL", "missing": "approvals.csv"} in world.last.rules_skipped
    assert "CONTRACTOR_WITHOUT_APPROVAL" not in world.last.rules_run
