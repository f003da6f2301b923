"""The access-event fields of SPEC §3 and the reject reasons of SPEC §4."""

from __future__ import annotations

from ..models import ACTIONS, RESOURCES, SYSTEMS

__all__ = [
    "EVENT_FIELDS",
    "STRING_FIELDS",
    "INT_FIELDS",
    "REQUIRED_FIELDS",
    "ENUM_FIELDS",
    "SESSION_ACTIONS",
    "REJECT_REASONS",
    "STRUCTURAL_REASONS",
]

#: Every judged field, in the order of the SPEC §3 table.
EVENT_FIELDS: tuple[str, ...] = (
    "ts",
    "system",
    "seq",
    "event_id",
    "account_id",
    "session_id",
    "terminal_id",
    "action",
    "resource",
    "affair",
    "subject_id",
    "recipient_department",
    "method",
    "record_ref",
)
INT_FIELDS: frozenset[str] = frozenset({"seq"})
STRING_FIELDS: tuple[str, ...] = tuple(f for f in EVENT_FIELDS if f not in INT_FIELDS)
REQUIRED_FIELDS: tuple[str, ...] = ("ts", "system", "event_id", "account_id", "action")
ENUM_FIELDS: dict[str, tuple[str, ...]] = {"system": SYSTEMS, "action": ACTIONS, "resource": RESOURCES}
SESSION_ACTIONS: tuple[str, ...] = ("login", "logout")

#: ``rejected.reason`` values (docs/DESIGN.md), in the order a record is checked.
REJECT_REASONS: tuple[str, ...] = (
    "encoding",
    "io_error",
    "line_too_long",
    "invalid_json",
    "not_object",
    "csv_width",
    "missing_field",
    "wrong_type",
    "bad_timestamp",
    "unknown_value",
    "missing_session_id",
    "after_audit_time",
)
#: Reasons that say the line could not be read as a record at all.
STRUCTURAL_REASONS: frozenset[str] = frozenset(
    {"encoding", "io_error", "line_too_long", "invalid_json", "not_object", "csv_width"}
)
