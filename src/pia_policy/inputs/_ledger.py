"""Ledger CSVs (accounts, personnel, officers, terminals, approvals): small, read with ``csv``."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from .._i18n import msg
from ..departments import is_group_name
from ..models import SYSTEMS
from ._errors import InputError
from ._records import CSV_MAX_RECORD_LINES, SPAN_UNCLOSED, csv_spans
from ._source import SourceRefused, open_regular, resolve_source, safe_text
from ._time import parse_ts

import re

#: Excel's Japanese date display, common in ledgers kept in spreadsheets: 2025/4/1 [9:00[:00]].
_SLASH_DATE = re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$")


def parse_ledger_ts(value: str) -> dt.datetime | None:
    """``parse_ts`` that also reads Excel's ``YYYY/M/D [H:MM[:SS]]`` (JST): a ledger kept in a
    spreadsheet should not lose whole rows (and turn their events into UNKNOWN_ACCOUNT) over
    the date display."""
    m = _SLASH_DATE.match(value)
    if m:
        y, mo, d, hh, mi, ss = m.groups()
        iso = f"{y}-{int(mo):02d}-{int(d):02d}"
        if hh is not None:
            iso += f"T{int(hh):02d}:{mi}:{ss or '00'}"
        value = iso
    return parse_ts(value)

__all__ = ["LEDGERS", "LedgerSpec", "LedgerData", "read_ledger", "decide_codec"]

BOM = b"\xef\xbb\xbf"
#: A ledger larger than this is not read (a city's account ledger is a few MB).
LEDGER_MAX_BYTES = 256 << 20

# Column kinds: s = string, r = required string, e:<a|b> = enum (optional), E:<a|b> = enum (required),
# t = timestamp (optional), T = timestamp (required), roles = ';'-separated roles,
# d / D = department (optional / required): a group name (各区X課, grp:…) is unknown_value.
_SYS = "|".join(SYSTEMS)


@dataclass(frozen=True)
class LedgerSpec:
    """One ledger file: its table, its columns (csv name, table name, kind) and defaults."""

    file: str
    table: str
    required: bool
    columns: tuple[tuple[str, str, str], ...]
    with_position: bool = False
    defaults: tuple[tuple[str, str], ...] = ()


LEDGERS: tuple[LedgerSpec, ...] = (
    LedgerSpec(
        "accounts.csv",
        "accounts",
        True,
        (
            ("account_id", "account_id", "r"),
            ("system", "system", f"E:{_SYS}"),
            ("person_id", "person_id", "s"),
            ("employment", "employment", "e:regular|non_regular|contractor"),
            ("department", "department", "D"),
            ("roles", "roles", "roles"),
            ("permission", "permission", "e:read|update"),
            ("issued_at", "issued_at", "t"),
            ("issued_by", "issued_by", "s"),
            ("approved_by", "approved_by", "s"),
            ("request_ref", "request_ref", "s"),
            ("revoked_at", "revoked_at", "t"),
            ("expires_at", "expires_at", "t"),
            ("last_login_at", "last_login_at", "t"),
        ),
        with_position=True,
        defaults=(("employment", "regular"), ("permission", "read")),
    ),
    LedgerSpec(
        "personnel.csv",
        "personnel",
        True,
        (
            ("person_id", "person_id", "r"),
            ("event", "event", "E:hire|transfer|retire|contract_end"),
            ("effective_date", "effective_at", "T"),
            ("from_department", "from_department", "d"),
            ("to_department", "to_department", "d"),
        ),
        with_position=True,
    ),
    LedgerSpec(
        "officers.csv",
        "officers",
        False,
        (
            ("system", "system", f"E:{_SYS}"),
            ("role", "role", "E:system_owner|export_delegate|info_system_manager"),
            ("person_id", "person_id", "r"),
            ("from", "from_at", "T"),
            ("to", "to_at", "t"),
        ),
    ),
    LedgerSpec("terminals.csv", "terminals", False, (("terminal_id", "terminal_id", "r"), ("department", "department", "d"))),
    LedgerSpec(
        "approvals.csv",
        "approvals",
        False,
        (
            ("approval_id", "approval_id", "s"),
            ("account_id", "account_id", "r"),
            ("from", "from_at", "T"),
            ("to", "to_at", "T"),
            ("approved_by", "approved_by", "s"),
            ("witness", "witness", "s"),
        ),
    ),
    # Optional inputs of the issue-13 duties (README "Duties with an optional input").
    LedgerSpec(
        "pledges.csv",
        "pledges",
        False,
        (("person_id", "person_id", "r"), ("signed_at", "signed_at", "T"), ("submitted_to", "submitted_to", "s")),
    ),
    LedgerSpec(
        "consultations.csv",
        "consultations",
        False,
        (("recipient_department", "recipient_department", "D"), ("purpose", "purpose", "r"),
         ("agreed_on", "agreed_at", "T")),
    ),
    LedgerSpec(
        "contractor_roster.csv",
        "contractor_roster",
        False,
        (("person_id", "person_id", "r"), ("role", "role", "e:manager|worker"), ("from", "from_at", "T"),
         ("to", "to_at", "t")),
    ),
    LedgerSpec(
        "log_archive.csv",
        "log_archive",
        False,
        (("system", "system", f"E:{_SYS}"), ("from", "from_at", "T"), ("to", "to_at", "T")),
    ),
)


@dataclass
class LedgerData:
    """What one ledger file gave: its table, role rows, rejects and file facts."""

    spec: LedgerSpec
    present: bool = False
    table: pa.Table | None = None
    roles: list[tuple[str, str, str]] = field(default_factory=list)
    rejects: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    size: int = 0
    sha256: str = ""


def decide_codec(data: bytes, forced: str | None) -> str:
    """SPEC §4: a BOM or valid UTF-8 means UTF-8; otherwise ``forced`` or CP932 (``forced`` utf-8: always)."""
    if data.startswith(BOM) or forced == "utf-8":
        return "utf-8"
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return forced or "cp932"
    return "utf-8"


def _schema(spec: LedgerSpec) -> pa.Schema:
    cols: list[tuple[str, pa.DataType]] = []
    if spec.with_position:
        cols += [("file", pa.string()), ("line", pa.int64())]
    for _, name, kind in spec.columns:
        cols.append((name, pa.timestamp("us") if kind in ("t", "T") else pa.string()))
    return pa.schema(cols)


def _unreadable(spec: LedgerSpec, path: Path, ja: str, en: str) -> InputError:
    return InputError(
        msg(
            f"必須の台帳ファイル {spec.file} を読めません: {ja}（{path}）",
            f"Cannot read the required ledger file {spec.file}: {en} ({path})",
        ),
        file=spec.file,
    )


def _reject(spec: LedgerSpec, line: int, reason: str, fld: str | None, detail: str, text: str) -> dict[str, Any]:
    return {"file": spec.file, "line": line, "reason": reason, "field": fld, "detail": detail, "excerpt": text[:200]}


def _read_bounded(path: Path, data_dir: Path, allow_roots: Iterable[Path]) -> bytes:
    """The bytes of a ledger: a regular file inside the allowed roots, at most :data:`LEDGER_MAX_BYTES`."""
    with open_regular(resolve_source(path, data_dir, allow_roots)) as fh:
        data = fh.read(LEDGER_MAX_BYTES + 1)
    if len(data) > LEDGER_MAX_BYTES:
        raise SourceRefused(msg(f"{LEDGER_MAX_BYTES >> 20} MiB を超えています（台帳ではない大きなファイル？）",
                                f"it is larger than {LEDGER_MAX_BYTES >> 20} MiB (not a ledger?)"))
    return data


def read_ledger(spec: LedgerSpec, data_dir: Path, forced: str | None, allow_roots: Iterable[Path] = ()) -> LedgerData:
    """Read one ledger; a required one that is missing or unreadable raises InputError.

    Links, FIFOs, devices and oversized files are refused as :mod:`._source` says (unreadable).
    """
    out = LedgerData(spec=spec)
    path = data_dir / spec.file
    if not os.path.lexists(path):
        if spec.required:
            raise InputError(
                msg(
                    f"必須の台帳ファイル {spec.file} がありません。{data_dir} に {spec.file} を置いてください。",
                    f"The required ledger file {spec.file} is missing: put {spec.file} into {data_dir}.",
                ),
                file=spec.file,
            )
        out.table = _schema(spec).empty_table()
        return out
    try:
        data = _read_bounded(path, data_dir, allow_roots)
    except (OSError, SourceRefused) as exc:
        text = str(exc) if isinstance(exc, SourceRefused) else (exc.strerror or str(exc))
        if spec.required:
            raise _unreadable(spec, path, text, text) from None
        out.error = text
        out.table = _schema(spec).empty_table()
        return out
    out.size = len(data)
    out.sha256 = hashlib.sha256(data).hexdigest()
    codec = decide_codec(data, forced)
    if data.startswith(BOM):
        data = data[len(BOM):]
    raw_lines = data.split(b"\n")
    if data.endswith(b"\n"):
        raw_lines.pop()
    texts: list[str] = []
    for no, raw in enumerate(raw_lines, start=1):
        if raw.endswith(b"\r"):
            raw = raw[:-1]
        try:
            texts.append(raw.decode(codec))
        except UnicodeDecodeError:
            texts.append("")
            if no > 1:
                out.rejects.append(
                    _reject(
                        spec,
                        no,
                        "encoding",
                        None,
                        msg(f"{codec} として読めないバイトがあります（--encoding を確認）", f"bytes that do not decode as {codec} (check --encoding)"),
                        safe_text(raw, codec),
                    )
                )
    starts = [0]
    for raw in raw_lines:
        starts.append(starts[-1] + len(raw) + 1)
    # Header: the first record with a non-blank cell.
    header: list[str] | None = None
    body = len(texts)
    for no, i, j, _kind in _line_records(data, starts, 0, None):
        row = _parse(texts[i:j])
        if row and any(c.strip() for c in row):
            header, body = [c.strip().lstrip("\ufeff").lower() for c in row], j
            break
    needed = [csv_name for csv_name, _, kind in spec.columns if kind in ("r", "T", "D") or kind.startswith("E:")]
    problem: tuple[str, str] | None = None
    if header is None:
        problem = ("ヘッダー行がありません（空のファイル）", "it has no header line (empty file)")
    else:
        missing = [c for c in needed if c not in header]
        if missing:
            problem = (
                f"ヘッダーに必要な列 {', '.join(missing)} がありません（必要な列: {', '.join(c for c, _, _ in spec.columns)}）",
                f"its header lacks the column(s) {', '.join(missing)} (columns: {', '.join(c for c, _, _ in spec.columns)})",
            )
    if problem is not None:
        if spec.required:
            raise _unreadable(spec, path, *problem)
        out.error = msg(problem[0], problem[1])
        out.table = _schema(spec).empty_table()
        return out
    assert header is not None
    out.present = True
    index = {name: i for i, name in reversed(list(enumerate(header)))}
    rows: list[dict[str, Any]] = []
    defaults = dict(spec.defaults)
    for start, i, j, kind in _line_records(data, starts, body, len(header)):
        text = "\n".join(texts[i:j])
        if kind == SPAN_UNCLOSED:
            out.rejects.append(_reject(spec, start, "csv_width", None, msg(
                f"この行の引用符（\"）が {CSV_MAX_RECORD_LINES} 行以内に閉じて正しい行になりません（この行だけを除外しました）",
                f"the double quote opened on this line does not close into a valid row within {CSV_MAX_RECORD_LINES} "
                "lines (only this line is rejected)"), text))
            continue
        row = _parse(texts[i:j])
        # Skip lines blanked by an encoding reject, and blank lines.
        if not row or not any(c.strip() for c in row):
            continue
        if len(row) != len(header):
            out.rejects.append(
                _reject(
                    spec,
                    start,
                    "csv_width",
                    None,
                    msg(f"列数が {len(row)} 列です（ヘッダーは {len(header)} 列）", f"{len(row)} columns, the header has {len(header)}"),
                    text,
                )
            )
            continue
        rec, bad = _convert(spec, row, index, defaults)
        if bad is not None:
            reason, fld, detail = bad
            out.rejects.append(_reject(spec, start, reason, fld, detail, text))
            continue
        if spec.with_position:
            rec["file"] = spec.file
            rec["line"] = start
        rows.append(rec)
        if spec.table == "accounts" and rec["roles"]:
            out.roles.extend((rec["system"], rec["account_id"], r) for r in rec["roles"].split(";"))
    schema = _schema(spec)
    out.table = pa.Table.from_pylist(rows, schema=schema) if rows else schema.empty_table()
    return out


def _line_records(
    data: bytes, starts: list[int], first: int, width: int | None
) -> Iterator[tuple[int, int, int, str | None]]:
    """Records from line index ``first``: ``(line number, first index, end index, kind)``; kind is
    ``_records``' span kind, or None for a record of one line."""
    n = len(starts) - 1
    spans, _ = csv_spans(data[starts[first]:] if first < n else b"", width=width, final=True)
    at = {starts[first] + a: (starts[first] + b, kind) for a, b, kind in spans} if first < n else {}
    i = first
    while i < n:
        end, kind = at.get(starts[i], (None, None))
        j = i + 1
        if end is not None:
            while j < n and starts[j] < end:
                j += 1
        yield i + 1, i, j, kind
        i = j


def _parse(lines: list[str]) -> list[str]:
    """One CSV record (its physical lines) as cells (``csv``: a quote inside a field is data)."""
    try:
        return next(csv.reader([line + "\n" for line in lines], strict=False), [])
    except csv.Error:
        return ["\n".join(lines)]


def _convert(
    spec: LedgerSpec, row: list[str], index: dict[str, int], defaults: dict[str, str]
) -> tuple[dict[str, Any], tuple[str, str | None, str] | None]:
    rec: dict[str, Any] = {}
    for csv_name, name, kind in spec.columns:
        i = index.get(csv_name)
        value = row[i].strip() if i is not None else ""
        if kind == "roles":
            rec[name] = ";".join(sorted({r.strip() for r in value.split(";") if r.strip()}))
            continue
        if not value:
            if kind in ("r", "T", "D") or kind.startswith("E:"):
                return rec, (
                    "missing_field",
                    csv_name,
                    msg(f"必須項目 {csv_name} が空です", f"required field {csv_name} is missing or empty"),
                )
            rec[name] = defaults.get(name)
            continue
        if kind in ("t", "T"):
            ts: dt.datetime | None = parse_ledger_ts(value)
            if ts is None:
                return rec, (
                    "bad_timestamp",
                    csv_name,
                    msg(
                        f"{csv_name} '{value[:60]}' は日付・日時として読めません（例 2025-04-01、2025/4/1 または 2025-04-01T09:00:00+09:00）",
                        f"{csv_name} '{value[:60]}' is not an ISO 8601 date or date-time (e.g. 2025-04-01, 2025/4/1)",
                    ),
                )
            rec[name] = ts
        elif kind[:2] in ("e:", "E:"):
            allowed = kind[2:].split("|")
            if value not in allowed:
                return rec, (
                    "unknown_value",
                    csv_name,
                    msg(
                        f"{csv_name} '{value[:60]}' は定義された値ではありません（{', '.join(allowed)}）",
                        f"{csv_name} '{value[:60]}' is not one of {', '.join(allowed)}",
                    ),
                )
            rec[name] = value
        elif kind in ("d", "D") and is_group_name(value):
            return rec, (
                "unknown_value",
                csv_name,
                msg(
                    f"{csv_name} '{value[:60]}' はグループ名で、部署ではありません（各区X課は <区名>X課 の6課に分けて書く）",
                    f"{csv_name} '{value[:60]}' is a group name, not a department (write 各区X課 as the six <ward>X課)",
                ),
            )
        else:
            rec[name] = value
    return rec, None
