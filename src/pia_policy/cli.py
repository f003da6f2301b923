"""`pia-policy` command line (SPEC §6): a dispatcher; each subcommand lives in its own module."""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Sequence

__all__ = ["main"]

_SUBCOMMAND_MODULES = ("_cli_policy", "_cli_audit", "_cli_verify")


class _Parser(argparse.ArgumentParser):
    """argparse that exits 2 with the message (its default) and names valid choices."""


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="pia-policy", description="My Number (特定個人情報) access policy and audit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for name in _SUBCOMMAND_MODULES:
        try:
            module = importlib.import_module(f"pia_policy.{name}")
        except ModuleNotFoundError as exc:  # a subcommand not built yet
            if exc.name != f"pia_policy.{name}":
                raise
            continue
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
