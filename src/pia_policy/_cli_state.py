"""`pia-policy triage` and `pia-policy findings` (SPEC §8): a state's findings and their triage.

Exit codes: 0 done; 2 the command could not be done (bad arguments, unknown finding, unusable state).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from typing import Any

from . import _i18n
from ._i18n import msg

__all__ = ["register"]


def register(subparsers: Any) -> None:
    """Add ``triage`` and ``findings`` to the ``pia-policy`` dispatcher."""
    from .state._statuses import LIST_STATUSES, TRIAGE_STATUSES

    t = subparsers.add_parser("triage", help="record a triage action on a finding of a state (SPEC §8)",
                              description="Record who decided what about a finding, and why. Nothing is ever deleted.")
    t.add_argument("--state", required=True, metavar="STATE", help="SQLite file or postgresql:// URL")
    t.add_argument("finding_id", metavar="FINDING_ID")
    t.add_argument("--status", required=True, choices=TRIAGE_STATUSES)
    t.add_argument("--by", required=True, metavar="PERSON")
    t.add_argument("--reason", required=True, metavar="TEXT")
    t.add_argument("--until", default=None, metavar="YYYY-MM-DD", help="acknowledged until this night (inclusive)")
    t.add_argument("--lang", choices=("ja", "en"), default=None)
    t.set_defaults(func=_triage)
    f = subparsers.add_parser("findings", help="list the findings of a state with lifecycle and triage (SPEC §8)",
                              description="The latest night's findings, also closed and resolved ones.")
    f.add_argument("--state", required=True, metavar="STATE", help="SQLite file or postgresql:// URL")
    f.add_argument("--status", choices=LIST_STATUSES, default=None)
    f.add_argument("--rule", default=None)
    f.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")
    f.add_argument("--lang", choices=("ja", "en"), default=None)
    f.set_defaults(func=_findings)


def _fail(command: str, exc: Exception) -> int:
    print(msg(f"pia-policy {command}: エラー: {exc}", f"pia-policy {command}: error: {exc}"), file=sys.stderr)
    return 2


def _triage(args: argparse.Namespace) -> int:
    if args.lang:
        _i18n.set_lang(args.lang)
    from .state import StateError
    from .state._triage import triage

    try:
        row = triage(args.state, args.finding_id, status=args.status, by=args.by, reason=args.reason,
                     until=args.until)
    except StateError as exc:
        return _fail("triage", exc)
    print(json.dumps(row, ensure_ascii=False))
    return 0


def _findings(args: argparse.Namespace) -> int:
    if args.lang:
        _i18n.set_lang(args.lang)
    from .outputs import mask_value, safe_cell
    from .outputs._files import _evidence_text
    from .state import StateError
    from .state._triage import LIST_COLUMNS, list_findings

    try:
        rows = [mask_value(r) for r in list_findings(args.state, status=args.status, rule=args.rule)]
    except StateError as exc:
        return _fail("findings", exc)
    out = sys.stdout
    if args.format == "jsonl":
        for r in rows:
            out.write(json.dumps(r, ensure_ascii=False, sort_keys=False) + "\n")
        return 0
    out.write("\ufeff")  # Excel reads UTF-8 with a BOM (as findings.csv)
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(LIST_COLUMNS)
    for r in rows:
        writer.writerow([safe_cell(_evidence_text(r[c]) if c == "evidence" else r[c]) for c in LIST_COLUMNS])
    return 0
