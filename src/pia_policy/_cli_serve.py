"""`pia-policy serve` (SPEC §9): the HTTP decision service on uvicorn."""

from __future__ import annotations

import argparse
import ipaddress
import json
import signal
import socket
import sys
from pathlib import Path
from typing import Any

from ._i18n import msg

__all__ = ["register", "is_loopback", "read_tokens"]


class _Refused(Exception):
    pass


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and ``localhost``; any other name or address is not loopback."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def read_tokens(path: str) -> tuple[bytes, ...]:
    """Bearer tokens: one per line (several allow rotation); blank lines and ``#`` comments are skipped."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise _Refused(msg(f"--token-file を読めない: {path} ({type(exc).__name__})",
                           f"cannot read --token-file {path} ({type(exc).__name__})")) from None
    tokens = tuple(line.strip().encode("utf-8") for line in text.splitlines()
                   if line.strip() and not line.strip().startswith("#"))
    if not tokens:
        raise _Refused(msg(f"--token-file {path} にトークンがない（1 行に 1 つ書く）",
                           f"--token-file {path} holds no token (write one per line)"))
    if any(len(t) < 16 for t in tokens):
        raise _Refused(msg(f"--token-file {path} のトークンが短すぎる（16 文字以上）",
                           f"a token in --token-file {path} is too short (16 characters or more)"))
    return tokens


def _load(args: argparse.Namespace) -> Any:
    """The policy, from ``--database`` or ``--policy``."""
    from .policy import Policy, PolicyError

    try:
        if args.database:
            return Policy.from_database(args.database)
        if args.policy is not None and not Path(args.policy).is_dir():
            raise _Refused(msg(f"方針ディレクトリがない: {args.policy}", f"no policy directory: {args.policy}"))
        return Policy.load(args.policy)
    except PolicyError as exc:
        raise _Refused(msg(f"方針を読み込めない: {exc}", f"cannot load the policy: {exc}")) from None
    except _Refused:
        raise
    except Exception as exc:  # noqa: BLE001 - a database that cannot be reached is a usage problem (exit 2)
        raise _Refused(msg(f"方針を読み込めない: {type(exc).__name__}", f"cannot load the policy: {type(exc).__name__}")) \
            from None


def _bind(host: str, port: int) -> socket.socket:
    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        return socket.create_server((host.strip("[]"), port), family=family, reuse_port=False)
    except OSError as exc:
        raise _Refused(msg(f"{host}:{port} で待ち受けできない: {exc.strerror or exc}",
                           f"cannot listen on {host}:{port}: {exc.strerror or exc}")) from None


def _serve(args: argparse.Namespace) -> int:
    try:
        import uvicorn

        from .serve import DecisionLog, PolicyWatcher, Service, create_app
    except ModuleNotFoundError as exc:
        raise _Refused(msg(f"serve には追加パッケージが必要: pip install 'pia-policy[serve]' ({exc.name} がない)",
                           f"serve needs the extra: pip install 'pia-policy[serve]' ({exc.name} is missing)")) from None
    if args.openapi:
        from .policy import Policy

        print(json.dumps(create_app(Service(Policy.load())).openapi(), ensure_ascii=False, indent=2))
        return 0
    tokens = read_tokens(args.token_file) if args.token_file else ()
    if not tokens and not is_loopback(args.host):
        raise _Refused(msg(
            f"ループバック以外のアドレス {args.host} で待ち受けるには --token-file が必要",
            f"binding the non-loopback address {args.host} needs --token-file (bearer tokens)"))
    policy = _load(args)
    sock = _bind(args.host, args.port)
    log = DecisionLog(args.decision_log) if args.decision_log else None
    service = Service(policy, decision_log=log, tokens=tokens)
    service.watcher = PolicyWatcher(policy, args.reload_interval)
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    print(msg(f"pia-policy serve: http://{shown}:{port} で待ち受け中（方針 {policy.origin}、"
              f"版 {', '.join(v.id for v in policy.versions)}、トークン {'あり' if tokens else 'なし'}、"
              f"判定ログ {args.decision_log or 'なし'}）",
              f"pia-policy serve: listening on http://{shown}:{port} (policy {policy.origin}, versions "
              f"{', '.join(v.id for v in policy.versions)}, tokens {'on' if tokens else 'off'}, "
              f"decision log {args.decision_log or 'off'})"), file=sys.stderr, flush=True)
    config = uvicorn.Config(create_app(service), log_level=args.log_level, access_log=False, lifespan="on",
                            server_header=False)
    stopped: list[int] = []
    # uvicorn shuts down gracefully on SIGTERM/SIGINT and then re-raises the signal to the handler
    # that was there before: this one records it, so a requested stop is exit 0, not a kill.
    previous = {sig: signal.signal(sig, lambda signum, _frame: stopped.append(signum))
                for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0


def _run(args: argparse.Namespace) -> int:
    try:
        return _serve(args)
    except _Refused as exc:
        print(f"pia-policy serve: {exc}", file=sys.stderr)
        return 2


def register(subparsers: Any) -> None:
    """Add ``serve`` to the `pia-policy` dispatcher."""
    p = subparsers.add_parser("serve", help="HTTP JSON decision service for back ends (SPEC §9)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default loopback; others need --token-file)")
    p.add_argument("--port", type=int, default=8181, help="port (default 8181; 0: any free port)")
    source = p.add_mutually_exclusive_group()
    source.add_argument("--policy", default=None, help="policy directory (default: the packaged policies)")
    source.add_argument("--database", default=None, help="SQLAlchemy URL of the policy table (pia-policy lint --database)")
    p.add_argument("--decision-log", default=None, metavar="DIR",
                   help="append every decision to DIR/decisions-YYYY-MM-DD.jsonl (masked, fsynced)")
    p.add_argument("--token-file", default=None, metavar="FILE", help="bearer tokens, one per line")
    p.add_argument("--reload-interval", type=float, default=2.0, metavar="SECONDS",
                   help="how often the policy files or SQLite table are checked for changes (default 2; "
                        "PostgreSQL announces a change at once by LISTEN/NOTIFY; 0: never reload)")
    p.add_argument("--log-level", default="warning", choices=("critical", "error", "warning", "info", "debug"))
    p.add_argument("--openapi", action="store_true", help="print the OpenAPI schema and exit")
    p.set_defaults(func=_run)
