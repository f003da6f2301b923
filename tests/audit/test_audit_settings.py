"""The settings model shared by the API, the TOML config and the CLI: validation, ranges, precedence."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from pia_policy import _i18n
from pia_policy.audit import DEFAULT_THRESHOLDS, AuditSettings, ConfigError, as_of_utc, read_config, resolve_settings
from pia_policy.audit._settings import MEMORY_ENV, flag_label
from pia_policy.cli import main


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "c.toml"
    p.write_text(text, encoding="utf-8")
    return p


def test_defaults_and_override_order(tmp_path: Path) -> None:
    cfg = _write(tmp_path, "[thresholds]\ndormant_days = 30\ngap_minutes = 45\n[audit]\nfail_on = 'low'\n")
    s = resolve_settings(config=cfg, overrides={"gap_minutes": 20, "dormant_days": None, "fail_on": None})
    assert s.thresholds.params() == {**DEFAULT_THRESHOLDS, "dormant_days": 30, "gap_minutes": 20}
    assert s.fail_on == "low"
    assert resolve_settings().thresholds.params() == DEFAULT_THRESHOLDS
    # a settings object sits between the file and the keyword arguments
    s = resolve_settings(AuditSettings(fail_on="critical", thresholds={"dormant_days": 5}), config=cfg,
                         overrides={"thresholds": {"gap_minutes": 7}})
    assert (s.fail_on, s.thresholds.dormant_days, s.thresholds.gap_minutes) == ("critical", 5, 7)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("[thresholds]\nbulk = 3\n", "bulk"),
        ("[thresholds]\nbulk_subjects = 'many'\n", "bulk_subjects"),
        ("[thresholds]\nbulk_subjects = 2.5\n", "bulk_subjects"),
        ("[thresholds]\nsession_hours = 0\n", "session_hours"),
        ("[thresholds]\ndormant_days = -1\n", "dormant_days"),
        ("[audit]\nfail_on = 'severe'\n", "severe"),
        ("[audit]\nencoding = 'latin-1'\n", "latin-1"),
        ("[audit]\ncolour = 'red'\n", "colour"),
        ("[other]\nx = 1\n", "other"),
        ("thresholds = 3\n", "thresholds"),
        ("[thresholds\n", "TOML"),
        ("[thresholds]\nsession_hours = nan\n", "8784"),
        ("[thresholds]\nsession_hours = inf\n", "session_hours"),
        ("[thresholds]\nbulk_subjects = '10'\n", "bulk_subjects"),
        ("[audit]\nduckdb_memory_limit = '99999999999TB'\n", "1024TiB"),
        ("[audit]\nfile_mode = '666'\n", "world-writable"),
        ("[audit]\nfile_mode = 0o777\n", "file_mode"),
        ("[audit]\nreply_days = 0\n", "1 ≤ N ≤ 365"),
        ("[audit]\nthresholds = 3\n", "[thresholds]"),
    ],
)
def test_invalid_config_names_file_and_problem(tmp_path: Path, text: str, needle: str) -> None:
    _i18n.set_lang("en")
    try:
        with pytest.raises(ConfigError) as exc:
            read_config(_write(tmp_path, text))
    finally:
        _i18n.set_lang(None)
    assert "c.toml" in str(exc.value) and needle in str(exc.value)


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="nope.toml"):
        read_config(tmp_path / "nope.toml")


def test_messages_are_japanese_by_default(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="不明な項目"):
        read_config(_write(tmp_path, "[thresholds]\nbulk = 3\n"))


def test_relative_paths_resolve_from_the_config_file(tmp_path: Path) -> None:
    cfg = read_config(_write(tmp_path, "[audit]\nmapping = 'vendor.toml'\nfail_on = 'low'\n"))
    assert cfg == {"mapping": (tmp_path / "vendor.toml").resolve(), "fail_on": "low"}


def test_as_of_is_midnight_jst() -> None:
    day, utc = as_of_utc("2025-06-02")
    assert day.isoformat() == "2025-06-02" and utc.isoformat() == "2025-06-01T15:00:00"
    with pytest.raises(ConfigError):
        as_of_utc("02/06/2025")


@pytest.mark.parametrize("as_of", ["0001-01-01", "1899-12-31", "9999-01-01", "9999-12-31"])
def test_as_of_outside_the_range_is_a_config_error(as_of: str) -> None:
    # Regression: the range was checked only by the CLI; through the API 0001-01-01 raised
    # OverflowError (00:00 JST of it is before datetime.min in UTC).
    with pytest.raises(ConfigError, match="範囲外"):
        as_of_utc(as_of)
    with pytest.raises(ConfigError, match="範囲外"):
        as_of_utc(dt.date.fromisoformat(as_of))


def test_as_of_range_ends_are_accepted() -> None:
    assert as_of_utc("1900-01-01")[1] == dt.datetime(1899, 12, 31, 15)
    assert as_of_utc("9998-12-31")[1] == dt.datetime(9998, 12, 30, 15)


def test_public_audit_is_callable_from_the_package(tmp_path: Path) -> None:
    import pia_policy
    from pia_policy import audit as audit_entry

    assert callable(audit_entry) and callable(pia_policy.audit)
    with pytest.raises(ConfigError):
        audit_entry(tmp_path, as_of="not-a-date")


# --- issue 16 item 9: every option bounded; one line naming the option, the value and the valid range ----

@pytest.mark.parametrize(
    ("argv", "line"),
    [
        (["--session-hours", "nan"], "--session-hours: invalid value nan (valid: a finite number 0 < N ≤ 8784)"),
        (["--session-hours", "inf"], "--session-hours: invalid value inf (valid: a finite number 0 < N ≤ 8784)"),
        (["--gap-minutes", "1e300"], "--gap-minutes: invalid value 1e+300 (valid: a finite number 0 < N ≤ 527040)"),
        (["--dormant-days", "99999999999"],
         "--dormant-days: invalid value 99999999999 (valid: a whole number 0 ≤ N ≤ 3660)"),
        (["--duckdb-memory-limit", "99999999999TB"], "--duckdb-memory-limit: invalid value '99999999999TB'"),
        (["--file-mode", "777"], "--file-mode: invalid value '777' (valid: octal, owner-readable and not world-writable"),
        (["--file-mode", "602"], "--file-mode: invalid value '602'"),
        (["--file-mode", "200"], "--file-mode: invalid value '200'"),
        (["--reply-days", "366"], "--reply-days: invalid value 366 (valid: a whole number 1 ≤ N ≤ 365)"),
    ],
)
def test_cli_out_of_range_is_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str],
                                             line: str) -> None:
    code = main(["audit", str(tmp_path / "d"), "--as-of", "2025-06-02", "--out", str(tmp_path / "o"),
                 "--lang", "en", *argv])
    err = capsys.readouterr().err
    assert code == 2 and f"pia-policy audit: error: {line}" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()


def test_config_nan_is_named_with_file_section_and_range(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = _write(tmp_path, "[thresholds]\nsession_hours = nan\n")
    code = main(["audit", str(tmp_path / "d"), "--as-of", "2025-06-02", "--out", str(tmp_path / "o"),
                 "--config", str(cfg)])
    err = capsys.readouterr().err
    assert code == 2 and f"{cfg}: [thresholds] session_hours: 値 nan は無効です（有効: 0 < N ≤ 8784 の有限の数）" in err


@pytest.mark.parametrize(
    ("name", "inside", "outside"),
    [
        ("session_hours", 8784, 8784.5), ("gap_minutes", 527040, 527041), ("dormant_days", 3660, 3661),
        ("revocation_grace_days", 0, -1), ("departure_grace_hours", 0, -0.5), ("bulk_subjects", 10**9, 10**9 + 1),
        ("reply_days", 1, 0), ("file_mode", 0o644, 0o646), ("file_mode", 0o400, 0o300),
        ("duckdb_memory_limit", "64MiB", "63MiB"), ("notice_sender", "課長", "\n"),
    ],
)
def test_boundaries_through_the_api(name: str, inside: object, outside: object) -> None:
    s = resolve_settings(overrides={name: inside})
    assert (s.thresholds.params().get(name) if name in DEFAULT_THRESHOLDS else getattr(s, name)) == inside
    with pytest.raises(ConfigError, match=name):
        resolve_settings(overrides={name: outside})


def test_file_mode_text_forms() -> None:
    assert resolve_settings(overrides={"file_mode": "640"}).file_mode == 0o640
    assert resolve_settings(overrides={"file_mode": "0o640"}).file_mode == 0o640
    for bad in ("64x", "1777", "", True):
        with pytest.raises(ConfigError, match="file_mode"):
            resolve_settings(overrides={"file_mode": bad})


def test_environment_memory_limit_between_file_and_arguments(tmp_path: Path) -> None:
    cfg = _write(tmp_path, "[audit]\nduckdb_memory_limit = '700MB'\n")
    assert resolve_settings(config=cfg, environ={}).memory_limit() == "700MB"
    assert resolve_settings(config=cfg, environ={MEMORY_ENV: "600mb"}).memory_limit() == "600MB"
    assert resolve_settings(config=cfg, environ={MEMORY_ENV: "600mb"},
                            overrides={"duckdb_memory_limit": "1GiB"}).memory_limit() == "1GiB"
    with pytest.raises(ConfigError, match=MEMORY_ENV):
        resolve_settings(environ={MEMORY_ENV: "99999999999TB"})


def test_unknown_keyword_is_refused_naming_the_valid_ones() -> None:
    _i18n.set_lang("en")
    try:
        with pytest.raises(ConfigError, match=r"colour: unknown option \(valid: fail_on, policy"):
            resolve_settings(overrides={"colour": "red"})
        with pytest.raises(ConfigError, match=r"--sesion-hours: unknown option \(valid: session_hours"):
            resolve_settings(overrides={"thresholds": {"sesion_hours": 3}}, label=flag_label)
    finally:
        _i18n.set_lang(None)


def test_every_field_has_a_flag_a_config_key_and_a_keyword() -> None:
    # The contract that makes a new option one line: the CLI, the TOML file and the API derive from the model.
    from pia_policy.audit import Thresholds
    from pia_policy.cli import build_parser

    audit_parser = build_parser()._subparsers._group_actions[0].choices["audit"]  # noqa: SLF001
    dests = {a.dest for a in audit_parser._actions}  # noqa: SLF001
    fields = [n for n in AuditSettings.model_fields if n != "thresholds"] + list(Thresholds.model_fields)
    assert set(fields) <= dests
    assert resolve_settings(overrides={"reports": False}).reports is False
    assert "reports" in AuditSettings.model_fields


def test_a_new_field_is_one_line_flag_key_and_keyword(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The DESIGN.md promise, exercised: a list-of-paths field added to the model (as --allow-link-root
    # will be) is at once a repeatable flag, a config key relative to the file and a keyword argument.
    import argparse

    from pydantic import Field, create_model

    from pia_policy import _cli_audit
    from pia_policy.audit import _settings

    extended = create_model("Extended", __base__=AuditSettings,
                            roots=(list[Path], Field(default_factory=list, description="link roots")),
                            engine=(_settings.Literal["duckdb", "spark"], Field("duckdb", description="engine")))
    monkeypatch.setattr(_settings, "AuditSettings", extended)
    monkeypatch.setattr(_settings, "_ALL_FIELDS", {**_settings.Thresholds.model_fields, **extended.model_fields})
    parser = argparse.ArgumentParser()
    _cli_audit._add_setting_flags(parser)  # noqa: SLF001
    args = parser.parse_args(["--roots", "a", "--roots", "b", "--engine", "spark"])
    assert (args.roots, args.engine) == (["a", "b"], "spark")
    with pytest.raises(SystemExit):
        parser.parse_args(["--engine", "hadoop"])
    cfg = _write(tmp_path, "[audit]\nroots = ['x', '/abs']\n")
    assert read_config(cfg)["roots"] == [(tmp_path / "x").resolve(), Path("/abs")]
    s = resolve_settings(config=cfg, overrides={"engine": "spark"})
    assert (s.roots, s.engine) == ([(tmp_path / "x").resolve(), Path("/abs")], "spark")
