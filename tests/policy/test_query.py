"""policy.recipients / allowed_purposes (partial evaluation) equal enumerating check_transfer over the domain."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pia_policy import testing as pt
from pia_policy.departments import expand_department
from pia_policy.policy import Policy
from pia_policy.policy._engine import CasbinEvaluator, build_enforcer
from pia_policy.policy._query import transfer_purposes, transfer_recipients

_SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
_STARTS = ("2020-01-01", "2021-01-01", "2022-01-01")


def _domain(policy: Policy) -> list[str]:
    return sorted(policy.departments)


def _policy_dir(rp: pt.RandomPolicy, root: Path) -> Path:
    """A policy directory holding a random policy of the model family (purposes = its affairs)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "model.conf").write_text(pt.MODEL_TEXT, encoding="utf-8")
    (root / "policy.csv").write_text(
        "".join(f"{pl.ptype}, {', '.join(pl.values)}\n" for pl in rp.lines), encoding="utf-8")
    versions = "".join(
        f'[[versions]]\nid = "{v}"\nin_force_from = "{_STARTS[i]}"\n'
        + (f'in_force_to = "{_STARTS[i + 1]}"\n' if i + 1 < len(rp.versions) else "")
        for i, v in enumerate(rp.versions))
    concrete = [d for d in rp.departments if not d.startswith(("grp:", "各区"))]
    purposes = "".join(f'"{a}" = "{a}"\n' for a in rp.affairs)
    (root / "metadata.toml").write_text(
        versions + '[holders]\ndepartments = ["健康保険課"]\n'
        + f"[departments]\nknown = {concrete!r}\n".replace("'", '"') + "[purposes]\n" + purposes,
        encoding="utf-8")
    return root


@settings(max_examples=60, **_SETTINGS)
@given(rp=pt.random_policies(max_lines=30), data=st.data())
def test_random_policy_recipients_equal_enumerated_check_transfer(tmp_path_factory: pytest.TempPathFactory,
                                                                  rp: pt.RandomPolicy, data: st.DataObject) -> None:
    policy = Policy.load(_policy_dir(rp, tmp_path_factory.mktemp("rp")))
    at = dt.date.fromisoformat(_STARTS[data.draw(st.integers(0, len(rp.versions) - 1))]) + dt.timedelta(days=3)
    departments, purposes = _domain(policy), sorted(policy.purposes)
    for purpose in purposes:
        expected = [d for d in departments if policy.check_transfer(d, purpose, at=at).allowed]
        assert policy.recipients(purpose, at) == expected, (purpose, rp.lines)
    for department in departments:
        expected = [p for p in purposes if policy.check_transfer(department, p, at=at).allowed]
        assert policy.allowed_purposes(department, at) == expected, (department, rp.lines)


@settings(max_examples=60, **_SETTINGS)
@given(rp=pt.random_policies(max_lines=30))
def test_partial_evaluation_equals_casbin_enforce(rp: pt.RandomPolicy) -> None:
    # the same questions answered by casbin's enforce (the reference evaluator), one call per name
    from pia_policy.policy import CompiledPolicy, Vocabulary

    compiled = CompiledPolicy(rp.lines)
    reference = CasbinEvaluator(build_enforcer(pt.MODEL_TEXT, rp.lines))
    vocab = Vocabulary(holders=frozenset({"健康保険課"}))
    for ver in rp.versions:
        for purpose in rp.affairs:
            assert transfer_recipients(compiled, vocab, ver, purpose, rp.departments) == \
                transfer_recipients(reference, vocab, ver, purpose, rp.departments)
        for dept in rp.departments:
            assert transfer_purposes(compiled, vocab, ver, dept, rp.affairs) == \
                transfer_purposes(reference, vocab, ver, dept, rp.affairs)


def _boundary_days(policy: Policy) -> list[dt.date]:
    days = [d for v in policy.versions for d in (v.in_force_from - dt.timedelta(days=1), v.in_force_from)]
    return sorted(set(days))[1:]


def test_shipped_policy_recipients_equal_enumeration_at_every_boundary(policy: Policy) -> None:
    departments, purposes = _domain(policy), sorted(policy.purposes)
    for day in _boundary_days(policy):
        for purpose in purposes:
            assert policy.recipients(purpose, day) == \
                [d for d in departments if policy.check_transfer(d, purpose, at=day).allowed], (day, purpose)
        for dept in departments:
            assert policy.allowed_purposes(dept, day) == \
                [p for p in purposes if policy.check_transfer(dept, p, at=day).allowed], (day, dept)


def test_shipped_recipients_follow_bessi1(policy: Policy) -> None:
    wards = sorted(expand_department("各区健康課"))
    # 2020: no transfer declared; the day the 2025-03-24 version comes into force: 別紙1 No.5
    assert policy.recipients("shoni_shitei_iryohi", "2025-03-23T23:59:59") == []
    assert policy.recipients("shoni_shitei_iryohi", "2025-03-24") == sorted(["健康支援課", *wards])
    assert policy.recipients("gaikokujin_hogo", "2025-12-01") == sorted(["保護課", *expand_department("各区社会支援課")])
    # 各区健康課 holds two purposes: the pair matters, not the department
    assert policy.allowed_purposes("緑区健康課", "2025-12-01") == ["seishin_nyuin_iryohi", "shoni_shitei_iryohi"]
    assert policy.allowed_purposes("健康支援課", "2025-12-01") == ["shoni_shitei_iryohi"]
    assert policy.allowed_purposes("健康保険課", "2025-12-01") == []  # a holder is no recipient


def test_unknown_values_raise_naming_the_valid_ones(policy: Policy) -> None:
    with pytest.raises(ValueError, match="shoni_shitei_iryohi"):
        policy.recipients("kouki-01", "2025-12-01")
    # a group name is never a department
    with pytest.raises(ValueError, match="中央区健康課"):
        policy.allowed_purposes("各区健康課", "2025-12-01")
    with pytest.raises(ValueError, match="no policy version in force on 2019-12-31.*2020-11-17"):
        policy.recipients("shoni_shitei_iryohi", "2019-12-31")


def test_lines_that_do_not_allow_the_canonical_transfer_are_not_recipients(policy_copy: Path) -> None:
    csv = policy_copy / "policy.csv"
    text = csv.read_text(encoding="utf-8")
    # No.5 by USB only (the near miss: the pair is listed, the method is not fukushi_system) ...
    text = text.replace("grp:bessi1-5,fukushi_system,bessi1-5-transfer", "grp:bessi1-5,usb,bessi1-5-transfer")
    # ... No.1 only for accounts with update permission (the canonical transfer has it) ...
    text = text.replace("gaikokujin_hogo,2025-11-26,*,grp:bessi1-1", "gaikokujin_hogo,2025-11-26,update,grp:bessi1-1")
    # ... and No.3 to any department ("*" recipient) in 2025-11-26
    text = text.replace("hitorioya_iryohi,2025-11-26,*,grp:bessi1-3", "hitorioya_iryohi,2025-11-26,*,*")
    csv.write_text(text, encoding="utf-8")
    policy = Policy.load(policy_copy)
    assert policy.recipients("shoni_shitei_iryohi", "2025-12-01") == []
    assert not policy.check_transfer("健康支援課", "shoni_shitei_iryohi", at="2025-12-01").allowed
    assert "保護課" in policy.recipients("gaikokujin_hogo", "2025-12-01")
    assert policy.recipients("hitorioya_iryohi", "2025-12-01") == _domain(policy)
    assert policy.recipients("hitorioya_iryohi", "2025-04-01") == \
        sorted(["こども家庭支援課", *expand_department("各区こども家庭課")])
