"""pia_policy.testing: strategies produce valid values and the invariants catch a policy that breaks them."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from pia_policy import testing as pt
from pia_policy.models import AccessRequest, Account
from pia_policy.policy import Policy

_POLICY = Policy.load()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pt.accounts(_POLICY, revoked=True), pt.moments(_POLICY))
def test_nothing_allowed_after_revocation(account: Account, at: object) -> None:
    assert pt.invariant_nothing_after_revocation(_POLICY, account, "view", "kihon_joho", "kouki-01", at)  # type: ignore[arg-type]


@settings(max_examples=40, deadline=None)
@given(pt.transfers(_POLICY))
def test_transfers_strategy_and_bessi1(args: tuple) -> None:
    dept, purpose, method, at = args
    d = _POLICY.check_transfer(dept, purpose, method=method, at=at)
    if d.allowed:
        assert (dept, purpose) in pt.BESSI1_PAIRS and method == "fukushi_system"


@settings(max_examples=30, deadline=None)
@given(pt.access_events(_POLICY))
def test_access_events_have_the_required_fields(ev: dict) -> None:
    assert {"ts", "system", "event_id", "account_id", "action"} <= set(ev)
    assert ("session_id" in ev) == (ev["action"] in ("login", "logout"))


def test_shipped_policy_keeps_the_policy_invariants() -> None:
    pt.assert_policy_invariants(_POLICY)


def test_invariants_catch_a_transfer_outside_bessi1(policy_copy: Path) -> None:
    with (policy_copy / "policy.csv").open("a", encoding="utf-8") as f:
        # a city adds 税務課 as a recipient of purpose No.1 — outside 別紙1
        f.write("p,kouki_staff,grp:holder,grp:transfer_info,transfer,gaikokujin_hogo,2025-03-24,*,税務課,fukushi_system,bessi1-1-transfer\n")
    bad = Policy.load(policy_copy)
    with pytest.raises(AssertionError, match="税務課"):
        pt.assert_policy_invariants(bad)


def test_invariants_catch_my_number_without_permission(policy_copy: Path) -> None:
    with (policy_copy / "policy.csv").open("a", encoding="utf-8") as f:
        f.write("p,kouki_staff,grp:holder,kojin_bango,view,grp:my_number_affairs,2025-03-24,*,*,*,my-number-view\n")
    bad = Policy.load(policy_copy)
    req = AccessRequest(version="2025-03-24", system="fukushi", department="健康保険課",
                        roles=frozenset({"kouki_staff"}), action="view", resource="kojin_bango", affair="kouki-01")
    assert not pt.invariant_no_my_number_without_permission(bad, req)
    assert pt.invariant_no_my_number_without_permission(_POLICY, req)
    with pytest.raises(AssertionError, match="My Number"):
        pt.assert_invariants(bad, req)
