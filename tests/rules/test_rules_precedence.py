"""SPEC §4 "one event, one event-level finding" and the aggregation of findings (SPEC §5)."""

from __future__ import annotations

import hashlib

from rules_world import HOLDER, World, flagged

from pia_policy.rules import PRECEDENCE


def _rules_of(findings, event_id: str) -> set[str]:
    return {f.rule for f in findings for e in f.evidence if e.event_id == event_id}


def test_unknown_account_wins_over_everything(world: World) -> None:
    world.terminal("T1", HOLDER)
    e = world.event("2025-05-01T10:00", "GHOST", "export", resource="kojin_bango", affair=None, terminal_id="T-X")
    rules = _rules_of(world.run(), e)
    assert rules == {"UNKNOWN_ACCOUNT", "TERMINAL_NOT_AUTHORIZED"}  # terminal is judged independently


def test_revocation_before_departure_and_policy(world: World) -> None:
    world.account("A1", person_id="P1", revoked_at="2025-04-01")
    world.personnel("P1", "transfer", "2025-04-01", HOLDER, "保護課")
    e = world.event("2025-05-01T10:00", "A1", "update", resource="kojin_bango", affair="kouki-02")
    assert _rules_of(world.run(), e) == {"ACCESS_AFTER_REVOCATION"}


def test_departure_before_contractor_and_policy(world: World) -> None:
    world.account("C1", person_id="P1", employment="contractor")
    world.personnel("P1", "contract_end", "2025-04-01", HOLDER)
    e = world.event("2025-05-01T10:00", "C1", "update", resource="kihon_joho", affair="kouki-01")
    assert _rules_of(world.run(), e) == {"ACCESS_AFTER_DEPARTURE"}


def test_contractor_before_my_number(world: World) -> None:
    world.account("C1", employment="contractor")
    e = world.event("2025-05-01T10:00", "C1", resource="kojin_bango", affair="kouki-01")
    assert _rules_of(world.run(), e) == {"CONTRACTOR_WITHOUT_APPROVAL"}


def test_my_number_without_permission_before_outside_affair(world: World) -> None:
    world.account("S1")
    e = world.event("2025-05-01T10:00", "S1", resource="kojin_bango", affair="kouki-02")
    assert _rules_of(world.run(), e) == {"MY_NUMBER_WITHOUT_PERMISSION"}


def test_event_level_and_independent_rules_both_report(world: World) -> None:
    world.account("S1", revoked_at="2025-04-01")
    e = world.event("2025-05-01T10:00", "S1", terminal_id="T-UNKNOWN")
    assert _rules_of(world.run(), e) == {"ACCESS_AFTER_REVOCATION", "TERMINAL_NOT_AUTHORIZED"}


def test_precedence_is_the_spec_order() -> None:
    assert PRECEDENCE[:3] == ("UNKNOWN_ACCOUNT", "ACCESS_AFTER_REVOCATION", "ACCESS_AFTER_DEPARTURE")
    assert PRECEDENCE[-1] == "ACCESS_DENIED_BY_POLICY" and len(PRECEDENCE) == 11


def test_aggregation_one_finding_per_rule_system_account(world: World) -> None:
    world.account("A1", revoked_at="2025-04-01")
    world.account("A1", system="hyojun", revoked_at="2025-04-01")
    ids = []
    for i in range(25):  # written in reverse time order: evidence follows (file, line), not time
        ids.append(world.event(f"2025-05-01T10:{59 - i:02d}:00", "A1", file="events/b.jsonl"))
    early = world.event("2025-05-01T08:00:00", "A1", file="events/c.jsonl")
    other = world.event("2025-05-01T10:00:00", "A1", system="hyojun")
    findings = [f for f in world.run() if f.rule == "ACCESS_AFTER_REVOCATION"]
    assert [(f.system, f.account_id) for f in findings] == [("fukushi", "A1"), ("hyojun", "A1")]
    f = findings[0]
    assert f.event_count == 26
    assert f.first_ts == "2025-05-01T08:00:00+09:00" and f.last_ts == "2025-05-01T10:59:00+09:00"
    assert [e.event_id for e in f.evidence] == ids[:20]
    assert early not in [e.event_id for e in f.evidence]
    assert f.finding_id == hashlib.sha256(b"ACCESS_AFTER_REVOCATION|fukushi|A1").hexdigest()[:16]
    assert f.person_id == "P-A1" and f.department == HOLDER
    assert f.basis and f.action and f.severity == "critical"
    assert findings[1].evidence[0].event_id == other


def test_findings_sorted_by_severity_rule_system_account(world: World) -> None:
    world.account("B", revoked_at="2025-04-01")
    world.account("A", revoked_at="2025-04-01")
    world.account("Z", permission="read")
    world.event("2025-05-01T10:00", "B")
    world.event("2025-05-01T10:00", "A")
    world.event("2025-05-01T10:01", "Q")
    world.event("2025-05-01T10:02", "Z", "update")
    findings = world.run()
    order = {"critical": 0, "high": 1, "medium": 2, "low": 3}
    keys = [(order[f.severity], f.rule, f.system or "", f.account_id or "") for f in findings]
    assert keys == sorted(keys)
    assert [f.account_id for f in findings[:3]] == ["A", "B", "Q"]  # critical: AAR A, AAR B, UNKNOWN Q
    assert flagged(findings, "ACCESS_DENIED_BY_POLICY")


def test_exact_key_join_gives_the_same_findings(world: World, monkeypatch) -> None:
    import pia_policy.audit._engine as engine

    world.account("S1")
    world.account("K1", department="保護課", roles=())
    world.event("2025-05-01T10:00", "S1", resource="kojin_bango")
    world.event("2025-05-01T10:01", "S1", "update")
    world.event("2025-05-01T10:02", "K1", resource="kihon_joho", affair="hitorioya_iryohi")
    world.event("2025-05-01T10:03", "K1", resource="kihon_joho", affair="gaikokujin_hogo")
    fast = world.run()
    monkeypatch.setattr(engine, "_EXACT_JOIN", True)
    assert world.run() == fast
    assert {"MY_NUMBER_WITHOUT_PERMISSION", "ACCESS_DENIED_BY_POLICY", "TRANSFER_NOT_PERMITTED"} <= {
        f.rule for f in fast}
