"""Triage statuses (no engine, no database): what the CLI needs to build its flags."""

from __future__ import annotations

__all__ = ["TRIAGE_STATUSES", "LIST_STATUSES"]

TRIAGE_STATUSES: tuple[str, ...] = ("acknowledged", "closed", "false_positive", "open")
#: ``findings --status``: the triage status in force, or ``resolved`` (no longer holds).
LIST_STATUSES: tuple[str, ...] = ("open", "acknowledged", "closed", "false_positive", "resolved")
