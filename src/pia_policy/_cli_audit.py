"""`pia-policy audit` (SPEC §6): the nightly audit from the command line.

Exit codes: 0 no finding at or above ``--fail-on``; 1 findings at or above it;
2 the run could not be done (bad arguments, invalid config, missing inputs).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from . import _i18n
from ._i18n import msg
from .models import SEVERITIES

__all__ = ["register", "run"]

_THRESHOLD_FLAGS: tuple[tuple[str, str, type], ...] = (
    ("--session-hours", "session_hours", float),
    ("--bulk-subjects", "bulk_subjects", int),
    ("--revocation-grace-days", "revocation_grace_days", int),
    ("--dormant-days", "dormant_days", int),
    ("--gap-minutes", "gap_minutes", float),
    ("--departure-grace-hours", "departure_grace_hours", float),
)


def _file_mode(text: str) -> int:
    try:
        value = int(text, 8)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an octal file mode: {text!r} (e.g. 600 or 0o640)") from None
    if not 0 <= value <= 0o777:
        raise argparse.ArgumentTypeError(f"file mode out of range: {text!r}")
    return value


def register(subparsers: Any) -> None:
    """Add the ``audit`` subcommand to the ``pia-policy`` dispatcher."""
    p = subparsers.add_parser(
        "audit",
        help="audit access logs against the policy (nightly)",
        description="Audit DATA_DIR (events/, accounts.csv, personnel.csv, ...) as of 00:00 JST of --as-of.",
    )
    p.add_argument("data_dir", metavar="DATA_DIR", type=Path)
    p.add_argument("--as-of", required=True, metavar="YYYY-MM-DD", help="audit date; the audit time is 00:00 JST")
    p.add_argument("--out", required=True, metavar="OUT_DIR", type=Path)
    p.add_argument("--policy", metavar="DIR", default=None)
    p.add_argument("--config", metavar="FILE.toml", type=Path, default=None)
    p.add_argument("--fail-on", choices=SEVERITIES, default=None, help="default: high")
    p.add_argument("--encoding", choices=("utf-8", "cp932"), default=None)
    p.add_argument("--mapping", metavar="FILE.toml", type=Path, default=None)
    for flag, _name, kind in _THRESHOLD_FLAGS:
        p.add_argument(flag, type=kind, default=None, metavar="N")
    p.add_argument("--lang", choices=("ja", "en"), default=None, help="language of messages (default ja)")
    p.add_argument("--no-reports", action="store_true", help="write only the SPEC files (no report.html, notices/)")
    p.add_argument("--file-mode", type=_file_mode, default=0o600, metavar="MODE", help="octal, default 600")
    p.add_argument("--key-file", type=Path, default=None, help="HMAC key to sign summary.json")
    p.add_argument("--reply-days", type=int, default=None, metavar="N",
                   help="notices: reply deadline in days after the audit date (default 14)")
    p.add_argument("--notice-sender", default=None, metavar="NAME",
                   help="notices: sender (発信者), default 情報セキュリティ管理者")
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
        from .outputs import SigningKeyError, load_key
    except ImportError:  # pragma: no cover
        SigningKeyError, load_key = OSError, None  # type: ignore[assignment, misc]

    thresholds = {name: getattr(args, name) for _flag, name, _kind in _THRESHOLD_FLAGS}
    try:
        key = load_key(args.key_file) if load_key is not None else None
        result = audit(
            args.data_dir,
            as_of=args.as_of,
            out=args.out,
            policy=args.policy,
            config=args.config,
            fail_on=args.fail_on,
            encoding=args.encoding,
            mapping=args.mapping,
            thresholds=thresholds,
            reports=not args.no_reports,
            file_mode=args.file_mode,
            key=key,
            reply_days=args.reply_days,
            notice_sender=args.notice_sender,
        )
    except (ConfigError, InputError, SigningKeyError) as exc:
        print(msg(f"pia-policy audit: エラー: {exc}", f"pia-policy audit: error: {exc}"), file=sys.stderr)
        return 2
    except OSError as exc:
        where = getattr(exc, "filename", None)
        text = f"{where}: {exc.strerror or exc}" if where else str(exc)
        print(msg(f"pia-policy audit: エラー: {text}（--out の出力先とデータのパスを確認してください）",
                  f"pia-policy audit: error: {text} (check the --out directory and the data paths)"), file=sys.stderr)
        return 2
    sev = result.summary.get("findings_by_severity", {})
    parts = ", ".join(f"{s} {sev.get(s, 0)}" for s in reversed(SEVERITIES))
    print(msg(f"指摘 {len(result.findings)} 件（{parts}）→ {args.out}",
              f"{len(result.findings)} findings ({parts}) -> {args.out}"))
    return result.exit_code
