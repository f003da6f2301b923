"""ACCOUNT_NOT_REVOKED, ACCOUNT_DORMANT and ACCOUNT_ISSUER_INVALID (ledger rows, audit time 2025-06-02 00:00 JST)."""

from __future__ import annotations

import pytest
from rules_world import HOLDER, World, accounts_of


@pytest.mark.parametrize(("effective", "expected"), [("2025-05-26", False), ("2025-05-25", True)])
def test_account_not_revoked_seven_days_grace(world: World, effective: str, expected: bool) -> None:
    # 2025-05-26 → 2025-06-02 is 7 days (not flagged); 2025-05-25 is 8 days (flagged).
    world.account("A1", person_id="P1")
    world.personnel("P1", "transfer", effective, HOLDER, "保護課")
    findings = world.run()
    assert ("A1" in accounts_of(findings, "ACCOUNT_NOT_REVOKED")) is expected
    f = [x for x in findings if x.rule == "ACCOUNT_NOT_REVOKED"]
    if expected:
        assert f[0].event_count == 0 and f[0].first_ts is None and f[0].evidence == []


def test_account_not_revoked_near_misses(world: World) -> None:
    world.account("LATE", person_id="P1", revoked_at="2025-05-30")      # revoked late, but by the audit time
    world.account("ATAUDIT", person_id="P2", revoked_at="2025-06-02")   # revoked exactly at the audit time
    world.account("FUTURE", person_id="P3", revoked_at="2025-06-10")    # still active at the audit time
    world.account("BACK", person_id="P4")                                # came back
    world.account("OTHER", person_id="P5", department="保護課")          # left a different department
    world.account("EXPIRED", person_id="P6", expires_at="2025-05-01")
    for p in ("P1", "P2", "P3", "P4", "P5", "P6"):
        world.personnel(p, "transfer", "2025-04-01", HOLDER, "総務課")
    world.personnel("P4", "transfer", "2025-04-15", "総務課", HOLDER)
    got = accounts_of(world.run(), "ACCOUNT_NOT_REVOKED")
    assert got == {"FUTURE"}


def test_account_not_revoked_grace_is_configurable(world: World) -> None:
    world.account("A1", person_id="P1")
    world.personnel("P1", "retire", "2025-05-30", HOLDER)
    assert not accounts_of(world.run(), "ACCOUNT_NOT_REVOKED")
    assert accounts_of(world.run(revocation_grace_days=2), "ACCOUNT_NOT_REVOKED") == {"A1"}


def test_account_dormant_ninety_days(world: World) -> None:
    # audit time 2025-06-02 00:00 JST; 90 days before it is 2025-03-04 00:00 JST.
    world.account("EXACT", last_login_at="2025-03-04T00:00:00")
    world.account("OLD", last_login_at="2025-03-03T23:59:59")
    world.account("REVIVED", last_login_at="2025-01-01T09:00:00")
    world.event("2025-05-20T09:00", "REVIVED", "login", session_id="s1")
    world.account("NEVER_OLD", issued_at="2025-03-03")
    world.account("NEVER_NEW", issued_at="2025-03-04")
    world.account("GONE", last_login_at="2024-01-01T09:00:00", revoked_at="2025-05-01")
    got = accounts_of(world.run(), "ACCOUNT_DORMANT")
    assert got == {"OLD", "NEVER_OLD"}


def test_account_dormant_login_events_not_other_actions(world: World) -> None:
    world.account("A1", last_login_at="2025-01-01T09:00:00")
    world.event("2025-05-20T09:00", "A1", "view")
    assert accounts_of(world.run(), "ACCOUNT_DORMANT") == {"A1"}
    assert not accounts_of(world.run(dormant_days=200), "ACCOUNT_DORMANT")


def test_account_issuer_invalid(world: World) -> None:
    world.officer("fukushi", "system_owner", "P-OWNER", "2024-04-01", "2025-04-01")
    world.officer("hyojun", "info_system_manager", "P-ISM", "2024-04-01")
    world.account("F_OK", system="fukushi", issued_by="P-OWNER", issued_at="2025-03-31")
    world.account("F_LATE", system="fukushi", issued_by="P-OWNER", issued_at="2025-04-01")  # owner out of office
    world.account("F_NOBODY", system="fukushi", issued_by="P-X", issued_at="2025-03-01")
    world.account("F_SELF", system="fukushi", person_id="P-OWNER", issued_by="P-OWNER", issued_at="2025-03-01")
    world.account("H_OK", system="hyojun", issued_by="P-X", approved_by="P-ISM")
    world.account("H_BAD", system="hyojun", issued_by="P-X", approved_by="P-X2")
    world.account("H_SELF", system="hyojun", person_id="P-ISM", issued_by="P-X", approved_by="P-ISM")
    world.account("G_NR_OK", system="gyomu_kyotsu", employment="non_regular", request_ref="REQ-1", issued_by="P-X")
    world.account("G_NR_BAD", system="gyomu_kyotsu", employment="non_regular", issued_by="P-X")
    world.account("G_REG", system="gyomu_kyotsu", issued_by="P-X")
    world.account("G_SELF", system="gyomu_kyotsu", person_id="P-Y", issued_by="P-Y")
    world.account("REVOKED_BAD", system="fukushi", issued_by="P-X", revoked_at="2025-02-01")
    got = accounts_of(world.run(), "ACCOUNT_ISSUER_INVALID")
    assert got == {"F_LATE", "F_NOBODY", "F_SELF", "H_BAD", "H_SELF", "G_NR_BAD", "G_SELF", "REVOKED_BAD"}


def test_account_issuer_invalid_skipped_without_officers(world: World) -> None:
    world.account("F_NOBODY", system="fukushi", issued_by="P-X")
    world.present.discard("officers.csv")
    assert not accounts_of(world.run(), "ACCOUNT_ISSUER_INVALID")
    assert {"rule": "ACCOUNT_ISSUER_INVALID", "missing": "officers.csv"} in world.last.rules_skipped
