"""`pia-policy` command line (SPEC §6): a dispatcher; each subcommand lives in its own module."""

from __future__ import annotations

import argparse
import importlib
import re
import sys
import traceback
from typing import NoReturn, Sequence

from . import _i18n
from ._cli_console import masked_console

__all__ = ["main"]

_SUBCOMMAND_MODULES = ("_cli_policy", "_cli_audit", "_cli_verify", "_cli_serve", "_cli_state", "_cli_diff")


#: argparse's English messages (Python 3.11–3.13) and their Japanese lines.
_JA_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"the following arguments are required: (?P<a>.+)"), "必須の引数がありません: {a}"),
    (re.compile(r"argument (?P<a>\S+): invalid choice: (?P<v>.+?) \(choose from (?P<c>.+)\)"),
     "引数 {a} の値 {v} は無効です（有効な値: {c}）"),
    (re.compile(r"argument (?P<a>\S+): invalid (?P<t>\w+) value: (?P<v>.+)"),
     "引数 {a} の値 {v} は{t}として読めません"),
    (re.compile(r"argument (?P<a>\S+): expected one argument"), "引数 {a} には値が必要です"),
    (re.compile(r"argument (?P<a>\S+): expected .+"), "引数 {a} の値の数が正しくありません"),
    (re.compile(r"argument (?P<a>\S+): not allowed with argument (?P<b>\S+)"), "引数 {a} は {b} と同時に使えません"),
    (re.compile(r"unrecognized arguments: (?P<a>.+)"), "不明な引数: {a}"),
    (re.compile(r"ambiguous option: (?P<a>\S+) could match (?P<b>.+)"), "引数 {a} があいまいです（候補: {b}）"),
    (re.compile(r"argument (?P<a>\S+): (?P<m>.+)"), "引数 {a} が正しくありません: {m}"),
)


_TYPE_NAMES_JA = {"int": "整数", "float": "数値"}


def _japanese(message: str) -> str:
    """The Japanese line for an argparse error message (a generic one when the message is unknown)."""
    for pattern, template in _JA_PATTERNS:
        m = pattern.fullmatch(message)
        if m:
            parts = m.groupdict()
            if "t" in parts:
                parts["t"] = _TYPE_NAMES_JA.get(parts["t"], parts["t"])
            return template.format(**parts)
    return f"引数が正しくありません: {message}"


class _Parser(argparse.ArgumentParser):
    """argparse whose usage errors exit 2, name the valid choices and speak Japanese when the language is ja."""

    def _choices_note(self, message: str) -> str:
        """``a: x, y; b: z`` for the options with fixed choices named in ``message`` but not listed there."""
        if "choose from" in message:
            return ""
        notes = []
        for action in self._actions:
            if action.choices is None or isinstance(action.choices, dict):
                continue
            names = [*action.option_strings, action.dest, action.metavar or ""]
            if any(n and re.search(rf"(?<![\w-]){re.escape(str(n))}(?![\w-])", message) for n in names):
                notes.append(f"{'/'.join(action.option_strings) or action.dest}: {', '.join(map(str, action.choices))}")
        return "; ".join(notes)

    def error(self, message: str) -> NoReturn:
        """Print the usage and the message (English, and Japanese when the language is ja); exit 2."""
        note = self._choices_note(message)
        lines = [f"{self.prog}: error: {message}" + (f" (valid: {note})" if note else "")]
        if _i18n.lang() == "ja":
            lines.append(f"{self.prog}: エラー: {_japanese(message)}" + (f"（有効な値: {note}）" if note else ""))
        self.print_usage(sys.stderr)
        self.exit(2, "\n".join(lines) + "\n")  # main() masks the console (My Numbers)


def build_parser() -> argparse.ArgumentParser:
    """The ``pia-policy`` parser with every subcommand module that is installed."""
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


def _internal_error(args: argparse.Namespace, exc: Exception) -> int:
    """Report an unexpected error (traceback for the vendor, one line for the officer); exit code 2."""
    traceback.print_exc(file=sys.stderr)
    command = f"pia-policy {getattr(args, 'command', '')}".rstrip()
    print(_i18n.msg(f"{command}: エラー: 内部エラーのため実行できませんでした（{type(exc).__name__}: {exc}）",
                    f"{command}: error: could not run because of an internal error ({type(exc).__name__}: {exc})"),
          file=sys.stderr)
    return 2


def _early_lang(argv: Sequence[str]) -> None:
    """Honour ``--lang ja|en`` before parsing, so that usage errors are already in that language."""
    for i, arg in enumerate(argv):
        value = arg.split("=", 1)[1] if arg.startswith("--lang=") else (
            argv[i + 1] if arg == "--lang" and i + 1 < len(argv) else None)
        if value in ("ja", "en"):
            _i18n.set_lang(value)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns its exit code (usage errors raise ``SystemExit(2)`` as argparse does)."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    saved_lang = _i18n._lang  # noqa: SLF001 - restored after the command
    try:
        _early_lang(args_list)
        with masked_console():  # nothing printed, logged or echoed holds a full My Number
            parser = build_parser()
            args = parser.parse_args(args_list)
            try:
                return int(args.func(args) or 0)
            except Exception as exc:  # noqa: BLE001 - exit 1 means findings/denied/mismatch: a crash is 2
                return _internal_error(args, exc)
    finally:
        _i18n.set_lang(saved_lang)  # --lang holds for this command only


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
