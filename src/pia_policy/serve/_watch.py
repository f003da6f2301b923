"""What ``/healthz`` and ``/metrics`` say about the policy served, kept current by ``Policy.watch()``.

The service does not watch the source itself: ``Policy.watch()`` (LISTEN/NOTIFY on PostgreSQL,
``data_version`` and the file's identity on SQLite, the files' identity otherwise) reloads the
policy; this module records when, the digest of what is now served, and the failures (a reload
that fails keeps the policy being served, and is retried on the next change).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from typing import Any

from ..models import JST
from ..policy import Policy

__all__ = ["PolicyWatcher", "policy_digest"]


def policy_digest(policy: Policy) -> str:
    """SHA-256 of what decides: the lines as written, the versions and the metadata."""
    payload = {
        "lines": [[pl.ptype, *pl.values] for pl in policy.source_lines],
        "versions": [[v.id, str(v.in_force_from), str(v.in_force_to)] for v in policy.versions],
        "metadata": policy.metadata,
    }
    text = json.dumps(payload, ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class PolicyWatcher:
    """The served policy's reload record; ``start()`` watches its source every ``interval`` seconds (0: never)."""

    def __init__(self, policy: Policy, interval: float = 2.0) -> None:
        self.policy = policy
        self.interval = interval
        self.loaded_at = dt.datetime.now(JST)
        self._loaded_mono = time.monotonic()
        self.digest = policy_digest(policy)
        self._change: Any = None  # the running PolicyChangeWatcher

    @property
    def age_seconds(self) -> float:
        return time.monotonic() - self._loaded_mono

    @property
    def reloads(self) -> int:
        return self._change.reloads if self._change is not None else 0

    @property
    def reload_errors(self) -> int:
        return self._change.reload_errors if self._change is not None else 0

    @property
    def last_error(self) -> str | None:
        return self._change.last_error if self._change is not None else None

    def _reloaded(self, policy: Policy) -> None:
        self.digest = policy_digest(policy)
        self.loaded_at = dt.datetime.now(JST)
        self._loaded_mono = time.monotonic()

    def start(self) -> None:
        """Watch the source (returns once a change made after it would be seen)."""
        if self.interval > 0 and self._change is None:
            self._change = self.policy.watch(self._reloaded, interval=self.interval)

    def stop(self) -> None:
        if self._change is not None:
            self._change.stop()
