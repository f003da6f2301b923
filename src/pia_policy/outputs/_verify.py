"""verify: check an output directory against the hashes and signature in its summary.json."""

from __future__ import annotations

import hmac
import json
import os
from pathlib import Path, PurePosixPath
from typing import Any

from .._i18n import msg
from ._files import hash_and_count, sha256_file
from ._sign import SIGNATURE_ALG, signature_of
from ._write import SPEC_FILES, SUMMARY

__all__ = ["verify", "signature_state"]


def _listed_files(out_dir: Path) -> set[str]:
    found: set[str] = set()
    for root, _dirs, files in os.walk(out_dir):
        for name in files:
            rel = (Path(root) / name).relative_to(out_dir).as_posix()
            if rel != SUMMARY:
                found.add(rel)
    return found


def _safe_rel(path: Any) -> str | None:
    if not isinstance(path, str) or not path:
        return None
    pure = PurePosixPath(path)
    if pure.is_absolute() or ".." in pure.parts or "\\" in path:
        return None
    return pure.as_posix()


def signature_state(summary: dict[str, Any], key: bytes | None) -> str:
    """``absent``, ``unchecked`` (no key), ``valid``, ``invalid`` or ``malformed``."""
    signature = summary.get("signature")
    if signature is None:
        return "absent"
    if not isinstance(signature, dict) or signature.get("alg") != SIGNATURE_ALG or not isinstance(
        signature.get("value"), str
    ):
        return "malformed"
    if key is None:
        return "unchecked"
    expected = signature_of(summary, key)
    return "valid" if hmac.compare_digest(expected, signature["value"]) else "invalid"


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _check_counts(summary: dict[str, Any], line_counts: dict[str, int]) -> list[str]:
    """Every line accounted for: the summary's counts against the lines of the JSONL files."""
    problems: list[str] = []
    counts = summary.get("counts") if isinstance(summary.get("counts"), dict) else {}
    by_rule = summary.get("findings_by_rule")
    expected: dict[str, int | None] = {}
    if isinstance(by_rule, dict) and all(_int(v) is not None for v in by_rule.values()):
        expected["findings.jsonl"] = sum(by_rule.values())
    rejected = _int(counts.get("lines_rejected"))
    if rejected is not None:
        expected["rejected.jsonl"] = rejected + (_int(counts.get("ledger_rows_rejected")) or 0)
    expected["duplicates.jsonl"] = _int(counts.get("duplicates"))
    for rel, want in expected.items():
        have = line_counts.get(rel)
        if want is not None and have is not None and have != want:
            problems.append(msg(f"{rel}: {have} 行ですが summary.json の件数は {want} です",
                                f"{rel}: {have} lines but summary.json counts {want}"))
    read, evaluated, dups = (_int(counts.get(k)) for k in ("lines_read", "events_evaluated", "duplicates"))
    if None not in (read, evaluated, dups, rejected) and read != evaluated + dups + rejected:  # type: ignore[operator]
        problems.append(msg(
            f"件数が合いません: 読んだ行 {read} ≠ 評価 {evaluated} + 重複 {dups} + 除外 {rejected}",
            f"counts do not add up: lines read {read} != evaluated {evaluated} + duplicates {dups} + rejected {rejected}",
        ))
    return problems


def _check_inputs(summary: dict[str, Any], data_dir: Path) -> list[str]:
    problems: list[str] = []
    inputs = summary.get("inputs")
    if not isinstance(inputs, list):
        return [msg(f"{SUMMARY} に inputs の一覧がありません", f"{SUMMARY} has no inputs list")]
    for entry in inputs:
        recorded = entry.get("path") if isinstance(entry, dict) else None
        if not isinstance(recorded, str) or not recorded:
            problems.append(msg(f"inputs の項目が不正です: {entry!r}", f"invalid inputs entry: {entry!r}"))
            continue
        candidates = [Path(recorded)] if Path(recorded).is_absolute() else [data_dir / recorded, Path(recorded)]
        path = next((c for c in candidates if c.is_file()), None)
        if path is None:
            problems.append(msg(f"入力 {recorded}: ファイルがありません", f"input {recorded}: file is missing"))
            continue
        size, digest = sha256_file(path)
        if size != entry.get("size") or digest != entry.get("sha256"):
            problems.append(
                msg(
                    f"入力 {recorded}: 監査時から変更されています (SHA-256 {digest}、記録 {entry.get('sha256')})",
                    f"input {recorded}: changed since the audit (SHA-256 {digest}, recorded {entry.get('sha256')})",
                )
            )
    return problems


def verify(out_dir: Path | str, key: bytes | None = None, *, data_dir: Path | str | None = None) -> list[str]:
    """Problems found in ``out_dir`` (empty list: every hash and the signature hold).

    Checks: summary.json readable; every listed output present with its size and SHA-256;
    no file in the directory that summary.json does not list; the SPEC §5 files listed; with
    ``key``, a signature present and valid; the line counts of findings/rejected/duplicates and
    ``lines_read = events_evaluated + duplicates + lines_rejected`` as the summary states them
    (when it has those counts); with ``data_dir``, every input listed in summary.json
    (paths relative to ``data_dir``) still has its recorded size and SHA-256. Raises
    FileNotFoundError when ``out_dir`` is not a directory. Messages follow the officer
    language (Japanese by default).
    """
    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        raise FileNotFoundError(out_dir)
    summary_path = out_dir / SUMMARY
    try:
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return [msg(f"{SUMMARY} がありません", f"{SUMMARY} is missing")]
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return [msg(f"{SUMMARY} を読み取れません: {exc}", f"{SUMMARY} cannot be read: {exc}")]
    if not isinstance(summary, dict):
        return [msg(f"{SUMMARY} の形式が不正です", f"{SUMMARY} is not a JSON object")]

    problems: list[str] = []
    outputs = summary.get("outputs")
    if not isinstance(outputs, list):
        problems.append(msg(f"{SUMMARY} に outputs の一覧がありません", f"{SUMMARY} has no outputs list"))
        outputs = []
    listed: set[str] = set()
    line_counts: dict[str, int] = {}
    for entry in outputs:
        rel = _safe_rel(entry.get("path")) if isinstance(entry, dict) else None
        if rel is None:
            problems.append(msg(f"outputs の項目が不正です: {entry!r}", f"invalid outputs entry: {entry!r}"))
            continue
        if rel in listed:
            problems.append(msg(f"{rel}: outputs に重複して記載されています", f"{rel}: listed twice in outputs"))
            continue
        listed.add(rel)
        path = out_dir / rel
        if not path.is_file():
            problems.append(msg(f"{rel}: ファイルがありません", f"{rel}: file is missing"))
            continue
        size, digest, lines = hash_and_count(path)
        line_counts[rel] = lines
        if size != entry.get("size") or digest != entry.get("sha256"):
            problems.append(
                msg(
                    f"{rel}: 内容が変更されています (SHA-256 {digest}、記録 {entry.get('sha256')})",
                    f"{rel}: content changed (SHA-256 {digest}, recorded {entry.get('sha256')})",
                )
            )
    for rel in sorted(_listed_files(out_dir) - listed):
        problems.append(msg(f"{rel}: {SUMMARY} に記載のないファイルです", f"{rel}: file not listed in {SUMMARY}"))
    for rel in SPEC_FILES:
        if rel not in listed and not (out_dir / rel).exists():
            problems.append(msg(f"{rel}: 必須の出力ファイルがありません", f"{rel}: required output file is missing"))

    if not problems:  # the files are the ones written: do they agree with the summary's counts?
        problems.extend(_check_counts(summary, line_counts))
    if data_dir is not None:
        problems.extend(_check_inputs(summary, Path(data_dir)))

    state = signature_state(summary, key)
    if state == "malformed":
        problems.append(msg("署名 (signature) の形式が不正です", "signature is malformed"))
    elif key is not None and state == "absent":
        problems.append(msg("署名 (signature) がありません", "signature is missing"))
    elif state == "invalid":
        problems.append(
            msg("署名が一致しません (summary.json が変更されたか、鍵が違います)",
                "signature does not match (summary.json changed or wrong key)")
        )
    return problems
