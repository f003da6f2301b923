"""Hot reload: poll a cheap fingerprint of where the policy comes from; reload when it changes.

Files: the (name, mtime, size) of model.conf, metadata.toml and every *.csv of the directory.
Database: the policy rows themselves (a few hundred lines). A reload that fails keeps the
policy being served and is reported in /healthz and /metrics; it is retried when the
fingerprint changes again. A change is acted on once the fingerprint has held still for one
check, so a file saved in place is not read half-written.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading
import time
from pathlib import Path
from typing import Any, Callable, Hashable

from ..models import JST
from ..policy import Policy

__all__ = ["PolicyWatcher", "file_fingerprint", "database_fingerprint", "policy_digest"]


def file_fingerprint(directory: Path) -> Callable[[], Hashable]:
    """(name, mtime_ns, size) of every file the policy directory is read from."""

    def fingerprint() -> Hashable:
        out = []
        for path in sorted([directory / "model.conf", directory / "metadata.toml", *directory.glob("*.csv")]):
            try:
                st = path.stat()
            except OSError:
                out.append((path.name, None, None))
                continue
            out.append((path.name, st.st_mtime_ns, st.st_size))
        return tuple(out)

    return fingerprint


def database_fingerprint(url: Any, model_dir: Path, table_name: str = "pia_policy_rule") -> Callable[[], Hashable]:
    """The policy rows of the database table (and the model/metadata files beside them)."""
    from ..policy._db import load_lines

    files = file_fingerprint(model_dir)

    def fingerprint() -> Hashable:
        model_text = (model_dir / "model.conf").read_text(encoding="utf-8")
        rows = tuple((pl.ptype, pl.values) for pl in load_lines(url, model_text, table_name=table_name))
        return (files(), rows)

    return fingerprint


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
    """Reloads ``policy`` when ``fingerprint()`` changes (checked every ``interval`` seconds; 0: never)."""

    def __init__(self, policy: Policy, fingerprint: Callable[[], Hashable] | None, interval: float = 2.0) -> None:
        self.policy = policy
        self._fingerprint = fingerprint
        self.interval = interval
        self._seen: Hashable = self._safe_fingerprint()
        self._settling: Hashable = None
        self.loaded_at = dt.datetime.now(JST)
        self._loaded_mono = time.monotonic()
        self.digest = policy_digest(policy)
        self.reloads = 0
        self.reload_errors = 0
        self.last_error: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def age_seconds(self) -> float:
        return time.monotonic() - self._loaded_mono

    def _safe_fingerprint(self) -> Hashable:
        if self._fingerprint is None:
            return None
        try:
            return self._fingerprint()
        except Exception as exc:  # noqa: BLE001 - a database briefly away must not stop the service
            return ("unreadable", type(exc).__name__, str(exc))

    def check(self) -> bool:
        """Reload if the fingerprint changed and then held still for one check; True when a new policy is served.

        Waiting one check means a file still being written (an editor saving in place) is not read half-way.
        """
        seen = self._safe_fingerprint()
        if seen == self._seen:
            self._settling = None
            return False
        if seen != self._settling:
            self._settling = seen
            return False
        self._seen, self._settling = seen, None
        return self.reload()

    def reload(self) -> bool:
        """Reload the policy; on failure keep serving the previous one and record the error."""
        try:
            self.policy.reload()
        except Exception as exc:  # noqa: BLE001 - reported in /healthz and /metrics
            self.reload_errors += 1
            self.last_error = f"{type(exc).__name__}: {exc}"
            return False
        self.reloads += 1
        self.last_error = None
        self.loaded_at = dt.datetime.now(JST)
        self._loaded_mono = time.monotonic()
        self.digest = policy_digest(self.policy)
        return True

    def start(self) -> None:
        if self.interval <= 0 or self._fingerprint is None or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="pia-policy-watcher", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.check()
