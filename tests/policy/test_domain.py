"""The finite request domain (policy/_domain.py): what it holds, its size, and that it covers the policy."""

from __future__ import annotations

from pia_policy.models import ACTIONS, RESOURCES
from pia_policy.policy import OTHER_DEPARTMENT, Policy, request_domain


def test_domain_of_the_shipped_policy(policy: Policy) -> None:
    d = request_domain(policy, collapse=False)
    assert d.versions == tuple(v.id for v in policy.versions)
    assert {"kouki_staff", "my_number_user", "system_owner", "export_delegate", "info_system_manager"} <= set(d.roles)
    # concrete departments only: 各区 expanded, no group names
    assert "中央区健康課" in d.departments and "美浜区社会支援課" in d.departments and "健康保険課" in d.departments
    assert not any(x.startswith(("各区", "grp:")) for x in d.departments)
    assert OTHER_DEPARTMENT in d.departments and OTHER_DEPARTMENT not in policy.departments
    assert {"kouki-01", "kouki-16", "shoni_shitei_iryohi"} <= set(d.affairs)
    assert not any(a.startswith("grp:") for a in d.affairs)
    assert d.resources == RESOURCES and d.actions == ACTIONS and "fukushi_system" in d.methods


def test_grid_shape_and_size(policy: Policy) -> None:
    d = request_domain(policy, include_other=False)
    grid = list(d.casbin_requests(["2020"]))
    assert len(grid) == d.size(["2020"]) and len(set(grid)) == len(grid)
    for sub, dom, obj, act, aff, ver, perm, rcpt, meth in grid:
        assert ver == "2020"
        if act in ("login", "logout"):
            assert obj == "" and aff == ""
        if act != "transfer":
            assert rcpt == "" and meth in ("", "fukushi_system")  # off / on the transfer system
    assert any(t[3] == "transfer" and t[7] == "中央区健康課" and t[8] == "fukushi_system" for t in grid)
    assert "美浜区健康課" in d.classes["中央区健康課"]  # one representative per class of departments
    assert sum(1 for _ in d.access_requests(["2020"])) == len(grid)


def test_union_of_two_policies_for_diff(policy: Policy, policy_copy) -> None:  # type: ignore[no-untyped-def]
    with open(policy_copy / "groups.csv", "a", encoding="utf-8") as f:
        f.write("g,kouki_staff,auditor,2025-11-26\n")
    other = Policy.load(policy_copy)
    assert "auditor" not in request_domain(policy).roles
    assert "auditor" in request_domain(policy, other).roles


def test_collapsed_classes_decide_alike(policy: Policy) -> None:
    """Every value a representative stands for gets the representative's decision (sampled per class)."""
    d = request_domain(policy)
    full = request_domain(policy, collapse=False)
    assert set().union(*map(set, d.classes.values())) >= set(full.departments)
    assert d.size() < full.size() // 50
    for rep, members in d.classes.items():
        if rep not in d.departments:
            continue
        for member in members:
            for act, res, aff in (("view", "kihon_joho", "shoni_shitei_iryohi"), ("view", "kihon_joho", "kouki-01"),
                                  ("update", "kojin_bango", "kouki-16"), ("view", "iryo_hoken", "gaikokujin_hogo")):
                def decision(dept: str) -> tuple[bool, str | None]:
                    from pia_policy.models import AccessRequest
                    r = AccessRequest(version="2025-11-26", system="fukushi", department=dept, roles=frozenset(),
                                      action=act, resource=res, affair=aff)
                    x = policy.decide(r, validate=False)
                    return x.allowed, x.rule
                assert decision(member) == decision(rep), (rep, member)
