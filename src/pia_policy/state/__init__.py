"""Continuous operation (SPEC §8): the state that carries a nightly audit across nights.

``audit(..., state=STATE)`` reads the state before judging the night and writes it, in one
transaction, after the outputs are written. ``STATE`` is a SQLite file (created 0600) or a
``postgresql://`` URL. :func:`triage` records a triage action; :func:`findings` lists the
latest night's findings with their lifecycle and triage.
"""

from __future__ import annotations

from ._night import LIFECYCLES, RETENTION_DAYS, Night, TrackedFinding, effective_triage
from ._store import TRIAGE_STATUSES, StateError, StateStore

__all__ = [
    "LIFECYCLES",
    "RETENTION_DAYS",
    "TRIAGE_STATUSES",
    "Night",
    "StateError",
    "StateStore",
    "TrackedFinding",
    "effective_triage",
]
