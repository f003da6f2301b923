"""The state database (SPEC §8): SQLite file or PostgreSQL, through SQLAlchemy Core.

Small relational tables hold nights, findings (one row per night and finding: the history) and
triage actions (append-only). Heavy per-event data (event ids seen, deferred events, the context
events carried to the next night, last logins) are Arrow tables stored as Parquet (zstd) blobs,
one per (night, kind): they move between DuckDB and the database in bulk, never per event.

Generations: every row carries the night (``as_of``) that wrote it. A night reads the rows of
its *base* (the latest night before it); rerunning the latest night deletes its rows and reads
the same base again. Committing a night keeps the base's carried blobs (for a rerun) and drops
older ones; ``seen`` blobs are kept for the retention window.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import pyarrow as pa
import pyarrow.parquet as pq
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from .._i18n import msg
from ..audit._settings import ConfigError
from ._statuses import TRIAGE_STATUSES

__all__ = ["StateError", "StateStore", "Base", "TRIAGE_STATUSES", "CARRIED_KINDS", "STATE_SCHEMA"]

#: Version of the state's table layout (``meta.schema``).
STATE_SCHEMA = "1"
#: Blob kinds carried from a night to the next (kept for the base and the latest night only).
CARRIED_KINDS: tuple[str, ...] = ("deferred", "context", "logins")
_SEEN = "seen"


class StateError(ConfigError):
    """The state cannot be used for this run (wrong night order, busy, unreadable): exit 2."""


_md = sa.MetaData()
T_META = sa.Table("pia_meta", _md, sa.Column("key", sa.String(64), primary_key=True), sa.Column("value", sa.Text))
T_NIGHTS = sa.Table(
    "pia_nights", _md,
    sa.Column("as_of", sa.String(10), primary_key=True),
    sa.Column("run_at", sa.String(40), nullable=False),
    sa.Column("summary", sa.Text, nullable=False),  # JSON: counts, lifecycle, systems, open findings
)
T_BLOBS = sa.Table(
    "pia_blobs", _md,
    sa.Column("as_of", sa.String(10), primary_key=True),
    sa.Column("kind", sa.String(16), primary_key=True),
    sa.Column("rows", sa.BigInteger, nullable=False),
    sa.Column("data", sa.LargeBinary, nullable=False),
)
T_FINDINGS = sa.Table(
    "pia_findings", _md,
    sa.Column("as_of", sa.String(10), primary_key=True),
    sa.Column("finding_id", sa.String(32), primary_key=True),
    sa.Column("rule", sa.String(64), nullable=False),
    sa.Column("severity", sa.String(16), nullable=False),
    sa.Column("system", sa.String(64)),
    sa.Column("account_id", sa.Text),
    sa.Column("event_count", sa.BigInteger, nullable=False),
    sa.Column("first_ts", sa.String(40)),
    sa.Column("last_ts", sa.String(40)),
    sa.Column("holds", sa.Boolean, nullable=False),  # true: the finding holds tonight (account scope)
    sa.Column("lifecycle", sa.String(16), nullable=False),  # new/ongoing/reopened/resolved/closed
    sa.Column("first_seen", sa.String(10), nullable=False),
    sa.Column("last_seen", sa.String(10)),
    sa.Column("body", sa.Text, nullable=False),  # JSON: the finding as written (evidence, person, ...)
)
T_TRIAGE = sa.Table(
    "pia_triage", _md,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("finding_id", sa.String(32), nullable=False, index=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("by", sa.Text, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("until", sa.String(10)),
    sa.Column("at", sa.String(40), nullable=False),
)


#: Rows per Parquet row group of a ``seen`` blob: each group's min/max event_id lets a night read
#: only the groups whose range holds one of its ids (ids that carry a date or a sequence prune well).
SEEN_ROW_GROUP = 4_096


def _to_parquet(table: pa.Table, row_group_size: int | None = None) -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd", row_group_size=row_group_size)
    return sink.getvalue().to_pybytes()


def _from_parquet(data: bytes) -> pa.Table:
    return pq.read_table(pa.BufferReader(data))


def _is_url(target: str) -> bool:
    return "://" in target


@dataclass
class Base:
    """What a night starts from: the latest earlier night and its carried data."""

    as_of: str | None
    rerun: bool
    blobs: dict[str, pa.Table] = field(default_factory=dict)
    #: ``seen`` blobs of the retention window, undecoded (sorted by event_id, see SEEN_ROW_GROUP)
    seen: list[pq.ParquetFile] = field(default_factory=list)
    findings: list[dict[str, Any]] = field(default_factory=list)
    systems: list[str] = field(default_factory=list)


class StateStore:
    """One state (``STATE``: a SQLite file path or a ``postgresql://`` URL), opened for one process."""

    def __init__(self, target: str | os.PathLike[str]) -> None:
        self.target = str(target)
        self._lock_fd: int | None = None
        self._lock_con: Connection | None = None
        self.engine: Engine = self._connect()
        _md.create_all(self.engine)
        with self.engine.begin() as con:
            row = con.execute(sa.select(T_META.c.value).where(T_META.c.key == "schema")).first()
            if row is None:
                con.execute(T_META.insert().values(key="schema", value=STATE_SCHEMA))
            elif row[0] != STATE_SCHEMA:
                raise StateError(msg(f"{self.where}: 状態の形式 {row[0]} はこの版（{STATE_SCHEMA}）では読めません",
                                     f"{self.where}: state layout {row[0]} is not readable by this version "
                                     f"(expects {STATE_SCHEMA})"))

    @property
    def where(self) -> str:
        """The state for messages (a URL without its password)."""
        if _is_url(self.target):
            return sa.engine.make_url(self.target).render_as_string(hide_password=True)
        return self.target

    def _connect(self) -> Engine:
        if _is_url(self.target):
            url = sa.engine.make_url(self.target)
            if url.get_backend_name() != "postgresql":
                raise StateError(msg(f"--state: {self.where} は使えません（SQLite のファイルか postgresql:// の URL）",
                                     f"--state: {self.where} is not usable (a SQLite file or a postgresql:// URL)"))
            if url.drivername == "postgresql":
                url = url.set(drivername="postgresql+psycopg")
            try:
                engine = sa.create_engine(url, future=True)
                with engine.connect():
                    pass
            except ImportError as exc:
                raise StateError(msg(f"--state: PostgreSQL には psycopg が必要です（pip install 'pia-policy[postgres]'）: {exc}",
                                     f"--state: PostgreSQL needs psycopg (pip install 'pia-policy[postgres]'): {exc}")) from exc
            except sa.exc.OperationalError as exc:
                raise StateError(msg(f"--state: {self.where} に接続できません: {exc.orig}",
                                     f"--state: cannot connect to {self.where}: {exc.orig}")) from exc
            return engine
        path = Path(self.target)
        if path.exists() and not path.is_file():
            raise StateError(msg(f"--state: {path} はファイルではありません", f"--state: {path} is not a file"))
        if not path.parent.is_dir():
            raise StateError(msg(f"--state: ディレクトリ {path.parent} がありません",
                                 f"--state: the directory {path.parent} does not exist"))
        if not path.exists():  # created 0600 before SQLite opens it (SPEC §8)
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
            os.close(fd)
        engine = sa.create_engine(f"sqlite:///{path}", future=True)

        @sa.event.listens_for(engine, "connect")
        def _pragmas(dbapi_con: Any, _rec: Any) -> None:
            dbapi_con.execute("PRAGMA busy_timeout = 60000")
            dbapi_con.execute("PRAGMA journal_mode = DELETE")
            dbapi_con.execute("PRAGMA synchronous = FULL")

        return engine

    # -- one run at a time -------------------------------------------------------------------
    def lock(self) -> None:
        """Hold the state for this run; :class:`StateError` when another run holds it (exit 2)."""
        busy = msg(f"--state: {self.where} は別の監査が使用中です（終わってから実行してください）",
                   f"--state: {self.where} is in use by another audit run (run again when it has finished)")
        if _is_url(self.target):
            key = int.from_bytes(hashlib.sha256(b"pia_policy state").digest()[:8], "big", signed=True)
            con = self.engine.connect()
            got = con.execute(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar()
            con.commit()
            if not got:
                con.close()
                raise StateError(busy)
            self._lock_con = con
            return
        fd = os.open(f"{self.target}.lock", os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise StateError(busy) from None
        self._lock_fd = fd

    def close(self) -> None:
        """Release the run lock and the connections."""
        if self._lock_con is not None:
            self._lock_con.close()
            self._lock_con = None
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None
        self.engine.dispose()

    # -- reading -----------------------------------------------------------------------------
    def nights(self) -> list[dict[str, Any]]:
        """Every night run on this state, oldest first, with its stored summary."""
        with self.engine.connect() as con:
            rows = con.execute(sa.select(T_NIGHTS).order_by(T_NIGHTS.c.as_of)).mappings().all()
        return [{"as_of": r["as_of"], "run_at": r["run_at"], **json.loads(r["summary"])} for r in rows]

    def base_for(self, as_of: dt.date, retention_days: int) -> Base:
        """The base of night ``as_of``; :class:`StateError` when a later night was already run."""
        night = as_of.isoformat()
        with self.engine.connect() as con:
            latest = con.execute(sa.select(sa.func.max(T_NIGHTS.c.as_of))).scalar()
            if latest is not None and latest > night:
                raise StateError(msg(
                    f"--as-of {night}: この状態では {latest} の夜まで監査済みです。夜は日付順に実行します"
                    f"（最新の夜 {latest} は再実行できます）",
                    f"--as-of {night}: this state has already audited up to the night of {latest}; nights run "
                    f"in --as-of order (the latest night, {latest}, may be run again)"))
            base_night = con.execute(
                sa.select(sa.func.max(T_NIGHTS.c.as_of)).where(T_NIGHTS.c.as_of < night)).scalar()
            base = Base(as_of=base_night, rerun=latest == night)
            if base_night is None:
                return base
            for kind, data in con.execute(
                sa.select(T_BLOBS.c.kind, T_BLOBS.c.data).where(
                    T_BLOBS.c.as_of == base_night, T_BLOBS.c.kind.in_(CARRIED_KINDS))):
                base.blobs[kind] = _from_parquet(data)
            oldest = (as_of - dt.timedelta(days=retention_days)).isoformat()
            for (data,) in con.execute(
                sa.select(T_BLOBS.c.data).where(T_BLOBS.c.kind == _SEEN, T_BLOBS.c.as_of < night,
                                                T_BLOBS.c.as_of >= oldest)):
                base.seen.append(pq.ParquetFile(pa.BufferReader(data)))
            base.findings = [dict(r) for r in con.execute(
                sa.select(T_FINDINGS).where(T_FINDINGS.c.as_of == base_night)).mappings()]
            summary = con.execute(sa.select(T_NIGHTS.c.summary).where(T_NIGHTS.c.as_of == base_night)).scalar()
            base.systems = list(json.loads(summary or "{}").get("systems_seen", []))
        return base

    def latest_findings(self) -> tuple[str | None, list[dict[str, Any]]]:
        """The latest night and its finding rows."""
        with self.engine.connect() as con:
            latest = con.execute(sa.select(sa.func.max(T_NIGHTS.c.as_of))).scalar()
            if latest is None:
                return None, []
            rows = con.execute(sa.select(T_FINDINGS).where(T_FINDINGS.c.as_of == latest)
                               .order_by(T_FINDINGS.c.finding_id)).mappings().all()
        return latest, [dict(r) for r in rows]

    def triage_history(self, finding_ids: list[str] | None = None) -> dict[str, list[dict[str, Any]]]:
        """Every triage action per finding, oldest first."""
        q = sa.select(T_TRIAGE).order_by(T_TRIAGE.c.id)
        if finding_ids is not None:
            q = q.where(T_TRIAGE.c.finding_id.in_(finding_ids))
        out: dict[str, list[dict[str, Any]]] = {}
        with self.engine.connect() as con:
            for r in con.execute(q).mappings():
                out.setdefault(r["finding_id"], []).append(
                    {k: r[k] for k in ("status", "by", "reason", "until", "at")})
        return out

    def knows_finding(self, finding_id: str) -> bool:
        """Whether any night recorded this finding."""
        with self.engine.connect() as con:
            return con.execute(sa.select(sa.func.count()).select_from(T_FINDINGS)
                               .where(T_FINDINGS.c.finding_id == finding_id)).scalar() > 0

    # -- writing -----------------------------------------------------------------------------
    def add_triage(self, finding_id: str, status: str, by: str, reason: str, until: str | None) -> dict[str, Any]:
        """Append one triage action (never updated or deleted)."""
        row = {"finding_id": finding_id, "status": status, "by": by, "reason": reason, "until": until,
               "at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="microseconds")}
        with self.engine.begin() as con:
            con.execute(T_TRIAGE.insert().values(**row))
        return row

    def commit_night(
        self,
        as_of: dt.date,
        base: Base,
        *,
        blobs: dict[str, pa.Table],
        seen: pa.Table,
        findings: list[dict[str, Any]],
        summary: dict[str, Any],
        retention_days: int,
    ) -> None:
        """Write night ``as_of`` in one transaction (replacing an earlier run of the same night)."""
        night = as_of.isoformat()
        oldest = (as_of - dt.timedelta(days=retention_days)).isoformat()
        with self.engine.begin() as con:
            for table in (T_BLOBS, T_FINDINGS, T_NIGHTS):
                con.execute(table.delete().where(table.c.as_of == night))
            # carried blobs: keep the base's (a rerun of this night reads them) and tonight's
            con.execute(T_BLOBS.delete().where(T_BLOBS.c.kind.in_(CARRIED_KINDS),
                                               T_BLOBS.c.as_of < (base.as_of or night)))
            con.execute(T_BLOBS.delete().where(T_BLOBS.c.kind == _SEEN, T_BLOBS.c.as_of < oldest))
            rows = [{"as_of": night, "kind": k, "rows": t.num_rows, "data": _to_parquet(t)}
                    for k, t in sorted(blobs.items())]
            rows.append({"as_of": night, "kind": _SEEN, "rows": seen.num_rows,
                         "data": _to_parquet(seen, SEEN_ROW_GROUP)})
            con.execute(T_BLOBS.insert(), rows)
            if findings:
                con.execute(T_FINDINGS.insert(), [{**f, "as_of": night} for f in findings])
            con.execute(T_NIGHTS.insert().values(
                as_of=night, run_at=dt.datetime.now(dt.timezone.utc).isoformat(timespec="microseconds"),
                summary=json.dumps(summary, ensure_ascii=False, sort_keys=True)))

    def size_bytes(self) -> int:
        """The state's size on disk (SQLite) or of its tables (PostgreSQL)."""
        if not _is_url(self.target):
            return Path(self.target).stat().st_size
        with self.engine.connect() as con:
            return int(sum(con.execute(sa.text("SELECT pg_total_relation_size(:t)"), {"t": t.name}).scalar() or 0
                           for t in _md.sorted_tables))


def iter_blob_sizes(store: StateStore) -> Iterator[tuple[str, str, int, int]]:
    """(night, kind, rows, bytes) of every blob, for the benchmark and `findings --stats`."""
    with store.engine.connect() as con:
        for r in con.execute(sa.select(T_BLOBS.c.as_of, T_BLOBS.c.kind, T_BLOBS.c.rows,
                                       sa.func.length(T_BLOBS.c.data)).order_by(T_BLOBS.c.as_of)):
            yield r[0], r[1], int(r[2]), int(r[3])
