"""Audit configuration: thresholds and options from defaults, a TOML file and the caller."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any, Mapping

from .._i18n import msg
from ..models import SEVERITIES

__all__ = [
    "DEFAULT_THRESHOLDS",
    "DEFAULT_DUCKDB_MEMORY_LIMIT",
    "ConfigError",
    "AuditConfig",
    "check_memory_limit",
    "check_reply_days",
    "load_config",
    "resolve_thresholds",
]

#: SPEC §4/§6 defaults, in the order of the command line.
DEFAULT_THRESHOLDS: dict[str, int | float] = {
    "session_hours": 10,
    "bulk_subjects": 500,
    "revocation_grace_days": 7,
    "dormant_days": 90,
    "gap_minutes": 60,
    "departure_grace_hours": 0,
}

#: Thresholds that must be whole numbers (counts and days).
_INTEGER_THRESHOLDS = frozenset({"bulk_subjects", "revocation_grace_days", "dormant_days"})
#: Thresholds that must be strictly positive (zero would flag everything or nothing sensibly).
_POSITIVE_THRESHOLDS = frozenset({"session_hours", "gap_minutes"})

_AUDIT_KEYS = frozenset({"fail_on", "policy", "encoding", "mapping", "duckdb_memory_limit",
                         "reply_days", "notice_sender"})
#: [audit] keys whose value is a whole number (the others are strings).
_AUDIT_INT_KEYS = frozenset({"reply_days"})
#: DuckDB's memory limit when neither the environment nor the config file sets one.
DEFAULT_DUCKDB_MEMORY_LIMIT = "512MB"
_UNITS = {"B": 1, "KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12,
          "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40}
_MIN_MEMORY = 64 * 2**20
_MEMORY_RE = re.compile(r"\s*([0-9]+(?:\.[0-9]+)?)\s*(B|KB|MB|GB|TB|KIB|MIB|GIB|TIB)\s*", re.IGNORECASE)
_ENCODINGS = ("utf-8", "cp932")


class ConfigError(ValueError):
    """An invalid configuration file or option: the message names the file and the problem."""


class AuditConfig(dict[str, Any]):
    """The parsed config file: ``thresholds`` (dict) and ``audit`` options (dict), both possibly empty."""


def check_memory_limit(value: Any, where: str) -> str:
    """A DuckDB memory limit such as ``512MB`` or ``1GiB`` (normalised, no spaces); else ConfigError."""
    m = _MEMORY_RE.fullmatch(value) if isinstance(value, str) else None
    unit = m.group(2).upper().replace("I", "i") if m else ""
    if m is None or float(m.group(1)) * _UNITS[unit] < _MIN_MEMORY:
        raise ConfigError(
            msg(f"{where}: duckdb_memory_limit {value!r} は無効です（64MiB 以上。例: 512MB, 1GiB）",
                f"{where}: invalid duckdb_memory_limit {value!r} (at least 64MiB, e.g. 512MB, 1GiB)")
        )
    return f"{m.group(1)}{unit}"


def check_reply_days(value: Any, where: str) -> int:
    """The notices' reply period in days: a whole number from 1 to 365; else ConfigError."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 365:
        raise ConfigError(
            msg(f"{where}: reply_days は 1〜365 の整数でなければなりません（{value!r}）",
                f"{where}: reply_days must be a whole number from 1 to 365 (got {value!r})")
        )
    return value


def _check_threshold(name: str, value: Any, where: str) -> int | float:
    if name not in DEFAULT_THRESHOLDS:
        raise ConfigError(
            msg(
                f"{where}: 不明な閾値 {name!r}（有効な名前: {', '.join(DEFAULT_THRESHOLDS)}）",
                f"{where}: unknown threshold {name!r} (valid: {', '.join(DEFAULT_THRESHOLDS)})",
            )
        )
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(
            msg(f"{where}: 閾値 {name} は数値でなければなりません（{value!r}）",
                f"{where}: threshold {name} must be a number (got {value!r})")
        )
    if name in _INTEGER_THRESHOLDS:
        if isinstance(value, float):
            if not value.is_integer():
                raise ConfigError(
                    msg(f"{where}: 閾値 {name} は整数でなければなりません（{value!r}）",
                        f"{where}: threshold {name} must be a whole number (got {value!r})")
                )
            value = int(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # 9.0 from the command line is recorded as 9
    if value < 0 or (name in _POSITIVE_THRESHOLDS and value <= 0):
        raise ConfigError(
            msg(f"{where}: 閾値 {name} の値が範囲外です（{value!r}）",
                f"{where}: threshold {name} is out of range (got {value!r})")
        )
    return value


def load_config(path: Path | str | None) -> AuditConfig:
    """Read and validate a TOML config file (``[thresholds]`` and ``[audit]`` tables).

    ```toml
    [thresholds]
    session_hours = 10
    bulk_subjects = 500
    [audit]
    fail_on = "high"        # low | medium | high | critical
    policy = "policies/"    # relative paths are relative to the config file
    encoding = "cp932"
    mapping = "vendor.toml"
    duckdb_memory_limit = "512MB"   # DuckDB spills to a temporary directory beyond it
    reply_days = 14         # notices: reply deadline, days after the audit date
    notice_sender = "情報セキュリティ管理者"   # notices: 発信者
    ```
    """
    config = AuditConfig(thresholds={}, audit={})
    if path is None:
        return config
    p = Path(path)
    where = str(p)
    try:
        raw = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(msg(f"{where}: 設定ファイルがありません", f"{where}: config file not found")) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(msg(f"{where}: 設定ファイルを読めません（{exc}）", f"{where}: cannot read config file ({exc})")) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(msg(f"{where}: TOMLとして不正です（{exc}）", f"{where}: invalid TOML ({exc})")) from None
    for key in raw:
        if key not in ("thresholds", "audit"):
            raise ConfigError(
                msg(f"{where}: 不明な項目 [{key}]（有効: [thresholds], [audit]）",
                    f"{where}: unknown section [{key}] (valid: [thresholds], [audit])")
            )
        if not isinstance(raw[key], dict):
            raise ConfigError(msg(f"{where}: [{key}] は表でなければなりません", f"{where}: [{key}] must be a table"))
    for name, value in raw.get("thresholds", {}).items():
        config["thresholds"][name] = _check_threshold(name, value, where)
    for name, value in raw.get("audit", {}).items():
        if name not in _AUDIT_KEYS:
            raise ConfigError(
                msg(f"{where}: [audit] の不明な項目 {name!r}（有効: {', '.join(sorted(_AUDIT_KEYS))}）",
                    f"{where}: unknown key {name!r} in [audit] (valid: {', '.join(sorted(_AUDIT_KEYS))})")
            )
        if name in _AUDIT_INT_KEYS:
            config["audit"][name] = check_reply_days(value, where)
            continue
        if not isinstance(value, str):
            raise ConfigError(msg(f"{where}: [audit] {name} は文字列でなければなりません",
                                  f"{where}: [audit] {name} must be a string"))
        if name == "notice_sender" and not value.strip():
            raise ConfigError(msg(f"{where}: [audit] notice_sender が空です",
                                  f"{where}: [audit] notice_sender is empty"))
        if name == "fail_on" and value not in SEVERITIES:
            raise ConfigError(
                msg(f"{where}: fail_on {value!r} は無効です（有効: {', '.join(SEVERITIES)}）",
                    f"{where}: invalid fail_on {value!r} (valid: {', '.join(SEVERITIES)})")
            )
        if name == "encoding" and value.lower() not in _ENCODINGS:
            raise ConfigError(
                msg(f"{where}: encoding {value!r} は無効です（有効: {', '.join(_ENCODINGS)}）",
                    f"{where}: invalid encoding {value!r} (valid: {', '.join(_ENCODINGS)})")
            )
        if name == "duckdb_memory_limit":
            value = check_memory_limit(value, where)
        if name in ("policy", "mapping"):
            value = str((p.parent / value).resolve()) if not Path(value).is_absolute() else value
        config["audit"][name] = value
    return config


def resolve_thresholds(
    config: Mapping[str, Any] | None, overrides: Mapping[str, Any] | None, where: str = "thresholds"
) -> dict[str, int | float]:
    """Defaults, then the config file's ``[thresholds]``, then ``overrides`` (None values ignored)."""
    values: dict[str, int | float] = dict(DEFAULT_THRESHOLDS)
    if config:
        values.update(config.get("thresholds", {}))
    for name, value in (overrides or {}).items():
        if value is not None:  # named as the command line spells it: --session-hours
            values[name] = _check_threshold(name, value, f"--{name.replace('_', '-')}" if where == "thresholds"
                                            and name in DEFAULT_THRESHOLDS else where)
    return values
