"""Decisions of the shipped policy: the cases the issue requires, each deny rule with its near miss."""

from __future__ import annotations

import datetime as dt

import pytest

from pia_policy import rules
from pia_policy.models import AccessRequest, Account, Officer
from pia_policy.policy import Policy

HOLDER = "健康保険課"
WARD_HOLDER = "中央区市民総合窓口課"


def staff(**kw: object) -> Account:
    base: dict[str, object] = dict(account_id="a1", system="fukushi", person_id="P1", department=HOLDER,
                                   roles=frozenset({"kouki_staff"}), permission="read")
    base.update(kw)
    return Account(**base)  # type: ignore[arg-type]


def req(**kw: object) -> AccessRequest:
    base: dict[str, object] = dict(version="2025-03-24", system="fukushi", department=HOLDER,
                                   roles=frozenset({"kouki_staff"}), permission="read", action="view",
                                   resource="kihon_joho", affair="kouki-01")
    base.update(kw)
    return AccessRequest(**base)  # type: ignore[arg-type]


# ---- 各区健康課: the pair matters, not the department --------------------------------------------

@pytest.mark.parametrize("ward", ["中央区", "花見川区", "稲毛区", "若葉区", "緑区", "美浜区"])
def test_ward_health_department_two_purposes(policy: Policy, ward: str) -> None:
    dept = f"{ward}健康課"
    at = "2025-06-01"
    assert policy.check_transfer(dept, "seishin_nyuin_iryohi", at=at).allowed
    assert policy.check_transfer(dept, "shoni_shitei_iryohi", at=at).allowed
    denied = policy.check_transfer(dept, "gaikokujin_hogo", at=at)
    assert not denied.allowed and denied.rule == "TRANSFER_NOT_PERMITTED"
    assert "別紙1" in denied.basis


def test_allowed_transfer_cites_bessi1_number(policy: Policy) -> None:
    d = policy.check_transfer("中央区健康課", "shoni_shitei_iryohi", at="2025-06-01")
    assert d.matched == "bessi1-5-transfer" and "別紙1 No.5" in d.basis
    d = policy.check_transfer("精神保健福祉課", "seishin_nyuin_iryohi", at="2025-06-01")
    assert d.matched == "bessi1-4-transfer" and "別紙1 No.4" in d.basis


def test_group_name_itself_is_not_a_department(policy: Policy) -> None:
    # 「各区健康課」 is expanded by the loader; a ward-less name that is not a real department is still a group
    assert "各区健康課" not in policy.business_departments
    assert {"中央区健康課", "美浜区健康課"} <= policy.business_departments


# ---- version boundaries ---------------------------------------------------------------------------

def test_permitted_pair_denied_before_2025_03_24(policy: Policy) -> None:
    before = policy.check_transfer("保護課", "gaikokujin_hogo", at="2025-03-23")
    assert not before.allowed and before.rule == "TRANSFER_NOT_PERMITTED" and before.version == "2020"
    last_second = policy.check_transfer("保護課", "gaikokujin_hogo", at="2025-03-23T23:59:59")
    assert not last_second.allowed
    after = policy.check_transfer("保護課", "gaikokujin_hogo", at="2025-03-24")
    assert after.allowed and after.version == "2025-03-24"
    # 2025-03-23 15:00 UTC is 2025-03-24 00:00 JST
    assert policy.check_transfer("保護課", "gaikokujin_hogo", at="2025-03-23T15:00:00+00:00").allowed
    assert not policy.check_transfer("保護課", "gaikokujin_hogo", at="2025-03-23T14:59:59Z").allowed


def _mn(policy: Policy, affair: str, at: str) -> bool:
    acct = staff(roles=frozenset({"kouki_staff", "my_number_user"}))
    return policy.check_access(acct, "view", "kojin_bango", affair, at=at).allowed


def test_my_number_kouki_15_and_16_swap_on_2025_11_26(policy: Policy) -> None:
    assert _mn(policy, "kouki-15", "2025-11-25T23:59:59")
    assert not _mn(policy, "kouki-15", "2025-11-26")
    assert not _mn(policy, "kouki-16", "2025-11-25")
    assert _mn(policy, "kouki-16", "2025-11-26")
    d = policy.check_access(staff(roles=frozenset({"my_number_user"})), "view", "kojin_bango", "kouki-15",
                            at="2025-11-26")
    assert d.rule == "MY_NUMBER_OUTSIDE_AFFAIR" and d.version == "2025-11-26"


def test_my_number_affairs_unchanged_otherwise(policy: Policy) -> None:
    for affair in ("kouki-01", "kouki-04", "kouki-14"):
        assert _mn(policy, affair, "2021-06-01") and _mn(policy, affair, "2025-12-01")
    for affair in ("kouki-02", "kouki-03", "kouki-12"):
        assert not _mn(policy, affair, "2025-06-01")


# ---- holder staff ------------------------------------------------------------------------------------

def test_update_by_read_account_denied(policy: Policy) -> None:
    d = policy.check_access(staff(permission="read"), "update", "kihon_joho", "kouki-01", at="2025-06-01")
    assert not d.allowed and d.rule == "ACCESS_DENIED_BY_POLICY"
    assert d.basis and d.remedy
    # near miss: the same with update permission
    assert policy.check_access(staff(permission="update"), "update", "kihon_joho", "kouki-01", at="2025-06-01").allowed
    # view needs no update permission
    assert policy.check_access(staff(permission="read"), "view", "kihon_joho", "kouki-01", at="2025-06-01").allowed


def test_holder_staff_all_resources_but_my_number(policy: Policy) -> None:
    for res in ("kihon_joho", "chihouzei", "kaigo", "seikatsu_hogo", "nenkin", "kenko_iryo", "iryo_hoken"):
        for act in ("view", "search", "print"):
            assert policy.check_access(staff(department=WARD_HOLDER), act, res, "kouki-12", at="2025-06-01").allowed
    d = policy.check_access(staff(), "view", "kojin_bango", "kouki-01", at="2025-06-01")
    assert d.rule == "MY_NUMBER_WITHOUT_PERMISSION"


def test_holder_staff_outside_holder_affairs_or_no_affair(policy: Policy) -> None:
    assert policy.decide(req(affair="gaikokujin_hogo")).rule == "ACCESS_DENIED_BY_POLICY"
    d = policy.decide(req(affair=None))
    assert not d.allowed and d.rule == "ACCESS_DENIED_BY_POLICY"


def test_no_role_holder_denied(policy: Policy) -> None:
    assert policy.decide(req(roles=frozenset())).rule == "ACCESS_DENIED_BY_POLICY"


def test_login_logout_allowed_for_everyone(policy: Policy) -> None:
    for dept in (HOLDER, "中央区健康課", "税務課"):
        for act in ("login", "logout"):
            # 税務課 is unknown to the policy: the audit judges it (validate=False), the API refuses it
            d = policy.decide(req(department=dept, roles=frozenset(), action=act, resource=None, affair=None),
                              validate=False)
            assert d.allowed and d.matched == act


# ---- My Number -----------------------------------------------------------------------------------------

def test_my_number_without_permission_vs_near_miss(policy: Policy) -> None:
    for act in ("view", "search", "print", "update"):
        d = policy.decide(req(resource="kojin_bango", action=act, permission="update"))
        assert d.rule == "MY_NUMBER_WITHOUT_PERMISSION"
        assert d.basis == rules.get("MY_NUMBER_WITHOUT_PERMISSION").basis
        ok = policy.decide(req(resource="kojin_bango", action=act, permission="update",
                               roles=frozenset({"my_number_user"})))
        assert ok.allowed and ok.matched == f"my-number-{act}"


def test_my_number_update_needs_update_permission(policy: Policy) -> None:
    d = policy.decide(req(resource="kojin_bango", action="update", roles=frozenset({"my_number_user"})))
    assert d.rule == "ACCESS_DENIED_BY_POLICY"


def test_my_number_outside_affair_including_none(policy: Policy) -> None:
    r = dict(resource="kojin_bango", roles=frozenset({"my_number_user"}))
    assert policy.decide(req(affair="kouki-02", **r)).rule == "MY_NUMBER_OUTSIDE_AFFAIR"
    assert policy.decide(req(affair=None, **r)).rule == "MY_NUMBER_OUTSIDE_AFFAIR"
    assert policy.decide(req(affair="kouki-01", **r)).allowed


def test_my_number_export_is_not_use(policy: Policy) -> None:
    d = policy.decide(req(resource="kojin_bango", action="export"))
    assert d.rule == "MEDIA_EXPORT_UNAUTHORIZED"


# ---- recipients (non-holder departments) -----------------------------------------------------------

def test_recipient_may_only_view_agreed_information(policy: Policy) -> None:
    acct = staff(department="中央区健康課", roles=frozenset())
    at = "2025-06-01"
    for res in ("kihon_joho", "iryo_hoken"):
        d = policy.check_access(acct, "view", res, "seishin_nyuin_iryohi", at=at)
        assert d.allowed and d.matched == "bessi1-4-recipient"
    d = policy.check_access(acct, "view", "chihouzei", "seishin_nyuin_iryohi", at=at)
    assert not d.allowed and d.rule == "ACCESS_DENIED_BY_POLICY"
    for act in ("search", "update", "print", "export", "transfer"):
        d = policy.check_access(acct.model_copy(update={"permission": "update"}), act, "kihon_joho",
                                "seishin_nyuin_iryohi", at=at, recipient_department="中央区健康課",
                                method="fukushi_system")
        assert not d.allowed, act
        assert d.rule in ("ACCESS_DENIED_BY_POLICY", "MEDIA_EXPORT_UNAUTHORIZED"), (act, d.rule)


def test_recipient_wrong_purpose_or_before_version_is_transfer_not_permitted(policy: Policy) -> None:
    acct = staff(department="中央区健康課", roles=frozenset())
    assert policy.check_access(acct, "view", "kihon_joho", "gaikokujin_hogo", at="2025-06-01").rule == "TRANSFER_NOT_PERMITTED"
    assert policy.check_access(acct, "view", "kihon_joho", "seishin_nyuin_iryohi", at="2025-03-23").rule == "TRANSFER_NOT_PERMITTED"
    assert policy.check_access(acct, "view", "kihon_joho", None, at="2025-06-01").rule == "TRANSFER_NOT_PERMITTED"


def test_other_department_is_a_transfer_without_pair(policy: Policy) -> None:
    # a ledger department the policy does not name: the audit judges it as a transfer without a pair
    d = policy.decide(req(department="税務課", version="2025-11-26"), validate=False)
    assert d.rule == "TRANSFER_NOT_PERMITTED"


def test_contractor_is_holder_staff_never_a_transfer(policy: Policy) -> None:
    acct = staff(employment="contractor", department="中央区市民総合窓口課")
    d = policy.check_access(acct, "view", "kihon_joho", "kouki-01", at="2025-06-01")
    assert d.allowed
    d = policy.check_access(acct, "update", "kihon_joho", "kouki-01", at="2025-06-01")
    assert d.rule == "ACCESS_DENIED_BY_POLICY"
    # a contractor account recorded under another department (data): judged as holder staff, not a transfer
    d = policy.decide(req(employment="contractor", department="委託先"), validate=False)
    assert d.allowed


# ---- transfers by the holder --------------------------------------------------------------------------

def test_transfer_method(policy: Policy) -> None:
    base = dict(action="transfer", recipient_department="保護課", affair="gaikokujin_hogo")
    assert policy.decide(req(method="fukushi_system", **base)).allowed
    for method in ("usb", None, ""):
        d = policy.decide(req(method=method, **base))
        assert d.rule == "TRANSFER_METHOD_NOT_PERMITTED", method
        assert d.matched == "bessi1-1-transfer"
    # a wrong pair is TRANSFER_NOT_PERMITTED whatever the method
    assert policy.decide(req(method="usb", action="transfer", recipient_department="保護課",
                             affair="shinshin_iryohi")).rule == "TRANSFER_NOT_PERMITTED"


def test_transfer_of_other_resource_or_without_role_denied(policy: Policy) -> None:
    base = dict(action="transfer", recipient_department="保護課", affair="gaikokujin_hogo", method="fukushi_system")
    assert policy.decide(req(resource="iryo_hoken", **base)).allowed
    assert policy.decide(req(resource="chihouzei", **base)).rule == "ACCESS_DENIED_BY_POLICY"
    assert policy.decide(req(roles=frozenset(), **base)).rule == "ACCESS_DENIED_BY_POLICY"
    assert policy.decide(req(department="中央区健康課", **base)).rule == "ACCESS_DENIED_BY_POLICY"


# ---- export --------------------------------------------------------------------------------------------

def test_export(policy: Policy) -> None:
    for role in ("system_owner", "export_delegate"):
        d = policy.decide(req(action="export", roles=frozenset({role})))
        assert d.allowed and d.matched == "export"
    d = policy.decide(req(action="export"))
    assert d.rule == "MEDIA_EXPORT_UNAUTHORIZED"
    d = policy.decide(req(action="export", roles=frozenset({"system_owner"}), affair=None))
    assert d.rule == "ACCESS_DENIED_BY_POLICY"


def test_export_with_officer_terms(policy: Policy) -> None:
    acct = staff()
    officers = [Officer(system="fukushi", role="system_owner", person_id="P1",
                        **{"from": dt.datetime(2025, 4, 1)}, to=dt.datetime(2025, 10, 1)),
                Officer(system="hyojun", role="system_owner", person_id="P1", **{"from": dt.datetime(2020, 1, 1)})]
    assert policy.check_access(acct, "export", "kihon_joho", "kouki-01", at="2025-04-01", officers=officers).allowed
    assert policy.check_access(acct, "export", "kihon_joho", "kouki-01", at="2025-09-30T23:59", officers=officers).allowed
    # term ends: `to` is the first day out of office; another system's office does not count
    d = policy.check_access(acct, "export", "kihon_joho", "kouki-01", at="2025-10-01", officers=officers)
    assert d.rule == "MEDIA_EXPORT_UNAUTHORIZED"
    d = policy.check_access(acct, "export", "kihon_joho", "kouki-01", at="2025-03-31T23:59", officers=officers)
    assert d.rule == "MEDIA_EXPORT_UNAUTHORIZED"
    assert policy.check_access(acct, "export", "kihon_joho", "kouki-01", at="2025-03-31",
                               officer_roles=("export_delegate",)).allowed


# ---- revocation -----------------------------------------------------------------------------------------

def test_revoked_account_denied(policy: Policy) -> None:
    acct = staff(revoked_at=dt.datetime(2025, 6, 1))
    d = policy.check_access(acct, "view", "kihon_joho", "kouki-01", at="2025-06-01")
    assert not d.allowed and d.rule == "ACCESS_AFTER_REVOCATION"
    assert d.basis == rules.get("ACCESS_AFTER_REVOCATION").basis
    assert policy.check_access(acct, "view", "kihon_joho", "kouki-01", at="2025-05-31T23:59:59").allowed
    assert policy.check_access(acct, "login", None, at="2025-06-02").rule == "ACCESS_AFTER_REVOCATION"


def test_expired_account_denied(policy: Policy) -> None:
    acct = staff(expires_at=dt.datetime(2025, 6, 1, 0, 0, tzinfo=dt.timezone.utc))
    # 2025-06-01 00:00 UTC = 09:00 JST
    assert policy.check_access(acct, "view", "kihon_joho", "kouki-01", at="2025-06-01T08:59").allowed
    assert policy.check_access(acct, "view", "kihon_joho", "kouki-01", at="2025-06-01T09:00").rule == "ACCESS_AFTER_REVOCATION"


# ---- explanation ----------------------------------------------------------------------------------------

def test_every_denial_carries_rule_basis_and_remedy(policy: Policy) -> None:
    for r in (req(action="update"), req(resource="kojin_bango"), req(department="保護課"),
              req(action="export"), req(action="transfer", recipient_department="保護課",
                                        affair="gaikokujin_hogo", method="usb")):
        d = policy.decide(r)
        assert not d.allowed and d.rule in rules.PRECEDENCE
        assert d.basis == rules.get(d.rule).basis and d.remedy == rules.get(d.rule).remedy_ja
        assert d.explanation and d.version == "2025-03-24"


def test_decide_is_cached_and_equal_to_casbin(policy: Policy) -> None:
    r = req()
    assert policy.decide(r) is policy.decide(r)
    assert policy.decide(r) == policy.decide_with_casbin(r)
