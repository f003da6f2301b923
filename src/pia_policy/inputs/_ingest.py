"""``ingest``: one audit data directory → the DuckDB tables of docs/DESIGN.md."""

from __future__ import annotations

import csv
import datetime as dt
import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from .._i18n import msg
from ._errors import InputError
from ._fields import REJECT_REASONS, REQUIRED_FIELDS, STRUCTURAL_REASONS
from ._ledger import LEDGERS, LedgerData, read_ledger
from ._mapping import Mapping, load_mappings, mapping_for, normalise_encoding
from ._records import CSV_MAX_RECORD_LINES, SPAN_RECORD, csv_spans, normalise_record
from ._source import SourceRefused, open_regular
from ._sql import REJECT_COLUMNS, create_stage_sql, csv_fields_sql, json_fields_sql, validate_sql
from ._time import sql_literal as lit
from ._stream import (
    BOM,
    MAX_LINE_BYTES,
    EventFile,
    FileStream,
    batches,
    discover_events,
    expand_bad,
    long_line_table,
    pieces_table,
    utf8_bad_pieces,
    utf8_valid_file,
)

__all__ = ["IngestResult", "ingest", "DEFAULT_BATCH_BYTES"]

DEFAULT_BATCH_BYTES = 64 << 20  # 64 MiB: as fast as 128 MiB, ~60 MB less peak RSS
#: In a file with more rejected lines than read ones, only the first this many rejects carry an excerpt.
EXCERPT_CAP = 10
_STAGE = "_pia_stage"
_BATCH = "_pia_batch"

Progress = Callable[[int, int, int], None]

EVENT_COLUMNS = (
    "file", "file_idx", "line", "event_id", "ts", "system", "seq", "account_id", "session_id", "terminal_id",
    "action", "resource", "affair", "subject_id", "recipient_department", "method", "record_ref",
)  # fmt: skip


@dataclass
class IngestResult:
    """What was read: counts, input files (hashes), file errors, optional files present."""

    counts: dict[str, Any]
    inputs: list[dict[str, Any]] = field(default_factory=list)
    file_errors: list[dict[str, str]] = field(default_factory=list)
    present: set[str] = field(default_factory=set)
    ignored_files: list[str] = field(default_factory=list)
    events_files: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (``present`` sorted)."""
        return {
            "counts": self.counts,
            "inputs": self.inputs,
            "file_errors": self.file_errors,
            "present": sorted(self.present),
            "ignored_files": self.ignored_files,
            "events_files": self.events_files,
        }


class _Failed:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


_DONE = object()


def _prefetch(gen: Iterator[Any], depth: int = 1) -> Iterator[Any]:
    """Run ``gen`` one step ahead on a helper thread (reading and cutting bytes overlap DuckDB's work)."""
    q: queue.Queue[Any] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: Any) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        try:
            for item in gen:
                if not put(item):
                    return
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer
            put(_Failed(exc))
            return
        put(_DONE)

    thread = threading.Thread(target=work, name="pia-inputs-reader", daemon=True)
    thread.start()
    try:
        while True:
            item = q.get()
            if item is _DONE:
                break
            if isinstance(item, _Failed):
                raise item.exc
            yield item
    finally:
        stop.set()
        thread.join()


def _strip_bom(blocks: Iterator[bytes]) -> Iterator[bytes]:
    first = True
    for blk in blocks:
        if first:
            if len(blk) < 3 and BOM.startswith(blk):
                # Too short to tell: join with the next block.
                nxt = next(blocks, b"")
                blk = blk + nxt
            if blk.startswith(BOM):
                blk = blk[3:]
            first = False
        if blk:
            yield blk


def _csv_header(data: bytes, codec: str) -> tuple[list[str], int]:
    """Header names (stripped) and the number of physical lines the header record spans."""
    head = data
    nl = -1
    for _ in range(CSV_MAX_RECORD_LINES):  # the header record lies within the first lines
        nl = data.find(b"\n", nl + 1)
        if nl < 0:
            break
    if nl >= 0:
        head = data[: nl + 1]
    spans, _ = csv_spans(head, width=None, final=True)
    if spans and spans[0][0] == 0 and spans[0][2] == SPAN_RECORD:
        raw = normalise_record(head[: spans[0][1]])
    else:
        first = head.find(b"\n")
        raw = normalise_record(head if first < 0 else head[: first + 1])
    text = raw.decode(codec, "replace")
    try:
        row = next(csv.reader([text.replace("\n", " ")]), [])
    except csv.Error:
        row = text.split(",")
    return [c.strip().lstrip("\ufeff") for c in row], raw.count(b"\n") + 1


Batch = tuple[bytes, int, int, "bytes | None", "list[tuple[int, int, str]] | None"]


def _csv_records(raw: Iterator[tuple[bytes, int, int, bytes | None]], width_of: Callable[[bytes], int]) -> Iterator[Batch]:
    """CSV batches cut at record ends, with their multi-line and unclosed records (``_records.csv_spans``).

    A quote still open at the end of a batch (within the line bound) carries its lines over to the
    next, unless they exceed :data:`MAX_LINE_BYTES` or an over-long line follows: then it is decided.
    """
    carry, carry_line = b"", 1
    for data, first_line, n_lf, long in raw:
        if long is not None:
            if carry:
                spans, _ = csv_spans(carry, width=width_of(carry), final=True)
                yield carry, carry_line, carry.count(b"\n"), None, spans
                carry = b""
            yield data, first_line, n_lf, long, None
            continue
        if carry:
            data, first_line = carry + data, carry_line
        spans, used = csv_spans(data, width=width_of(data), final=False)
        if len(data) - used > MAX_LINE_BYTES:  # an open record that big is decided now (its first line unclosed)
            spans, used = csv_spans(data, width=width_of(data), final=True)
        carry, carry_line = data[used:], first_line + data.count(b"\n", 0, used)
        if used:
            yield data[:used], first_line, data.count(b"\n", 0, used), None, spans
    if carry:
        spans, _ = csv_spans(carry, width=width_of(carry), final=True)
        yield carry, carry_line, carry.count(b"\n"), None, spans


def _resolve_header(header: list[str], mapping: Mapping | None) -> list[str]:
    """Header names as the SQL sees them: standard names case-insensitively, vendor names exactly."""
    vendor = set(mapping.columns.values()) if mapping else set()
    return [h if h in vendor else h.lower() for h in header]


class _Ingest:
    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        data_dir: Path,
        as_of_utc: dt.datetime,
        encoding: str | None,
        mappings: list[Mapping],
        progress: Progress | None,
        batch_bytes: int,
    ) -> None:
        self.con = con
        self.data_dir = data_dir
        self.as_of = as_of_utc
        self.encoding = encoding
        self.mappings = mappings
        self.progress = progress
        self.batch_bytes = batch_bytes
        self.file_errors: list[dict[str, str]] = []
        self.inputs: list[dict[str, Any]] = []
        self.lines_seen = 0
        self.pending: list[pa.Table] = []
        self.pending_bytes = 0
        self.pending_mapping: Mapping | None = None
        self.names = "NULL"  # SQL list of the events files' names (file_idx + 1)
        self.defer = False  # SPEC §8: records at or after the audit time go to `deferred`
        # Rows reach the staging table in (file, line) order unless a batch reorders them
        # (split pieces, CSV records grouped across lines) or the connection does not keep order.
        setting = con.execute("SELECT current_setting('preserve_insertion_order')").fetchone()
        self.needs_sort = not (setting and setting[0] in (True, "true", "1"))

    def error(self, file: str, text: str) -> None:
        self.file_errors.append({"file": file, "error": text})

    def _codec(self, ev_path: Path, mapping: Mapping | None) -> str:
        forced = (mapping.encoding if mapping and mapping.encoding else None) or self.encoding
        with open_regular(ev_path) as fh:
            if fh.read(3) == BOM:
                return "utf-8"
        if forced == "utf-8":
            return "utf-8"
        if utf8_valid_file(FileStream(ev_path, gz=False)):
            return "utf-8"
        return forced or "cp932"

    def _run_batch(self, tbl: pa.Table, codec: str, fields_sql: Callable[[str], str], mapping: Mapping | None) -> None:
        """One batch of pieces, already UTF-8 (checked or split by :func:`_checked`), into the staging table."""
        # Small record batches: DuckDB scans Arrow batches in parallel (one batch = ~2 MiB of lines).
        tbl = pa.Table.from_batches(tbl.to_batches(max_chunksize=8), schema=tbl.schema)
        self.con.register(_BATCH, tbl)
        try:
            sql = validate_sql("(" + fields_sql(_BATCH) + ")", self.as_of, mapping, self.names, defer=self.defer)
            self.con.execute(f"INSERT INTO {_STAGE} {sql}")
        finally:
            self.con.unregister(_BATCH)

    def _queue_json(self, tbl: pa.Table, mapping: Mapping | None) -> None:
        """Collect JSON Lines pieces (of several small files) into one DuckDB batch."""
        if self.pending and self.pending_mapping is not mapping:
            self.flush()
        self.pending.append(tbl)
        self.pending_mapping = mapping
        self.pending_bytes += tbl.column("p").nbytes
        if self.pending_bytes >= self.batch_bytes:
            self.flush()

    def flush(self) -> None:
        """Run the collected JSON Lines pieces through DuckDB."""
        if not self.pending:
            return
        tbl = pa.concat_tables(self.pending) if len(self.pending) > 1 else self.pending[0]
        mapping = self.pending_mapping
        self.pending, self.pending_bytes, self.pending_mapping = [], 0, None
        self._run_batch(tbl, "utf-8", lambda src: json_fields_sql(src, mapping, "utf-8"), mapping)

    def read_file(self, ev: EventFile, files_done: int, files_total: int) -> None:
        """Stream one events file through DuckDB, batch by batch, into the staging table."""
        mapping = mapping_for(self.mappings, ev.path.name)
        path = ev.src or ev.path
        stream = FileStream(path, gz=ev.fmt == "jsonl.gz")
        codec = "utf-8"
        is_csv = ev.fmt == "csv"
        try:
            if not stream.gz:
                with open_regular(path) as fh:
                    if fh.read(2) in (b"\xff\xfe", b"\xfe\xff"):
                        self.error(
                            ev.rel,
                            msg(
                                "UTF-16 のファイルは読めません。UTF-8 か CP932 で保存し直してください。",
                                "UTF-16 files are not supported: save the file as UTF-8 or CP932.",
                            ),
                        )
            if is_csv:
                self.flush()  # earlier JSON Lines files reach the staging table first
                codec = self._codec(path, mapping)
            state: dict[str, Any] = {"header": None, "start": 1}

            def header_width(data: bytes) -> int:
                if state["header"] is None:
                    names, span = _csv_header(data, codec)
                    state["header"] = _resolve_header(names, mapping)
                    state["start"] = span + 1
                    self._check_header(ev.rel, state["header"], mapping)
                return len(state["header"])

            def prepared() -> Iterator[tuple[pa.Table, int, bool]]:
                raw = batches(_strip_bom(stream.blocks()), target=self.batch_bytes)
                for data, first_line, n_lf, long, spans in (_csv_records(raw, header_width) if is_csv else
                                                            ((d, f, n, g, None) for d, f, n, g in raw)):
                    if long is not None:
                        yield long_line_table(long, first_line, ev.idx, codec), 1, True
                        continue
                    cut_last = stream.truncated and not data.endswith(b"\n")
                    tbl = pieces_table(data, first_line, ev.idx, codec=codec, cut_last=cut_last, spans=spans)
                    if codec == "utf-8":
                        bad = utf8_bad_pieces(tbl)
                        if bad:  # only the lines that do not decode are rejected
                            tbl = expand_bad(tbl, bad, codec)
                            state["reordered"] = True  # the split lines come after the good pieces
                    yield tbl, n_lf, data.endswith(b"\n")

            for tbl, n_lf, ends_lf in _prefetch(prepared()):
                if state.get("reordered"):
                    self.needs_sort = True
                if tbl.num_rows:
                    if is_csv:
                        hdr, start = state["header"], state["start"]
                        self._run_batch(
                            tbl,
                            codec,
                            lambda src: csv_fields_sql(src, hdr, start, mapping, codec=codec),
                            mapping,
                        )
                    else:
                        self._queue_json(tbl, mapping)
                self.lines_seen += n_lf + (0 if ends_lf else 1)
                if self.progress:
                    self.progress(files_done, files_total, self.lines_seen)
        except SourceRefused as exc:
            stream.error = stream.error or str(exc)
        except OSError as exc:
            stream.error = stream.error or msg(f"読み込みエラー: {exc}", f"read error: {exc}")
        if stream.error:
            self.error(ev.rel, stream.error)
        self.inputs.append({"path": ev.rel, "role": "events", "size": stream.size, "sha256": stream.sha256})

    def _check_header(self, rel: str, header: list[str], mapping: Mapping | None) -> None:
        lacking = []
        for f in REQUIRED_FIELDS:
            src = mapping.source(f) if mapping else f
            if src not in header and not (mapping and f in mapping.constants):
                lacking.append(src)
        if lacking:
            self.error(
                rel,
                msg(
                    f"CSV のヘッダーに列 {', '.join(lacking)} がありません（全行が missing_field になります。"
                    "ベンダー形式なら --mapping で列名を対応付けてください）",
                    f"the CSV header lacks the column(s) {', '.join(lacking)} (every row will be rejected as "
                    "missing_field; for a vendor format, map the columns with --mapping)",
                ),
            )


def ingest(
    con: duckdb.DuckDBPyConnection,
    data_dir: str | Path,
    *,
    as_of_utc: dt.datetime,
    encoding: str | None = None,
    mapping: str | Path | None = None,
    progress: Progress | None = None,
    batch_bytes: int = DEFAULT_BATCH_BYTES,
    defer: bool = False,
    allow_link_roots: list[str | Path] | tuple[str | Path, ...] = (),
) -> IngestResult:
    """Read ``data_dir`` (SPEC §3) into the DuckDB tables of docs/DESIGN.md and count what was read.

    ``as_of_utc`` is the audit time as a naive UTC datetime; events at or after it are rejected,
    or with ``defer`` (SPEC §8, an audit with a state) kept in the table ``deferred`` (same columns
    as ``events``) and counted in ``counts.deferred``; they claim their ``event_id`` like evaluated ones.
    Inputs are read only inside ``data_dir`` or, through symbolic links, inside ``allow_link_roots``
    (never /proc, /sys, /dev); other links, FIFOs and devices are named in ``file_errors``.
    Raises :class:`InputError` when the run cannot be done (no events file, a required ledger
    missing or unreadable, a bad ``encoding`` or mapping file).
    """
    if as_of_utc.tzinfo is not None:
        as_of_utc = as_of_utc.astimezone(dt.timezone.utc).replace(tzinfo=None)
    data_dir = Path(data_dir)
    enc = normalise_encoding(encoding)
    mappings = load_mappings(Path(mapping)) if mapping is not None else []
    if not data_dir.is_dir():
        raise InputError(
            msg(
                f"データディレクトリ {data_dir} がありません。events/ と台帳 CSV を含むディレクトリを指定してください。",
                f"The data directory {data_dir} does not exist: give the directory that holds events/ and the ledger CSVs.",
            ),
            file=str(data_dir),
        )
    events_dir = data_dir / "events"
    if not events_dir.is_dir():
        raise InputError(
            msg(
                f"アクセスログのディレクトリ {events_dir} がありません。ログを events/ に置いてください（*.jsonl, *.jsonl.gz, *.csv）。",
                f"The events directory {events_dir} is missing: put the access logs into events/ (*.jsonl, *.jsonl.gz, *.csv).",
            ),
            file="events/",
        )
    roots = [Path(r) for r in allow_link_roots]
    files, ignored, refused = discover_events(events_dir, data_dir, roots)
    if not files:
        why = "".join(f" {rel}: {text}." for rel, text in refused)
        raise InputError(
            msg(
                f"{events_dir} に読めるアクセスログのファイル（*.jsonl, *.jsonl.gz, *.csv）がありません。{why}",
                f"No readable events file (*.jsonl, *.jsonl.gz, *.csv) in {events_dir}.{why}",
            ),
            file="events/",
        )
    ledgers = [read_ledger(spec, data_dir, enc, roots) for spec in LEDGERS]  # required ones raise first

    run = _Ingest(con, data_dir, as_of_utc, enc, mappings, progress, batch_bytes)
    for rel, text in refused:
        run.error(rel, text)
    run.names = "[" + ", ".join(lit(ev.rel) for ev in files) + "]"
    run.defer = defer
    con.execute(create_stage_sql(_STAGE))
    if progress:
        progress(0, len(files), 0)
    for n, ev in enumerate(files):
        run.read_file(ev, n, len(files))
        if n == len(files) - 1:
            run.flush()
        if progress:
            progress(n + 1, len(files), run.lines_seen)

    counts = _finalise(con, ledgers, run, files)
    inputs = list(run.inputs)
    present: set[str] = set()
    for led in ledgers:
        if led.present:
            present.add(led.spec.file)
        if led.size or led.present:
            inputs.append({"path": led.spec.file, "role": led.spec.table, "size": led.size, "sha256": led.sha256})
        if led.error:
            run.error(led.spec.file, led.error)
    if mapping is not None:
        import hashlib

        raw = Path(mapping).read_bytes()
        inputs.append(
            {"path": str(mapping), "role": "mapping", "size": len(raw), "sha256": hashlib.sha256(raw).hexdigest()}
        )
    return IngestResult(
        counts=counts,
        inputs=inputs,
        file_errors=run.file_errors,
        present=present,
        ignored_files=ignored,
        events_files=[ev.rel for ev in files],
    )


def _finalise(
    con: duckdb.DuckDBPyConnection, ledgers: list[LedgerData], run: _Ingest, files: list[EventFile]
) -> dict[str, Any]:
    """Split the staging table into events / duplicates / rejected, load the ledgers, count."""
    names = run.names
    total, rejected, valid = con.execute(
        f"SELECT count(*), count(reason), count(*) - count(reason) FROM {_STAGE}"
    ).fetchone()  # type: ignore[misc]
    # Files that gave records but not one readable record: name them (wrong format or damaged).
    structural = ", ".join(lit(r) for r in sorted(STRUCTURAL_REASONS))
    per_file = con.execute(
        f"""SELECT file_idx, count(*), count(reason), count(*) FILTER (WHERE reason IN ({structural})), mode(reason)
            FROM {_STAGE} GROUP BY file_idx ORDER BY file_idx"""
    ).fetchall()
    unreadable = [(idx, n, bad, reason) for idx, n, _rej, bad, reason in per_file]
    # A file mostly rejected (not a log at all?) gives excerpts for its first EXCERPT_CAP rejects only.
    capped = [int(idx) for idx, n, rej, _bad, _r in per_file if rej * 2 > n] or [-1]
    con.execute(
        f"""CREATE OR REPLACE TABLE rejected AS
        SELECT file, line, reason, field, detail,
               CASE WHEN file_idx NOT IN ({", ".join(map(str, capped))})
                         OR row_number() OVER (PARTITION BY file_idx ORDER BY line) <= {EXCERPT_CAP}
                    THEN excerpt END AS excerpt
        FROM {_STAGE} WHERE reason IS NOT NULL ORDER BY file_idx, line"""
    )
    con.execute(f"DELETE FROM {_STAGE} WHERE reason IS NOT NULL")
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _pia_dupids AS
        SELECT event_id FROM {_STAGE} GROUP BY event_id HAVING count(*) > 1"""
    )
    has_dups = con.execute("SELECT count(*) FROM _pia_dupids").fetchone()[0]  # type: ignore[index]
    if has_dups:
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE _pia_later AS
            SELECT * FROM (
              SELECT file, file_idx, line, event_id, row_number() OVER w AS rn,
                     first_value(file_idx) OVER w AS first_idx, first_value(line) OVER w AS first_line
              FROM {_STAGE} SEMI JOIN _pia_dupids USING (event_id)
              WINDOW w AS (PARTITION BY event_id ORDER BY file_idx, line))
            WHERE rn > 1"""
        )
        con.execute(
            f"""CREATE OR REPLACE TABLE duplicates AS
            SELECT file, line, event_id, {names}[first_idx + 1] AS first_file, first_line
            FROM _pia_later ORDER BY file_idx, line"""
        )
        con.execute(
            f"""DELETE FROM {_STAGE} s USING _pia_later d WHERE s.file_idx = d.file_idx AND s.line = d.line"""
        )
        con.execute("DROP TABLE IF EXISTS _pia_later")
    else:
        con.execute(
            "CREATE OR REPLACE TABLE duplicates (file VARCHAR, line BIGINT, event_id VARCHAR, "
            "first_file VARCHAR, first_line BIGINT)"
        )
    con.execute("DROP TABLE IF EXISTS _pia_dupids")
    deferred = 0
    if run.defer:
        at = run.as_of.strftime("%Y-%m-%d %H:%M:%S.%f")
        con.execute(
            f"""CREATE OR REPLACE TABLE deferred AS SELECT * EXCLUDE ({", ".join(REJECT_COLUMNS)})
            FROM {_STAGE} WHERE ts >= TIMESTAMP '{at}' ORDER BY file_idx, line"""
        )
        deferred = con.execute("SELECT count(*) FROM deferred").fetchone()[0]  # type: ignore[index]
        if deferred:
            con.execute(f"DELETE FROM {_STAGE} WHERE ts >= TIMESTAMP '{at}'")
    # The staging table becomes `events` (no copy unless rows must be sorted).
    for col in REJECT_COLUMNS:
        con.execute(f"ALTER TABLE {_STAGE} DROP COLUMN {col}")
    con.execute("DROP TABLE IF EXISTS events")
    if run.needs_sort:  # deleting the later duplicates keeps the order of the rest
        con.execute(f"CREATE TABLE events AS SELECT * FROM {_STAGE} ORDER BY file_idx, line")
        con.execute(f"DROP TABLE {_STAGE}")
    else:
        con.execute(f"ALTER TABLE {_STAGE} RENAME TO events")
    ledger_rejects = [r for led in ledgers for r in led.rejects]
    if ledger_rejects:
        tbl = pa.Table.from_pylist(
            ledger_rejects,
            schema=pa.schema(
                [("file", pa.string()), ("line", pa.int64()), ("reason", pa.string()), ("field", pa.string()),
                 ("detail", pa.string()), ("excerpt", pa.string())]  # fmt: skip
            ),
        )
        con.register("_pia_lrej", tbl)
        try:
            con.execute("INSERT INTO rejected SELECT * FROM _pia_lrej")
        finally:
            con.unregister("_pia_lrej")
    for led in ledgers:
        con.register("_pia_ledger", led.table)
        try:
            con.execute(f"CREATE OR REPLACE TABLE {led.spec.table} AS SELECT * FROM _pia_ledger")
        finally:
            con.unregister("_pia_ledger")
        if led.spec.table == "accounts":
            roles = pa.table(
                {
                    "system": pa.array([r[0] for r in led.roles], pa.string()),
                    "account_id": pa.array([r[1] for r in led.roles], pa.string()),
                    "role": pa.array([r[2] for r in led.roles], pa.string()),
                }
            )
            con.register("_pia_roles", roles)
            try:
                con.execute("CREATE OR REPLACE TABLE account_roles AS SELECT DISTINCT * FROM _pia_roles ORDER BY ALL")
            finally:
                con.unregister("_pia_roles")

    evaluated = con.execute("SELECT count(*) FROM events").fetchone()[0]  # type: ignore[index]
    by_reason = dict(con.execute("SELECT reason, count(*) FROM rejected GROUP BY reason").fetchall())
    for idx, n, bad, reason in unreadable:
        if n and n == bad:
            run.error(
                files[idx].rel,
                msg(
                    f"このファイルの {n} 件の行はどれも読めませんでした（主な理由 {reason}）。形式違いか破損の可能性があります。",
                    f"none of the {n} lines of this file could be read (mostly {reason}): wrong format or damaged?",
                ),
            )
    counts: dict[str, Any] = {
        "lines_read": int(total),
        "events_evaluated": int(evaluated),
        "duplicates": int(valid) - int(evaluated) - int(deferred),
        "lines_rejected": int(rejected),
        "ledger_rows_rejected": len(ledger_rejects),
        "rejected_by_reason": {r: int(by_reason[r]) for r in REJECT_REASONS if r in by_reason},
    }
    if run.defer:
        counts["deferred"] = int(deferred)
    return counts
