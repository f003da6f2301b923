"""verify: check an output directory against the hashes and signature in its summary.json."""

from __future__ import annotations

import hmac
import json
import os
import stat
from pathlib import Path, PurePosixPath
from typing import Any

from .._i18n import msg
from ._atomic import dir_mode_for
from ._files import hash_and_count, sha256_file
from ._sign import SIGNATURE_ALG, signature_of
from ._write import SPEC_FILES, SUMMARY

__all__ = ["verify", "signature_state"]


#: summary.json is a few kilobytes to a few megabytes; a larger one is not read.
_MAX_SUMMARY_BYTES = 256 << 20
#: summary.json nests a handful of levels; deeper is not a summary (and would exhaust the stack).
_MAX_DEPTH = 64


def _tree(out_dir: Path) -> tuple[dict[str, int], list[str]]:
    """Every regular file under ``out_dir`` (relative POSIX path → mode) and the problems of the tree.

    Nothing is followed: a symbolic link (to a file or a directory), a FIFO, a socket or a device
    is a problem, and so is a directory that holds no file (an added, empty directory).
    """
    files: dict[str, int] = {}
    problems: list[str] = []
    pending = [out_dir]
    while pending:
        directory = pending.pop()
        has_file = False
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError as exc:
            problems.append(msg(f"{directory}: 読み取れません（{exc.strerror}）", f"{directory}: cannot read ({exc.strerror})"))
            continue
        for entry in entries:
            rel = Path(entry.path).relative_to(out_dir).as_posix()
            st = entry.stat(follow_symlinks=False)
            if stat.S_ISLNK(st.st_mode):
                problems.append(msg(f"{rel}: シンボリックリンクは出力に含まれません", f"{rel}: a symbolic link is not an output"))
            elif stat.S_ISDIR(st.st_mode):
                pending.append(Path(entry.path))
                has_file = True  # judged on its own
            elif stat.S_ISREG(st.st_mode):
                files[rel] = stat.S_IMODE(st.st_mode)
                has_file = True
            else:
                problems.append(msg(f"{rel}: 通常のファイルではありません", f"{rel}: not a regular file"))
        if not has_file and directory != out_dir:
            rel = directory.relative_to(out_dir).as_posix()
            problems.append(msg(f"{rel}/: {SUMMARY} に記載のないディレクトリです", f"{rel}/: directory not listed in {SUMMARY}"))
    return files, problems


def _check_modes(out_dir: Path, files: dict[str, int]) -> list[str]:
    """Every file has summary.json's mode, every directory below the root the matching one; nothing world-writable."""
    mode = files.get(SUMMARY)
    if mode is None:
        return []
    problems = [
        msg(f"{rel}: 権限 {m:03o} が summary.json の {mode:03o} と異なります",
            f"{rel}: mode {m:03o} differs from summary.json's {mode:03o}")
        for rel, m in sorted(files.items()) if m != mode
    ]
    want_dir = dir_mode_for(mode)
    for root, dirs, _files in os.walk(out_dir):
        for name in dirs:
            path = Path(root) / name
            m = stat.S_IMODE(os.lstat(path).st_mode)
            if not stat.S_ISLNK(os.lstat(path).st_mode) and m != want_dir:
                rel = path.relative_to(out_dir).as_posix()
                problems.append(msg(f"{rel}/: 権限 {m:03o} が想定の {want_dir:03o} と異なります",
                                    f"{rel}/: mode {m:03o}, expected {want_dir:03o}"))
    root_mode = stat.S_IMODE(os.stat(out_dir).st_mode)
    if root_mode & 0o002:
        problems.append(msg(f"{out_dir}: 誰でも書き込めるディレクトリです（権限 {root_mode:03o}）",
                            f"{out_dir}: the directory is world-writable (mode {root_mode:03o})"))
    return problems


def _depth_ok(value: Any) -> bool:
    """Whether ``value`` nests at most ``_MAX_DEPTH`` levels (iterative: no recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > _MAX_DEPTH:
            return False
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return True


def _not_a_number(token: str) -> Any:
    raise ValueError(f"{token} is not JSON")


def _read_summary(path: Path) -> tuple[dict[str, Any] | None, str | None]:
    """summary.json as a dict, or the problem (missing, too large, not JSON, NaN, too deep, not an object)."""
    try:
        size = os.stat(path).st_size
        if size > _MAX_SUMMARY_BYTES:
            return None, msg(f"{SUMMARY} が大きすぎます（{size} バイト）", f"{SUMMARY} is too large ({size} bytes)")
        summary = json.loads(path.read_text(encoding="utf-8"), parse_constant=_not_a_number)
    except FileNotFoundError:
        return None, msg(f"{SUMMARY} がありません", f"{SUMMARY} is missing")
    except RecursionError:
        return None, msg(f"{SUMMARY} の入れ子が深すぎます", f"{SUMMARY} is nested too deeply")
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        return None, msg(f"{SUMMARY} を読み取れません: {exc}", f"{SUMMARY} cannot be read: {exc}")
    if not isinstance(summary, dict):
        return None, msg(f"{SUMMARY} の形式が不正です", f"{SUMMARY} is not a JSON object")
    if not _depth_ok(summary):
        return None, msg(f"{SUMMARY} の入れ子が深すぎます", f"{SUMMARY} is nested too deeply")
    return summary, None


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

    Checks: summary.json readable (a JSON object, no NaN, at most 64 levels deep, at most
    256 MiB); every listed output present with its size and SHA-256; every entry of the tree
    against the listed set: no unlisted file, no empty added directory, no symbolic link (to a
    file or a directory), nothing but regular files and directories; every file with
    summary.json's mode, every directory with the matching one, the root not world-writable;
    the SPEC §5 files listed; with
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
    files, problems = _tree(out_dir)
    summary, unreadable = _read_summary(out_dir / SUMMARY)
    if summary is None:
        return [*problems, unreadable or ""]

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
        if rel not in files:  # missing, or reached through a link (reported by _tree)
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
    for rel in sorted(set(files) - listed - {SUMMARY}):
        problems.append(msg(f"{rel}: {SUMMARY} に記載のないファイルです", f"{rel}: file not listed in {SUMMARY}"))
    for rel in SPEC_FILES:
        if rel not in listed and not (out_dir / rel).exists():
            problems.append(msg(f"{rel}: 必須の出力ファイルがありません", f"{rel}: required output file is missing"))

    problems.extend(_check_modes(out_dir, {rel: m for rel, m in files.items() if rel in listed or rel == SUMMARY}))
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
