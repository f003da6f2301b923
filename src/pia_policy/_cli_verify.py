"""`pia-policy verify OUT_DIR [--key-file F] [--data DATA_DIR]`: check output (and input) hashes and the signature."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ._i18n import msg, set_lang

__all__ = ["register", "run"]


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``verify`` subcommand."""
    parser = subparsers.add_parser(
        "verify",
        help="check summary.json hashes and signature of an audit output directory",
        description=(
            "Check every output file against the SHA-256 in summary.json, that no unlisted file was "
            "added, and (with a key from --key-file or $PIA_POLICY_SIGNING_KEY) the HMAC-SHA256 signature. "
            "Exit 0 when all hold, 1 otherwise, 2 on bad arguments."
        ),
    )
    parser.add_argument("out_dir", metavar="OUT_DIR", type=Path, help="output directory of pia-policy audit")
    parser.add_argument("--key-file", type=Path, default=None,
                        help="signing key file (else $PIA_POLICY_SIGNING_KEY)")
    parser.add_argument("--data", type=Path, default=None, metavar="DATA_DIR",
                        help="also check the inputs listed in summary.json against DATA_DIR")
    parser.add_argument("--lang", choices=("ja", "en"), default=None,
                        help="message language (default: $PIA_POLICY_LANG or ja)")
    parser.set_defaults(func=run)
    return parser


def run(args: argparse.Namespace) -> int:
    """Run ``verify``; returns the exit code."""
    from .outputs import SigningKeyError, load_key, signature_state, verify

    if args.lang:
        set_lang(args.lang)
    out_dir: Path = args.out_dir
    if not out_dir.is_dir():
        print(msg(f"エラー: 出力ディレクトリがありません: {out_dir}", f"error: no such output directory: {out_dir}"),
              file=sys.stderr)
        return 2
    try:
        key = load_key(args.key_file)
    except SigningKeyError as exc:
        print(msg(f"エラー: {exc}", f"error: {exc}"),
              file=sys.stderr)
        return 2
    data_dir: Path | None = args.data
    if data_dir is not None and not data_dir.is_dir():
        print(msg(f"エラー: データディレクトリがありません: {data_dir}", f"error: no such data directory: {data_dir}"),
              file=sys.stderr)
        return 2
    problems = verify(out_dir, key, data_dir=data_dir)
    for problem in problems:
        print(msg(f"不一致: {problem}", f"FAIL: {problem}"))
    if problems:
        print(msg(f"検証失敗: {len(problems)} 件の問題があります ({out_dir})",
                  f"verification failed: {len(problems)} problem(s) in {out_dir}"))
        return 1
    state = "absent"
    try:
        import json

        state = signature_state(json.loads((out_dir / "summary.json").read_text(encoding="utf-8")), key)
    except (OSError, ValueError):  # pragma: no cover - verify() already read it
        pass
    if state == "valid":
        note = msg("署名も有効です", "signature valid")
    elif state == "unchecked":
        note = msg("署名は鍵がないため未検証です", "signature not checked (no key given)")
    else:
        note = msg("署名はありません", "no signature")
    print(msg(f"検証成功: すべての出力ファイルのハッシュが一致しました ({note}) — {out_dir}",
              f"verified: every output file matches its hash ({note}) — {out_dir}"))
    return 0
