"""Vendor mapping files (TOML): how a vendor's log columns and values map to SPEC §3 fields.

```toml
[[mapping]]
files = ["vendor_*.csv"]            # globs on the events file name (default: every file)
encoding = "cp932"                  # optional: the file's encoding when it is not UTF-8
timestamp_format = "%Y/%m/%d %H:%M:%S"   # strptime; a string or a list; without %z the time is JST

[mapping.columns]                   # vendor column (CSV header / JSON key) = field
"日時" = "ts"

[mapping.values.action]             # vendor value = field value
"照会" = "view"

[mapping.constants]                 # a field the vendor log does not carry
system = "fukushi"
```
A single ``[mapping]`` table is accepted too.
"""

from __future__ import annotations

import codecs
import fnmatch
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from .._i18n import msg
from ._errors import InputError
from ._fields import EVENT_FIELDS

__all__ = ["Mapping", "load_mappings", "mapping_for", "normalise_encoding"]

_KEYS = {"files", "encoding", "timestamp_format", "columns", "values", "constants", "description"}


@dataclass(frozen=True)
class Mapping:
    """One mapping: which files, column renames, value maps, timestamp formats, constants."""

    files: tuple[str, ...] = ("*",)
    encoding: str | None = None
    timestamp_formats: tuple[str, ...] = ()
    columns: dict[str, str] = field(default_factory=dict)  # field -> source column
    values: dict[str, dict[str, str]] = field(default_factory=dict)  # field -> {vendor: value}
    constants: dict[str, str] = field(default_factory=dict)

    def matches(self, name: str) -> bool:
        """Whether this mapping applies to the events file ``name``."""
        return any(fnmatch.fnmatchcase(name, pat) for pat in self.files)

    def source(self, fld: str) -> str:
        """The source column/key for ``fld``."""
        return self.columns.get(fld, fld)


def normalise_encoding(value: str | None, *, where: str = "--encoding") -> str | None:
    """``utf-8`` or ``cp932`` (aliases accepted); None stays None; anything else is an InputError."""
    if value is None:
        return None
    try:
        name = codecs.lookup(value).name
    except LookupError:
        name = ""
    if name in ("utf-8", "utf-8-sig"):
        return "utf-8"
    if name in ("cp932", "shift_jis", "ms932"):
        return "cp932"
    raise InputError(
        msg(
            f"{where} の値 {value!r} は使えません。utf-8 または cp932 を指定してください。",
            f"{where}: {value!r} is not supported; use utf-8 or cp932.",
        )
    )


def _bad(path: Path, what_ja: str, what_en: str) -> InputError:
    return InputError(
        msg(f"マッピングファイル {path} が不正です: {what_ja}", f"Invalid mapping file {path}: {what_en}"),
        file=str(path),
    )


def _str_map(path: Path, obj: Any, where: str) -> dict[str, str]:
    if not isinstance(obj, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in obj.items()):
        raise _bad(path, f"{where} は 文字列 = 文字列 の表にしてください", f"{where} must be a table of string = string")
    return dict(obj)


def _check_format(path: Path, fmt: str) -> None:
    """A timestamp format DuckDB's strptime accepts (``%Q`` or a trailing ``%`` is refused here, not mid-run)."""
    try:
        with duckdb.connect() as con:
            con.execute("SELECT try_strptime('2025-01-01', ?)", [fmt])
    except duckdb.Error as exc:
        raise _bad(path, f"timestamp_format {fmt!r} は strptime の形式として使えません（{exc}）",
                   f"timestamp_format {fmt!r} is not a strptime format ({exc}); e.g. \"%Y/%m/%d %H:%M:%S\"") from None


def _one(path: Path, raw: Any) -> Mapping:
    if not isinstance(raw, dict):
        raise _bad(path, "[mapping] は表にしてください", "[mapping] must be a table")
    unknown = set(raw) - _KEYS
    if unknown:
        names = ", ".join(sorted(unknown))
        raise _bad(path, f"不明なキー {names}", f"unknown keys {names} (allowed: {', '.join(sorted(_KEYS))})")
    files = raw.get("files", ["*"])
    if isinstance(files, str):
        files = [files]
    if not isinstance(files, list) or not files or not all(isinstance(f, str) for f in files):
        raise _bad(path, "files は glob の文字列か配列です", "files must be a glob string or a list of them")
    fmts = raw.get("timestamp_format", [])
    if isinstance(fmts, str):
        fmts = [fmts]
    if not isinstance(fmts, list) or not all(isinstance(f, str) and f for f in fmts):
        raise _bad(path, "timestamp_format は strptime 形式の文字列です", "timestamp_format must be strptime strings")
    for fmt in fmts:
        _check_format(path, fmt)
    renames = _str_map(path, raw.get("columns", {}), "columns")
    columns: dict[str, str] = {}
    for src, dst in renames.items():
        if not src.strip() or any(ord(c) < 32 or ord(c) == 0x7F for c in src):
            raise _bad(path, f"columns の列名 {src!r} は使えません（空・制御文字（改行、タブ、NUL など）を含む列名は不可）",
                       f"columns: the column name {src!r} is not allowed (empty, or holds a control character "
                       "such as a line break, a tab or NUL)")
        if dst not in EVENT_FIELDS:
            raise _bad(
                path,
                f"columns の {src!r} の行き先 {dst!r} は項目名ではありません（{', '.join(EVENT_FIELDS)}）",
                f"columns: {src!r} maps to {dst!r}, which is not a field ({', '.join(EVENT_FIELDS)})",
            )
        if dst in columns:
            raise _bad(path, f"項目 {dst} に二つの列が割り当てられています", f"two columns map to {dst}")
        columns[dst] = src
    values_raw = raw.get("values", {})
    if not isinstance(values_raw, dict):
        raise _bad(path, "values は表にしてください", "values must be a table")
    values: dict[str, dict[str, str]] = {}
    for fld, table in values_raw.items():
        if fld not in EVENT_FIELDS or fld == "seq":
            raise _bad(path, f"values.{fld} は項目名ではありません", f"values.{fld}: not a string field")
        values[fld] = _str_map(path, table, f"values.{fld}")
    constants = _str_map(path, raw.get("constants", {}), "constants")
    for fld in constants:
        if fld not in EVENT_FIELDS or fld == "seq":
            raise _bad(path, f"constants.{fld} は項目名ではありません", f"constants.{fld}: not a string field")
    enc = normalise_encoding(raw["encoding"], where=f"{path}: encoding") if "encoding" in raw else None
    return Mapping(
        files=tuple(files),
        encoding=enc,
        timestamp_formats=tuple(fmts),
        columns=columns,
        values=values,
        constants=constants,
    )


def load_mappings(path: Path) -> list[Mapping]:
    """Read a mapping TOML file; a bad file is an InputError (exit 2) naming what is wrong."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8-sig"))
    except OSError as exc:
        raise InputError(
            msg(f"マッピングファイル {path} を読めません: {exc}", f"Cannot read mapping file {path}: {exc}"),
            file=str(path),
        ) from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise _bad(Path(path), f"TOML として読めません ({exc})", f"not valid TOML ({exc})") from exc
    raw = data.get("mapping")
    if raw is None:
        raise _bad(Path(path), "[mapping] 表がありません", "no [mapping] table")
    items = raw if isinstance(raw, list) else [raw]
    return [_one(Path(path), item) for item in items]


def mapping_for(mappings: list[Mapping], name: str) -> Mapping | None:
    """The first mapping whose globs match the file name, or None."""
    for m in mappings:
        if m.matches(name):
            return m
    return None
