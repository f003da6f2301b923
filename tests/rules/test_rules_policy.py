"""Rules charged from the compiled policy decision, judged by the version in force at each event."""

from __future__ import annotations

import pytest
from rules_world import World, flagged

MN = ("kouki_staff", "my_number_user")


def test_my_number_without_permission(world: World) -> None:
    world.account("S1")
    world.account("M1", roles=MN)
    bad = world.event("2025-05-01T10:00", "S1", resource="kojin_bango", affair="kouki-01")
    printed = world.event("2025-05-01T10:01", "S1", "print", resource="kojin_bango", affair="kouki-01")
    ok = world.event("2025-05-01T10:02", "M1", resource="kojin_bango", affair="kouki-01")
    other = world.event("2025-05-01T10:03", "S1", resource="kihon_joho", affair="kouki-01")
    got = flagged(world.run(), "MY_NUMBER_WITHOUT_PERMISSION")
    assert got == {bad, printed}
    assert not {ok, other} & got


def test_my_number_export_is_judged_by_media_export_only(world: World) -> None:
    world.account("S1")
    e = world.event("2025-05-01T10:00", "S1", "export", resource="kojin_bango", affair="kouki-01", record_ref="R1")
    findings = world.run()
    assert e not in flagged(findings, "MY_NUMBER_WITHOUT_PERMISSION")
    assert e in flagged(findings, "MEDIA_EXPORT_UNAUTHORIZED")


@pytest.mark.parametrize(
    ("ts", "affair", "expected"),
    [
        ("2025-11-25T23:59:59", "kouki-15", False),  # version 2025-03-24: 15 listed
        ("2025-11-26T00:00:00", "kouki-15", True),   # version 2025-11-26: 15 removed
        ("2025-11-25T23:59:59", "kouki-16", True),   # 16 not yet listed
        ("2025-11-26T00:00:00", "kouki-16", False),  # 16 added
        ("2025-05-01T10:00:00", "kouki-02", True),   # never a My Number affair
        ("2025-05-01T10:00:00", "kouki-01", False),
    ],
)
def test_my_number_outside_affair_by_version_in_force(policy, ts: str, affair: str, expected: bool) -> None:
    world = World(policy, as_of="2025-12-01")
    world.account("M1", roles=MN)
    e = world.event(ts, "M1", "search", resource="kojin_bango", affair=affair)
    assert (e in flagged(world.run(), "MY_NUMBER_OUTSIDE_AFFAIR")) is expected


@pytest.mark.parametrize(
    ("ts", "expected"),
    [("2025-03-23T23:59:59", True), ("2025-03-24T00:00:00", False), ("2025-11-26T09:00:00", False)],
)
def test_transfer_permitted_only_from_2025_03_24(policy, ts: str, expected: bool) -> None:
    world = World(policy, as_of="2025-12-01")
    world.account("H1", department="中央区社会支援課", roles=())
    e = world.event(ts, "H1", resource="kihon_joho", affair="gaikokujin_hogo")
    assert (e in flagged(world.run(), "TRANSFER_NOT_PERMITTED")) is expected


def test_transfer_pair_matters_not_the_department(world: World) -> None:
    # 各区健康課 holds seishin_nyuin_iryohi and shoni_shitei_iryohi, not gaikokujin_hogo.
    world.account("K1", department="稲毛区健康課", roles=())
    ok1 = world.event("2025-05-01T10:00", "K1", resource="iryo_hoken", affair="seishin_nyuin_iryohi")
    ok2 = world.event("2025-05-01T10:01", "K1", resource="kihon_joho", affair="shoni_shitei_iryohi")
    bad = world.event("2025-05-01T10:02", "K1", resource="kihon_joho", affair="gaikokujin_hogo")
    no_affair = world.event("2025-05-01T10:03", "K1", resource="kihon_joho", affair=None)
    got = flagged(world.run(), "TRANSFER_NOT_PERMITTED")
    assert got == {bad, no_affair}
    assert not {ok1, ok2} & got


def test_transfer_action_pairs_and_methods(world: World) -> None:
    world.account("S1")
    ok = world.event("2025-05-01T10:00", "S1", "transfer", resource="kihon_joho", affair="hitorioya_iryohi",
                     recipient_department="こども家庭支援課", method="fukushi_system")
    bad_pair = world.event("2025-05-01T10:01", "S1", "transfer", resource="kihon_joho", affair="hitorioya_iryohi",
                           recipient_department="保護課", method="fukushi_system")
    bad_method = world.event("2025-05-01T10:02", "S1", "transfer", resource="kihon_joho",
                             affair="hitorioya_iryohi", recipient_department="こども家庭支援課", method="usb_memory")
    findings = world.run()
    assert flagged(findings, "TRANSFER_NOT_PERMITTED") == {bad_pair}
    assert flagged(findings, "TRANSFER_METHOD_NOT_PERMITTED") == {bad_method}
    assert ok not in flagged(findings, "ACCESS_DENIED_BY_POLICY")


def test_method_on_non_transfer_events_is_ignored(world: World) -> None:
    world.account("K1", department="保護課", roles=())
    e = world.event("2025-05-01T10:00", "K1", resource="kihon_joho", affair="gaikokujin_hogo", method="email")
    findings = world.run()
    assert e not in flagged(findings, "TRANSFER_METHOD_NOT_PERMITTED")
    assert e not in flagged(findings, "TRANSFER_NOT_PERMITTED")


def test_media_export_needs_an_officer_in_office(world: World) -> None:
    world.account("O1", person_id="P-O1")
    world.account("O2", person_id="P-O2")
    world.account("S1")
    world.officer("fukushi", "system_owner", "P-O1", "2025-04-01", "2025-05-01")
    world.officer("hyojun", "export_delegate", "P-O2", "2025-04-01")
    in_office = world.event("2025-04-30T23:59:59", "O1", "export", resource="iryo_hoken", affair="kouki-01",
                            record_ref="R-1")
    at_to = world.event("2025-05-01T00:00:00", "O1", "export", resource="iryo_hoken", affair="kouki-01",
                        record_ref="R-2")
    other_system = world.event("2025-04-15T10:00", "O2", "export", resource="iryo_hoken", affair="kouki-01",
                               record_ref="R-3")
    staff = world.event("2025-04-15T10:01", "S1", "export", resource="iryo_hoken", affair="kouki-01",
                        record_ref="R-4")
    got = flagged(world.run(), "MEDIA_EXPORT_UNAUTHORIZED")
    assert got == {at_to, other_system, staff}
    assert in_office not in got


def test_media_export_unrecorded_only_when_authorised(world: World) -> None:
    world.account("O1", person_id="P-O1")
    world.account("S1")
    world.officer("fukushi", "export_delegate", "P-O1", "2025-01-01")
    recorded = world.event("2025-05-01T10:00", "O1", "export", resource="iryo_hoken", affair="kouki-01",
                           record_ref="R-1")
    unrecorded = world.event("2025-05-01T10:01", "O1", "export", resource="iryo_hoken", affair="kouki-01")
    unauthorised = world.event("2025-05-01T10:02", "S1", "export", resource="iryo_hoken", affair="kouki-01")
    findings = world.run()
    assert flagged(findings, "MEDIA_EXPORT_UNRECORDED") == {unrecorded}
    assert recorded not in flagged(findings, "MEDIA_EXPORT_UNAUTHORIZED")
    assert unauthorised in flagged(findings, "MEDIA_EXPORT_UNAUTHORIZED")


def test_media_export_rules_skipped_without_officers_file(world: World) -> None:
    world.account("S1")
    world.event("2025-05-01T10:02", "S1", "export", resource="iryo_hoken", affair="kouki-01")
    world.present.discard("officers.csv")
    findings = world.run()
    skipped = {s["rule"]: s["missing"] for s in world.last.rules_skipped}
    assert skipped["MEDIA_EXPORT_UNAUTHORIZED"] == "officers.csv"
    assert not flagged(findings, "MEDIA_EXPORT_UNAUTHORIZED")


def test_access_denied_by_policy(world: World) -> None:
    world.account("R1", permission="read")
    world.account("U1", permission="update")
    world.account("K1", department="保護課", roles=())
    read_update = world.event("2025-05-01T10:00", "R1", "update", resource="kihon_joho", affair="kouki-01")
    upd_update = world.event("2025-05-01T10:01", "U1", "update", resource="kihon_joho", affair="kouki-01")
    recipient_search = world.event("2025-05-01T10:02", "K1", "search", resource="kihon_joho",
                                   affair="gaikokujin_hogo")
    recipient_other_resource = world.event("2025-05-01T10:03", "K1", resource="nenkin", affair="gaikokujin_hogo")
    holder_no_affair = world.event("2025-05-01T10:04", "R1", resource="kihon_joho", affair=None)
    recipient_view = world.event("2025-05-01T10:05", "K1", resource="iryo_hoken", affair="gaikokujin_hogo")
    login = world.event("2025-05-01T10:06", "K1", "login", session_id="s1")
    got = flagged(world.run(), "ACCESS_DENIED_BY_POLICY")
    assert got == {read_update, recipient_search, recipient_other_resource, holder_no_affair}
    assert not {upd_update, recipient_view, login} & got


def test_transfer_event_by_non_holder_is_denied_by_policy(world: World) -> None:
    world.account("K1", department="保護課", roles=())
    e = world.event("2025-05-01T10:00", "K1", "transfer", resource="kihon_joho", affair="gaikokujin_hogo",
                    recipient_department="保護課", method="fukushi_system")
    findings = world.run()
    assert e in flagged(findings, "ACCESS_DENIED_BY_POLICY")


def test_officer_role_in_the_ledger_does_not_authorise_export(world: World) -> None:
    # Officer roles come from officers.csv and hold only during the term, not from accounts.csv roles.
    world.account("L1", roles=("kouki_staff", "system_owner"))
    e = world.event("2025-05-01T10:00", "L1", "export", resource="iryo_hoken", affair="kouki-01", record_ref="R")
    assert e in flagged(world.run(), "MEDIA_EXPORT_UNAUTHORIZED")
