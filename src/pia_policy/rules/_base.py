"""The shape of an audit rule: static metadata beside its detection query."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Literal

__all__ = ["Rule", "RuleContext", "Scope"]

#: ``event``: one finding per event, subject to the SPEC §4 precedence;
#: ``independent``: event-level, judged independently (TERMINAL, LONG_SESSION, BULK_ACCESS);
#: ``account``: judged on ledger rows (ACCOUNT_*); ``system``: judged per system (LOG_*).
Scope = Literal["event", "independent", "account", "system"]


@dataclass(frozen=True)
class RuleContext:
    """What a detection query may refer to: thresholds and the audit time.

    ``params`` holds the thresholds in force (``session_hours``, ``bulk_subjects``,
    ``revocation_grace_days``, ``dormant_days``, ``gap_minutes``, ``departure_grace_hours``);
    ``as_of_utc`` is the audit time (00:00 JST of ``--as-of``) as a naive UTC timestamp literal.
    """

    as_of_utc: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Rule:
    """One audit rule (SPEC §4): id, severity, citation and remedy beside its detection.

    ``sql`` builds a portable SQL query (no engine-specific functions; it must transpile
    to Spark SQL with sqlglot) over the audit's relations. See ``docs/DESIGN.md`` for
    the relations and the columns each scope must return.
    """

    id: str
    severity: Literal["low", "medium", "high", "critical"]
    scope: Scope
    basis: str
    title_ja: str
    title_en: str
    remedy_ja: str
    remedy_en: str
    requires: tuple[str, ...] = ()
    sql: Callable[[RuleContext], str] | None = None
