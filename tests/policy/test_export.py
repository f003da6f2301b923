"""`pia-policy export --format casbin`: stock pycasbin on the exported files answers as check_* (SPEC §9)."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from pathlib import Path

import casbin
import pytest

from pia_policy.policy import Policy, request_domain
from pia_policy.policy._engine import request_tokens

#: pycasbin's enforce costs ~0.6 ms per request here: the default suite walks every STRIDE-th
#: tuple of the collapsed grid (plus the whole transfer question); -m slow walks all of it.
STRIDE = 97


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("export")
    done = subprocess.run([sys.executable, "-m", "pia_policy", "export", "--format", "casbin", "--out", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["files"] == ["model.conf", "policy.csv", "versions.csv"] and summary["p_lines"] > 0
    return out


def _stock(out: Path) -> casbin.Enforcer:
    return casbin.Enforcer(str(out / "model.conf"), str(out / "policy.csv"))


def _compare(policy: Policy, enforcer: casbin.Enforcer, stride: int) -> int:
    domain = request_domain(policy)
    n = 0
    for i, req in enumerate(domain.access_requests()):
        if i % stride:
            continue
        (t,) = request_tokens(req, policy.vocabulary)  # one role per call: one tuple
        assert enforcer.enforce(*t) == policy.decide(req, validate=False).allowed, t
        n += 1
    return n


def test_the_issue_case_raw_casbin_now_agrees(policy: Policy, exported: Path) -> None:
    """Raw Casbin on the shipped files said False for 中央区健康課 / shoni_shitei_iryohi; the export says True."""
    e = _stock(exported)
    for dept in ("中央区健康課", "美浜区健康課"):
        assert policy.check_transfer(dept, "shoni_shitei_iryohi", at="2025-06-01").allowed
        assert e.enforce("kouki_staff", "健康保険課", "kihon_joho", "transfer", "shoni_shitei_iryohi", "2025-03-24",
                         "update", dept, "fukushi_system")
        assert not e.enforce("kouki_staff", "健康保険課", "kihon_joho", "transfer", "gaikokujin_hogo", "2025-03-24",
                             "update", dept, "fukushi_system")
    text = (exported / "policy.csv").read_text(encoding="utf-8")
    assert "g2,中央区健康課,grp:bessi1-4" in text and "g2,健康保険課,grp:holder" in text
    assert "\ng4,kouki-16,grp:my_number_affairs,2025-11-26" in text


def test_every_transfer_question_on_every_version(policy: Policy, exported: Path) -> None:
    """check_transfer over every department the policy knows, every purpose, method and version."""
    e = _stock(exported)
    v = policy.vocabulary
    n = 0
    for ver, dept, purpose, method in itertools.product(
            policy.versions, sorted(policy.departments), sorted(policy.purposes), v.transfer_methods):
        expected = policy.check_transfer(dept, purpose, method=method, at=ver.in_force_from).allowed
        got = e.enforce(v.staff_role, v.canonical_holder, v.transfer_resource, "transfer", purpose, ver.id,
                        "update", dept, method)
        assert got == expected, (ver.id, dept, purpose, method)
        n += 1
    assert n == len(policy.versions) * len(policy.departments) * len(policy.purposes) * len(v.transfer_methods)


def test_grid_sample_equals_check(policy: Policy, exported: Path) -> None:
    n = _compare(policy, _stock(exported), STRIDE)
    assert n > request_domain(policy).size() // STRIDE - 1


@pytest.mark.slow
def test_full_grid_equals_check(policy: Policy, exported: Path) -> None:
    assert _compare(policy, _stock(exported), 1) == request_domain(policy).size()


def test_export_of_a_city_policy_follows_its_groups(policy_copy: Path, tmp_path: Path) -> None:
    with open(policy_copy / "groups.csv", "a", encoding="utf-8") as f:
        f.write("g,kouki_staff,senior_staff,2025-11-26\ng,senior_staff,export_officer,2025-11-26\n")
    city = Policy.load(policy_copy)
    from pia_policy.policy import export_casbin

    export_casbin(city, tmp_path / "x")
    e = _stock(tmp_path / "x")
    text = (tmp_path / "x" / "policy.csv").read_text(encoding="utf-8")
    assert "g,kouki_staff,export_officer,2025-11-26" in text  # two levels resolved to one
    assert e.enforce("kouki_staff", "健康保険課", "kihon_joho", "export", "kouki-01", "2025-11-26", "read", "", "")
    assert not e.enforce("kouki_staff", "健康保険課", "kihon_joho", "export", "kouki-01", "2025-03-24", "read", "", "")
    assert _compare(city, e, STRIDE * 5) > 0


def test_cli_refuses_a_file_as_out(tmp_path: Path) -> None:
    f = tmp_path / "file"
    f.write_text("x", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "pia_policy", "export", "--format", "casbin", "--out", str(f)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "out" in done.stderr
