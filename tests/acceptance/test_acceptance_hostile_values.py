"""Hostile option values end with exit 2 and one line naming the value and the fix, never a traceback
(issue 16 item 9): vendor mapping column names and timestamp formats, and --at beyond year 9999."""

from __future__ import annotations

from pathlib import Path

import pytest

from pia_policy.cli import main

AS_OF = "2025-06-02"


def _data(root: Path) -> Path:
    (root / "events").mkdir(parents=True)
    (root / "events" / "v.csv").write_text("日時,ID,操作\n2025-05-30 09:00:00,A1,照会\n", encoding="utf-8")
    (root / "accounts.csv").write_text(
        "account_id,system,person_id,employment,department,roles,permission\n"
        "A1,fukushi,P1,regular,健康保険課,kouki_staff,read\n", encoding="utf-8")
    (root / "personnel.csv").write_text("person_id,event,effective_date,from_department,to_department\n",
                                        encoding="utf-8")
    return root


def _mapping(tmp_path: Path, columns: str, fmt: str = "%Y-%m-%d %H:%M:%S") -> Path:
    path = tmp_path / "vendor.toml"
    path.write_text(
        f'[mapping]\ntimestamp_format = {fmt!r}\n[mapping.columns]\n{columns}\n"ID" = "account_id"\n'
        '"操作" = "action"\n[mapping.values.action]\n"照会" = "view"\n[mapping.constants]\nsystem = "fukushi"\n',
        encoding="utf-8")
    return path


def _run(tmp_path: Path, mapping: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["audit", str(_data(tmp_path / "d")), "--as-of", AS_OF, "--out", str(tmp_path / "o"),
                 "--mapping", str(mapping), "--lang", "en", "--no-reports"])
    return code, capsys.readouterr().err


@pytest.mark.parametrize("key", ['"日\\n時"', '"日\\t時"', '"日\\u0000時"', '""', '" "'])
def test_mapping_column_name_with_control_characters_or_empty(tmp_path: Path, key: str,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _run(tmp_path, _mapping(tmp_path, f"{key} = \"ts\""), capsys)
    assert code == 2 and "vendor.toml" in err and "column name" in err and "Traceback" not in err
    assert len([line for line in err.splitlines() if not line.startswith("{")]) == 1  # besides the JSON run log
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("fmt", ["%Q", "%Y-%m-%d %", "%Y-%m-%d %H:%M:%S%Q"])
def test_mapping_timestamp_format_duckdb_cannot_use(tmp_path: Path, fmt: str,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _run(tmp_path, _mapping(tmp_path, '"日時" = "ts"', fmt), capsys)
    assert code == 2 and "timestamp_format" in err and repr(fmt) in err and "Traceback" not in err


def test_mapping_near_miss_is_read(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _run(tmp_path, _mapping(tmp_path, '"日時" = "ts"'), capsys)
    assert code in (0, 1), err
    assert (tmp_path / "o" / "findings.jsonl").is_file()


@pytest.mark.parametrize("command", [
    ["check-transfer", "--department", "保護課", "--purpose", "gaikokujin_hogo"],
    ["check-access", "--department", "健康保険課", "--action", "view", "--resource", "kihon_joho"],
])
@pytest.mark.parametrize(("at", "ok"), [
    ("9999-12-31T23:59:59-12:00", False),  # UTC and JST past year 9999
    ("0001-01-01T00:00:00+09:00", False),  # UTC before year 1
    ("9999-12-31T08:59:59+00:00", True),   # near miss: JST 9999-12-31T17:59:59
])
def test_at_out_of_range_is_named(command: list[str], at: str, ok: bool,
                                  capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIA_POLICY_LANG", "en")
    code = main([*command, "--at", at])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    if ok:
        assert code in (0, 1)
    else:
        assert code == 2 and f"time {at} is out of range" in err and "0001..9999" in err
