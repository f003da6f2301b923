"""`pia-policy diff`: exact over the request domain, checked against casbin.Enforcer.enforce."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pia_policy import testing as pt
from pia_policy.cli import main
from pia_policy.policy import OTHER_AFFAIR, OTHER_DEPARTMENT, OTHER_METHOD, DiffGroup, Policy, diff_policies
from pia_policy.policy._engine import build_enforcer

_SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
_HOLDERS = {"健康保険課"} | {f"{w}市民総合窓口課" for w in ("中央区", "花見川区", "稲毛区", "若葉区", "緑区", "美浜区")}


# ---- the shipped versions -----------------------------------------------------------------------

def test_same_version_has_no_difference(policy: Policy) -> None:
    for v in policy.versions:
        d = diff_policies(policy, v.id, policy, v.id)
        assert d.empty and d.requests_compared > 1_000_000


def test_2025_11_26_moves_my_number_use_from_affair_15_to_16(policy: Policy) -> None:
    d = diff_policies(policy, "2025-03-24", policy, "2025-11-26")
    # affair 16 exists only from 2025-11-26 (別添3 I-1②): holder staff and officers gain it; My Number
    # use moves from 15 to 16 (15 stays a holder affair, so only My Number use of it is lost)
    new = {g.roles: g for g in d.newly_allowed}
    assert set(new) == {("my_number_user",), ("kouki_staff",), ("export_delegate", "export_officer", "system_owner")}
    assert all(g.affairs == ("kouki-16",) for g in d.newly_allowed)
    assert new[("kouki_staff",)].resources and "kojin_bango" not in new[("kouki_staff",)].resources
    assert new[("export_delegate", "export_officer", "system_owner")].actions == ("export",)
    (gone,) = d.newly_denied
    mn = new[("my_number_user",)]
    assert gone.affairs == ("kouki-15",)
    for g in (mn, gone):
        assert g.roles == ("my_number_user",)
        assert g.resources == ("kojin_bango",)
        assert set(g.actions) == {"view", "search", "print", "update"}
        assert dict(g.permissions)["update"] == ("update",)  # update only with 更新権限
        assert set(dict(g.permissions)["view"]) == {"read", "update"}
        assert set(g.departments) == _HOLDERS
        assert set(g.policy_lines) == {"my-number-view", "my-number-search", "my-number-print", "my-number-update"}
        # 7 holder departments x (3 actions x 2 permissions + update x 1) x (on 福祉システム or elsewhere)
        assert g.requests == 7 * 7 * 2
    assert mn.summary == ("健康保険課・各区市民総合窓口課の my_number_user: kojin_bango の view/search/update/print"
                          "（update は更新権限のみ） を kouki-16 で許可")
    assert gone.summary.endswith("を kouki-15 で拒否")


def test_2025_03_24_adds_exactly_the_bessi1_transfers(policy: Policy) -> None:
    d = diff_policies(policy, "2020", policy, "2025-03-24")
    assert d.newly_denied == ()
    transfer_pairs = set()
    recipient_pairs = set()
    for g in d.newly_allowed:
        if g.actions == ("transfer",):
            assert g.roles == ("kouki_staff",) and g.methods == ("fukushi_system",)
            assert set(g.resources) == {"kihon_joho", "iryo_hoken"}
            assert _HOLDERS <= set(g.departments)
            transfer_pairs |= {(r, a) for r in g.recipients for a in g.affairs}
        else:
            assert g.actions == ("view",) and set(g.resources) == {"kihon_joho", "iryo_hoken"}
            assert len(g.roles) == len(d.values["sub"])  # any account of the recipient department
            recipient_pairs |= {(dep, a) for dep in g.departments for a in g.affairs}
    assert transfer_pairs == set(pt.BESSI1_PAIRS)
    assert recipient_pairs == set(pt.BESSI1_PAIRS)


def test_two_directories_at_the_same_version(policy_copy: Path, tmp_path: Path) -> None:
    # a pull request that lets 税務課 view kihon_joho for a 別紙1 purpose: one new grant, nothing else
    pr = tmp_path / "pr"
    shutil.copytree(policy_copy, pr)
    with open(pr / "groups.csv", "a", encoding="utf-8") as fh:
        fh.write("g2,税務課,grp:bessi1-1\n")
    text = (pr / "metadata.toml").read_text(encoding="utf-8").replace('"健康支援課",\n]', '"健康支援課", "税務課",\n]')
    (pr / "metadata.toml").write_text(text, encoding="utf-8")
    base, head = Policy.load(policy_copy), Policy.load(pr)
    d = diff_policies(base, "2025-11-26", head, "2025-11-26")
    assert d.newly_denied == ()
    assert {g.departments for g in d.newly_allowed if g.actions == ("view",)} == {("税務課",)}
    assert {g.recipients for g in d.newly_allowed if g.actions == ("transfer",)} == {("税務課",)}
    assert all(g.affairs == ("gaikokujin_hogo",) for g in d.newly_allowed)
    # the version before transfers were declared does not change
    assert diff_policies(base, "2020", head, "2020").empty

    # CLI: the CI gate fails on the pull request, passes on main against itself
    assert main(["diff", "--from", "latest", "--policy", str(pr), "--against", str(policy_copy),
                 "--check-no-new-access"]) == 1
    assert main(["diff", "--from", "latest", "--policy", str(policy_copy), "--against", str(policy_copy),
                 "--check-no-new-access"]) == 0
    # the reverse direction only removes access: the gate passes
    assert main(["diff", "--from", "2025-11-26", "--policy", str(policy_copy), "--against", str(pr),
                 "--check-no-new-access"]) == 0


def test_cli_formats_and_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diff", "--from", "2025-03-24", "--to", "2025-11-26", "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert {a for g in out["newly_allowed"] for a in g["affairs"]} == {"kouki-16"}
    (mn,) = [g for g in out["newly_allowed"] if g["roles"] == ["my_number_user"]]
    assert mn["permissions"]["update"] == ["update"]
    assert out["counts"]["newly_allowed_requests"] == sum(g["requests"] for g in out["newly_allowed"])

    assert main(["diff", "--from", "2020", "--to", "2025-03-24", "--format", "csv", "--check-no-new-access"]) == 1
    captured = capsys.readouterr()
    assert captured.out.startswith("\ufeffchange,summary,")
    assert captured.out.count("\r\nnewly_allowed,") == 10
    assert "新たに許可" in captured.err

    assert main(["diff", "--from", "2025-03-24", "--to", "2025-11-26"]) == 0
    text = capsys.readouterr().out
    assert "新たに許可 (3):" in text and "新たに拒否 (1):" in text and "kouki-16 で許可" in text

    assert main(["diff", "--from", "2025-03-24", "--to", "2031"]) == 2
    err = capsys.readouterr().err
    assert "2031" in err and "2025-11-26" in err  # names the valid versions
    assert main(["diff", "--from", "2025-03-24"]) == 2  # --to needed without --against
    assert main(["diff", "--from", "2020", "--to", "2020", "--against", "/nonexistent"]) == 2


# ---- properties on random policies of the model family -------------------------------------------

def _load(rp: pt.RandomPolicy, directory: Path) -> Policy:
    """A random policy written as a policy directory (one version a year) and loaded."""
    directory.mkdir()
    (directory / "model.conf").write_text(pt.MODEL_TEXT, encoding="utf-8")
    (directory / "policy.csv").write_text("".join(f"{pl.ptype},{','.join(pl.values)}\n" for pl in rp.lines),
                                          encoding="utf-8")
    versions = "".join(f'[[versions]]\nid = "{v}"\nin_force_from = "{2020 + i}-04-01"\n'
                       + (f'in_force_to = "{2021 + i}-04-01"\n' if i + 1 < len(rp.versions) else "")
                       for i, v in enumerate(rp.versions))
    (directory / "metadata.toml").write_text(versions, encoding="utf-8")
    return Policy.load(directory)


def _in_group(t: tuple[str, ...], g: DiffGroup) -> bool:
    sub, dom, obj, act, aff, _ver, perm, rcpt, meth = t
    perms = dict(g.permissions)
    return (sub in g.roles and dom in g.departments and obj in g.resources and act in perms
            and perm in perms[act] and aff in g.affairs and rcpt in g.recipients and meth in g.methods)


#: A name of each open dimension that no policy uses, and the domain value that stands for it.
_UNNAMED = {"departments": ("総務課", OTHER_DEPARTMENT), "recipients": ("総務課", OTHER_DEPARTMENT),
            "affairs": ("kouki-42", OTHER_AFFAIR), "methods": ("fax", OTHER_METHOD)}


@settings(max_examples=15, **_SETTINGS)
@given(st.data())
def test_random_diff_is_exact(data: st.DataObject) -> None:
    import tempfile

    rp_a = data.draw(pt.random_policies(max_lines=12), label="A")
    same = data.draw(st.booleans(), label="B is A")
    rp_b = rp_a if same else data.draw(pt.random_policies(max_lines=12), label="B")
    ver_a = data.draw(st.sampled_from(rp_a.versions))
    ver_b = data.draw(st.sampled_from(rp_b.versions))
    with tempfile.TemporaryDirectory() as tmp:
        pa = _load(rp_a, Path(tmp) / "a")
        pb = pa if same else _load(rp_b, Path(tmp) / "b")
    d = diff_policies(pa, ver_a, pb, ver_b)
    if same:  # diff(A, A) is empty
        assert (d if ver_a == ver_b else diff_policies(pa, ver_a, pa, ver_a)).empty
    enf_a, enf_b = build_enforcer(pt.MODEL_TEXT, pa.lines), build_enforcer(pt.MODEL_TEXT, pb.lines)
    v = d.values
    dims = {"roles": "sub", "departments": "dom", "resources": "obj", "affairs": "aff", "recipients": "rcpt",
            "methods": "meth"}

    def tokens_of(g: DiffGroup | None) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """(request tuple, the same with unnamed values replaced by their stand-ins)."""
        if g is not None:  # a member of the group
            act = data.draw(st.sampled_from(g.actions))
            perm = data.draw(st.sampled_from(dict(g.permissions)[act]))
            pick = {k: data.draw(st.sampled_from(getattr(g, k))) for k in dims}
            named = dict(pick)
        else:  # anywhere in the domain, or a name no policy uses
            act = data.draw(st.sampled_from(v["act"]))
            perm = data.draw(st.sampled_from(v["perm"]))
            pick, named = {}, {}
            for k, dim in dims.items():
                unnamed = _UNNAMED.get(k)
                options = v[dim] + ((unnamed[0],) if unnamed else ())
                pick[k] = named[k] = data.draw(st.sampled_from(options))
                if unnamed and pick[k] == unnamed[0]:
                    named[k] = unnamed[1]
            if act in ("login", "logout"):
                pick["resources"] = pick["affairs"] = named["resources"] = named["affairs"] = ""
            if act != "transfer":  # no recipient; the method of the system it runs on (request_method)
                pick["recipients"] = named["recipients"] = ""
                pick["methods"] = named["methods"] = data.draw(st.sampled_from(v["access_meth"]))

        def tup(p: dict[str, str]) -> tuple[str, ...]:
            return (p["roles"], p["departments"], p["resources"], act, p["affairs"], "", perm,
                    p["recipients"], p["methods"])
        return tup(pick), tup(named)

    def decide(t: tuple[str, ...]) -> tuple[bool, bool]:
        return (bool(enf_a.enforce(*t[:5], ver_a, *t[6:])), bool(enf_b.enforce(*t[:5], ver_b, *t[6:])))

    for g in d.newly_allowed:
        for _ in range(3):
            t, _n = tokens_of(g)
            assert decide(t) == (False, True), (t, g)
    for g in d.newly_denied:
        for _ in range(3):
            t, _n = tokens_of(g)
            assert decide(t) == (True, False), (t, g)
    for _ in range(20):
        t, named = tokens_of(None)
        got = decide(t)
        assert any(_in_group(named, g) for g in d.newly_allowed) == (got == (False, True)), (t, d.to_dict())
        assert any(_in_group(named, g) for g in d.newly_denied) == (got == (True, False)), (t, d.to_dict())
