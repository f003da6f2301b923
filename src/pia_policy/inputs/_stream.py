"""Byte streaming of events files: decompress, hash, cut into line-aligned batches and pieces.

Python touches bytes only: blocks are read, gunzipped, cut at line ends (``bytes.find`` /
``bytes.count``), CP932 is transcoded to UTF-8, and each batch is handed to DuckDB as an
Arrow table of *pieces* (many lines each); DuckDB splits the lines and parses them.
Pieces that do not decode are split into single lines here so that only the bad lines are
rejected with reason ``encoding``.
"""

from __future__ import annotations

import hashlib
import threading
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from .._i18n import msg
from ._records import SPAN_RECORD, normalise_record
from ._source import SourceRefused, display_name, open_regular, resolve_source, safe_text

__all__ = [
    "EventFile",
    "FileStream",
    "discover_events",
    "utf8_valid_file",
    "batches",
    "pieces_table",
    "expand_bad",
    "utf8_bad_pieces",
    "KIND_PIECE",
    "KIND_LINE",
    "KIND_RECORD",
    "KIND_UNCLOSED",
    "KIND_UNDECODABLE",
    "KIND_CUT",
    "KIND_LONG",
    "MAX_LINE_BYTES",
    "MAX_BATCH_LINES",
    "GZIP_MAX_RATIO",
    "long_line_table",
]

BOM = b"\xef\xbb\xbf"
KIND_PIECE = 0  # many lines, valid UTF-8
KIND_LINE = 1  # one line, valid UTF-8
KIND_RECORD = 2  # one CSV record over several lines (LF inside quotes), valid UTF-8
KIND_UNCLOSED = 3  # one CSV line whose quote does not close into a row: reject `csv_width`
KIND_UNDECODABLE = 4  # one line that does not decode: reject `encoding`
KIND_CUT = 5  # one line cut short by a truncated gzip: reject `io_error`
KIND_LONG = 6  # one line longer than MAX_LINE_BYTES, not read: reject `line_too_long`

#: A line (or CSV record) longer than this is not read: rejected `line_too_long`, its first bytes kept.
MAX_LINE_BYTES = 32 << 20
#: At most this many lines go to the engine in one batch (a file of blank lines stays small in memory).
MAX_BATCH_LINES = 1 << 20
#: A gzip member may decompress to at most this many times its compressed size (beyond: a gzip bomb).
GZIP_MAX_RATIO = 100
_GZIP_RATIO_FLOOR = 64 << 20  # ... once it has produced this much

_SUFFIXES = ((".jsonl.gz", "jsonl.gz"), (".jsonl", "jsonl"), (".csv", "csv"))
_READ_BLOCK = 8 << 20
_PIECE = 1 << 18


@dataclass
class EventFile:
    """One events file."""

    path: Path  # the entry in events/ (its name selects the mapping)
    rel: str  # path relative to the data directory, as shown in outputs
    fmt: str  # jsonl | jsonl.gz | csv
    idx: int = 0
    src: Path | None = None  # what is read: the entry, or the target of an allowed link


def discover_events(
    events_dir: Path, data_dir: Path, allow_roots: Iterable[Path] = ()
) -> tuple[list[EventFile], list[str], list[tuple[str, str]]]:
    """The events files in file-name order, the names of the other entries (ignored), and the
    log-named entries that are not read with the reason (links out of bounds, FIFOs, devices)."""
    files: list[EventFile] = []
    ignored: list[str] = []
    refused: list[tuple[str, str]] = []
    for entry in sorted(events_dir.iterdir(), key=lambda p: p.name):
        rel = display_name(entry.relative_to(data_dir).as_posix() if entry.is_relative_to(data_dir) else str(entry))
        lower = entry.name.lower()
        fmt = next((f for suf, f in _SUFFIXES if lower.endswith(suf)), None)
        if fmt is None or entry.name.startswith("."):
            ignored.append(rel)
            continue
        try:
            src = resolve_source(entry, data_dir, allow_roots)
        except SourceRefused as exc:
            if entry.is_dir() and not entry.is_symlink():
                ignored.append(rel)  # a directory named like a log
            else:
                refused.append((rel, str(exc)))
            continue
        except OSError as exc:
            refused.append((rel, msg(f"読み込みエラー: {exc.strerror}", f"read error: {exc.strerror}")))
            continue
        files.append(EventFile(path=entry, rel=rel, fmt=fmt, idx=len(files), src=src))
    return files, ignored, refused


@dataclass
class FileStream:
    """Decompressed blocks of one file, hashing the raw bytes as they pass."""

    path: Path
    gz: bool
    sha256: str = ""
    size: int = 0
    error: str | None = None
    truncated: bool = False
    _hasher: "hashlib._Hash" = field(default_factory=hashlib.sha256)

    def _hash(self, chunk: bytes) -> None:
        """Hash ``chunk`` on a helper thread (hashlib releases the GIL), one chunk at a time, in order."""
        self._join()
        self._pending = threading.Thread(target=self._hasher.update, args=(chunk,))
        self._pending.start()

    def _join(self) -> None:
        pending = getattr(self, "_pending", None)
        if pending is not None:
            pending.join()
            self._pending = None

    def blocks(self) -> Iterator[bytes]:
        """Yield decompressed data; on damage set ``error`` (and ``truncated``) and stop."""
        try:
            with open_regular(self.path) as fh:
                if not self.gz:
                    while chunk := fh.read(_READ_BLOCK):
                        self._hash(chunk)
                        self.size += len(chunk)
                        yield chunk
                else:
                    yield from self._gunzip(fh)
        except SourceRefused as exc:
            self.error = str(exc)
        except OSError as exc:
            self.error = msg(f"読み込みエラー: {exc}", f"read error: {exc}")
        finally:
            self._join()
            self.sha256 = self._hasher.hexdigest()

    def _gunzip(self, fh) -> Iterator[bytes]:  # type: ignore[no-untyped-def]
        d = zlib.decompressobj(wbits=31)
        fed = False  # the current gzip member has received input
        produced = False
        total = 0
        while raw := fh.read(_READ_BLOCK):
            self._hash(raw)
            self.size += len(raw)
            data = raw
            while data:
                fed = True
                try:
                    out = d.decompress(data, _READ_BLOCK)  # bounded: a small member may expand a thousandfold
                except zlib.error as exc:
                    self.error = (
                        msg(f"gzip データが壊れています（圧縮データ {self.size} バイト付近）: {exc}",
                            f"damaged gzip data near compressed byte {self.size}: {exc}")
                        if produced
                        else msg(f"gzip ファイルとして読めません: {exc}", f"not a readable gzip file: {exc}")
                    )
                    self.truncated = produced
                    while rest := fh.read(_READ_BLOCK):  # hash the rest: the summary identifies the file
                        self._hash(rest)
                        self.size += len(rest)
                    return
                if out:
                    produced = True
                    total += len(out)
                    if total > _GZIP_RATIO_FLOOR and total > GZIP_MAX_RATIO * self.size:
                        self.error = msg(
                            f"展開後のサイズが圧縮サイズの {GZIP_MAX_RATIO} 倍を超えました（gzip 爆弾？）。"
                            f"{total >> 20} MiB までを読みました",
                            f"decompresses to more than {GZIP_MAX_RATIO} times its compressed size (a gzip bomb?); "
                            f"read the first {total >> 20} MiB",
                        )
                        self.truncated = True
                        yield out
                        while rest := fh.read(_READ_BLOCK):  # hash the rest: the summary identifies the file
                            self._hash(rest)
                            self.size += len(rest)
                        return
                    yield out
                if d.eof:
                    data = d.unused_data
                    d = zlib.decompressobj(wbits=31)
                    fed = False
                else:
                    data = d.unconsumed_tail
        if fed and not d.eof:
            self.truncated = True
            self.error = msg(
                "gzip ファイルが途中で切れています（読めた所までを処理しました）",
                "gzip file is cut short (read up to where it ends)",
            )


def utf8_valid_file(stream: FileStream) -> bool:
    """Whether the whole (decompressed) file is valid UTF-8 (one pass; the CSV encoding rule)."""
    import codecs

    dec = codecs.getincrementaldecoder("utf-8")()
    try:
        for blk in stream.blocks():
            dec.decode(blk)
        dec.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _by_lines(out: bytes, line: int, n_lf: int) -> Iterator[tuple[bytes, int, int, bytes | None]]:
    """``out`` in pieces of about :data:`MAX_BATCH_LINES` lines (only files of very short lines are cut)."""
    pos, n = 0, len(out)
    while n_lf > MAX_BATCH_LINES:
        approx = pos + (n - pos) * MAX_BATCH_LINES // n_lf
        cut = out.rfind(b"\n", pos, max(approx, pos + 1)) + 1
        if cut <= pos:
            cut = out.find(b"\n", pos) + 1
        k = out.count(b"\n", pos, cut)
        yield out[pos:cut], line, k, None
        pos, line, n_lf = cut, line + k, n_lf - k
    yield (out[pos:] if pos else out), line, n_lf, None


def batches(blocks: Iterator[bytes], *, target: int) -> Iterator[tuple[bytes, int, int, bytes | None]]:
    """Line-aligned batches ``(data, first_line, n_lf, long)``; only the last one may end without LF.

    A line longer than :data:`MAX_LINE_BYTES` is not kept: it comes alone as ``(b"", line, 1, head)``
    with its first bytes (``n_lf`` 0 when it ends the file), and the bytes up to its LF are skipped,
    so memory stays bounded by the batch size whatever the file holds.
    (CSV records that span lines are kept whole by :func:`._records.csv_spans` on top of these.)
    """
    parts: list[bytes] = []
    size = 0
    since_lf = 0  # bytes after the last LF in ``parts``
    line = 1
    skipping: bytes | None = None  # the head of an over-long line whose rest is being skipped
    for blk in blocks:
        if skipping is not None:
            nl = blk.find(b"\n")
            if nl < 0:
                continue
            yield b"", line, 1, skipping
            line, skipping, blk = line + 1, None, blk[nl + 1 :]
        nl = blk.rfind(b"\n")
        since_lf = len(blk) - nl - 1 if nl >= 0 else since_lf + len(blk)
        parts.append(blk)
        size += len(blk)
        if size < target and since_lf <= MAX_LINE_BYTES:
            continue
        data = b"".join(parts)
        cut = data.rfind(b"\n") + 1
        if cut > 0:
            n_lf = data.count(b"\n", 0, cut)
            yield from _by_lines(data[:cut], line, n_lf)
            line += n_lf
        rest = data[cut:]
        if len(rest) > MAX_LINE_BYTES:
            skipping, rest = rest[:1024], b""
        parts, size, since_lf = ([rest], len(rest), len(rest)) if rest else ([], 0, 0)
    if skipping is not None:
        yield b"", line, 0, skipping
    elif parts:
        data = b"".join(parts)
        if data:
            yield from _by_lines(data, line, data.count(b"\n"))


def long_line_table(head: bytes, line: int, file_idx: int, codec: str) -> pa.Table:
    """The one row of a line longer than :data:`MAX_LINE_BYTES` (rejected with its first characters)."""
    for drop in range(4):  # the head may end inside a character
        try:
            text = head[: len(head) - drop].decode(codec)
            break
        except UnicodeDecodeError:
            continue
    else:
        text = safe_text(head, codec)
    return _rows_table([(line, False, KIND_LONG, text[:200], b"")], file_idx)


_SCHEMA = pa.schema(
    [
        ("file_idx", pa.int32()),
        ("base", pa.int64()),
        ("nl_end", pa.bool_()),
        ("kind", pa.int8()),
        ("ex", pa.string()),
        ("p", pa.large_binary()),
    ]
)


def _bounds(data: bytes) -> list[int]:
    out = [0]
    pos, n = 0, len(data)
    while pos < n:
        e = data.find(b"\n", min(pos + _PIECE, n) - 1)
        pos = n if e < 0 else e + 1
        out.append(pos)
    return out


def _zero_copy(data: bytes, file_idx: int, first_line: int) -> pa.Table:
    bounds = _bounds(data)
    bases, line, blank = [], first_line, []
    for a, b in zip(bounds, bounds[1:]):
        bases.append(line)
        k = data.count(b"\n", a, b)
        blank.append(k == b - a)  # only LFs: blank lines, no record (a file of them is cheap)
        line += k
    n = len(bases)
    offsets = pa.array(bounds, pa.int64())
    p = pa.Array.from_buffers(pa.large_binary(), n, [None, offsets.buffers()[1], pa.py_buffer(data)])
    nl_end = [data[b - 1] == 10 for b in bounds[1:]]
    tbl = pa.table(
        [
            pa.array([file_idx] * n, pa.int32()),
            pa.array(bases, pa.int64()),
            pa.array(nl_end, pa.bool_()),
            pa.array([KIND_PIECE] * n, pa.int8()),
            pa.nulls(n, pa.string()),
            p,
        ],
        schema=_SCHEMA,
    )
    return tbl.filter(pa.array([not x for x in blank])) if any(blank) else tbl


def _rows_table(rows: list[tuple[int, bool, int, str | None, bytes]], file_idx: int) -> pa.Table:
    cols = list(zip(*rows)) if rows else [(), (), (), (), ()]
    return pa.table(
        [
            pa.array([file_idx] * len(rows), pa.int32()),
            pa.array(cols[0], pa.int64()),
            pa.array(cols[1], pa.bool_()),
            pa.array(cols[2], pa.int8()),
            pa.array(cols[3], pa.string()),
            pa.array(cols[4], pa.large_binary()),
        ],
        schema=_SCHEMA,
    )


def _line_rows(piece: bytes, base: int, codec: str) -> list[tuple[int, bool, int, str | None, bytes]]:
    """One row per line of a piece that did not decode (the damaged-data path)."""
    lines = piece.split(b"\n")
    if piece.endswith(b"\n"):
        lines.pop()
    rows: list[tuple[int, bool, int, str | None, bytes]] = []
    for i, raw in enumerate(lines):
        try:
            text = raw.decode(codec)
        except UnicodeDecodeError:
            rows.append((base + i, False, KIND_UNDECODABLE, safe_text(raw, codec)[:200], b""))
            continue
        rows.append((base + i, False, KIND_LINE, None, raw if codec == "utf-8" else text.encode("utf-8")))
    return rows


def _plain_table(data: bytes, first_line: int, file_idx: int, codec: str) -> pa.Table:
    """Pieces of simple lines: UTF-8 as it is, other codecs transcoded (lines that do not decode split out)."""
    if codec == "utf-8":
        return _zero_copy(data, file_idx, first_line)
    try:
        return _zero_copy(data.decode(codec).encode("utf-8"), file_idx, first_line)
    except UnicodeDecodeError:
        rows: list[tuple[int, bool, int, str | None, bytes]] = []
        bounds = _bounds(data)
        line = first_line
        for a, b in zip(bounds, bounds[1:]):
            piece = data[a:b]
            try:
                rows.append((line, piece.endswith(b"\n"), KIND_PIECE, None, piece.decode(codec).encode("utf-8")))
            except UnicodeDecodeError:
                rows.extend(_line_rows(piece, line, codec))
            line += piece.count(b"\n")
        return _rows_table(rows, file_idx)


def _span_row(raw: bytes, line: int, kind: str, codec: str) -> tuple[int, bool, int, str | None, bytes]:
    """One row for a CSV record over several lines, or for an unclosed line (see ``_records``)."""
    rec = normalise_record(raw)
    try:
        text = rec.decode(codec)
    except UnicodeDecodeError:
        return (line, False, KIND_UNDECODABLE, safe_text(rec, codec)[:200], b"")
    return (line, False, KIND_RECORD if kind == SPAN_RECORD else KIND_UNCLOSED, None, text.encode("utf-8"))


def pieces_table(
    data: bytes,
    first_line: int,
    file_idx: int,
    *,
    codec: str,
    cut_last: bool,
    spans: list[tuple[int, int, str]] | None = None,
) -> pa.Table:
    """The Arrow pieces of one batch; CP932 is transcoded here, undecodable lines split out.

    UTF-8 pieces are passed as they are (DuckDB validates them; see :func:`expand_bad`).
    ``cut_last``: the batch is the end of a truncated gzip, its unterminated last line is cut.
    ``spans``: CSV records over several lines and unclosed lines (``_records.csv_spans``), one row each.
    """
    tail: list[tuple[int, bool, int, str | None, bytes]] = []
    if cut_last and data and not data.endswith(b"\n"):
        idx = data.rfind(b"\n") + 1
        last_no = first_line + data.count(b"\n", 0, idx)
        raw = data[idx:]
        tail.append((last_no, False, KIND_CUT, safe_text(raw, codec)[:200], b""))
        data = data[:idx]
    tables: list[pa.Table] = []
    pos, line = 0, first_line
    for a, b, kind in spans or ():
        if a > pos:
            tables.append(_plain_table(data[pos:a], line, file_idx, codec))
            line += data.count(b"\n", pos, a)
        tables.append(_rows_table([_span_row(data[a:b], line, kind, codec)], file_idx))
        line += data.count(b"\n", a, b)
        pos = b
    if pos < len(data):
        tables.append(_plain_table(data[pos:] if pos else data, line, file_idx, codec))
    if tail:
        tables.append(_rows_table(tail, file_idx))
    if not tables:
        return _rows_table([], file_idx)
    return pa.concat_tables(tables) if len(tables) > 1 else tables[0]


def expand_bad(tbl: pa.Table, bad: list[int], codec: str) -> pa.Table:
    """Replace the UTF-8 pieces at row indexes ``bad`` (they did not decode) by one row per line."""
    bad_set = set(bad)
    keep = [i for i in range(tbl.num_rows) if i not in bad_set]
    bases = tbl.column("base")
    ps = tbl.column("p")
    idxs = tbl.column("file_idx")
    parts = [tbl.take(pa.array(keep, pa.int64()))]
    for i in sorted(bad_set):
        rows = _line_rows(ps[i].as_py(), bases[i].as_py(), codec)
        parts.append(_rows_table(rows, idxs[i].as_py()))
    return pa.concat_tables(parts)


def utf8_bad_pieces(tbl: pa.Table) -> list[int]:
    """Row indexes of the UTF-8 pieces (kind 0) of ``tbl`` that do not decode.

    Runs on the reader thread, beside DuckDB's work: CPython checks ASCII-heavy UTF-8 at memory
    speed, far cheaper than a separate ``decode`` pass in the engine.
    """
    bad: list[int] = []
    row = 0
    kinds = tbl.column("kind")
    for chunk in tbl.column("p").chunks:
        n = len(chunk)
        if n:
            bufs = chunk.buffers()
            offsets = memoryview(bufs[1]).cast("q")[chunk.offset : chunk.offset + n + 1]
            buf = bufs[2]
            data = memoryview(buf) if buf is not None else memoryview(b"")
            for i, kind in enumerate(kinds.slice(row, n).to_pylist()):
                if kind == KIND_PIECE:
                    try:
                        str(data[offsets[i] : offsets[i + 1]], "utf-8")
                    except UnicodeDecodeError:
                        bad.append(row + i)
        row += n
    return bad
