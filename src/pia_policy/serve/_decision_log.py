"""Decision log: one masked JSON line per decision (SPEC §3 event + ``decision``), a file per JST day.

Lines from concurrent requests are queued to one writer thread, which appends what has
arrived, calls ``fsync`` once for the group and then answers every request in it (group
commit): a decision is returned only after its line is on disk. Files are named
``decisions-YYYY-MM-DD.jsonl`` after the JST day of writing and only ever appended to
(no copytruncate), so the nightly audit reads the directory as one system's access log.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import queue
import threading
import time
from pathlib import Path
from typing import Any, Callable

from ..models import JST
from ..outputs import mask_my_number

__all__ = ["DecisionLog", "DecisionLogError", "file_name_for"]

_PREFIX = "decisions-"


class DecisionLogError(RuntimeError):
    """The decision lines could not be written (the request gets 503, no decision)."""


def file_name_for(day: dt.date) -> str:
    """The log file of a JST day."""
    return f"{_PREFIX}{day.isoformat()}.jsonl"


class DecisionLog:
    """Append-only, daily, fsynced JSON lines; ``await log.append(records)`` returns once they are on disk."""

    def __init__(self, directory: str | Path, *, clock: Callable[[], dt.datetime] | None = None) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._clock = clock or (lambda: dt.datetime.now(JST))
        self._queue: queue.Queue[tuple[list[dict[str, Any]], Callable[[BaseException | None], None]] | None] = \
            queue.Queue()
        self._fd: int | None = None
        self._day: dt.date | None = None
        self.lines_written = 0
        self.syncs = 0
        self.sync_seconds = 0.0
        self.errors = 0
        self._thread = threading.Thread(target=self._run, name="pia-decision-log", daemon=True)
        self._thread.start()

    async def append(self, records: list[dict[str, Any]]) -> None:
        """Write ``records`` (masked) and wait for the fsync; raises ``DecisionLogError`` when they could not be."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()

        def finish(exc: BaseException | None) -> None:
            def settle() -> None:
                if not done.done():
                    if exc is None:
                        done.set_result(None)
                    else:
                        done.set_exception(DecisionLogError(f"{type(exc).__name__}: {exc}"))
            loop.call_soon_threadsafe(settle)

        self._queue.put((records, finish))
        await done

    def close(self) -> None:
        """Write what is queued, then stop the writer and close the file."""
        self._queue.put(None)
        self._thread.join(timeout=30)
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    # ---- writer thread -------------------------------------------------------------------------
    def _file(self) -> int:
        day = self._clock().astimezone(JST).date()
        if self._fd is None or day != self._day:
            if self._fd is not None:
                os.close(self._fd)
            path = self.directory / file_name_for(day)
            self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            self._day = day
        return self._fd

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            group = [item]
            while True:  # everything queued meanwhile joins this fsync
                try:
                    group.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            stop = any(g is None for g in group)
            pending = [g for g in group if g is not None]
            if pending:
                self._write(pending)
            if stop:
                return

    def _write(self, pending: list[tuple[list[dict[str, Any]], Callable[[BaseException | None], None]]]) -> None:
        error: BaseException | None = None
        try:
            # masked as text: the values are strings (a number in one stays inside its quotes), so a
            # pass over the line finds every My Number that a pass over each value would
            data = "".join(
                mask_my_number(json.dumps(r, ensure_ascii=False, separators=(",", ":"))) + "\n"
                for records, _ in pending for r in records
            ).encode("utf-8")
            fd = self._file()
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            started = time.perf_counter()
            os.fsync(fd)
            self.sync_seconds += time.perf_counter() - started
            self.lines_written += sum(len(records) for records, _ in pending)
            self.syncs += 1
        except Exception as exc:  # noqa: BLE001 - every waiting request gets the error (503), the writer goes on
            self.errors += 1
            error = exc
        for _, finish in pending:
            finish(error)
