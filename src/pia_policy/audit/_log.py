"""Run logs (structlog, JSON lines on stderr) and the rich progress display (TTY only)."""

from __future__ import annotations

import sys
import time
from typing import Any, Callable, TextIO

import structlog

from .._i18n import msg
from ..outputs import mask_processor

__all__ = ["run_logger", "tty_progress"]


def run_logger(stream: TextIO | None = None) -> Callable[..., None]:
    """A function ``log(event, **fields)`` writing one JSON object per line to ``stream`` (stderr).

    Built with ``structlog.wrap_logger`` so that the host application's global structlog
    configuration is neither used nor changed. Callers log counts and timings only, never
    personal data.
    """
    logger = structlog.wrap_logger(
        structlog.PrintLogger(stream or sys.stderr),
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            mask_processor,  # no My Number ever reaches the log (SPEC §5), tracebacks included
            structlog.processors.JSONRenderer(ensure_ascii=False, sort_keys=True),
        ],
        name="pia_policy.audit",
    )

    def log(event: str, **fields: Any) -> None:
        logger.info(event, component="audit", **fields)

    return log


class _RichProgress:
    """A rich status line fed by the ingest progress callback (any signature)."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self._progress = Progress(
            SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
            console=Console(stderr=True), transient=True,
        )
        self._task = self._progress.add_task("pia-policy audit", total=None)
        self._started = time.perf_counter()
        self._progress.start()

    def __call__(self, *args: Any, **kwargs: Any) -> None:
        if len(args) == 3 and all(isinstance(a, int) for a in args):  # ingest: (files_done, files_total, lines)
            done, total, lines = args
            rate = lines / max(time.perf_counter() - self._started, 1e-6)
            text = msg(f"ファイル {done}/{total}・{lines:,} 行・{rate:,.0f} 行/秒",
                       f"files {done}/{total}, {lines:,} lines, {rate:,.0f} lines/s")
        else:
            text = " ".join([str(a) for a in args] + [f"{k}={v}" for k, v in kwargs.items()])
        self._progress.update(self._task, description=text[:120] or "pia-policy audit")

    def stage(self, text: str) -> None:
        self._progress.update(self._task, description=text)

    def close(self) -> None:
        self._progress.stop()


def tty_progress(stream: TextIO | None = None) -> _RichProgress | None:
    """A progress display when ``stream`` (stderr) is a terminal; None under cron / pipes."""
    s = stream or sys.stderr
    try:
        if not s.isatty():
            return None
    except (AttributeError, ValueError):
        return None
    return _RichProgress()
