"""`pia-policy check-transfer | check-access | check-issuance | lint` (SPEC §6)."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any, Iterable

from ._i18n import msg
from .models import ACTIONS, RESOURCES, SYSTEMS, Account

__all__ = ["register"]

_KNOWN_ROLES = ("kouki_staff", "my_number_user", "system_owner", "export_delegate", "info_system_manager")
_EMPLOYMENTS = ("regular", "non_regular", "contractor")
_PERMISSIONS = ("read", "update")


class _BadArgument(Exception):
    pass


def _bad(what: str, value: str, valid: Iterable[str]) -> _BadArgument:
    listed = ", ".join(valid)
    return _BadArgument(msg(f"不明な{what}: {value!r}（有効な値: {listed}）", f"unknown {what}: {value!r} (valid: {listed})"))


def _choose(what: str, value: str, valid: Iterable[str]) -> str:
    options = list(valid)
    if value not in options:
        raise _bad(what, value, options)
    return value


def _load_policy(args: argparse.Namespace) -> Any:
    from .policy import Policy, PolicyError

    if args.policy is not None and not Path(args.policy).is_dir():
        raise _BadArgument(msg(f"方針ディレクトリがない: {args.policy}", f"no policy directory: {args.policy}"))
    try:
        return Policy.load(args.policy)
    except PolicyError as exc:
        raise _BadArgument(msg(f"方針を読み込めない: {exc}", f"cannot load the policy: {exc}")) from None


def _at(policy: Any, text: str | None) -> dt.datetime | dt.date | str:
    from .policy import JST, jst_date

    if text is None:
        return dt.datetime.now(JST)
    try:
        jst_date(text)
        policy.version_at(text)
    except ValueError as exc:
        raise _BadArgument(msg(f"--at を解釈できない: {exc}", f"cannot use --at: {exc}")) from None
    return text


def _at_text(at: dt.datetime | dt.date | str) -> str:
    """The time judged, as ISO 8601 (``now`` to the second, with its +09:00 offset)."""
    if isinstance(at, dt.datetime):
        return at.isoformat(timespec="seconds")
    return str(at)


def _emit(decision: Any, extra: dict[str, Any]) -> int:
    out = dict(extra)
    out.update(decision.model_dump(mode="json"))
    print(json.dumps(out, ensure_ascii=False, indent=2))
    return 0 if decision.allowed else 1


def _run(fn: Any, args: argparse.Namespace) -> int:
    try:
        return int(fn(args))
    except _BadArgument as exc:
        print(f"pia-policy {args.command}: {exc}", file=sys.stderr)
        return 2


def _check_transfer(args: argparse.Namespace) -> int:
    policy = _load_policy(args)
    department = _choose(msg("部署", "department"), args.department, sorted(policy.departments))
    purpose = _choose(msg("用途", "purpose"), args.purpose, sorted(policy.purposes))
    _choose(msg("移転方法", "method"), args.method, policy.vocabulary.transfer_methods)
    at = _at(policy, args.at)
    decision = policy.check_transfer(department, purpose, method=args.method, at=at)
    return _emit(decision, {"check": "transfer", "department": department, "purpose": purpose,
                            "method": args.method, "at": _at_text(at)})


def _check_access(args: argparse.Namespace) -> int:
    policy = _load_policy(args)
    department = _choose(msg("部署", "department"), args.department, sorted(policy.departments))
    action = _choose(msg("操作", "action"), args.action, ACTIONS)
    resource = _choose(msg("項目", "resource"), args.resource, RESOURCES) if args.resource else None
    if resource is None and action not in ("login", "logout"):
        raise _BadArgument(msg(f"--resource が必要（有効な値: {', '.join(RESOURCES)}）",
                               f"--resource is required (valid: {', '.join(RESOURCES)})"))
    affair = None
    if args.affair:
        affair = _choose(msg("事務・用途", "affair"), args.affair, list(policy.affairs) + sorted(policy.purposes))
    roles = [r.strip() for r in (args.roles or "").split(",") if r.strip()]
    for role in roles:
        _choose(msg("役割", "role"), role, _KNOWN_ROLES)
    permission = _choose(msg("権限", "permission"), args.permission, _PERMISSIONS)
    system = _choose(msg("システム", "system"), args.system, SYSTEMS)
    employment = _choose(msg("雇用区分", "employment"), args.employment, _EMPLOYMENTS)
    recipient = None
    if args.recipient_department:
        recipient = _choose(msg("移転先", "recipient department"), args.recipient_department,
                            sorted(policy.departments))
    if args.method:
        _choose(msg("移転方法", "method"), args.method, policy.vocabulary.transfer_methods)
    at = _at(policy, args.at)
    account = Account(account_id="cli", system=system, department=department, employment=employment,
                      roles=frozenset(roles), permission=permission)
    decision = policy.check_access(account, action, resource, affair, at=at,
                                   recipient_department=recipient, method=args.method)
    return _emit(decision, {"check": "access", "department": department, "action": action, "resource": resource,
                            "affair": affair, "roles": sorted(roles), "permission": permission, "system": system,
                            "at": _at_text(at)})


def _roles_arg(text: str | None, valid: Iterable[str]) -> list[str]:
    roles = [r.strip() for r in (text or "").split(",") if r.strip()]
    options = sorted(set(valid))
    for role in roles:
        _choose(msg("役割", "role"), role, options)
    return roles


def _check_issuance(args: argparse.Namespace) -> int:
    policy = _load_policy(args)
    issuance = policy.issuance
    if issuance is None:
        raise _BadArgument(msg(f"発効方針がない: {policy.origin} に issuance_model.conf と issuance.csv を置く",
                               f"no issuance policy: put issuance_model.conf and issuance.csv into {policy.origin}"))
    system = _choose(msg("システム", "system"), args.system, sorted(set(SYSTEMS) | issuance.systems))
    employment = _choose(msg("雇用区分", "employment"), args.employment, _EMPLOYMENTS)
    action = _choose(msg("操作", "action"), args.action, ("issue", "revoke"))
    named = {pl.values[i] for pl in issuance.lines for i in (3, 4)} - {"*"}
    by_roles = _roles_arg(args.by_roles, set(_KNOWN_ROLES) | named)
    approver_roles = _roles_arg(args.approver_roles, set(_KNOWN_ROLES) | named)
    at = _at(policy, args.at)
    common = dict(person_id=args.person, request_ref=args.request_ref, at=at)
    if action == "issue":
        decision = policy.check_issuance(system, employment, issued_by=args.by, approved_by=args.approved_by,
                                         issuer_roles=by_roles, approver_roles=approver_roles, **common)
    else:
        decision = policy.check_revocation(system, employment, revoked_by=args.by, revoker_roles=by_roles, **common)
    return _emit(decision, {"check": "issuance", "action": action, "system": system, "employment": employment,
                            "by_roles": by_roles, "approver_roles": approver_roles,
                            "request_ref": bool(args.request_ref), "at": _at_text(at)})


def _lint(args: argparse.Namespace) -> int:
    from .policy import lint

    if args.policy is not None and not Path(args.policy).is_dir():
        raise _BadArgument(msg(f"方針ディレクトリがない: {args.policy}", f"no policy directory: {args.policy}"))
    problems = lint(args.policy, database=args.database, table_name=args.table)
    print(json.dumps({"ok": not problems, "problems": [p.to_dict() for p in problems]}, ensure_ascii=False, indent=2))
    for p in problems:
        print(str(p), file=sys.stderr)
    return 1 if problems else 0


def _export(args: argparse.Namespace) -> int:
    from .policy import export_casbin

    policy = _load_policy(args)
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise _BadArgument(msg(f"--out がディレクトリではない: {out}", f"--out is not a directory: {out}"))
    print(json.dumps(export_casbin(policy, out), ensure_ascii=False, indent=2))
    return 0


def register(subparsers: Any) -> None:
    """Add check-transfer, check-access, check-issuance and lint to the `pia-policy` dispatcher."""
    p = subparsers.add_parser("check-transfer", help="may the holder transfer to DEPARTMENT for PURPOSE?")
    p.add_argument("--department", required=True, help="recipient department (移転先), e.g. 中央区健康課")
    p.add_argument("--purpose", required=True, help="purpose code (別紙1), e.g. shoni_shitei_iryohi")
    p.add_argument("--method", default="fukushi_system", help="transfer method (default fukushi_system)")
    p.add_argument("--at", default=None, help="time (ISO 8601; naive = JST; default now)")
    p.add_argument("--policy", default=None, help="policy directory (default: the packaged policies)")
    p.set_defaults(func=lambda a: _run(_check_transfer, a))

    a = subparsers.add_parser("check-access", help="may an account of DEPARTMENT do ACTION on RESOURCE?")
    a.add_argument("--department", required=True)
    a.add_argument("--action", required=True, help=", ".join(ACTIONS))
    a.add_argument("--resource", default=None, help=", ".join(RESOURCES))
    a.add_argument("--affair", default=None, help="affair (kouki-01..kouki-16) or purpose code")
    a.add_argument("--roles", default="", help="comma-separated: " + ", ".join(_KNOWN_ROLES))
    a.add_argument("--permission", default="read", help="read | update")
    a.add_argument("--system", default="fukushi", help=" | ".join(SYSTEMS))
    a.add_argument("--employment", default="regular", help=" | ".join(_EMPLOYMENTS))
    a.add_argument("--recipient-department", default=None, help="for --action transfer")
    a.add_argument("--method", default=None, help="for --action transfer")
    a.add_argument("--at", default=None, help="time (ISO 8601; naive = JST; default now)")
    a.add_argument("--policy", default=None)
    a.set_defaults(func=lambda ns: _run(_check_access, ns))

    i = subparsers.add_parser("check-issuance",
                              help="may an ID on SYSTEM be issued (or revoked) this way? (policies/issuance.csv)")
    i.add_argument("--system", required=True, help=" | ".join(SYSTEMS) + " (or a system of the issuance policy)")
    i.add_argument("--employment", default="regular", help=" | ".join(_EMPLOYMENTS))
    i.add_argument("--action", default="issue", help="issue | revoke")
    i.add_argument("--by-roles", default="", help="officer roles of the issuer / revoker on SYSTEM, comma-separated")
    i.add_argument("--approver-roles", default="", help="officer roles of the approver on SYSTEM, comma-separated")
    i.add_argument("--person", default=None, help="person_id of the account's holder")
    i.add_argument("--by", default=None, help="person_id of the issuer / revoker (same as --person: own account)")
    i.add_argument("--approved-by", default=None, help="person_id of the approver")
    i.add_argument("--request-ref", default=None, help="the department's request (申請) on file")
    i.add_argument("--at", default=None, help="time (ISO 8601; naive = JST; default now)")
    i.add_argument("--policy", default=None)
    i.set_defaults(func=lambda ns: _run(_check_issuance, ns))

    x = subparsers.add_parser("export", help="write a flat Casbin model + policy for other languages (SPEC §9)")
    x.add_argument("--format", choices=("casbin",), default="casbin")
    x.add_argument("--out", required=True, help="directory for model.conf, policy.csv, versions.csv")
    x.add_argument("--policy", default=None)
    x.set_defaults(func=lambda ns: _run(_export, ns))

    lint_p = subparsers.add_parser("lint", help="check a policy directory")
    lint_p.add_argument("--policy", default=None, help="policy directory (with --database: model.conf, and "
                        "metadata.toml unless saved with the lines)")
    lint_p.add_argument("--database", default=None, help="SQLAlchemy URL of policy lines (sqlite:///f.db, postgresql+psycopg://…)")
    lint_p.add_argument("--table", default="pia_policy_rule", help="table of the lines (default pia_policy_rule)")
    lint_p.set_defaults(func=lambda ns: _run(_lint, ns))
