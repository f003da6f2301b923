"""SPEC §9: the API refuses unknown values with a ValueError naming the valid ones (the CLI exits 2)."""

from __future__ import annotations

import pytest

from pia_policy.models import AccessRequest, Account
from pia_policy.policy import Policy

AT = "2025-06-01"


def account(**kw: object) -> Account:
    base: dict[str, object] = dict(account_id="a1", system="fukushi", department="健康保険課",
                                   roles=frozenset({"kouki_staff"}), permission="read")
    base.update(kw)
    return Account(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize("department", ["健康保険科", "各区健康課", "grp:holder", "grp:bessi1-4", "税務課", ""])
def test_unknown_department_is_an_error_not_a_critical_denial(policy: Policy, department: str) -> None:
    with pytest.raises(ValueError) as exc:
        policy.check_access(account(department=department), "view", "kihon_joho", "kouki-01", at=AT)
    assert repr(department) in str(exc.value) and "健康保険課" in str(exc.value)
    with pytest.raises(ValueError, match="中央区健康課"):
        policy.check_transfer(department, "shoni_shitei_iryohi", at=AT)


def test_near_miss_known_department_is_judged(policy: Policy) -> None:
    assert policy.check_access(account(), "view", "kihon_joho", "kouki-01", at=AT).allowed
    d = policy.check_access(account(department="中央区健康課", roles=frozenset()), "view", "kihon_joho",
                            "gaikokujin_hogo", at=AT)
    assert d.rule == "TRANSFER_NOT_PERMITTED"  # a known department with a wrong pair is a denial, not an error


@pytest.mark.parametrize("kw, valid", [
    (dict(action="veiw"), "view"),
    (dict(resource="kojin-bango"), "kojin_bango"),
    (dict(affair="kouki-1"), "kouki-01"),
    (dict(affair="各区健康課"), "shoni_shitei_iryohi"),
    (dict(action="transfer", recipient_department="各区健康課", method="fukushi_system"), "中央区健康課"),
    (dict(action="transfer", recipient_department="保護課", method="fax"), "fukushi_system"),
])
def test_unknown_values_of_check_access(policy: Policy, kw: dict[str, str], valid: str) -> None:
    args = dict(action="view", resource="kihon_joho", affair="kouki-01")
    args.update(kw)
    with pytest.raises(ValueError, match=valid):
        policy.check_access(account(), args.pop("action"), args.pop("resource"), args.pop("affair"), at=AT, **args)


def test_resource_required_except_for_login(policy: Policy) -> None:
    with pytest.raises(ValueError, match="kihon_joho"):
        policy.check_access(account(), "view", None, "kouki-01", at=AT)
    assert policy.check_access(account(), "login", None, at=AT).allowed


@pytest.mark.parametrize("purpose, method", [("kouki-01", "fukushi_system"), ("shoni", "fukushi_system"),
                                             ("shoni_shitei_iryohi", "USB")])
def test_unknown_purpose_or_method_of_check_transfer(policy: Policy, purpose: str, method: str) -> None:
    with pytest.raises(ValueError, match="shoni_shitei_iryohi|fukushi_system"):
        policy.check_transfer("中央区健康課", purpose, method=method, at=AT)


def test_boundary_empty_or_missing_method_is_a_denial(policy: Policy) -> None:
    for method in (None, ""):
        d = policy.check_transfer("中央区健康課", "shoni_shitei_iryohi", method=method, at=AT)
        assert d.rule == "TRANSFER_METHOD_NOT_PERMITTED"
    assert policy.check_transfer("中央区健康課", "shoni_shitei_iryohi", method="usb", at=AT).rule \
        == "TRANSFER_METHOD_NOT_PERMITTED"


def test_decide_validates_unless_told_the_values_are_data(policy: Policy) -> None:
    r = AccessRequest(version="2025-03-24", system="fukushi", department="健康保険科", roles=frozenset({"kouki_staff"}),
                      action="view", resource="kihon_joho", affair="kouki-01")
    with pytest.raises(ValueError, match="健康保険課"):
        policy.decide(r)
    for bad in (dict(version="2026"), dict(system="fukusi"), dict(permission="write"), dict(employment="x")):
        with pytest.raises(ValueError, match="2025-11-26|fukushi|update|regular"):
            policy.decide(r.model_copy(update={"department": "健康保険課", **bad}))
    # the audit judges ledger data: an unknown department is a transfer without a permitted pair
    assert policy.decide(r, validate=False).rule == "TRANSFER_NOT_PERMITTED"


def test_english_message(policy: Policy, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIA_POLICY_LANG", "en")
    with pytest.raises(ValueError, match=r"unknown action: 'veiw' \(valid: "):
        policy.check_access(account(), "veiw", "kihon_joho", "kouki-01", at=AT)


def test_city_lists_other_departments_in_metadata(policy_copy) -> None:  # type: ignore[no-untyped-def]
    meta = policy_copy / "metadata.toml"
    meta.write_text(meta.read_text(encoding="utf-8").replace('  "健康支援課",\n]', '  "健康支援課", "税務課",\n]'),
                    encoding="utf-8")
    city = Policy.load(policy_copy)
    d = city.check_access(account(department="税務課"), "view", "kihon_joho", "kouki-01", at=AT)
    assert d.rule == "TRANSFER_NOT_PERMITTED"
