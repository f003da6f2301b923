"""Portable SQL fragments shared by the rule queries (DuckDB today, Spark SQL through sqlglot).

Only ANSI-style constructs: CAST, EXTRACT, INTERVAL literals, window functions, CTEs.
Timestamps are naive UTC; a JST day is ``CAST(ts + INTERVAL '9' HOUR AS DATE)``.
"""

from __future__ import annotations

__all__ = ["EVENT_COLS", "ts", "seconds", "days", "jst_day", "jst_seconds_of_day", "event_cols"]

#: The columns an event-level rule returns (DESIGN.md), unqualified.
EVENT_COLS = ("system", "account_id", "file", "file_idx", "line", "event_id", "ts")


def event_cols(alias: str) -> str:
    """The event columns qualified with ``alias``."""
    return ", ".join(f"{alias}.{c}" for c in EVENT_COLS)


def ts(literal: str) -> str:
    """A timestamp literal (naive UTC)."""
    return f"CAST('{literal}' AS TIMESTAMP)"


def seconds(value: float) -> str:
    """An interval of ``value`` seconds, rounded to the whole second."""
    return f"INTERVAL '{int(round(value))}' SECOND"


def days(value: int) -> str:
    """An interval of whole days."""
    return f"INTERVAL '{int(value)}' DAY"


def jst_day(col: str) -> str:
    """The JST calendar day of a naive UTC timestamp."""
    return f"CAST({col} + INTERVAL '9' HOUR AS DATE)"


def jst_seconds_of_day(col: str) -> str:
    """Whole seconds since 00:00 JST of the timestamp's JST day (the portable way to subtract
    two timestamps of the same JST day: no engine-specific epoch or date_diff)."""
    j = f"({col} + INTERVAL '9' HOUR)"
    return (
        f"(EXTRACT(HOUR FROM {j}) * 3600 + EXTRACT(MINUTE FROM {j}) * 60"
        f" + FLOOR(EXTRACT(SECOND FROM {j})))"
    )
