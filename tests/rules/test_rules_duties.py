"""The duties of the source that each need an optional input: PLEDGE_MISSING (誓約書),
TRANSFER_WITHOUT_CONSULTATION (事前協議), CONTRACTOR_NOT_ON_ROSTER (作業者の報告) and
LOG_RETENTION_SHORT (ログの5年間保存). Each: violation, near miss, boundary, skipped without its file."""

from __future__ import annotations

import pytest
from rules_world import World, accounts_of, flagged

from pia_policy import rules

RECIPIENT = "中央区健康課"
T = "2025-05-01T10:00"


@pytest.mark.parametrize(("rule_id", "missing"), [
    ("PLEDGE_MISSING", "pledges.csv"), ("TRANSFER_WITHOUT_CONSULTATION", "consultations.csv"),
    ("CONTRACTOR_NOT_ON_ROSTER", "contractor_roster.csv"), ("LOG_RETENTION_SHORT", "log_archive.csv"),
])
def test_each_duty_is_skipped_without_its_input(world: World, rule_id: str, missing: str) -> None:
    world.account("N1", employment="non_regular")
    world.event(T, "N1")
    world.run()
    assert {"rule": rule_id, "missing": missing} in world.last.rules_skipped
    assert rule_id not in world.last.rules_run


def test_duties_come_after_the_spec_rules_and_keep_its_precedence() -> None:
    assert rules.RULE_IDS[:19] == rules.SPEC_RULE_IDS and len(rules.SPEC_RULE_IDS) == 19
    assert rules.DUTY_RULE_IDS == ("PLEDGE_MISSING", "TRANSFER_WITHOUT_CONSULTATION", "CONTRACTOR_NOT_ON_ROSTER",
                                   "LOG_RETENTION_SHORT")
    assert rules.PRECEDENCE == rules.RULE_IDS[:11]
    for rid in rules.DUTY_RULE_IDS:
        r = rules.get(rid)
        assert r.requires and "「" in r.basis, rid


# ---- 誓約書 (III-3 リスク3) ------------------------------------------------------------------------

def test_pledge_missing(world: World) -> None:
    world.account("N1", employment="non_regular")                       # must pledge, never did
    world.account("N2", employment="non_regular")                       # pledged before: near miss
    world.account("N3", employment="non_regular")                       # boundary: signed at the event time
    world.account("O1", department=RECIPIENT, roles=(), system="fukushi")  # other department's user
    world.account("S1")                                                 # holder's regular staff: no duty
    world.account("C1", employment="contractor")                        # contractors: their contract
    world.pledge("P-N2", "2025-04-01")
    world.pledge("P-N3", T)
    late = world.event("2025-04-30T09:00", "N3")                        # before N3 signed
    bad = [world.event(T, a) for a in ("N1", "O1")]
    quiet = [world.event(T, a) for a in ("N2", "N3", "S1", "C1")]
    got = flagged(world.run(), "PLEDGE_MISSING")
    assert got == set(bad) | {late}
    assert not set(quiet) & got


# ---- 事前協議 (III-5 リスク1) ------------------------------------------------------------------------

def test_transfer_without_consultation(world: World) -> None:
    world.account("R1", department=RECIPIENT, roles=())
    world.account("R2", department="緑区健康課", roles=())
    world.account("S1", roles=("kouki_staff",), permission="update")
    world.consultation("緑区健康課", "shoni_shitei_iryohi", "2025-04-01")
    world.consultation(RECIPIENT, "seishin_nyuin_iryohi", "2025-04-01")   # another purpose: does not count
    bad_view = world.event(T, "R1", affair="shoni_shitei_iryohi")
    ok_view = world.event(T, "R2", affair="shoni_shitei_iryohi")
    bad_tx = world.event(T, "S1", "transfer", affair="shoni_shitei_iryohi", recipient_department=RECIPIENT,
                         method="fukushi_system")
    ok_tx = world.event(T, "S1", "transfer", affair="shoni_shitei_iryohi", recipient_department="緑区健康課",
                        method="fukushi_system")
    # boundary: the day of the agreement (00:00 JST) counts; the second before does not
    edge = world.event("2025-04-01T00:00:00", "R2", affair="shoni_shitei_iryohi")
    before = world.event("2025-03-31T23:59:59", "R2", affair="shoni_shitei_iryohi")
    # a pair the policy denies is TRANSFER_NOT_PERMITTED, not this rule
    denied = world.event(T, "R1", affair="gaikokujin_hogo")
    staff = world.event(T, "S1", affair="kouki-01")                      # the holder's own use: no transfer
    findings = world.run()
    got = flagged(findings, "TRANSFER_WITHOUT_CONSULTATION")
    assert got == {bad_view, bad_tx, before}
    assert not {ok_view, ok_tx, edge, denied, staff} & got
    assert denied in flagged(findings, "TRANSFER_NOT_PERMITTED")


# ---- 作業者の報告 (III-4) -----------------------------------------------------------------------------

def test_contractor_not_on_roster(world: World) -> None:
    world.account("C1", employment="contractor")
    world.account("C2", employment="contractor")
    world.account("S1")
    world.roster("P-C2", "2025-04-01", "2025-05-01")
    bad = world.event(T, "C1")
    inside = world.event("2025-04-30T23:59:59", "C2")                    # near miss
    at_end = world.event("2025-05-01T00:00:00", "C2")                    # boundary: `to` is exclusive
    at_start = world.event("2025-04-01T00:00:00", "C2")                  # boundary: `from` is inclusive
    staff = world.event(T, "S1")
    got = flagged(world.run(), "CONTRACTOR_NOT_ON_ROSTER")
    assert got == {bad, at_end}
    assert not {inside, at_start, staff} & got


# ---- ログの5年間保存 (III-4) -------------------------------------------------------------------------

def test_log_retention_short(policy) -> None:  # type: ignore[no-untyped-def]
    world = World(policy, as_of="2025-06-02")
    world.account("S1")
    world.event("2025-06-01T10:00", "S1", system="fukushi")
    world.event("2025-06-01T10:00", "S1", system="hyojun")
    world.account("S1", system="hyojun")
    # fukushi: covered exactly from 5 years before the audit day (boundary), in two touching pieces
    world.archive("fukushi", "2020-06-02", "2023-01-01")
    world.archive("fukushi", "2023-01-01", "2025-06-02")
    # hyojun: a hole of one month, and the archive ends a day early
    world.archive("hyojun", "2019-01-01", "2024-01-01")
    world.archive("hyojun", "2024-02-01", "2025-06-01")
    findings = [f for f in world.run() if f.rule == "LOG_RETENTION_SHORT"]
    assert {f.system for f in findings} == {"hyojun"}
    (f,) = findings
    assert f.first_ts == "2024-01-01T00:00:00+09:00" and f.last_ts == "2025-06-02T00:00:00+09:00"
    assert f.event_count == 0 and f.account_id is None


def test_log_retention_one_second_short_and_no_archive(policy) -> None:  # type: ignore[no-untyped-def]
    world = World(policy, as_of="2025-06-02")
    world.account("S1")
    world.account("S1", system="gyomu_kyotsu")
    world.event("2025-06-01T10:00", "S1", system="fukushi")
    world.event("2025-06-01T10:00", "S1", system="gyomu_kyotsu")        # a system with no archive at all
    world.archive("fukushi", "2020-06-02T00:00:01", "2025-06-02")         # starts one second late
    findings = {f.system: f for f in world.run() if f.rule == "LOG_RETENTION_SHORT"}
    assert set(findings) == {"fukushi", "gyomu_kyotsu"}
    assert findings["fukushi"].first_ts == "2020-06-02T00:00:00+09:00"
    assert findings["fukushi"].last_ts == "2020-06-02T00:00:01+09:00"
    assert findings["gyomu_kyotsu"].first_ts == "2020-06-02T00:00:00+09:00"
    assert accounts_of(list(findings.values()), "LOG_RETENTION_SHORT") == {None}


def test_log_retention_years_is_a_threshold(policy) -> None:  # type: ignore[no-untyped-def]
    world = World(policy, as_of="2025-06-02")
    world.account("S1")
    world.event("2025-06-01T10:00", "S1", system="fukushi")
    world.archive("fukushi", "2022-06-02", "2025-06-02")                  # three years
    assert [f.system for f in world.run() if f.rule == "LOG_RETENTION_SHORT"] == ["fukushi"]
    assert [f.system for f in world.run(retention_years=3) if f.rule == "LOG_RETENTION_SHORT"] == []
