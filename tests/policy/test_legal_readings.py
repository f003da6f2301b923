"""Issue 13 readings of the source: transfers only inside 福祉システム, group names, version dates."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest

from pia_policy.models import ACTIONS, RESOURCES, SYSTEMS, AccessRequest, Account
from pia_policy.policy import Policy, PolicyError

HOLDER = "健康保険課"
RECIPIENT = "中央区健康課"


def recipient_view(system: str, **kw: object) -> AccessRequest:
    base: dict[str, object] = dict(version="2025-03-24", system=system, department=RECIPIENT, action="view",
                                   resource="kihon_joho", affair="shoni_shitei_iryohi")
    base.update(kw)
    return AccessRequest(**base)  # type: ignore[arg-type]


def transfer(system: str, method: str | None = "fukushi_system", **kw: object) -> AccessRequest:
    base: dict[str, object] = dict(version="2025-03-24", system=system, department=HOLDER,
                                   roles=frozenset({"kouki_staff"}), permission="update", action="transfer",
                                   resource="kihon_joho", affair="shoni_shitei_iryohi",
                                   recipient_department=RECIPIENT, method=method)
    base.update(kw)
    return AccessRequest(**base)  # type: ignore[arg-type]


# ---- 1. transfers happen only inside 福祉システム (別紙1「福祉システム内」, III-5 リスク2) -----------

@pytest.mark.parametrize("system", ["hyojun", "gyomu_kyotsu"])
def test_recipient_access_outside_fukushi_is_transfer_method_not_permitted(policy: Policy, system: str) -> None:
    d = policy.decide(recipient_view(system))
    assert not d.allowed and d.rule == "TRANSFER_METHOD_NOT_PERMITTED"
    assert d.matched == "bessi1-5-transfer"  # the pair is permitted: only the system is wrong
    assert "fukushi" in d.explanation and system in d.explanation
    # a `method` field on a non-transfer event is ignored, whatever it says
    assert policy.decide(recipient_view(system, method="fukushi_system")).rule == "TRANSFER_METHOD_NOT_PERMITTED"


def test_recipient_access_inside_fukushi_is_allowed(policy: Policy) -> None:
    d = policy.decide(recipient_view("fukushi"))
    assert d.allowed and d.matched == "bessi1-5-recipient"


@pytest.mark.parametrize("system", ["hyojun", "gyomu_kyotsu"])
def test_transfer_event_outside_fukushi_is_method_not_permitted_whatever_its_method(policy: Policy,
                                                                                   system: str) -> None:
    for method in ("fukushi_system", "usb", None):
        d = policy.decide(transfer(system, method))
        assert d.rule == "TRANSFER_METHOD_NOT_PERMITTED", (system, method)
    # precedence: a pair that is not permitted stays TRANSFER_NOT_PERMITTED on any system
    assert policy.decide(transfer(system, affair="gaikokujin_hogo")).rule == "TRANSFER_NOT_PERMITTED"
    assert policy.decide(recipient_view(system, affair="gaikokujin_hogo")).rule == "TRANSFER_NOT_PERMITTED"


def test_transfer_event_inside_fukushi(policy: Policy) -> None:
    assert policy.decide(transfer("fukushi")).allowed
    assert policy.decide(transfer("fukushi", "usb")).rule == "TRANSFER_METHOD_NOT_PERMITTED"


def test_holder_staff_on_every_system_is_not_a_transfer(policy: Policy) -> None:
    # near miss: the holder's own staff use kihon_joho on hyojun / gyomu_kyotsu lawfully
    for system in SYSTEMS:
        r = AccessRequest(version="2025-03-24", system=system, department=HOLDER, roles=frozenset({"kouki_staff"}),
                          action="view", resource="kihon_joho", affair="kouki-01")
        assert policy.decide(r).allowed, system


def test_check_transfer_judges_a_transfer_inside_fukushi(policy: Policy) -> None:
    assert policy.check_transfer(RECIPIENT, "shoni_shitei_iryohi", at="2025-04-01").allowed


def test_recipient_grid_on_every_system_equals_casbin_enforce(policy: Policy) -> None:
    recipients = sorted(policy.business_departments - policy.holder_departments)[:9]
    n = 0
    for system, dept, purpose, act, res in itertools.product(
            SYSTEMS, recipients, sorted(policy.purposes), ("view", "update", "transfer"), ("kihon_joho", "kaigo")):
        for r in (recipient_view(system, department=dept, affair=purpose, action=act, resource=res),
                  transfer(system, department=HOLDER, recipient_department=dept, affair=purpose, resource=res)):
            d = policy.decide(r)
            assert d == policy.decide_with_casbin(r), r
            if d.allowed and r.action != "login":
                assert system == "fukushi", r
            n += 1
    assert n > 1000


def test_holder_grid_on_every_system_equals_casbin_enforce(policy: Policy) -> None:
    for system, act, res in itertools.product(SYSTEMS, ACTIONS, RESOURCES):
        r = AccessRequest(version="2025-11-26", system=system, department=HOLDER,
                          roles=frozenset({"kouki_staff", "my_number_user"}), permission="update", action=act,
                          resource=res, affair="kouki-01", recipient_department=RECIPIENT, method="fukushi_system")
        assert policy.decide(r) == policy.decide_with_casbin(r), r


def test_decisions_are_cached_per_system(policy: Policy) -> None:
    # the same request on two systems: two answers (the cache key includes the system)
    assert policy.decide(recipient_view("fukushi")).allowed
    assert not policy.decide(recipient_view("hyojun")).allowed
    acct = Account(account_id="r1", system="hyojun", department=RECIPIENT)
    assert policy.check_access(acct, "view", "kihon_joho", "shoni_shitei_iryohi", at="2025-04-01").rule == \
        "TRANSFER_METHOD_NOT_PERMITTED"
    acct_f = Account(account_id="r1", system="fukushi", department=RECIPIENT)
    assert policy.check_access(acct_f, "view", "kihon_joho", "shoni_shitei_iryohi", at="2025-04-01").allowed


def test_transfer_system_is_data(policy_copy: Path) -> None:
    # a city whose transfers run on another system says so in metadata.toml, no code change
    meta = policy_copy / "metadata.toml"
    meta.write_text(meta.read_text(encoding="utf-8").replace('transfer_system = "fukushi"',
                                                             'transfer_system = "hyojun"'), encoding="utf-8")
    p = Policy.load(policy_copy)
    assert p.decide(recipient_view("hyojun")).allowed
    assert p.decide(recipient_view("fukushi")).rule == "TRANSFER_METHOD_NOT_PERMITTED"


# ---- 2. a group name is never a department ----------------------------------------------------------

@pytest.mark.parametrize("group", ["各区健康課", "grp:bessi1-4", "grp:holder"])
def test_group_name_as_department_is_an_error_naming_the_valid_departments(policy: Policy, group: str) -> None:
    with pytest.raises(ValueError, match=re.escape(group)) as exc:
        policy.decide(recipient_view("fukushi", department=group))
    valid = str(exc.value).split(group, 1)[1]
    assert "中央区健康課" in valid and "各区健康課" not in valid and "grp:" not in valid
    with pytest.raises(ValueError, match=re.escape(group)):
        policy.check_transfer(group, "shoni_shitei_iryohi", at="2025-04-01")
    with pytest.raises(ValueError, match=re.escape(group)):
        policy.decide(transfer("fukushi", recipient_department=group))
    with pytest.raises(ValueError):
        policy.check_access(Account(account_id="g", system="fukushi", department=group), "view", "kihon_joho",
                            "shoni_shitei_iryohi", at="2025-04-01")


def test_unknown_concrete_department_from_a_log_is_judged(policy: Policy) -> None:
    # near miss: in the audit (validate=False) a department outside the policy is judged, not refused
    r = recipient_view("fukushi", department="税務課")
    assert policy.decide(r, validate=False).rule == "TRANSFER_NOT_PERMITTED"


# ---- 6. version dates -------------------------------------------------------------------------------

def test_start_of_2020_is_unknown_and_explicit(policy: Policy) -> None:
    first = policy.versions[0]
    assert first.id == "2020" and first.start_known is False
    assert str(first.in_force_from) == "2020-11-17"
    entry = next(v for v in policy.metadata["versions"] if v["id"] == "2020")
    assert entry["in_force_from"] == "unknown"
    assert "令和2年6月30日、10月26日、11月16日" in entry["first_known_day_source"]
    assert all(v.start_known for v in policy.versions[1:])


def test_version_at_before_the_first_known_day_is_an_error_naming_it(policy: Policy) -> None:
    with pytest.raises(ValueError, match="2020-11-17") as exc:
        policy.version_at("2020-11-16T23:59:59")
    assert "not recorded in the source" in str(exc.value)
    assert policy.version_at("2020-11-17").id == "2020"
    with pytest.raises(ValueError, match="2020-11-17"):
        policy.check_transfer(RECIPIENT, "shoni_shitei_iryohi", at="2019-04-01")


def test_a_city_that_knows_the_start_sets_it(policy_copy: Path) -> None:
    meta = policy_copy / "metadata.toml"
    meta.write_text(meta.read_text(encoding="utf-8").replace('in_force_from = "unknown"',
                                                             'in_force_from = "2021-04-01"'), encoding="utf-8")
    p = Policy.load(policy_copy)
    assert p.versions[0].start_known and str(p.versions[0].in_force_from) == "2021-04-01"
    with pytest.raises(ValueError, match="starts on 2021-04-01"):
        p.version_at("2021-03-31")


def test_unknown_start_without_first_known_day_is_a_policy_error(policy_copy: Path) -> None:
    meta = policy_copy / "metadata.toml"
    meta.write_text(meta.read_text(encoding="utf-8").replace('first_known_day = "2020-11-17"\n', ""),
                    encoding="utf-8")
    with pytest.raises(PolicyError, match="first_known_day"):
        Policy.load(policy_copy)


@pytest.mark.parametrize(("at", "allowed"), [
    ("2025-11-25T23:59:59", False),  # 2025-03-24: the source names no affair 16 yet
    ("2025-11-26T00:00:00", True),   # 2025-11-26: 16 added
    ("2021-06-01T10:00:00", False),  # 2020
])
def test_kouki_16_is_an_affair_only_from_2025_11_26(policy: Policy, at: str, allowed: bool) -> None:
    acct = Account(account_id="s", system="fukushi", department=HOLDER, roles=frozenset({"kouki_staff"}))
    d = policy.check_access(acct, "view", "kihon_joho", "kouki-16", at=at)
    assert d.allowed is allowed
    if not allowed:
        assert d.rule == "ACCESS_DENIED_BY_POLICY"
    # near miss: affair 15 stays an affair of the holder after 2025-11-26 (only its My Number use ends)
    assert policy.check_access(acct, "view", "kihon_joho", "kouki-15", at=at).allowed
