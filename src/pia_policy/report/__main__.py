"""``python -m pia_policy.report OUT_DIR``: rebuild report.html and notices/ from an audit's output."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .._cli_console import masked_console
from . import DEFAULT_SENDER, write_reports_from_dir


def main(argv: list[str] | None = None) -> int:
    """Entry point: exit 0 on success, 2 when the directory lacks summary.json or findings.jsonl."""
    parser = argparse.ArgumentParser(prog="python -m pia_policy.report", description=__doc__)
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--reply-days", type=int, default=14)
    parser.add_argument("--lang", choices=("ja", "en"), default="ja")
    parser.add_argument("--sender", default=DEFAULT_SENDER)
    parser.add_argument("--no-notices", action="store_true")
    with masked_console():  # paths and messages may echo a My Number
        args = parser.parse_args(argv)
        try:
            paths = write_reports_from_dir(args.out_dir, reply_days=args.reply_days, lang=args.lang,
                                           sender=args.sender, notices=not args.no_notices)
        except FileNotFoundError as exc:
            print(f"pia_policy.report: {exc}", file=sys.stderr)
            return 2
        for p in paths:
            print(args.out_dir / p)
        return 0


if __name__ == "__main__":
    sys.exit(main())
