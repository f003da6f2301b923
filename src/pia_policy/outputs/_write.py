"""write_outputs: the SPEC §5 files (+ extras) masked, staged, hashed, signed and swapped in."""

from __future__ import annotations

import json
import os
import shutil
import stat
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from ..models import SCHEMA_VERSION
from ._atomic import check_out_dir, cleanup_leftovers, dir_mode_for, lock_out_dir, new_staging_dir, swap_in
from ._files import (
    DUPLICATE_COLUMNS,
    FINDING_COLUMNS,
    REJECTED_COLUMNS,
    FindingsCsv,
    HashingFile,
    escape_line_breaks,
    fsync_path,
    sha256_file,
    write_jsonl,
)
from ._mask import mask_my_number, mask_value, may_hold_my_number
from ._sign import jsonable, sign

__all__ = ["write_outputs", "SPEC_FILES", "SCHEMA_VERSION", "TEXT_SUFFIXES"]

SUMMARY = "summary.json"
#: Written on every run (SPEC §5), whatever the findings.
SPEC_FILES: tuple[str, ...] = ("findings.jsonl", "rejected.jsonl", "duplicates.jsonl", "findings.csv")
#: Extras with these suffixes are text: masked again as a safety net before hashing.
TEXT_SUFFIXES = frozenset({".html", ".htm", ".txt", ".csv", ".tsv", ".json", ".jsonl", ".md", ".xml", ".svg", ".js", ".css"})


_PLAIN = (str, int, bool, type(None))
_COLUMN_SET = frozenset(FINDING_COLUMNS)


def _finding_dict(finding: Any) -> dict[str, Any]:
    """A finding (model or record) as a masked SPEC §5 record in column order, extra keys after.

    Per finding this runs once per string value: the column names need no masking, and plain
    values (the engine's records are plain but for ``evidence``) need no conversion.
    """
    if hasattr(finding, "model_dump"):
        data = finding.model_dump(mode="json")
    else:
        data = {str(k): v if isinstance(v, _PLAIN) else jsonable(v) for k, v in finding.items()}
    # a string without 12 digits in a row is its own mask (one C-level scan, no call per value)
    ordered = {column: v if v is None or (type(v) is str and not may_hold_my_number(v)) else mask_value(v)
               for column in FINDING_COLUMNS for v in (data.pop(column, None),)}
    ordered.update({mask_my_number(k): mask_value(data[k]) for k in sorted(data) if k not in _COLUMN_SET})
    return ordered


def _finding_records(findings: Iterable[Any], schema_version: str) -> Iterator[dict[str, Any]]:
    for finding in findings:
        row = _finding_dict(finding)
        if row.get("schema_version") is None:
            row["schema_version"] = schema_version
        yield row


def _write_summary(path: Path, summary: Mapping[str, Any], mode: int) -> None:
    text = escape_line_breaks(json.dumps(summary, ensure_ascii=False, sort_keys=True, indent=2, allow_nan=False)) + "\n"
    if path.exists():
        path.unlink()
    raw = HashingFile(path, mode)
    with raw:
        raw.write(text.encode("utf-8"))


def _mask_text_file(path: Path) -> None:
    data = path.read_bytes()
    for encoding in ("utf-8", "cp932"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        masked = mask_my_number(text)
        if masked != text:
            path.write_bytes(masked.encode(encoding))
        return


def _finalize_tree(staging: Path, file_mode: int, dir_mode: int) -> list[dict[str, Any]]:
    """Mask text extras, set modes, fsync, and list every file but summary.json with size and hash."""
    entries: list[dict[str, Any]] = []
    for root, dirs, files in os.walk(staging):
        root_path = Path(root)
        dirs.sort()
        for name in list(dirs):
            sub = root_path / name
            if sub.is_symlink():
                raise ValueError(f"extras wrote a symlink: {sub.relative_to(staging)}")
            masked_name = mask_my_number(name)
            if masked_name != name:
                os.rename(sub, root_path / masked_name)
                dirs[dirs.index(name)] = masked_name
        for name in sorted(files):
            path = root_path / name
            st = os.lstat(path)
            if not stat.S_ISREG(st.st_mode):
                raise ValueError(f"extras wrote a non-regular file: {path.relative_to(staging)}")
            masked_name = mask_my_number(name)
            if masked_name != name:
                os.rename(path, root_path / masked_name)
                path = root_path / masked_name
            rel = path.relative_to(staging).as_posix()
            if rel == SUMMARY:
                continue
            if rel not in SPEC_FILES and path.suffix.lower() in TEXT_SUFFIXES:
                _mask_text_file(path)
            os.chmod(path, file_mode)
            fsync_path(path)
            size, digest = sha256_file(path)
            entries.append({"path": rel, "size": size, "sha256": digest})
        os.chmod(root_path, dir_mode)
    for root, _dirs, _files in os.walk(staging):
        fsync_path(Path(root))
    entries.sort(key=lambda e: e["path"])
    return entries


def _write_locked(
    out_dir: Path,
    *,
    findings: Iterable[Any],
    summary: dict[str, Any],
    rejected: Iterable[Any],
    duplicates: Iterable[Any],
    extras: Callable[[Path], list[str]] | None,
    file_mode: int,
    dir_mode: int,
    key: bytes | None,
) -> None:
    cleanup_leftovers(out_dir)
    target_dir_mode = stat.S_IMODE(os.stat(out_dir).st_mode) if out_dir.is_dir() else dir_mode

    base = mask_value(jsonable(summary))
    base.pop("outputs", None)
    base.pop("signature", None)
    schema_version = str(base.setdefault("schema_version", SCHEMA_VERSION))

    staging = new_staging_dir(out_dir, 0o700)
    try:
        with FindingsCsv(staging / "findings.csv", mode=file_mode, masked=True) as csv_out:
            write_jsonl(staging / "findings.jsonl", csv_out.tee(_finding_records(findings, schema_version)),
                        mode=file_mode, columns=FINDING_COLUMNS[1:], schema_version=schema_version)
        write_jsonl(staging / "rejected.jsonl", rejected, mode=file_mode, columns=REJECTED_COLUMNS,
                    schema_version=schema_version)
        write_jsonl(staging / "duplicates.jsonl", duplicates, mode=file_mode, columns=DUPLICATE_COLUMNS,
                    schema_version=schema_version)
        _write_summary(staging / SUMMARY, base, file_mode)
        if extras is not None:
            extras(staging)
        final = dict(base)
        final["outputs"] = _finalize_tree(staging, file_mode, dir_mode)
        if key is not None:
            sign(final, key)
        _write_summary(staging / SUMMARY, final, file_mode)
        os.chmod(staging, target_dir_mode)
        fsync_path(staging)
        swap_in(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def write_outputs(
    out_dir: Path,
    *,
    findings: Iterable[Any],
    summary: dict[str, Any],
    rejected: Iterable[Any],
    duplicates: Iterable[Any] = (),
    extras: Callable[[Path], list[str]] | None = None,
    file_mode: int = 0o600,
    key: bytes | None = None,
) -> Path:
    """Write findings.jsonl, summary.json, rejected.jsonl, duplicates.jsonl, findings.csv (+ extras).

    ``findings`` (Finding models or SPEC §5 records, in output order) is read once, as a stream:
    findings.jsonl and findings.csv are written in one pass. Every string is masked (My Number).
    Files are written into a staging directory beside ``out_dir``, fsynced, then swapped in with renames: readers see the previous complete set
    or the new one, never a mix. ``extras(staging_dir)`` may add files (report.html, notices/);
    it sees the SPEC files and a preliminary summary.json (without ``outputs``/``signature``).
    summary.json gets ``outputs`` (path, size, sha256 of every other file) and, with ``key``,
    ``signature`` (HMAC-SHA256 over its canonical JSON). Files get ``file_mode`` (0600 by
    default); a directory created here gets the matching mode (0700); an existing ``out_dir``
    keeps its mode. Returns ``out_dir``. Raises :class:`OutputDirError` for an ``out_dir`` that is
    a symbolic link, a non-empty directory that is not a previous output, or that another run is
    writing (see :func:`check_out_dir`, :func:`lock_out_dir`).
    """
    out_dir = check_out_dir(out_dir)
    file_mode &= 0o777
    dir_mode = dir_mode_for(file_mode)
    if not out_dir.parent.exists():
        os.makedirs(out_dir.parent, mode=dir_mode, exist_ok=True)
    with lock_out_dir(out_dir):
        out_dir = check_out_dir(out_dir)  # again under the lock: another run may have written meanwhile
        _write_locked(out_dir, findings=findings, summary=summary, rejected=rejected, duplicates=duplicates,
                      extras=extras, file_mode=file_mode, dir_mode=dir_mode, key=key)
    return out_dir
