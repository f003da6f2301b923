"""``Policy.watch``: every process picks up a policy change, without polling the rows.

- PostgreSQL: ``LISTEN pia_policy_changed`` (the rule table's trigger notifies after any change,
  whoever makes it); on a lost connection it reconnects and reloads once (a notice may be lost).
- SQLite: ``PRAGMA data_version`` (changes when another connection commits) and the file's
  identity (a replaced file has a new inode), polled every ``interval`` seconds.
- Files: (name, inode, mtime, size) of model.conf, metadata.toml and every ``*.csv``; a change is
  acted on once it has held still for one check (an editor saving in place is not read half-way).

A reload that fails keeps the previous policy (``last_error`` says why) and is retried on the
next change. ``callback(policy)`` runs after each successful reload, on the watcher's thread.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Hashable

if TYPE_CHECKING:
    from ._policy import Policy

__all__ = ["PolicyChangeWatcher"]


def _file_fingerprint(directory: Path) -> Hashable:
    out = []
    for path in sorted([directory / "model.conf", directory / "metadata.toml", *directory.glob("*.csv")]):
        try:
            st = os.stat(path)
        except OSError:
            out.append((path.name, None))
            continue
        out.append((path.name, st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size))
    return tuple(out)


class PolicyChangeWatcher:
    """Reloads ``policy`` when where it was loaded from changes; ``stop()`` (or ``with``) ends it."""

    def __init__(self, policy: Policy, callback: Callable[[Policy], Any] | None = None, *,
                 interval: float = 1.0) -> None:
        self.policy = policy
        self.callback = callback
        self.interval = interval
        self.reloads = 0
        self.reload_errors = 0
        self.last_error: str | None = None
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None

    # ---- lifecycle ---------------------------------------------------------------------------------
    def start(self) -> PolicyChangeWatcher:
        """Start the watching thread; returns once it is listening (a change after this is seen)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="pia-policy-watch", daemon=True)
            self._thread.start()
            self._ready.wait(timeout=30)
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None

    def __enter__(self) -> PolicyChangeWatcher:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- reloading ---------------------------------------------------------------------------------
    def _reload(self) -> None:
        try:
            self.policy.reload()
        except Exception as exc:  # noqa: BLE001 - keep serving the previous policy, say why
            self.last_error = f"{type(exc).__name__}: {exc}"
            self.reload_errors += 1
            return
        self.last_error = None
        self.reloads += 1
        if self.callback is not None:
            self.callback(self.policy)

    def _run(self) -> None:
        from ._db import sqlite_path  # sqlalchemy only when a database is watched

        db = self.policy._database
        if db is None:
            self._poll(lambda: _file_fingerprint(Path(str(self.policy.directory))), settle=True)
        elif sqlite_path(db[0]) is not None:
            self._watch_sqlite(str(sqlite_path(db[0])))
        elif str(db[0]).startswith("postgresql"):
            self._listen_postgres(db[0], db[1])
        else:  # another database: nothing announces a change; reload on every tick is too costly
            self._ready.set()
            self.last_error = f"no change notification for {str(db[0]).split(':', 1)[0]}: call reload()"

    def _poll(self, fingerprint: Callable[[], Hashable], *, settle: bool) -> None:
        seen = fingerprint()
        settling: Hashable = None
        self._ready.set()
        while not self._stop.wait(self.interval):
            now = fingerprint()
            if now == seen:
                settling = None
                continue
            if settle and now != settling:
                settling = now
                continue
            seen, settling = now, None
            self._reload()

    def _watch_sqlite(self, path: str) -> None:
        state: dict[str, Any] = {"con": None, "ident": None}

        def fingerprint() -> Hashable:
            try:
                st = os.stat(path)
            except OSError:
                return ("missing",)
            ident = (st.st_dev, st.st_ino)
            if state["con"] is None or state["ident"] != ident:
                if state["con"] is not None:
                    state["con"].close()
                state["con"] = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
                state["ident"] = ident
            return (ident, state["con"].execute("PRAGMA data_version").fetchone()[0])

        try:
            self._poll(fingerprint, settle=False)
        finally:
            if state["con"] is not None:
                state["con"].close()

    def _listen_postgres(self, url: Any, table: str) -> None:
        import psycopg
        from sqlalchemy.engine import make_url

        from ._db import NOTIFY_CHANNEL

        u = make_url(str(url))
        conninfo = u.set(drivername="postgresql").render_as_string(hide_password=False)
        first = True
        while not self._stop.is_set():
            try:
                with psycopg.connect(conninfo, autocommit=True) as con:
                    con.execute(f"LISTEN {NOTIFY_CHANNEL}")
                    if not first:
                        self._reload()  # a notice may have been lost while disconnected
                    first = False
                    self._ready.set()
                    while not self._stop.is_set():
                        # every notice of one interval at once: a burst of statements is one reload
                        if any(n.payload == table for n in con.notifies(timeout=self.interval)):
                            self._reload()
            except Exception as exc:  # noqa: BLE001 - database away: report, retry
                self.last_error = f"{type(exc).__name__}: {exc}"
                self._ready.set()
                self._stop.wait(self.interval)
