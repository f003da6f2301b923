"""`pia-policy diff` and `pia-policy changes` (SPEC §9): what a policy change allows, and its 別添3 table."""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from pathlib import Path
from typing import Any

from ._cli_policy import _BadArgument, _run
from ._i18n import msg

__all__ = ["register"]

_DIFF_COLUMNS = ("change", "summary", "departments", "roles", "actions", "permissions", "resources", "affairs",
                 "recipients", "methods", "requests", "policy_lines")


def _load(directory: str | None, option: str) -> Any:
    from .policy import Policy, PolicyError

    if directory is not None and not Path(directory).is_dir():
        raise _BadArgument(msg(f"{option} の方針ディレクトリがない: {directory}", f"{option}: no policy directory: {directory}"))
    try:
        return Policy.load(directory)
    except PolicyError as exc:
        raise _BadArgument(msg(f"{option} の方針を読み込めない: {exc}", f"{option}: cannot load the policy: {exc}")) from None


def resolve_version(policy: Any, value: str, option: str) -> str:
    """A version id of ``policy`` (``latest``: the one that starts last); exit 2 naming the valid ids."""
    ids = [v.id for v in policy.versions]
    if value == "latest":
        return ids[-1]
    if value not in ids:
        listed = ", ".join(ids + ["latest"])
        raise _BadArgument(msg(f"{option}: 不明な版 {value!r}（有効な値: {listed}）",
                               f"{option}: unknown version {value!r} (valid: {listed})"))
    return value


def _csv_text(rows: list[list[Any]]) -> str:
    from .outputs import safe_cell

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    for row in rows:
        writer.writerow([safe_cell(c) for c in row])
    return "\ufeff" + buf.getvalue()


def _diff(args: argparse.Namespace) -> int:
    from .policy import diff_policies

    to_policy = _load(args.policy, "--policy")
    from_policy = _load(args.against, "--against") if args.against is not None else to_policy
    if args.to is None and args.against is None:
        raise _BadArgument(msg("--to が必要（--against のときは省略すると --from と同じ版）",
                               "--to is required (with --against it defaults to --from)"))
    version_a = resolve_version(from_policy, args.from_, "--from")
    version_b = resolve_version(to_policy, args.to if args.to is not None else args.from_, "--to")
    label_a = f"{args.against or args.policy or 'policies'}@{version_a}"
    label_b = f"{args.policy or 'policies'}@{version_b}"
    result = diff_policies(from_policy, version_a, to_policy, version_b, label_a=label_a, label_b=label_b)
    if args.format == "json":
        print(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
    elif args.format == "csv":
        rows: list[list[Any]] = [list(_DIFF_COLUMNS)]
        for group in result.newly_allowed + result.newly_denied:
            d = group.to_dict()
            rows.append([group.change, d["summary"], "・".join(d["departments"]), "/".join(d["roles"]),
                         "/".join(d["actions"]), "; ".join(f"{a}:{'/'.join(p)}" for a, p in d["permissions"].items()),
                         "/".join(d["resources"]), "/".join(d["affairs"]), "/".join(d["recipients"]),
                         "/".join(d["methods"]), d["requests"], " ".join(d["policy_lines"])])
        sys.stdout.write(_csv_text(rows))
    else:
        print(msg(f"方針の差分: {label_a} → {label_b}（比較した要求 {result.requests_compared:,} 件）",
                  f"policy diff: {label_a} -> {label_b} ({result.requests_compared:,} requests compared)"))
        for title, groups, mark in ((msg("新たに許可", "newly allowed"), result.newly_allowed, "+"),
                                    (msg("新たに拒否", "newly denied"), result.newly_denied, "-")):
            print(f"{title} ({len(groups)}):")
            for g in groups:
                lines = msg(f" [方針の行: {', '.join(g.policy_lines)}]", f" [policy lines: {', '.join(g.policy_lines)}]") \
                    if g.policy_lines else ""
                print(f"  {mark} {g.summary}{lines}")
        if result.empty:
            print(msg("差分なし", "no difference"))
    if args.check_no_new_access and result.newly_allowed:
        print(msg(f"pia-policy diff: 新たに許可される要求がある（{len(result.newly_allowed)} 件のまとまり）",
                  f"pia-policy diff: the change allows new access ({len(result.newly_allowed)} groups)"),
              file=sys.stderr)
        return 1
    return 0


def _changes(args: argparse.Namespace) -> int:
    import datetime as dt

    from .policy import change_rows, render_changes

    policy = _load(args.policy, "--policy")
    version_a = resolve_version(policy, args.from_, "--from")
    version_b = resolve_version(policy, args.to, "--to")
    submitted = None
    if args.submitted is not None:
        try:
            submitted = dt.date.fromisoformat(args.submitted)
        except ValueError:
            raise _BadArgument(msg(f"--submitted は YYYY-MM-DD で指定する: {args.submitted!r}",
                                   f"--submitted must be YYYY-MM-DD: {args.submitted!r}")) from None
    try:
        rows = change_rows(policy.source_lines, policy.versions, policy.metadata, version_a, version_b,
                           submitted=submitted)
    except ValueError as exc:
        raise _BadArgument(str(exc)) from None
    sys.stdout.write(render_changes(rows, args.format))
    return 0


def register(subparsers: Any) -> None:
    """Add ``diff`` and ``changes`` to the `pia-policy` dispatcher."""
    d = subparsers.add_parser("diff", help="requests whose decision differs between two policy versions")
    d.add_argument("--from", dest="from_", required=True, metavar="A",
                   help="version id of the old side (or 'latest')")
    d.add_argument("--to", default=None, metavar="B", help="version id of the new side (or 'latest'); "
                   "with --against it defaults to --from")
    d.add_argument("--policy", default=None, help="policy directory of the new side (default: the packaged policies)")
    d.add_argument("--against", default=None, metavar="DIR2",
                   help="policy directory of the old side (e.g. main's, to review a pull request)")
    d.add_argument("--format", choices=("text", "json", "csv"), default="text")
    d.add_argument("--check-no-new-access", action="store_true",
                   help="exit 1 when anything is newly allowed (a CI gate)")
    d.set_defaults(func=lambda ns: _run(_diff, ns))

    c = subparsers.add_parser("changes", help="the 別添3-style 変更箇所 table between two policy versions")
    c.add_argument("--from", dest="from_", required=True, metavar="A", help="version id (or 'latest')")
    c.add_argument("--to", required=True, metavar="B", help="version id (or 'latest')")
    c.add_argument("--policy", default=None, help="policy directory (default: the packaged policies)")
    c.add_argument("--submitted", default=None, metavar="YYYY-MM-DD",
                   help="when the assessment is (or was) submitted: 事前 before the in-force date, else 事後 "
                        "(default: as recorded in metadata.toml [changes])")
    c.add_argument("--format", choices=("csv", "html", "md"), default="md")
    c.set_defaults(func=lambda ns: _run(_changes, ns))
