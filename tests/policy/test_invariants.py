"""The policy invariants, exhaustive over the finite domain, in `lint` and `pia_policy.testing` (issue 10)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pia_policy import testing as pt
from pia_policy.policy import Policy, lint
from pia_policy.policy._invariants import policy_violations


def _append(policy_copy: Path, name: str, text: str) -> int:
    path = policy_copy / name
    with path.open("a", encoding="utf-8") as f:
        f.write(text)
    return len(path.read_text(encoding="utf-8").splitlines())


def _lint_codes(policy_copy: Path) -> dict[str, list[tuple[str, int | None]]]:
    out: dict[str, list[tuple[str, int | None]]] = {}
    for p in lint(policy_copy):
        out.setdefault(p.code, []).append((Path(p.file).name, p.line))
    return out


def test_shipped_policy_keeps_every_invariant(policy: Policy) -> None:
    assert policy_violations(policy) == []
    pt.assert_policy_invariants(policy)


def test_issue_example_kojin_bango_view_for_kouki_staff_fails_both(policy_copy: Path) -> None:
    """The issue's line: kouki_staff (no my_number_user) may view kojin_bango — lint and testing catch it."""
    n = _append(policy_copy, "policy.csv",
                "p,kouki_staff,grp:holder,kojin_bango,view,grp:my_number_affairs,2025-11-26,*,*,*,my-number-view\n")
    assert ("policy.csv", n) in _lint_codes(policy_copy)["my_number_without_permission"]
    with pytest.raises(AssertionError, match=rf"policy.csv:{n}: my_number_without_permission"):
        pt.assert_policy_invariants(Policy.load(policy_copy))


def test_near_miss_the_same_grant_to_my_number_user_is_clean(policy_copy: Path) -> None:
    _append(policy_copy, "policy.csv",
            "p,my_number_user,中央区市民総合窓口課,kojin_bango,view,kouki-01,2025-11-26,*,*,*,my-number-view\n")
    assert lint(policy_copy) == []
    pt.assert_policy_invariants(Policy.load(policy_copy))


def test_role_hierarchy_granting_my_number_use_is_caught(policy_copy: Path) -> None:
    # kouki_staff inherits my_number_user: an account without the role gets kojin_bango
    n = _append(policy_copy, "groups.csv", "g,kouki_staff,my_number_user,2025-11-26\n")
    found = policy_violations(Policy.load(policy_copy))
    assert any(v.invariant == "my_number_without_permission" and "kouki_staff" in v.message for v in found)
    assert "my_number_without_permission" in _lint_codes(policy_copy)
    assert n > 0


@pytest.mark.parametrize("aff", ["kouki-02", "*", "grp:kouki_affairs"])
def test_my_number_outside_the_versions_affairs(policy_copy: Path, aff: str) -> None:
    n = _append(policy_copy, "policy.csv",
                f"p,my_number_user,grp:holder,kojin_bango,view,{aff},2025-11-26,*,*,*,my-number-view\n")
    assert ("policy.csv", n) in _lint_codes(policy_copy)["my_number_outside_affairs"]
    with pytest.raises(AssertionError, match="my_number_outside_affairs"):
        pt.assert_policy_invariants(Policy.load(policy_copy))


def test_boundary_kouki_15_is_a_my_number_affair_until_2025_11_26(policy_copy: Path) -> None:
    ok = "p,my_number_user,grp:holder,kojin_bango,view,kouki-15,2025-03-24,*,*,*,my-number-view\n"
    _append(policy_copy, "policy.csv", ok)
    assert "my_number_outside_affairs" not in _lint_codes(policy_copy)
    n = _append(policy_copy, "policy.csv", ok.replace("2025-03-24", "2025-11-26"))
    assert _lint_codes(policy_copy)["my_number_outside_affairs"] == [("policy.csv", n)]


def test_transfer_outside_bessi1_through_a_shared_group(policy_copy: Path) -> None:
    """税務課 joins a 別紙1 group: it shares the class of 保護課, and every member of the class is checked."""
    n = _append(policy_copy, "groups.csv", "g2,介護保険課,grp:bessi1-1\n")
    meta = policy_copy / "metadata.toml"
    meta.write_text(meta.read_text(encoding="utf-8").replace('"健康支援課",', '"健康支援課", "介護保険課",', 1),
                    encoding="utf-8")
    found = [v for v in policy_violations(Policy.load(policy_copy)) if v.invariant == "transfer_outside_bessi1"]
    assert found and all("介護保険課" in v.message for v in found)
    assert "transfer_outside_bessi1" in _lint_codes(policy_copy)
    assert n > 0


def test_transfer_by_another_method(policy_copy: Path) -> None:
    n = _append(policy_copy, "policy.csv", "p,kouki_staff,grp:holder,grp:transfer_info,transfer,gaikokujin_hogo,"
                                          "2025-11-26,*,grp:bessi1-1,*,bessi1-1-transfer\n")
    assert ("policy.csv", n) in _lint_codes(policy_copy)["transfer_outside_bessi1"]
