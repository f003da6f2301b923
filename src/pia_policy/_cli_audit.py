"""`pia-policy audit` (SPEC §6): the nightly audit from the command line.

Exit codes: 0 no finding at or above ``--fail-on``; 1 findings at or above it;
2 the run could not be done (bad arguments, invalid config, missing inputs);
130 / 143 stopped by SIGINT / SIGTERM (the work directory removed, the outputs untouched or complete).
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, get_args, get_origin

from . import _i18n
from ._i18n import msg
from .models import SEVERITIES

__all__ = ["register", "run"]


def _add_setting_flags(p: argparse.ArgumentParser) -> None:
    """One flag per :class:`AuditSettings` field and threshold: ``--name`` (``--no-name`` for a default-true bool,
    repeated for a list).

    An absent flag is not set (``argparse.SUPPRESS``), so the config file and the defaults apply.
    """
    from .audit._settings import AuditSettings, Thresholds, base_type, choices, text_type

    fields = {**Thresholds.model_fields, **{k: v for k, v in AuditSettings.model_fields.items() if k != "thresholds"}}
    for name, info in fields.items():
        flag = "--" + name.replace("_", "-")
        kind = base_type(info.annotation)
        common = {"dest": name, "default": argparse.SUPPRESS, "help": info.description}
        if kind is bool:
            on = info.default is not True
            p.add_argument(flag if on else f"--no-{flag[2:]}", action="store_const", const=on, **common)
        elif choices(info):
            p.add_argument(flag, choices=choices(info), **common)
        elif get_origin(kind) in (list, tuple, set, frozenset):  # repeatable: --flag A --flag B
            item = (get_args(kind) or (str,))[0]
            p.add_argument(flag, action="append", metavar="PATH" if base_type(item) is Path else "VALUE", **common)
        else:
            metavar = "N" if text_type(info) is not str else "PATH" if kind is Path else "VALUE"
            p.add_argument(flag, type=text_type(info), metavar=metavar, **common)


class _Stopped(BaseException):
    """SIGINT or SIGTERM: unwinds the run (its ``finally`` blocks remove the work and staging directories)."""


@contextlib.contextmanager
def _stop_on_signals(received: list[int]) -> Iterator[None]:
    """Turn SIGINT/SIGTERM into :class:`_Stopped` (once: a second signal during the cleanup is ignored).

    DuckDB checks for signals while a query runs and stops it (raising its own error), so
    ``received`` records the signal, whatever exception carries it out.
    """
    def handler(signum: int, _frame: Any) -> None:
        if received:
            return
        received.append(signum)
        raise _Stopped(signum)

    if threading.current_thread() is not threading.main_thread():  # only the main thread may set handlers
        yield
        return
    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def register(subparsers: Any) -> None:
    """Add the ``audit`` subcommand to the ``pia-policy`` dispatcher."""
    p = subparsers.add_parser(
        "audit",
        help="audit access logs against the policy (nightly)",
        description="Audit DATA_DIR (events/, accounts.csv, personnel.csv, ...) as of 00:00 JST of --as-of.",
    )
    p.add_argument("data_dir", metavar="DATA_DIR", type=Path)
    p.add_argument("--as-of", required=True, metavar="YYYY-MM-DD", help="audit date; the audit time is 00:00 JST")
    p.add_argument("--out", required=True, metavar="OUT_DIR",
                   help="a new or empty directory, or a previous audit output (replaced atomically); "
                        "never DATA_DIR or a symbolic link")
    p.add_argument("--config", metavar="FILE.toml", type=Path, default=None,
                   help="options as TOML ([thresholds], [audit]); a flag overrides the file")
    _add_setting_flags(p)
    p.add_argument("--lang", choices=("ja", "en"), default=None, help="language of messages (default ja)")
    p.add_argument("--key-file", type=Path, default=None, help="HMAC key to sign summary.json")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the audit for parsed arguments; returns the exit code."""
    if args.lang:
        _i18n.set_lang(args.lang)
    from .audit import ConfigError, audit

    try:
        from .inputs import InputError
    except ImportError:  # pragma: no cover - the inputs part is always installed
        InputError = OSError  # type: ignore[misc, assignment]
    try:
        from .outputs import OutputDirError, SigningKeyError, load_key
    except ImportError:  # pragma: no cover
        SigningKeyError, OutputDirError, load_key = OSError, OSError, None  # type: ignore[assignment, misc]

    from .audit._settings import AuditSettings, Thresholds, flag_label, resolve_settings

    given = {k: v for k, v in vars(args).items() if k in AuditSettings.model_fields or k in Thresholds.model_fields}
    received: list[int] = []
    try:
        with _stop_on_signals(received):
            settings = resolve_settings(config=args.config, overrides=given, label=flag_label)
            key = load_key(args.key_file) if load_key is not None else None
            result = audit(args.data_dir, as_of=args.as_of, out=args.out, settings=settings, key=key)
    except BaseException as exc:
        if not received:
            return _failed(exc, (ConfigError, InputError, SigningKeyError, OutputDirError))
        name = signal.Signals(received[0]).name
        print(msg(f"pia-policy audit: {name} で中断しました。作業ディレクトリは削除し、出力先は前回の完全な結果のまま"
                  "（または今回の完全な結果）です",
                  f"pia-policy audit: stopped by {name}; the work directory was removed and the output directory holds "
                  "the previous complete set (or this run's complete set)"), file=sys.stderr)
        return 128 + received[0]
    sev = result.summary.get("findings_by_severity", {})
    parts = ", ".join(f"{s} {sev.get(s, 0)}" for s in reversed(SEVERITIES))
    print(msg(f"指摘 {len(result.findings)} 件（{parts}）→ {args.out}",
              f"{len(result.findings)} findings ({parts}) -> {args.out}"))
    return result.exit_code


def _failed(exc: BaseException, expected: tuple[type[BaseException], ...]) -> int:
    """Exit code 2 with one line for an expected failure; anything else propagates."""
    if isinstance(exc, expected):
        print(msg(f"pia-policy audit: エラー: {exc}", f"pia-policy audit: error: {exc}"), file=sys.stderr)
        return 2
    if isinstance(exc, OSError):
        where = getattr(exc, "filename", None)
        text = f"{where}: {exc.strerror or exc}" if where else str(exc)
        print(msg(f"pia-policy audit: エラー: {text}（--out の出力先とデータのパスを確認してください）",
                  f"pia-policy audit: error: {text} (check the --out directory and the data paths)"), file=sys.stderr)
        return 2
    raise exc
