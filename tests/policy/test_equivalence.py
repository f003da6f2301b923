"""Compiled decisions equal casbin.Enforcer.enforce: random policies of the model family, and the shipped one."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pia_policy import testing as pt
from pia_policy.models import ACTIONS, RESOURCES, AccessRequest, Account
from pia_policy.policy import CompiledPolicy, Policy, Vocabulary
from pia_policy.policy._decide import decide
from pia_policy.policy._engine import CasbinEvaluator, build_enforcer

_SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _check_random(rp: pt.RandomPolicy, requests: list[tuple[str, ...]]) -> None:
    compiled = CompiledPolicy(rp.lines)
    enforcer = build_enforcer(pt.MODEL_TEXT, rp.lines)
    for t in requests:
        ok, explain = enforcer.enforce_ex(*t)
        got = compiled.allowing_line(t)  # type: ignore[arg-type]
        assert (got is not None) == ok, (t, rp.lines)
        if ok:
            assert got == explain[-1], (t, got, explain)


@settings(max_examples=120, **_SETTINGS)
@given(st.data())
def test_random_policies_compiled_equals_enforce(data: st.DataObject) -> None:
    rp = data.draw(pt.random_policies())
    requests = data.draw(st.lists(pt.casbin_requests(rp), min_size=1, max_size=25))
    _check_random(rp, requests)


@pytest.mark.slow
@settings(max_examples=1500, **_SETTINGS)
@given(st.data())
def test_random_policies_compiled_equals_enforce_large(data: st.DataObject) -> None:
    rp = data.draw(pt.random_policies(max_lines=60))
    requests = data.draw(st.lists(pt.casbin_requests(rp), min_size=1, max_size=60))
    _check_random(rp, requests)


def test_deep_role_hierarchy_follows_casbins_level_limit() -> None:
    # a chain r0 -> r1 -> ... -> r11; only r10 is granted. Casbin follows at most 10 levels (depth 9),
    # so r1 (depth 9) is allowed and r0 (depth 10) is not; the compiled closure must agree.
    from pia_policy.policy import PolicyLine

    chain = [f"r{i}" for i in range(12)]
    lines = [PolicyLine("g", (a, b, "v0")) for a, b in zip(chain, chain[1:])]
    lines.append(PolicyLine("p", ("r10", "*", "*", "view", "*", "v0", "*", "*", "*", "l-r10")))
    enforcer = build_enforcer(pt.MODEL_TEXT, lines)
    assert enforcer.enforce("r1", "d", "o", "view", "a", "v0", "read", "", "")
    assert not enforcer.enforce("r0", "d", "o", "view", "a", "v0", "read", "", "")
    compiled = CompiledPolicy(lines)
    assert compiled.allowing_line(("r1", "d", "o", "view", "a", "v0", "read", "", "")) == "l-r10"
    assert compiled.allowing_line(("r0", "d", "o", "view", "a", "v0", "read", "", "")) is None
    rp = pt.RandomPolicy(tuple(lines), ("v0",), tuple(chain), ("d",), ("o",), ("view",), ("a",))
    _check_random(rp, [(r, "d", "o", "view", "a", "v0", "read", "", "") for r in chain])


@settings(max_examples=12, **_SETTINGS)
@given(pt.random_policies(max_lines=40))
def test_random_policy_decisions_equal(rp: pt.RandomPolicy) -> None:
    # the whole decision (allow + deny classification) through both evaluators, on random policies
    compiled = CompiledPolicy(rp.lines)
    reference = CasbinEvaluator(build_enforcer(pt.MODEL_TEXT, rp.lines))
    vocab = Vocabulary(holders=frozenset({"健康保険課"}))
    # every system: outside the transfer system no request carries the transfer method (SPEC §4)
    for sub, dom, act, aff, ver, (system, method) in itertools.product(
            ("kouki_staff", "my_number_user", "u"), rp.departments, rp.actions, rp.affairs[:3], rp.versions,
            (("fukushi", "usb"), ("hyojun", "fukushi_system"))):
        r = AccessRequest(version=ver, system=system, department=dom, roles=frozenset({sub}), action=act,
                          resource="kihon_joho", affair=aff or None, recipient_department="保護課", method=method)
        assert decide(r, compiled, vocab, str) == decide(r, reference, vocab, str)


# ---- the shipped policy ----------------------------------------------------------------------------

def _boundary_days(policy: Policy) -> list[dt.date]:
    days = []
    for v in policy.versions:
        days += [v.in_force_from - dt.timedelta(days=1), v.in_force_from]
    return sorted(set(days))[1:]  # the day before the first version has no policy


def test_every_department_purpose_pair_at_each_boundary(policy: Policy) -> None:
    depts = sorted(policy.business_departments | {"税務課"})
    n = 0
    for day in _boundary_days(policy):
        version = policy.version_at(day).id
        for dept, purpose in itertools.product(depts, sorted(policy.purposes)):
            for r in (
                AccessRequest(version=version, system="fukushi", department=policy.vocabulary.canonical_holder,
                              roles=frozenset({"kouki_staff"}), action="transfer", resource="kihon_joho",
                              affair=purpose, recipient_department=dept, method="fukushi_system"),
                AccessRequest(version=version, system="fukushi", department=dept, action="view",
                              resource="iryo_hoken", affair=purpose),
            ):
                assert policy.decide(r, validate=False) == policy.decide_with_casbin(r), r
                n += 1
            expected = (dept, purpose) in pt.BESSI1_PAIRS and version != "2020"
            if dept in policy.departments:
                assert policy.check_transfer(dept, purpose, at=day).allowed is expected, (day, dept, purpose)
            else:
                with pytest.raises(ValueError, match="保護課"):
                    policy.check_transfer(dept, purpose, at=day)
    assert n > 1000


@settings(max_examples=400, **_SETTINGS)
@given(pt.access_requests())
def test_shipped_policy_sample_equals_enforce(r: AccessRequest) -> None:
    policy = _shipped()
    assert policy.decide(r, validate=False) == policy.decide_with_casbin(r)
    pt.assert_invariants(policy, r)


@pytest.mark.slow
@settings(max_examples=5000, **_SETTINGS)
@given(pt.access_requests())
def test_shipped_policy_large_sample_equals_enforce(r: AccessRequest) -> None:
    policy = _shipped()
    assert policy.decide(r, validate=False) == policy.decide_with_casbin(r)


def test_shipped_policy_holder_grid_equals_enforce(policy: Policy) -> None:
    for v, act, res, aff, roles in itertools.product(
        [x.id for x in policy.versions], ACTIONS, RESOURCES, ("kouki-01", "kouki-02", "kouki-15", "kouki-16", None),
        (frozenset(), frozenset({"kouki_staff"}), frozenset({"my_number_user"}), frozenset({"system_owner"})),
    ):
        r = AccessRequest(version=v, system="hyojun", department="緑区市民総合窓口課", roles=roles,
                          permission="update", action=act, resource=res, affair=aff)
        assert policy.decide(r, validate=False) == policy.decide_with_casbin(r), r


_POLICY: list[Policy] = []


def _shipped() -> Policy:
    if not _POLICY:
        _POLICY.append(Policy.load())
    return _POLICY[0]


def _first_day(policy: Policy, version: str) -> dt.datetime:
    v = next(x for x in policy.versions if x.id == version)
    return dt.datetime.combine(v.in_force_from, dt.time(10))  # naive = JST, inside the version


@settings(max_examples=400, **_SETTINGS)
@given(pt.access_requests())
def test_check_access_equals_enforce(r: AccessRequest) -> None:
    # the public API builds no AccessRequest: its request key, validation and decision must be the
    # same as decide() over the model, and every answer the same as casbin.Enforcer.enforce's
    policy = _shipped()
    account = Account(account_id="a1", system=r.system, department=r.department, employment=r.employment,
                      roles=r.roles, permission=r.permission)
    try:
        policy.decide(r, validate=True)  # the checks check_access makes (version, system ... are valid here)
    except ValueError as e:
        with pytest.raises(ValueError) as got:
            policy.check_access(account, r.action, r.resource, r.affair, at=_first_day(policy, r.version),
                                recipient_department=r.recipient_department, method=r.method)
        assert str(got.value) == str(e)
        return
    policy._state.cache.clear()  # noqa: SLF001 - a first-seen request, not a cache hit
    d = policy.check_access(account, r.action, r.resource, r.affair, at=_first_day(policy, r.version),
                            recipient_department=r.recipient_department, method=r.method)
    assert d == policy.decide_with_casbin(r)


def test_check_access_refuses_unhashable_and_wrongly_typed_values(policy: Policy) -> None:
    # the fast validation is a set membership test; a list or a number still gets the named error
    account = Account(account_id="a1", system="fukushi", department="健康保険課", roles=frozenset({"kouki_staff"}))
    for kwargs in ({"affair": ["kouki-01"]}, {"affair": 1}, {"recipient_department": {"保護課"}}, {"method": 3}):
        args = {"affair": "kouki-01", **kwargs}
        with pytest.raises(ValueError, match="有効な値"):
            policy.check_access(account, "view", "kihon_joho", args.pop("affair"), at="2025-04-01", **args)
    for resource in (["kihon_joho"], 5):
        with pytest.raises(ValueError, match="有効な値"):
            policy.check_access(account, "view", resource, "kouki-01", at="2025-04-01")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="resource"):
        policy.check_access(account, "view", None, "kouki-01", at="2025-04-01")
    # near miss: the same call with valid values decides
    assert policy.check_access(account, "view", "kihon_joho", "kouki-01", at="2025-04-01").version


def test_compiled_tables_answer_names_the_policy_does_not_know() -> None:
    # a name in no line and no grouping matches only "*" lines; "*" as a request value is a name too
    from pia_policy.policy import PolicyLine

    lines = [PolicyLine("g", ("u", "staff", "v0")), PolicyLine("g2", ("d1", "grp", "")),
             PolicyLine("p", ("staff", "grp", "*", "view", "*", "v0", "*", "*", "*", "l1")),
             PolicyLine("p", ("*", "d9", "o", "view", "*", "v0", "read", "*", "*", "l2")),
             PolicyLine("p", ("*", "*", "*", "view", "a", "v0", "*", "*", "m", "l3"))]
    enforcer = build_enforcer(pt.MODEL_TEXT, lines)
    compiled = CompiledPolicy(lines)
    names = ("u", "staff", "nobody", "*", "")
    for sub, dom, obj, aff, perm, meth in itertools.product(names, ("d1", "grp", "d9", "dx", "*"), ("o", "x", "*"),
                                                            ("a", "b", "*"), ("read", "update", "*"), ("m", "", "*")):
        t = (sub, dom, obj, "view", aff, "v0", perm, "", meth)
        ok, explain = enforcer.enforce_ex(*t)
        got = compiled.allowing_line(t)  # type: ignore[arg-type]
        assert (got is not None) == ok, t
        if ok:
            assert got == explain[-1], t
    assert compiled.allowing_line(("u", "d1", "o", "view", "a", "v9", "read", "", "")) is None  # no such version
