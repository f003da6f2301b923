"""Continuous operation (SPEC §8): the state that carries a nightly audit across nights.

``audit(..., state=STATE)`` reads the state before judging the night and writes it, in one
transaction, after the outputs are written. ``STATE`` is a SQLite file (created 0600) or a
``postgresql://`` URL. :func:`triage` records a triage action; :func:`findings` lists the
latest night's findings with their lifecycle and triage.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_attributes

if TYPE_CHECKING:  # pragma: no cover
    from ._night import LIFECYCLES, RETENTION_DAYS, Night, TrackedFinding, effective_triage
    from ._statuses import TRIAGE_STATUSES
    from ._store import StateError, StateStore

# Lazy (the CLI builds its flags from the statuses without importing DuckDB, Arrow, SQLAlchemy):
__getattr__ = lazy_attributes(__name__, {
    "._night": ("LIFECYCLES", "RETENTION_DAYS", "Night", "TrackedFinding", "effective_triage"),
    "._statuses": ("TRIAGE_STATUSES",),
    "._store": ("StateError", "StateStore"),
})

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
