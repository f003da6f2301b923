"""``python -m pia_policy.report OUT_DIR``: rebuild report.html and notices/ from an audit's output."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .._cli_console import masked_console
from ..outputs import SigningKeyError, load_key
from . import DEFAULT_SENDER, RebuildError, write_reports_from_dir


def main(argv: list[str] | None = None) -> int:
    """Entry point: exit 0 on success, 2 when the directory lacks summary.json or findings.jsonl, fails
    verification, or is signed and no key was given."""
    parser = argparse.ArgumentParser(prog="python -m pia_policy.report", description=__doc__)
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--reply-days", type=int, default=14)
    parser.add_argument("--lang", choices=("ja", "en"), default="ja")
    parser.add_argument("--sender", default=DEFAULT_SENDER)
    parser.add_argument("--no-notices", action="store_true")
    parser.add_argument("--key-file", type=Path, default=None,
                        help="signing key of a signed output (else $PIA_POLICY_SIGNING_KEY)")
    with masked_console():  # paths and messages may echo a My Number
        args = parser.parse_args(argv)
        try:
            key = load_key(args.key_file)
            paths = write_reports_from_dir(args.out_dir, key=key, reply_days=args.reply_days, lang=args.lang,
                                           sender=args.sender, notices=not args.no_notices)
        except (FileNotFoundError, RebuildError, SigningKeyError) as exc:
            print(f"pia_policy.report: {exc}", file=sys.stderr)
            return 2
        for p in paths:
            print(args.out_dir / p)
        return 0


if __name__ == "__main__":
    sys.exit(main())
