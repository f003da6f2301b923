"""The DuckDB side of a night with a state (SPEC §8): what comes in from earlier nights, what goes out.

Before the engine (:func:`prepare`), with the night's ``events`` and ``deferred`` ingested:

1. ids already seen on an earlier night (evaluated, deferred or carried) become duplicates;
2. deferred events now before the audit time are *resumed*: inserted into ``events``
   (``file_idx`` −1: they arrived before tonight's files);
3. *context events* are inserted (``file_idx`` −2): the logins of sessions still open, the last
   event of each system (LOG_GAP continues across the boundary) and the event holding each
   system's highest ``seq`` (LOG_SEQUENCE_GAP). They are what the unchanged rule queries need to
   judge tonight's events; their own candidates were charged on the night they arrived;
4. each account's last login from earlier nights raises ``accounts.last_login_at``
   (ACCOUNT_DORMANT reads events and the ledger's last login).

Between the rules and the aggregation (:func:`after_rules`), candidates on context events are
dropped (except LONG_SESSION on a still-open session), the accumulated event- and system-scoped
findings of the base night come back as candidate rows (their count, first and last time and
evidence), and the data for the next night are computed; then the context rows leave ``events``
and ``ev`` so that counts and breakdowns are tonight's.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import duckdb
import pyarrow as pa

from ..rules import get as get_rule
from ._store import Base

__all__ = ["prepare", "after_rules", "collect", "systems_with_events", "CONTEXT", "RESUMED"]

#: ``file_idx`` of resumed deferred events and of context events.
RESUMED = -1
CONTEXT = -2
_CARRIED = -3  # evidence rows of findings accumulated on earlier nights


def _table(con: duckdb.DuckDBPyConnection, name: str, data: pa.Table | None, empty_sql: str) -> None:
    if data is None or data.num_rows == 0:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {empty_sql}")
        return
    con.register("_pia_st_in", data)
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM _pia_st_in")
    finally:
        con.unregister("_pia_st_in")


def _ts(value: str | None) -> dt.datetime | None:
    """A stored ISO 8601 JST time as the engine's naive UTC."""
    if not value:
        return None
    return dt.datetime.fromisoformat(value).astimezone(dt.timezone.utc).replace(tzinfo=None)


def _seen_groups(con: duckdb.DuckDBPyConnection, base: Base) -> pa.Table | None:
    """The earlier nights' ids that may meet tonight's: only the row groups of the ``seen`` blobs
    whose [min, max] event_id range holds one of tonight's ids are decoded."""
    ranges: dict[str, list[Any]] = {"blob": [], "grp": [], "lo": [], "hi": []}
    for i, pf in enumerate(base.seen):
        col = pf.schema_arrow.get_field_index("event_id")
        for g in range(pf.metadata.num_row_groups):
            stats = pf.metadata.row_group(g).column(col).statistics
            known = stats is not None and stats.has_min_max
            for k, v in zip(ranges, (i, g, stats.min if known else None, stats.max if known else None)):
                ranges[k].append(v)
    if not ranges["blob"]:
        return None
    con.register("_pia_st_ranges", pa.table({"blob": pa.array(ranges["blob"], pa.int32()),
                                              "grp": pa.array(ranges["grp"], pa.int32()),
                                              "lo": pa.array(ranges["lo"], pa.string()),
                                              "hi": pa.array(ranges["hi"], pa.string())}))
    try:
        # for each group the smallest id of tonight at or above its min (ASOF: one row per group)
        hits = con.execute(
            """SELECT r.blob, r.grp FROM _pia_st_ranges r
            ASOF LEFT JOIN (SELECT event_id FROM events UNION ALL SELECT event_id FROM deferred) t
              ON r.lo <= t.event_id
            WHERE r.lo IS NULL OR r.hi IS NULL OR t.event_id <= r.hi ORDER BY 1, 2"""
        ).fetchall()
    finally:
        con.unregister("_pia_st_ranges")
    groups: dict[int, list[int]] = {}
    for blob, grp in hits:
        groups.setdefault(int(blob), []).append(int(grp))
    tables = [base.seen[b].read_row_groups(g) for b, g in groups.items()]
    return pa.concat_tables(tables) if tables else None


def prepare(con: duckdb.DuckDBPyConnection, base: Base, audit_utc: dt.datetime) -> dict[str, int]:
    """Bring the base night's carried data into tonight's tables; returns the count changes."""
    at = f"TIMESTAMP '{audit_utc:%Y-%m-%d %H:%M:%S.%f}'"
    _table(con, "st_deferred", base.blobs.get("deferred"), "SELECT * FROM events WHERE false")
    _table(con, "st_context", base.blobs.get("context"),
           "SELECT *, false AS open_s FROM events WHERE false")
    _table(con, "st_logins", base.blobs.get("logins"),
           "SELECT system, account_id, ts AS last_login FROM events WHERE false")
    seen = _seen_groups(con, base)
    if seen is not None and seen.num_rows:
        con.register("st_seen", seen)  # scanned from Arrow where it lies (no copy into DuckDB)
    else:
        con.execute("CREATE OR REPLACE TEMP VIEW st_seen AS SELECT event_id, file, line FROM events WHERE false")
    con.execute(
        """CREATE OR REPLACE TEMP TABLE st_dup AS
        SELECT t.src, t.file, t.file_idx, t.line, t.event_id, k.file AS first_file, k.line AS first_line
        FROM (SELECT 'e' AS src, file, file_idx, line, event_id FROM events
              UNION ALL SELECT 'd', file, file_idx, line, event_id FROM deferred) t
        JOIN (SELECT event_id, file, line FROM st_seen
              UNION ALL SELECT event_id, file, line FROM st_deferred
              UNION ALL SELECT event_id, file, line FROM st_context) k ON k.event_id = t.event_id
        QUALIFY row_number() OVER (PARTITION BY t.src, t.file_idx, t.line ORDER BY k.file, k.line) = 1"""
    )
    dup_events, dup_deferred = con.execute(
        "SELECT count(*) FILTER (WHERE src = 'e'), count(*) FILTER (WHERE src = 'd') FROM st_dup"
    ).fetchone()  # type: ignore[misc]
    if dup_events or dup_deferred:
        con.execute("INSERT INTO duplicates SELECT file, line, event_id, first_file, first_line FROM st_dup")
        for table, src in (("events", "e"), ("deferred", "d")):
            con.execute(f"""DELETE FROM {table} t USING st_dup d
                            WHERE d.src = '{src}' AND t.file_idx = d.file_idx AND t.line = d.line""")
    resumed = con.execute(f"SELECT count(*) FROM st_deferred WHERE ts < {at}").fetchone()[0]  # type: ignore[index]
    con.execute(f"INSERT INTO events BY NAME SELECT * REPLACE ({RESUMED} AS file_idx) FROM st_deferred WHERE ts < {at}")
    con.execute(
        f"""INSERT INTO events BY NAME
        SELECT * EXCLUDE (open_s) REPLACE ({CONTEXT} AS file_idx, NULL::VARCHAR AS subject_id) FROM st_context"""
    )
    con.execute(
        """UPDATE accounts a SET last_login_at = l.last_login FROM st_logins l
        WHERE l.system = a.system AND l.account_id = a.account_id
          AND (a.last_login_at IS NULL OR l.last_login > a.last_login_at)"""
    )
    return {"duplicates": int(dup_events + dup_deferred), "events": -int(dup_events),
            "deferred": -int(dup_deferred), "resumed": int(resumed)}


def _carried_rows(base: Base) -> pa.Table:
    """The base night's accumulated event- and system-scoped findings as candidate rows."""
    import json

    cols: dict[str, list[Any]] = {c: [] for c in (
        "rule", "system", "account_id", "file", "line", "event_id", "first_ts", "last_ts", "n")}

    def add(rule: str, system: Any, account: Any, file: Any, line: Any, eid: Any, first: Any, last: Any,
            n: int) -> None:
        for c, v in zip(cols, (rule, system, account, file, line, eid, first, last, n)):
            cols[c].append(v)

    for f in base.findings:
        if get_rule(f["rule"]).scope == "account" or f["lifecycle"] == "resolved":
            continue
        add(f["rule"], f["system"], f["account_id"], None, None, None, _ts(f["first_ts"]), _ts(f["last_ts"]),
            int(f["event_count"]))
        for ev in json.loads(f["body"]).get("evidence", []):
            add(f["rule"], f["system"], f["account_id"], ev["file"], ev["line"], ev.get("event_id"), None, None, 0)
    return pa.table({
        "rule": pa.array(cols["rule"], pa.string()), "system": pa.array(cols["system"], pa.string()),
        "account_id": pa.array(cols["account_id"], pa.string()), "file": pa.array(cols["file"], pa.string()),
        "line": pa.array(cols["line"], pa.int64()), "event_id": pa.array(cols["event_id"], pa.string()),
        "first_ts": pa.array(cols["first_ts"], pa.timestamp("us")),
        "last_ts": pa.array(cols["last_ts"], pa.timestamp("us")), "n": pa.array(cols["n"], pa.int64()),
    })


def after_rules(con: duckdb.DuckDBPyConnection, base: Base, audit_utc: dt.datetime) -> None:
    """Between the rules and the aggregation (see the module docstring)."""
    con.execute(
        """DELETE FROM cand USING st_context c
        WHERE cand.event_id = c.event_id AND (NOT c.open_s OR cand.rule <> 'LONG_SESSION')"""
    )
    con.execute("CREATE OR REPLACE TEMP TABLE st_touched AS SELECT DISTINCT rule, system, account_id FROM cand"
                " WHERE scope <> 'account'")
    # what the next night needs, before the context rows leave
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE st_next_context AS
        WITH li AS (
          SELECT e.* FROM events e
          WHERE e.action = 'login'
            AND (e.file_idx <> {CONTEXT} OR e.event_id IN (SELECT event_id FROM st_context WHERE open_s))
        ), lo AS (
          SELECT system, account_id, session_id, max(ts) AS last_out FROM events WHERE action = 'logout'
          GROUP BY system, account_id, session_id
        ), open_s AS (
          SELECT li.event_id FROM li
          LEFT JOIN lo ON lo.system = li.system AND lo.account_id = li.account_id AND lo.session_id = li.session_id
           AND lo.last_out >= li.ts
          WHERE lo.system IS NULL
            AND li.event_id NOT IN (SELECT event_id FROM cand WHERE rule = 'LONG_SESSION' AND event_id IS NOT NULL)
        ), last_e AS (
          SELECT event_id FROM (SELECT event_id, row_number() OVER (
              PARTITION BY system ORDER BY ts DESC, file_idx DESC, line DESC) AS k FROM events) WHERE k = 1
        ), max_seq AS (
          SELECT event_id FROM (SELECT event_id, row_number() OVER (
              PARTITION BY system ORDER BY seq DESC, file_idx, line) AS k FROM events WHERE seq IS NOT NULL)
          WHERE k = 1
        )
        SELECT e.* REPLACE (CASE WHEN e.event_id IN (SELECT event_id FROM max_seq) THEN e.seq END AS seq),
               e.event_id IN (SELECT event_id FROM open_s) AS open_s
        FROM events e
        WHERE e.event_id IN (SELECT event_id FROM open_s UNION SELECT event_id FROM last_e
                             UNION SELECT event_id FROM max_seq)"""
    )
    con.execute(
        """CREATE OR REPLACE TEMP TABLE st_next_logins AS
        SELECT system, account_id, max(ts) AS last_login FROM (
          SELECT system, account_id, ts FROM events WHERE action = 'login'
          UNION ALL SELECT system, account_id, last_login FROM st_logins) GROUP BY system, account_id"""
    )
    at = f"TIMESTAMP '{audit_utc:%Y-%m-%d %H:%M:%S.%f}'"
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE st_next_deferred AS
        SELECT * FROM deferred UNION ALL BY NAME SELECT * FROM st_deferred WHERE ts >= {at}"""
    )
    con.execute(f"CREATE OR REPLACE TEMP TABLE st_next_seen AS SELECT event_id, file, line FROM events"
                f" WHERE file_idx <> {CONTEXT}")
    carried = _carried_rows(base)
    if carried.num_rows:
        con.register("_pia_st_carried", carried)
        try:
            con.execute(
                f"""INSERT INTO cand BY NAME SELECT rule, 'carried' AS scope, 0 AS rnk, system, account_id, file,
                    CASE WHEN file IS NOT NULL THEN {_CARRIED} END AS file_idx, line, event_id,
                    NULL::TIMESTAMP AS ts, first_ts, last_ts, n FROM _pia_st_carried"""
            )
        finally:
            con.unregister("_pia_st_carried")
    con.execute(f"DELETE FROM events WHERE file_idx = {CONTEXT}")
    con.execute(f"DELETE FROM ev WHERE file_idx = {CONTEXT}")


def collect(con: duckdb.DuckDBPyConnection) -> tuple[dict[str, pa.Table], pa.Table]:
    """The carried blobs (deferred, context, logins) and tonight's seen ids, as Arrow tables."""
    blobs = {
        "deferred": con.sql("SELECT * FROM st_next_deferred ORDER BY ts, event_id").to_arrow_table(),
        "context": con.sql("SELECT * FROM st_next_context ORDER BY system, ts, event_id").to_arrow_table(),
        "logins": con.sql("SELECT * FROM st_next_logins ORDER BY system, account_id").to_arrow_table(),
    }
    seen = con.sql("SELECT * FROM st_next_seen ORDER BY event_id").to_arrow_table()
    return blobs, seen


def systems_with_events(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Systems with at least one event judged tonight (context rows already removed)."""
    return [r[0] for r in con.execute("SELECT DISTINCT system FROM events ORDER BY system").fetchall()]
