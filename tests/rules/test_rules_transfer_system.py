"""SPEC §4: a transfer happens only inside 福祉システム — audit level (events judged in DuckDB)."""

from __future__ import annotations

import pytest
from rules_world import World, flagged

RECIPIENT = "中央区健康課"
T = "2025-05-01T10:00"


@pytest.mark.parametrize("system", ["hyojun", "gyomu_kyotsu"])
def test_recipient_access_outside_fukushi(world: World, system: str) -> None:
    world.account("R1", system=system, department=RECIPIENT, roles=())
    world.account("R2", system="fukushi", department=RECIPIENT, roles=())
    bad = world.event(T, "R1", system=system, affair="shoni_shitei_iryohi")
    bad_m = world.event(T, "R1", system=system, affair="shoni_shitei_iryohi", method="fukushi_system")
    ok = world.event(T, "R2", affair="shoni_shitei_iryohi")                  # near miss: inside fukushi
    wrong_pair = world.event(T, "R1", system=system, affair="gaikokujin_hogo")  # precedence
    findings = world.run()
    assert flagged(findings, "TRANSFER_METHOD_NOT_PERMITTED") == {bad, bad_m}
    assert flagged(findings, "TRANSFER_NOT_PERMITTED") == {wrong_pair}
    assert ok not in {e.event_id for f in findings for e in f.evidence}


@pytest.mark.parametrize("system", ["hyojun", "gyomu_kyotsu"])
def test_transfer_event_outside_fukushi(world: World, system: str) -> None:
    world.account("S1", system=system, roles=("kouki_staff",), permission="update")
    world.account("S2", system="fukushi", roles=("kouki_staff",), permission="update")
    bad = world.event(T, "S1", "transfer", system=system, affair="shoni_shitei_iryohi",
                      recipient_department=RECIPIENT, method="fukushi_system")
    ok = world.event(T, "S2", "transfer", affair="shoni_shitei_iryohi", recipient_department=RECIPIENT,
                     method="fukushi_system")
    findings = world.run()
    assert flagged(findings, "TRANSFER_METHOD_NOT_PERMITTED") == {bad}
    assert ok not in {e.event_id for f in findings for e in f.evidence}


def test_boundary_the_first_day_transfers_are_permitted(world: World) -> None:
    # before 2025-03-24 there is no pair on any system; from it, only fukushi passes
    world.account("R1", system="hyojun", department=RECIPIENT, roles=())
    before = world.event("2025-03-23T23:59:59", "R1", system="hyojun", affair="shoni_shitei_iryohi")
    first = world.event("2025-03-24T00:00:00", "R1", system="hyojun", affair="shoni_shitei_iryohi")
    findings = world.run()
    assert flagged(findings, "TRANSFER_NOT_PERMITTED") == {before}
    assert flagged(findings, "TRANSFER_METHOD_NOT_PERMITTED") == {first}
