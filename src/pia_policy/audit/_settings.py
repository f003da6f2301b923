"""The audit's settings: one validated model shared by the API, the TOML config file and the CLI.

:class:`AuditSettings` (with :class:`Thresholds`) is the single place where an option is
declared, typed and bounded. ``audit()`` takes it (or keyword arguments that build it), the
TOML loader reads ``[thresholds]``/``[audit]`` into it, and ``pia-policy audit`` derives its
flags from it. Precedence (SPEC §6): command line or API argument > environment
(``PIA_POLICY_DUCKDB_MEMORY_LIMIT`` only) > config file > defaults. Every invalid value is
one :class:`ConfigError` line naming the option as the user spelled it, the value and the
valid range.

Adding an option is one field here: ``name: Type = Field(default, description="help")``. The
CLI flag ``--name`` (Literal → choices, bool → ``--name``/``--no-name``), the TOML key
``[audit] name`` and the keyword argument ``audit(name=...)`` follow; a ``Path`` option (or a
list of them: a repeatable flag) is relative to the config file when given there.
"""

from __future__ import annotations

import math
import os
import re
import tomllib
import types
from pathlib import Path
from typing import Annotated, Any, Callable, Literal, Mapping, Union, get_args, get_origin

from annotated_types import Ge, Gt, Le, Lt
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, ValidationInfo
from pydantic.fields import FieldInfo

from .._i18n import msg

__all__ = [
    "AuditSettings",
    "ConfigError",
    "DEFAULT_DUCKDB_MEMORY_LIMIT",
    "DEFAULT_THRESHOLDS",
    "MEMORY_ENV",
    "Thresholds",
    "api_label",
    "base_type",
    "check_memory_limit",
    "choices",
    "flag_label",
    "read_config",
    "resolve_settings",
    "text_type",
    "validate",
]

#: Environment variable that sets DuckDB's memory limit (over the config file, under an argument).
MEMORY_ENV = "PIA_POLICY_DUCKDB_MEMORY_LIMIT"
#: DuckDB's memory limit when neither an argument, the environment nor the config file sets one.
DEFAULT_DUCKDB_MEMORY_LIMIT = "512MB"

_UNITS = {"B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12,
          "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40}
_MIN_MEMORY = 64 * 2**20
_MAX_MEMORY = 2**50  # 1 PiB: DuckDB refuses larger values with a parser error
_MEMORY_RE = re.compile(r"\s*([0-9]{1,16}(?:\.[0-9]{1,6})?)\s*(B|KB|MB|GB|TB|KIB|MIB|GIB|TIB)\s*", re.IGNORECASE)
_MEMORY_VALID = ("64MiB 〜 1024TiB。例: 512MB, 1GiB", "64MiB .. 1024TiB, e.g. 512MB, 1GiB")


class ConfigError(ValueError):
    """An invalid configuration file or option: the message names the option, the value and the valid range."""


def _valid(ja: str, en: str) -> dict[str, Any]:
    """``json_schema_extra`` naming a field's valid values when its constraints cannot (both languages)."""
    return {"valid": [ja, en]}


def check_memory_limit(value: Any, where: str) -> str:
    """A DuckDB memory limit such as ``512MB`` or ``1GiB`` (normalised, no spaces); else ConfigError."""
    try:
        return _memory_limit(value)
    except ValueError:
        raise ConfigError(_invalid(where, value, _MEMORY_VALID)) from None


def _memory_limit(value: Any) -> str:
    m = _MEMORY_RE.fullmatch(value) if isinstance(value, str) else None
    unit = m.group(2).upper().replace("I", "i") if m else ""
    if m is None or not _MIN_MEMORY <= float(m.group(1)) * _UNITS[unit] <= _MAX_MEMORY:
        raise ValueError("duckdb_memory_limit")
    return f"{m.group(1)}{unit}"


def _file_mode(value: Any) -> int:
    """An octal permission (``"640"``, ``"0o640"`` or the int): owner-readable, never world-writable."""
    if isinstance(value, str):
        text = value.strip().lower().removeprefix("0o")
        if not re.fullmatch(r"[0-7]{1,4}", text):
            raise ValueError("file_mode")
        value = int(text, 8)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 0o777:
        raise ValueError("file_mode")
    if value & 0o002 or not value & 0o400:
        raise ValueError("file_mode")
    return value


def _not_text(value: Any) -> Any:
    """Numbers come as numbers (TOML, API) or already converted (CLI): ``"10"`` and ``True`` are refused."""
    if isinstance(value, (bool, str)):
        raise ValueError("not a number")
    return value


def _tidy(value: float) -> int | float:
    """A whole float is recorded as an int (``--session-hours 9`` → 9, as the summary records it)."""
    return int(value) if math.isfinite(value) and value.is_integer() else value


def _no_blank(value: str) -> str:
    if not value.strip() or any(ord(c) < 32 for c in value):
        raise ValueError("blank")
    return value


def _lower(value: Any) -> Any:
    return value.strip().lower() if isinstance(value, str) else value


def _one_or_many(value: Any) -> Any:
    """A single directory (TOML string, API str/Path) as a one-item list."""
    return [value] if isinstance(value, (str, os.PathLike)) else value


_SC_URL = re.compile(r"sc://[A-Za-z0-9.\-\[\]:]+:[0-9]{1,5}(/;[^\s]*)?")


def _spark_remote(value: Any, info: ValidationInfo) -> Any:
    """A Spark Connect URL ``sc://host:port[/;params]``, only with ``engine = "spark"``."""
    if not isinstance(value, str) or not _SC_URL.fullmatch(value) or info.data.get("engine") != "spark":
        raise ValueError("spark_remote")
    return value


_Number = BeforeValidator(_not_text)
Hours = Annotated[float, _Number, AfterValidator(_tidy)]
Count = Annotated[int, _Number]
FileMode = Annotated[int, BeforeValidator(_file_mode)]
MemoryLimit = Annotated[str, BeforeValidator(_memory_limit)]
SparkRemote = Annotated[str, AfterValidator(_spark_remote)]
Text = Annotated[str, AfterValidator(_no_blank)]

_STRICT = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, validate_default=True)


class Thresholds(BaseModel):
    """SPEC §4/§6 thresholds (``[thresholds]``, ``--session-hours`` …), each bounded to a finite range."""

    model_config = _STRICT

    session_hours: Hours = Field(10, gt=0, le=8784, description="LONG_SESSION: hours (default 10)")
    bulk_subjects: Count = Field(500, ge=0, le=10**9, description="BULK_ACCESS: subjects a day (default 500)")
    revocation_grace_days: Count = Field(7, ge=0, le=3660, description="ACCOUNT_NOT_REVOKED: days (default 7)")
    dormant_days: Count = Field(90, ge=0, le=3660, description="ACCOUNT_DORMANT: days (default 90)")
    gap_minutes: Hours = Field(60, gt=0, le=527040, description="LOG_GAP: minutes (default 60)")
    departure_grace_hours: Hours = Field(0, ge=0, le=8784, description="ACCESS_AFTER_DEPARTURE: hours (default 0)")
    retention_years: Count = Field(5, ge=1, le=100, description="LOG_RETENTION_SHORT: years of logs kept (default 5)")

    def params(self) -> dict[str, int | float]:
        """The thresholds as the engine and the summary take them."""
        return self.model_dump()


#: SPEC §4/§6 defaults, in the order of the command line.
DEFAULT_THRESHOLDS: dict[str, int | float] = Thresholds().params()


class AuditSettings(BaseModel):
    """Every option of an audit run. Immutable; build one with :func:`resolve_settings` or directly.

    A ``Path`` option given in a config file is relative to that file.
    """

    model_config = _STRICT

    thresholds: Thresholds = Field(default_factory=Thresholds)
    fail_on: Literal["low", "medium", "high", "critical"] = Field("high", description="exit 1 at or above (default high)")
    policy: Path | None = Field(None, description="policy directory (default: the bundled policies/)")
    encoding: Annotated[Literal["utf-8", "cp932"] | None, BeforeValidator(_lower)] = Field(
        None, description="log encoding (default: detected)")
    mapping: Path | None = Field(None, description="vendor column mapping (TOML)")
    duckdb_memory_limit: MemoryLimit | None = Field(
        None, description=f"DuckDB memory limit, spills beyond it (default {DEFAULT_DUCKDB_MEMORY_LIMIT})",
        json_schema_extra=_valid(*_MEMORY_VALID))
    reply_days: Count = Field(14, ge=1, le=365, description="notices: reply deadline, days after the audit date")
    notice_sender: Text | None = Field(None, description="notices: sender (発信者), default システム責任者")
    reports: bool = Field(True, description="write report.html and notices/ besides the SPEC files")
    state: Text | None = Field(
        None, description="continue earlier nights (SPEC §8): a SQLite file (created 0600) or a postgresql:// URL")
    allow_link_root: Annotated[tuple[Path, ...], BeforeValidator(_one_or_many)] = Field(
        (), description="inputs may be symbolic links to files under DIR (repeatable); other links are not read",
        json_schema_extra=_valid("ディレクトリ（またはその配列）", "a directory or a list of them"))
    engine: Literal["duckdb", "spark"] = Field(
        "duckdb", description="where the rules run: duckdb (default) or spark (local[2], or --spark-remote)")
    spark_remote: SparkRemote | None = Field(
        None, description="with --engine spark: a Spark Connect server sc://HOST:PORT (default: local Spark)",
        json_schema_extra=_valid("--engine spark と共に sc://ホスト:ポート", "sc://HOST:PORT, with --engine spark"))
    file_mode: FileMode = Field(
        0o600, description="octal mode of the output files (default 600)",
        json_schema_extra=_valid("所有者が読めて他人は書けない8進数。例: 600, 640, 644",
                                 "octal, owner-readable and not world-writable, e.g. 600, 640, 644"))

    def memory_limit(self) -> str:
        """The DuckDB memory limit this run uses (the resolved option, else the default)."""
        return self.duckdb_memory_limit or DEFAULT_DUCKDB_MEMORY_LIMIT


# --- one error format ---------------------------------------------------------------------------------

def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _invalid(label: str, value: Any, valid: tuple[str, str] | list[str]) -> str:
    ja, en = valid
    return msg(f"{label}: 値 {_short(value)} は無効です（有効: {ja}）",
               f"{label}: invalid value {_short(value)} (valid: {en})")


def base_type(annotation: Any) -> Any:
    """The type under ``Annotated[...]`` and ``... | None``: ``int``, ``Path``, a ``Literal[...]``."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return base_type(get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        rest = [a for a in get_args(annotation) if a is not type(None)]
        return base_type(rest[0]) if len(rest) == 1 else annotation
    return annotation


def choices(info: FieldInfo) -> tuple[str, ...]:
    """The values of a ``Literal`` option (empty for the others)."""
    t = base_type(info.annotation)
    return tuple(map(str, get_args(t))) if get_origin(t) is Literal else ()


def text_type(info: FieldInfo) -> type:
    """How the command line reads an option's text: ``int``/``float`` for numbers, else ``str`` (the model parses)."""
    kind = base_type(info.annotation)
    return kind if kind in (int, float) and _Number in info.metadata else str


def _range(info: FieldInfo) -> tuple[str, str]:
    """The valid values of an option, from its constraints (or its ``valid`` note)."""
    extra = info.json_schema_extra
    if isinstance(extra, dict) and "valid" in extra:
        ja, en = extra["valid"]  # type: ignore[misc]
        return str(ja), str(en)
    if choices(info):
        return ", ".join(choices(info)), ", ".join(choices(info))
    low = high = ""
    for m in info.metadata:
        if isinstance(m, Gt):
            low = f"{m.gt} <"
        elif isinstance(m, Ge):
            low = f"{m.ge} ≤"
        elif isinstance(m, Lt):
            high = f"< {m.lt}"
        elif isinstance(m, Le):
            high = f"≤ {m.le}"
    kind = base_type(info.annotation)
    span = " ".join(p for p in (low, "N", high) if p)
    if kind is int:
        return f"{span} の整数", f"a whole number {span}"
    if kind is float:
        return f"{span} の有限の数", f"a finite number {span}"
    if kind is bool:
        return "true, false", "true, false"
    return ("空でない文字列", "non-empty text") if kind is str else (kind.__name__, kind.__name__)


def _error(exc: ValidationError, label: Callable[[tuple[str, ...]], str]) -> ConfigError:
    """The first validation error as one line (the next shows once this one is fixed)."""
    err = exc.errors()[0]
    loc = tuple(p for p in err["loc"] if isinstance(p, str) and p in _ALL_FIELDS)
    if err["type"] == "extra_forbidden":
        section = Thresholds if tuple(err["loc"][:1]) == ("thresholds",) else AuditSettings
        where = label((*loc, str(err["loc"][-1])))
        names = ", ".join(n for n in section.model_fields if n != "thresholds")
        return ConfigError(msg(f"{where}: 不明な項目です（有効: {names}）", f"{where}: unknown option (valid: {names})"))
    where = label(loc)
    if not loc or loc[-1] == "thresholds":
        return ConfigError(msg(f"{where}: 表（名前と値）でなければなりません（{_short(err.get('input'))}）",
                               f"{where}: must be a table of names and values (got {_short(err.get('input'))})"))
    return ConfigError(_invalid(where, err.get("input"), _range(_ALL_FIELDS[loc[-1]])))


def validate(data: Mapping[str, Any], label: Callable[[tuple[str, ...]], str]) -> AuditSettings:
    """``data`` (AuditSettings' shape) as settings, or the one-line ConfigError naming the option by ``label``."""
    try:
        return AuditSettings.model_validate(dict(data))
    except ValidationError as exc:
        raise _error(exc, label) from None


def api_label(loc: tuple[str, ...]) -> str:
    """An option as the API spells it: ``session_hours``."""
    return loc[-1] if loc else "settings"


def flag_label(loc: tuple[str, ...]) -> str:
    """An option as the command line spells it: ``--session-hours``."""
    return "--" + loc[-1].replace("_", "-") if loc else "pia-policy audit"


# --- the config file ----------------------------------------------------------------------------------

def read_config(path: Path | str) -> dict[str, Any]:
    """The options a TOML config file sets (validated; paths made absolute), in AuditSettings' shape.

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
    notice_sender = "システム責任者"   # notices: 発信者 (default: the システム責任者, III-3 リスク2)
    file_mode = "640"       # octal; never world-writable
    engine = "spark"        # duckdb (default) | spark: the rules on Apache Spark (local[2])
    spark_remote = "sc://spark.example.lg.jp:15002"   # with engine = "spark": a Spark Connect cluster
    allow_link_root = ["/var/log/pia", "/srv/pia/ledgers"]   # inputs may be links into these
    ```
    """
    p = Path(path)
    where = str(p)
    try:
        raw = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(msg(f"{where}: 設定ファイルがありません", f"{where}: config file not found")) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(msg(f"{where}: 設定ファイルを読めません（{exc}）",
                              f"{where}: cannot read config file ({exc})")) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(msg(f"{where}: TOMLとして不正です（{exc}）", f"{where}: invalid TOML ({exc})")) from None
    for key, value in raw.items():
        if key not in ("thresholds", "audit"):
            raise ConfigError(msg(f"{where}: 不明な項目 [{key}]（有効: [thresholds], [audit]）",
                                  f"{where}: unknown section [{key}] (valid: [thresholds], [audit])"))
        if not isinstance(value, dict):
            raise ConfigError(msg(f"{where}: [{key}] は表でなければなりません", f"{where}: [{key}] must be a table"))
    data: dict[str, Any] = dict(raw.get("audit", {}))
    if "thresholds" in data:
        raise ConfigError(msg(f"{where}: thresholds は [audit] ではなく [thresholds] の表に書きます",
                              f"{where}: thresholds go in the [thresholds] table, not in [audit]"))
    if "thresholds" in raw:
        data["thresholds"] = raw["thresholds"]

    def label(loc: tuple[str, ...]) -> str:
        section = "thresholds" if loc[:1] == ("thresholds",) else "audit"
        return f"{where}: [{section}] {loc[-1] if loc else ''}".rstrip()

    values = validate(data, label).model_dump(exclude_unset=True)

    def here(value: Any) -> Any:
        if isinstance(value, Path) and not value.is_absolute():
            return (p.parent / value).resolve()
        if isinstance(value, (list, tuple)):
            return type(value)(here(v) for v in value)
        return value

    return {name: here(value) for name, value in values.items()}


def resolve_settings(
    settings: AuditSettings | None = None,
    *,
    config: Path | str | None = None,
    overrides: Mapping[str, Any] | None = None,
    label: Callable[[tuple[str, ...]], str] = api_label,
    environ: Mapping[str, str] | None = None,
) -> AuditSettings:
    """Defaults < ``config`` file < environment < ``settings`` < ``overrides`` (a None value is not given).

    ``overrides`` has AuditSettings' names; a threshold may be given flat (``session_hours=9``) or in a
    ``thresholds`` dict. ``label`` names an option in messages (:func:`api_label`, :func:`flag_label`).
    """
    merged: dict[str, Any] = read_config(config) if config is not None else {}
    env = (os.environ if environ is None else environ).get(MEMORY_ENV)
    if env:
        merged["duckdb_memory_limit"] = check_memory_limit(env, MEMORY_ENV)
    if settings is not None:
        _merge(merged, settings.model_dump(exclude_unset=True))
    given: dict[str, Any] = {}
    for name, value in (overrides or {}).items():
        if name == "thresholds" and isinstance(value, Mapping):
            given.setdefault("thresholds", {}).update({k: v for k, v in value.items() if v is not None})
        elif name in Thresholds.model_fields and value is not None:
            given.setdefault("thresholds", {})[name] = value
        elif value is not None:
            given[name] = value
    if given:  # validated over the layers below, so that a bad value is named as the caller spelled it
        _merge(merged, given)
        return validate(merged, label)
    return validate(merged, api_label)


def _merge(into: dict[str, Any], layer: Mapping[str, Any]) -> None:
    for name, value in layer.items():
        into[name] = {**into.get(name, {}), **value} if name == "thresholds" else value


_ALL_FIELDS: dict[str, FieldInfo] = {**Thresholds.model_fields, **AuditSettings.model_fields}
