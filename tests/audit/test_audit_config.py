"""Config file (TOML) validation and threshold resolution."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from pia_policy import _i18n
from pia_policy.audit import DEFAULT_THRESHOLDS, ConfigError, as_of_utc, load_config, resolve_thresholds


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "c.toml"
    p.write_text(text, encoding="utf-8")
    return p


def test_defaults_and_override_order(tmp_path: Path) -> None:
    cfg = load_config(_write(tmp_path, "[thresholds]\ndormant_days = 30\ngap_minutes = 45\n"))
    t = resolve_thresholds(cfg, {"gap_minutes": 20, "dormant_days": None})
    assert t == {**DEFAULT_THRESHOLDS, "dormant_days": 30, "gap_minutes": 20}
    assert resolve_thresholds(None, None) == DEFAULT_THRESHOLDS


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
    ],
)
def test_invalid_config_names_file_and_problem(tmp_path: Path, text: str, needle: str) -> None:
    _i18n.set_lang("en")
    try:
        with pytest.raises(ConfigError) as exc:
            load_config(_write(tmp_path, text))
    finally:
        _i18n.set_lang(None)
    assert "c.toml" in str(exc.value) and needle in str(exc.value)


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="nope.toml"):
        load_config(tmp_path / "nope.toml")


def test_messages_are_japanese_by_default(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="不明な閾値"):
        load_config(_write(tmp_path, "[thresholds]\nbulk = 3\n"))


def test_relative_paths_resolve_from_the_config_file(tmp_path: Path) -> None:
    cfg = load_config(_write(tmp_path, "[audit]\nmapping = 'vendor.toml'\nfail_on = 'low'\n"))
    assert cfg["audit"]["mapping"] == str((tmp_path / "vendor.toml").resolve())
    assert cfg["audit"]["fail_on"] == "low"


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
