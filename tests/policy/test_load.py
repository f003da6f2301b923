"""Loading: packaged policies, versions as data, 各区X課 expansion, holders, refusals with file and line."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from pia_policy.departments import DEFAULT_HOLDER_DEPARTMENTS, WARDS
from pia_policy.models import AccessRequest
from pia_policy.policy import Policy, PolicyError, default_policy_dir


def test_versions_and_table(policy: Policy) -> None:
    assert [v.id for v in policy.versions] == ["2020", "2025-03-24", "2025-11-26"]
    assert policy.versions[0].in_force_to == dt.date(2025, 3, 24)
    assert policy.versions[-1].in_force_to is None
    table = policy.version_table()
    assert table[1] == ("2025-03-24", dt.datetime(2025, 3, 23, 15), dt.datetime(2025, 11, 25, 15))
    assert table[2][2] is None


@pytest.mark.parametrize(("when", "expected"), [
    ("2025-03-23", "2020"),
    ("2025-03-24", "2025-03-24"),
    (dt.date(2025, 11, 25), "2025-03-24"),
    (dt.datetime(2025, 11, 25, 23, 59, 59), "2025-03-24"),          # naive = JST
    (dt.datetime(2025, 11, 25, 15, 0, tzinfo=dt.timezone.utc), "2025-11-26"),  # 00:00 JST
    ("2025-11-25T14:59:59Z", "2025-03-24"),
    ("2030-01-01T12:00:00+09:00", "2025-11-26"),
])
def test_version_at(policy: Policy, when: object, expected: str) -> None:
    assert policy.version_at(when).id == expected  # type: ignore[arg-type]


def test_version_at_before_first_or_garbage(policy: Policy) -> None:
    with pytest.raises(ValueError, match="no policy version"):
        policy.version_at("2019-12-31")
    with pytest.raises(ValueError, match="ISO 8601"):
        policy.version_at("yesterday")


def test_in_force_dates_are_data(policy_copy: Path) -> None:
    meta = policy_copy / "metadata.toml"
    text = meta.read_text(encoding="utf-8")
    # a city whose ordinance took effect earlier moves the 03-24 change to 03-01
    text = text.replace('in_force_to = "2025-03-24"', 'in_force_to = "2025-03-01"').replace(
        'in_force_from = "2025-03-24"', 'in_force_from = "2025-03-01"')
    meta.write_text(text, encoding="utf-8")
    p = Policy.load(policy_copy)
    assert p.version_at("2025-03-01").id == "2025-03-24"
    assert p.check_transfer("保護課", "gaikokujin_hogo", at="2025-03-10").allowed
    assert not Policy.load().check_transfer("保護課", "gaikokujin_hogo", at="2025-03-10").allowed


def test_ward_groups_expanded_by_the_loader(policy: Policy) -> None:
    written = [pl for pl in policy.source_lines if "中央区健康課" in pl.values]
    assert written == []  # 各区健康課 is written once ...
    expanded = {pl.values for pl in policy.lines if pl.ptype == "g2" and pl.values[1] == "各区健康課"}
    assert expanded == {(f"{w}健康課", "各区健康課") for w in WARDS}  # ... and expanded to the six wards


def test_holder_departments_default_and_override(policy: Policy, policy_copy: Path) -> None:
    assert policy.holder_departments == frozenset(DEFAULT_HOLDER_DEPARTMENTS)
    assert policy.holder_departments <= policy.business_departments
    custom = Policy.load(holder_departments=["健康保険課"])
    assert custom.holder_departments == frozenset({"健康保険課"})
    r = AccessRequest(version="2025-03-24", system="fukushi", department="中央区市民総合窓口課",
                      roles=frozenset({"kouki_staff"}), action="view", resource="kihon_joho", affair="kouki-01")
    assert policy.decide(r).allowed
    assert custom.decide(r).rule == "TRANSFER_NOT_PERMITTED"  # no longer a holder: a transfer without a pair


def test_refuses_non_allow_listed_matcher_function(policy_copy: Path) -> None:
    model = policy_copy / "model.conf"
    text = model.read_text(encoding="utf-8")
    model.write_text(text.replace("r.ver == p.ver &&", "r.ver == p.ver && regexMatch(r.obj, p.obj) &&"), encoding="utf-8")
    with pytest.raises(PolicyError) as info:
        Policy.load(policy_copy)
    assert "regexMatch" in str(info.value) and "model.conf:" in str(info.value)
    expected_line = next(i for i, ln in enumerate(model.read_text(encoding="utf-8").splitlines(), 1) if "regexMatch" in ln)
    assert info.value.line == expected_line


def test_refuses_invalid_csv_with_file_and_line(policy_copy: Path) -> None:
    with (policy_copy / "policy.csv").open("a", encoding="utf-8") as f:
        f.write('p,"kouki_staff,grp:holder,kihon_joho,view,kouki-01,2020,*,*,*,x\n')
    with pytest.raises(PolicyError) as info:
        Policy.load(policy_copy)
    assert "policy.csv" in str(info.value) and "CSV" in str(info.value)
    assert info.value.line == len((policy_copy / "policy.csv").read_text(encoding="utf-8").splitlines())


@pytest.mark.parametrize("bad", ["p,a,b\n", "q,1,2,3\n", "p,*,*,*,view,,2020,*,*,*,x\n"])
def test_refuses_wrong_width_unknown_type_and_empty_field(policy_copy: Path, bad: str) -> None:
    (policy_copy / "extra.csv").write_text("# extra\n" + bad, encoding="utf-8")
    with pytest.raises(PolicyError, match=r"extra\.csv:2: "):
        Policy.load(policy_copy)


def test_missing_model(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="model.conf"):
        Policy.load(tmp_path)


def test_default_dir_is_the_checkout_or_package() -> None:
    d = default_policy_dir()
    assert (d / "model.conf").is_file() and (d / "metadata.toml").is_file()


def test_installed_wheel_carries_the_policies(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    try:
        import hatchling  # noqa: F401
    except ModuleNotFoundError:
        pytest.skip("hatchling not installed")
    out = subprocess.run([sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", str(tmp_path)],
                         cwd=root, capture_output=True, text=True)
    if out.returncode != 0:
        pytest.skip(f"wheel build unavailable: {out.stderr[-300:]}")
    wheel = next(tmp_path.glob("*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "pia_policy/_policies/model.conf" in names
    assert "pia_policy/_policies/metadata.toml" in names
    assert "pia_policy/_policies/policy.csv" in names


def test_load_from_installed_layout(tmp_path: Path) -> None:
    """The wheel layout (pia_policy/_policies, see pyproject force-include) is found without a checkout."""
    import shutil

    root = Path(__file__).resolve().parents[2]
    site = tmp_path / "site"
    shutil.copytree(root / "src" / "pia_policy", site / "pia_policy",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(root / "policies", site / "pia_policy" / "_policies")
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "import pia_policy.policy as pp;"
        "d = pp.default_policy_dir(); assert str(d).startswith(sys.argv[1]), d;"
        "p = pp.Policy.load(); print(p.check_transfer('保護課', 'gaikokujin_hogo', at='2025-04-01').allowed)"
    )
    out = subprocess.run([sys.executable, "-c", code, str(site)], capture_output=True, text=True, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "True"


def test_reload_from_files(policy_copy: Path) -> None:
    p = Policy.load(policy_copy)
    assert p.check_transfer("保護課", "gaikokujin_hogo", at="2025-06-01").allowed
    csv_path = policy_copy / "policy.csv"
    kept = [line for line in csv_path.read_text(encoding="utf-8").splitlines()
            if not (line.endswith(",bessi1-1-transfer") and ",2025-03-24," in line)]
    csv_path.write_text("\n".join(kept) + "\n", encoding="utf-8")
    assert p.check_transfer("保護課", "gaikokujin_hogo", at="2025-06-01").allowed  # cached generation
    p.reload()
    assert p.check_transfer("保護課", "gaikokujin_hogo", at="2025-06-01").rule == "TRANSFER_NOT_PERMITTED"
    assert p.check_transfer("保護課", "gaikokujin_hogo", at="2025-12-01").allowed  # the next version is untouched
