"""ISO 8601 timestamps of the inputs: one grammar, in Python (ledgers) and in SQL (events).

A time without an offset is JST (+09:00); a date without a time is 00:00 JST. Every
result is a naive UTC datetime / ``TIMESTAMP``.
"""

from __future__ import annotations

import datetime as dt
import re

__all__ = [
    "JST_OFFSET_MINUTES",
    "ISO_PATTERN",
    "parse_ts",
    "sql_parse_ts",
    "sql_ts_layers",
    "sql_layered",
    "sql_strptime_ts",
    "sql_literal",
]

JST_OFFSET_MINUTES = 540

#: Date, optional time (``T``, ``t`` or one space), optional fraction, optional offset.
ISO_PATTERN = (
    r"^[ \t]*(\d{4}-\d{2}-\d{2})"
    r"(?:[Tt ]([01]\d|2[0-3]):([0-5]\d)(?::([0-5]\d)(?:[.,](\d{1,6})\d*)?)?"
    r" ?([Zz]|[+-](?:[01]\d|2[0-3])(?::?[0-5]\d)?)?)?[ \t]*$"
)
_ISO = re.compile(ISO_PATTERN)
_MIN_UTC = dt.datetime(1, 1, 2)
_MAX_UTC = dt.datetime(9999, 12, 31)


def _offset_minutes(z: str | None) -> int:
    if z is None:
        return JST_OFFSET_MINUTES
    if z in ("Z", "z"):
        return 0
    sign = -1 if z[0] == "-" else 1
    digits = z[1:].replace(":", "")
    return sign * (int(digits[:2]) * 60 + (int(digits[2:4]) if len(digits) > 2 else 0))


def parse_ts(value: str | None) -> dt.datetime | None:
    """Naive UTC datetime of an ISO 8601 date or date-time, or None when it cannot be parsed."""
    if value is None:
        return None
    m = _ISO.match(value)
    if not m:
        return None
    date_s, hh, mm, ss, frac, z = m.groups()
    try:
        local = dt.datetime.fromisoformat(date_s).replace(
            hour=int(hh or 0), minute=int(mm or 0), second=int(ss or 0), microsecond=int((frac or "0").ljust(6, "0"))
        )
        out = local - dt.timedelta(minutes=_offset_minutes(z))
    except (ValueError, OverflowError):
        return None
    return out if _MIN_UTC <= out < _MAX_UTC else None


def sql_literal(value: str) -> str:
    """A SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


#: The offset at the end of a date-time (only after a time of day).
_OFFSET_RE = r"\d:\d{2}(?::\d{2}(?:[.,]\d+)?)? ?([Zz]|[+-]\d{2}(?::?\d{2})?)[ \t]*$"


def sql_ts_layers(expr: str, out: str) -> list[str]:
    """Select-list fragments, innermost first, that add column ``out``: the naive UTC time of ``expr``.

    Each fragment is computed once in its own projection (``SELECT *, <fragment> FROM (...)``);
    the grammar is checked with ``ISO_PATTERN``, the local time is DuckDB's cast (which ignores
    an offset) and the offset (default JST) is subtracted. Mirrors :func:`parse_ts`.
    """
    p = f"_{out}"
    z = f"{p}_z"
    return [
        f"regexp_full_match({expr}, {sql_literal(ISO_PATTERN)}) AS {p}_ok",
        # DuckDB's cast ignores an offset; lower-case t/z and a decimal comma need the slow path.
        f"CASE WHEN {p}_ok THEN coalesce(TRY_CAST({expr} AS TIMESTAMP), "
        f"TRY_CAST(replace(upper(trim({expr})), ',', '.') AS TIMESTAMP)) END AS {p}_l, "
        f"CASE WHEN {p}_ok THEN upper(regexp_extract({expr}, {sql_literal(_OFFSET_RE)}, 1)) END AS {z}",
        f"{p}_l - to_minutes(CAST(CASE WHEN {z} = '' THEN {JST_OFFSET_MINUTES} WHEN {z} = 'Z' THEN 0 ELSE "
        f"(CASE WHEN {z}[1] = '-' THEN -1 ELSE 1 END) * (CAST({z}[2:3] AS INTEGER) * 60 + "
        f"CASE WHEN len({z}) > 3 THEN CAST(right({z}, 2) AS INTEGER) ELSE 0 END) END AS BIGINT)) AS {p}_u",
        f"CASE WHEN {p}_u >= TIMESTAMP '0001-01-02' AND {p}_u < TIMESTAMP '9999-12-31' THEN {p}_u END AS {out}",
    ]


def sql_layered(select_from: str, layers: list[str]) -> str:
    """Wrap ``select_from`` (a table name or a parenthesised query) in one projection per layer."""
    sql = select_from
    for frag in layers:
        sql = f"(SELECT *, {frag} FROM {sql})"
    return sql


def sql_parse_ts(expr: str) -> str:
    """SQL for the naive UTC ``TIMESTAMP`` of the ISO string ``expr`` (a scalar subquery; for tests)."""
    return f"(SELECT ts_ FROM {sql_layered(f'(SELECT {expr} AS ts_in_)', sql_ts_layers('ts_in_', 'ts_'))})"


def sql_strptime_ts(expr: str, formats: list[str]) -> str:
    """SQL for a vendor timestamp read with strptime ``formats``; without ``%z`` the time is JST."""
    with_z = [f for f in formats if "%z" in f or "%Z" in f]
    plain = [f for f in formats if f not in with_z]
    parts = []
    if with_z:
        lst = "[" + ", ".join(sql_literal(f) for f in with_z) + "]"
        parts.append(f"timezone('UTC', try_strptime(trim({expr}), {lst}))")
    if plain:
        lst = "[" + ", ".join(sql_literal(f) for f in plain) + "]"
        parts.append(
            f"(CAST(try_strptime(trim({expr}), {lst}) AS TIMESTAMP) - INTERVAL {JST_OFFSET_MINUTES} MINUTE)"
        )
    return "coalesce(" + ", ".join(parts) + ")" if len(parts) > 1 else parts[0]
