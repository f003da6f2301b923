"""Portable SQL fragments shared by the rule queries (DuckDB today, Spark SQL through sqlglot).

Only ANSI-style constructs: CAST, EXTRACT, INTERVAL literals, window functions, CTEs.
Timestamps are naive UTC; a JST day is ``CAST(ts + INTERVAL '9' HOUR AS DATE)``.
"""

from __future__ import annotations

__all__ = ["EVENT_COLS", "ts", "seconds", "days", "jst_day", "jst_seconds_of_day", "event_cols",
           "departure_windows"]

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


def departure_windows(audit: str | None = None) -> str:
    """The CTEs ``lv`` and ``win`` (for ``WITH``): each departure of an account's holder from the
    account's department (SPEC §4 ACCESS_AFTER_DEPARTURE / ACCOUNT_NOT_REVOKED) as ``win(system,
    account_id, left_at, back_at)``, ``back_at`` the first return to that department (NULL: none).
    With ``audit`` (a timestamp expression), only departures and returns at or before it count."""
    upto_left = f" AND p.effective_at <= {audit}" if audit else ""
    upto_back = f" AND r.effective_at <= {audit}" if audit else ""
    return f"""lv AS (
  SELECT DISTINCT a.system, a.account_id, a.department, p.person_id, p.effective_at AS left_at
  FROM accounts a JOIN personnel p ON p.person_id = a.person_id
  WHERE p.event IN ('transfer', 'retire', 'contract_end'){upto_left}
    AND (p.from_department = a.department OR (p.from_department IS NULL AND p.event <> 'transfer'))
), win AS (
  SELECT lv.system, lv.account_id, lv.left_at, MIN(r.effective_at) AS back_at
  FROM lv LEFT JOIN personnel r
    ON r.person_id = lv.person_id AND r.to_department = lv.department
   AND r.event IN ('hire', 'transfer') AND r.effective_at > lv.left_at{upto_back}
  GROUP BY lv.system, lv.account_id, lv.left_at
)"""
