"""`pia-policy check-transfer | check-access | lint`: JSON out, exit 0 / 1 / 2 naming valid values."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pia_policy.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict | None, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, (json.loads(out) if out.strip() else None), err


def test_check_transfer_allowed_and_denied(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "check-transfer", "--department", "中央区健康課", "--purpose", "shoni_shitei_iryohi",
                       "--at", "2025-04-01")
    assert code == 0 and out and out["allowed"] is True and out["version"] == "2025-03-24"
    assert "別紙1 No.5" in out["basis"]
    code, out, _ = run(capsys, "check-transfer", "--department", "中央区健康課", "--purpose", "gaikokujin_hogo",
                       "--at", "2025-04-01")
    assert code == 1 and out and out["rule"] == "TRANSFER_NOT_PERMITTED" and out["remedy"]
    code, out, _ = run(capsys, "check-transfer", "--department", "保護課", "--purpose", "gaikokujin_hogo",
                       "--at", "2025-03-23")
    assert code == 1 and out and out["version"] == "2020"
    code, out, _ = run(capsys, "check-transfer", "--department", "保護課", "--purpose", "gaikokujin_hogo",
                       "--method", "usb", "--at", "2025-04-01")
    assert code == 1 and out and out["rule"] == "TRANSFER_METHOD_NOT_PERMITTED"


def test_check_access(capsys: pytest.CaptureFixture[str]) -> None:
    base = ["check-access", "--department", "健康保険課", "--resource", "kojin_bango", "--affair", "kouki-15",
            "--roles", "kouki_staff,my_number_user"]
    code, out, _ = run(capsys, *base, "--action", "view", "--at", "2025-11-25")
    assert code == 0 and out and out["matched"] == "my-number-view"
    code, out, _ = run(capsys, *base, "--action", "view", "--at", "2025-11-26")
    assert code == 1 and out and out["rule"] == "MY_NUMBER_OUTSIDE_AFFAIR"
    code, out, _ = run(capsys, *base, "--action", "update", "--at", "2025-11-25")
    assert code == 1 and out and out["rule"] == "ACCESS_DENIED_BY_POLICY"
    code, out, _ = run(capsys, *base, "--action", "update", "--permission", "update", "--at", "2025-11-25")
    assert code == 0
    code, out, _ = run(capsys, "check-access", "--department", "中央区健康課", "--action", "view",
                       "--resource", "chihouzei", "--affair", "seishin_nyuin_iryohi", "--at", "2025-06-01")
    assert code == 1 and out and out["rule"] == "ACCESS_DENIED_BY_POLICY"
    code, out, _ = run(capsys, "check-access", "--department", "中央区健康課", "--action", "login", "--at", "2025-06-01")
    assert code == 0


@pytest.mark.parametrize(("argv", "names"), [
    (["check-transfer", "--department", "税務課", "--purpose", "gaikokujin_hogo"], ["部署", "保護課", "中央区健康課"]),
    (["check-transfer", "--department", "保護課", "--purpose", "kodomo"], ["用途", "gaikokujin_hogo", "shoni_shitei_iryohi"]),
    (["check-transfer", "--department", "保護課", "--purpose", "gaikokujin_hogo", "--at", "2025-02-30"], ["--at", "ISO 8601"]),
    (["check-transfer", "--department", "保護課", "--purpose", "gaikokujin_hogo", "--at", "1999-01-01"], ["--at", "no policy version"]),
    (["check-transfer", "--department", "保護課", "--purpose", "gaikokujin_hogo", "--policy", "/nonexistent"], ["/nonexistent"]),
    (["check-access", "--department", "税務課", "--action", "view", "--resource", "kihon_joho"], ["部署", "健康保険課"]),
    (["check-access", "--department", "健康保険課", "--action", "read", "--resource", "kihon_joho"], ["操作", "view", "transfer"]),
    (["check-access", "--department", "健康保険課", "--action", "view", "--resource", "mynumber"], ["項目", "kojin_bango", "iryo_hoken"]),
    (["check-access", "--department", "健康保険課", "--action", "view"], ["--resource", "kojin_bango"]),
    (["check-access", "--department", "健康保険課", "--action", "view", "--resource", "kihon_joho", "--affair", "kouki-99"], ["kouki-01", "gaikokujin_hogo"]),
    (["check-access", "--department", "健康保険課", "--action", "view", "--resource", "kihon_joho", "--roles", "admin"], ["役割", "kouki_staff", "my_number_user"]),
    (["check-access", "--department", "健康保険課", "--action", "view", "--resource", "kihon_joho", "--permission", "write"], ["権限", "read", "update"]),
    (["check-access", "--department", "健康保険課", "--action", "view", "--resource", "kihon_joho", "--system", "mainframe"], ["システム", "gyomu_kyotsu", "hyojun"]),
    (["check-access", "--department", "健康保険課", "--action", "view", "--resource", "kihon_joho", "--at", "soon"], ["--at"]),
    (["lint", "--policy", "/nonexistent"], ["/nonexistent"]),
])
def test_bad_arguments_exit_2_naming_valid_values(capsys: pytest.CaptureFixture[str], argv: list[str],
                                                  names: list[str]) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2 and out is None
    for name in names:
        assert name in err, (name, err)


def test_bad_arguments_in_english(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIA_POLICY_LANG", "en")
    code, _, err = run(capsys, "check-access", "--department", "健康保険課", "--action", "read", "--resource", "kihon_joho")
    assert code == 2 and "unknown action" in err and "valid: login" in err


def test_missing_required_argument_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["check-transfer", "--department", "保護課"])
    assert info.value.code == 2
    assert "--purpose" in capsys.readouterr().err


def test_lint_clean_and_problems(capsys: pytest.CaptureFixture[str], policy_copy: Path) -> None:
    code, out, _ = run(capsys, "lint")
    assert code == 0 and out == {"ok": True, "problems": []}
    with (policy_copy / "groups.csv").open("a", encoding="utf-8") as f:
        f.write("g2,税務課,grp:bessi1-1\n")
    code, out, err = run(capsys, "lint", "--policy", str(policy_copy))
    assert code == 1 and out and out["ok"] is False
    problem = out["problems"][0]
    assert problem["code"] == "unknown_department" and problem["file"].endswith("groups.csv") and problem["line"] > 1
    assert "groups.csv:" in err


def test_bad_policy_directory_contents_exit_2(capsys: pytest.CaptureFixture[str], policy_copy: Path) -> None:
    (policy_copy / "policy.csv").write_text('p,"x\n', encoding="utf-8")
    code, out, err = run(capsys, "check-transfer", "--department", "保護課", "--purpose", "gaikokujin_hogo",
                         "--policy", str(policy_copy))
    assert code == 2 and "policy.csv:1" in err


def test_console_script_end_to_end() -> None:
    exe = Path(sys.executable).with_name("pia-policy")
    if not exe.exists():
        pytest.skip("console script not installed")
    out = subprocess.run([str(exe), "check-transfer", "--department", "緑区健康課", "--purpose",
                          "seishin_nyuin_iryohi", "--at", "2025-12-01"], capture_output=True, text=True)
    assert out.returncode == 0 and json.loads(out.stdout)["matched"] == "bessi1-4-transfer"
