"""Streaming writers: JSON Lines and Excel-safe CSV, with explicit modes, hashes and fsync."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from ..models import Finding
from ._mask import mask_my_number, mask_value

__all__ = [
    "FINDING_COLUMNS",
    "REJECTED_COLUMNS",
    "DUPLICATE_COLUMNS",
    "safe_cell",
    "HashingFile",
    "FindingsCsv",
    "write_jsonl",
    "write_findings_csv",
    "sha256_file",
    "hash_and_count",
    "fsync_path",
    "escape_line_breaks",
]

#: The Finding fields in model order (SPEC §5 column order of findings.csv / findings.jsonl).
FINDING_COLUMNS: tuple[str, ...] = tuple(Finding.model_fields)
REJECTED_COLUMNS: tuple[str, ...] = ("file", "line", "reason", "field", "detail", "excerpt")
DUPLICATE_COLUMNS: tuple[str, ...] = ("file", "line", "event_id", "first_file", "first_line")

#: A cell starting with one of these (after leading whitespace) is a formula in Excel/LibreOffice.
_FORMULA_START = frozenset("=+-@\uff1d\uff0b\uff0d\uff20")
_CONTROL_START = frozenset("\t\r")
_BUFFER = 1 << 20


def safe_cell(value: Any, *, masked: bool = False) -> str:
    """A CSV cell that no spreadsheet runs as a formula: a leading ``'`` where needed.

    ``masked``: the value was masked already (its My Numbers), so it is not scanned again."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)  # numbers stay numbers (a negative count would be a number, not a formula)
    text = str(value) if masked else mask_my_number(str(value))
    if not text:
        return text
    if text[0] in _CONTROL_START or text.lstrip()[:1] in _FORMULA_START:
        return "'" + text
    return text


class HashingFile(io.RawIOBase):
    """A new file (O_EXCL, explicit mode) that hashes and counts what is written; fsync on close."""

    def __init__(self, path: Path, mode: int) -> None:
        super().__init__()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), mode)
        os.fchmod(fd, mode)  # the umask must not narrow or widen what the operator chose
        self._fd = fd
        self.path = path
        self.sha256 = hashlib.sha256()
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        view = memoryview(data).cast("B")
        self.sha256.update(view)
        written = 0
        while written < len(view):
            written += os.write(self._fd, view[written:])
        self.size += written
        return written

    def close(self) -> None:
        if not self.closed:
            try:
                os.fsync(self._fd)
            finally:
                os.close(self._fd)
        super().close()


def _ordered(row: Any, columns: Sequence[str], schema_version: str) -> dict[str, Any]:
    if isinstance(row, Mapping):
        data = dict(row)
    elif hasattr(row, "model_dump"):
        data = row.model_dump(mode="json")
    else:  # a tuple in column order (e.g. straight from DuckDB)
        data = dict(zip(columns, row, strict=False))
    out: dict[str, Any] = {"schema_version": data.pop("schema_version", schema_version)}
    for column in columns:
        out[column] = data.pop(column, None)
    for extra in sorted(data, key=str):
        out[str(extra)] = data[extra]
    return out


def _json_default(value: Any) -> Any:
    from ._sign import jsonable

    return jsonable(value)


def write_jsonl(
    path: Path, rows: Iterable[Any], *, mode: int, columns: Sequence[str], schema_version: str
) -> tuple[int, int, str]:
    """Write ``rows`` one per line (masked, keys in ``columns`` order); returns (lines, size, sha256)."""
    count = 0
    raw = HashingFile(path, mode)
    with io.BufferedWriter(raw, buffer_size=_BUFFER) as out:
        for row in rows:
            record = _ordered(row, columns, schema_version)
            line = json.dumps(record, ensure_ascii=False, separators=(",", ":"), default=_json_default)
            # Digits and separators are never escaped, so a number in any key or value shows in the
            # line as it is: one scan of the line finds it, unless a \u00XX escape (a control
            # character) ends right before it or a TAB (a separator, written \t) groups it. Then
            # (rare) mask value by value and dump again.
            if "\\u00" in line or "\\t" in line or mask_my_number(line) is not line:
                line = json.dumps(mask_value(record), ensure_ascii=False, separators=(",", ":"),
                                  default=_json_default)
            out.write(escape_line_breaks(line).encode("utf-8"))
            out.write(b"\n")
            count += 1
    return count, raw.size, raw.sha256.hexdigest()


_LINE_BREAKS = ("\x85", "\u2028", "\u2029")


def escape_line_breaks(text: str) -> str:
    """JSON text with NEL, U+2028 and U+2029 escaped: one record stays one line for every reader
    (``str.splitlines``, JavaScript), not only for those that split on ``\\n``."""
    if any(c in text for c in _LINE_BREAKS):
        for char in _LINE_BREAKS:
            text = text.replace(char, f"\\u{ord(char):04x}")
    return text


def _evidence_text(evidence: Any) -> str:
    if not evidence:
        return ""
    refs = []
    for item in evidence:
        if isinstance(item, Mapping):
            refs.append(f"{item.get('file')}:{item.get('line')}")
        else:
            refs.append(f"{getattr(item, 'file', '')}:{getattr(item, 'line', '')}")
    return "; ".join(refs)


class FindingsCsv:
    """findings.csv for Excel, one row at a time: UTF-8 with BOM, CRLF, formula-injection safe."""

    def __init__(self, path: Path, *, mode: int, masked: bool = False) -> None:
        self.masked = masked  # the findings come masked (write_outputs masks each once)
        self.raw = HashingFile(path, mode)
        self._text = io.TextIOWrapper(io.BufferedWriter(self.raw, buffer_size=_BUFFER), encoding="utf-8-sig",
                                      newline="")
        self._writer = csv.writer(self._text, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
        self._writer.writerow(FINDING_COLUMNS)
        self.count = 0

    def write(self, finding: Mapping[str, Any]) -> None:
        """One finding (a SPEC §5 record) as one row."""
        # the evidence cell is new text (file:line; …): scanned whatever the findings were
        self._writer.writerow([safe_cell(_evidence_text(finding.get(c))) if c == "evidence"
                               else safe_cell(finding.get(c), masked=self.masked) for c in FINDING_COLUMNS])
        self.count += 1

    def tee(self, findings: Iterable[Mapping[str, Any]]) -> Iterator[Mapping[str, Any]]:
        """Yield each finding after writing its row: findings.jsonl and findings.csv in one pass."""
        for finding in findings:
            self.write(finding)
            yield finding

    def __enter__(self) -> FindingsCsv:
        return self

    def __exit__(self, *exc: object) -> None:
        self._text.close()


def write_findings_csv(path: Path, findings: Iterable[Mapping[str, Any]], *, mode: int) -> tuple[int, int, str]:
    """findings.csv for Excel: UTF-8 with BOM, CRLF, one row per finding, formula-injection safe."""
    with FindingsCsv(path, mode=mode) as out:
        for finding in findings:
            out.write(finding)
    return out.count, out.raw.size, out.raw.sha256.hexdigest()


def hash_and_count(path: Path) -> tuple[int, str, int]:
    """(size, sha256 hex, number of LF bytes) of a file, read in chunks."""
    digest = hashlib.sha256()
    size = lines = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(_BUFFER):
            digest.update(chunk)
            size += len(chunk)
            lines += chunk.count(b"\n")
    return size, digest.hexdigest(), lines


def sha256_file(path: Path) -> tuple[int, str]:
    """(size, sha256 hex) of a file, read in chunks."""
    size, digest, _lines = hash_and_count(path)
    return size, digest


def fsync_path(path: Path) -> None:
    """fsync a file or directory by path (directories: the entries, after renames)."""
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) if path.is_dir() else os.O_RDONLY
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
