"""The audit engine: policy decisions joined to events in DuckDB, rules run, findings aggregated.

After ingest (the DESIGN.md tables exist in ``con``), :func:`run_engine`

1. creates ``policy_versions``, ``business_departments``, ``calendar`` and ``ledger``
   (first ledger row per (system, account_id));
2. builds ``ev``: events ⋈ ledger (left), the policy version in force at ``ts`` (range join),
   the officer roles the holder has in office for the system at ``ts`` and a request key;
3. decides each *distinct* request once, relationally (``_decisions``: the compiled policy as
   tables, the deny classification as joins), and joins the answers back (``allowed``, ``deny_rule``);
4. runs every rule query, applies the SPEC §4 precedence with a window function, and
   aggregates one finding per (rule, system, account_id) (LOG_*: per (rule, system)) into
   the ``findings`` table.

No per-event, per-request or per-finding Python loop: Python sees the policy tables, and findings
only as they are streamed to the outputs (:func:`finding_rows`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator, Protocol

import duckdb

from .. import rules as rules_mod
from ..models import JST_OFFSET, SCHEMA_VERSION, SEVERITIES, Finding
from ..rules import PRECEDENCE, RuleContext
from ..rules._portable import jst_day
from ..policy._source import ISSUANCE_POLICY_FILE
from ..rules.account_issuer_invalid import ISSUANCE_LINES_COLUMNS
from ..rules.log_retention_short import retention_gaps
from ._calendar import calendar_table
from ._decisions import OFFICER_ROLES, allowed_sql, classify_sql, load_policy_tables, tuples_sql

__all__ = ["SCHEMA_VERSION", "CAND_COLUMNS", "CAND_SCHEMA", "DuckDBRules", "EngineResult", "FINDINGS_ORDER", "RuleEngine",
           "candidate_sql", "precedence_sql", "run_engine", "finding_id", "finding_rows",
           "read_findings", "iso_jst", "OFFICER_ROLES"]

_EVIDENCE_LIMIT = 20
#: Always join decisions on every key column (tests exercise the hash-collision path with it).
_EXACT_JOIN = False
_DAWN = dt.datetime(1900, 1, 1)
_DUSK = dt.datetime(9999, 12, 31)
#: Key columns of a request (what a decision depends on), in the order they are hashed into ``req_hash``.
_KEY_COLUMNS = (
    "version", "system", "department", "employment", "roles", "permission", "action", "resource",
    "affair", "req_recipient", "req_method", "off_system_owner", "off_export_delegate",
    "off_info_system_manager",
)


@dataclass
class EngineResult:
    """What the engine found: the ``findings`` table's counts plus the facts the summary needs.

    The findings themselves stay in DuckDB (``findings`` table): read them with
    :func:`finding_rows` (streamed) or :func:`read_findings`.
    """

    findings_total: int
    findings_by_rule: dict[str, int]
    findings_by_severity: dict[str, int]
    rules_run: list[str]
    rules_skipped: list[dict[str, str]]
    versions_used: list[str]
    breakdowns: dict[str, dict[str, int]]
    distinct_requests: int = 0
    timings: dict[str, float] = field(default_factory=dict)
    #: Statements that needed more memory than the limit: ``{"step", "memory_limit"}`` each.
    memory_raised: list[dict[str, Any]] = field(default_factory=list)
    #: The log archive's coverage of the retention period (only when log_archive.csv was given).
    log_retention: dict[str, Any] | None = None


def finding_id(rule: str, system: str | None, account_id: str | None) -> str:
    """Stable id: first 16 hex of sha256("rule|system|account_id") (None → empty)."""
    raw = f"{rule}|{system or ''}|{account_id or ''}"
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:16]


def iso_jst(value: dt.datetime | None) -> str | None:
    """A naive UTC timestamp as ISO 8601 in JST with an explicit +09:00 offset."""
    if value is None:
        return None
    return (value + JST_OFFSET).isoformat() + "+09:00"


_UNIT_BYTES = {"bytes": 1, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40,
               "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12}


def _memory_limit_bytes(con: duckdb.DuckDBPyConnection) -> int | None:
    """DuckDB's current memory limit in bytes (its setting reads like ``488.2 MiB``)."""
    row = con.execute("SELECT current_setting('memory_limit')").fetchone()
    parts = str(row[0] if row else "").split()
    if len(parts) != 2 or parts[1] not in _UNIT_BYTES:
        return None
    try:
        return int(float(parts[0]) * _UNIT_BYTES[parts[1]])
    except ValueError:
        return None


def _memory_ceiling() -> int:
    """80 % of the machine's memory: DuckDB's own default, the most a retry may ask for."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") * 0.8)
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not POSIX
        return 8 << 30


class _Exec:
    """``con.execute`` that survives DuckDB running out of its memory limit.

    A statement that fails with ``OutOfMemoryException`` (an operator that cannot spill) is
    retried with the limit doubled, up to 80 % of the machine's memory; each raise is logged
    (``engine_memory_raised``) and kept in :attr:`raised` for the summary. The statement is
    rolled back by DuckDB before the retry, so no partial rows remain.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, log: Callable[..., None]) -> None:
        self.con = con
        self.log = log
        self.raised: list[dict[str, Any]] = []

    def __call__(self, sql: str, step: str) -> duckdb.DuckDBPyConnection:
        while True:
            try:
                return self.con.execute(sql)
            except duckdb.OutOfMemoryException:
                current = _memory_limit_bytes(self.con)
                ceiling = _memory_ceiling()
                if current is None or current >= ceiling:
                    raise
                new = min(current * 2, ceiling)
                self.con.execute(f"SET memory_limit = '{new >> 20}MiB'")
                self.raised.append({"step": step, "memory_limit": f"{new >> 20}MiB"})
                self.log("engine_memory_raised", step=step, memory_limit_mib=new >> 20)


def _ts_literal(value: dt.datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S.%f")


def _has(present: Any, name: str) -> bool:
    if present is None:
        return True
    if isinstance(present, dict):
        return bool(present.get(name))
    return name in present


def _with_policy_files(present: Any, policy: Any) -> Any:
    """``present`` plus the policy's optional files a rule may require (``issuance.csv``)."""
    if present is None or getattr(policy, "issuance", None) is None:
        return present
    if isinstance(present, dict):
        return {**present, ISSUANCE_POLICY_FILE: True}
    return set(present) | {ISSUANCE_POLICY_FILE}


def _create_support_tables(con: duckdb.DuckDBPyConnection, policy: Any, as_of_utc: dt.datetime) -> None:
    con.execute("CREATE OR REPLACE TABLE policy_versions (version VARCHAR, from_at TIMESTAMP, to_at TIMESTAMP)")
    # Open bounds become far-away instants so that the lookup is a plain range join.
    rows = [(str(v), f or _DAWN, t or _DUSK) for v, f, t in policy.version_table()]
    if rows:
        con.executemany("INSERT INTO policy_versions VALUES (?, ?, ?)", rows)
    # The issuance policy (policies/issuance.csv) as a relation: ACCOUNT_ISSUER_INVALID matches it in SQL.
    cols = ", ".join(f"{c} VARCHAR" for c in ISSUANCE_LINES_COLUMNS)
    con.execute(f"CREATE OR REPLACE TABLE issuance_lines ({cols})")
    issuance = getattr(policy, "issuance", None)
    if issuance is not None and issuance.lines:
        marks = ", ".join("?" for _ in ISSUANCE_LINES_COLUMNS)
        con.executemany(f"INSERT INTO issuance_lines VALUES ({marks})", issuance.table())
    con.execute("CREATE OR REPLACE TABLE holder_departments (department VARCHAR)")
    holders = sorted(policy.holder_departments)
    if holders:
        con.executemany("INSERT INTO holder_departments VALUES (?)", [(d,) for d in holders])
    con.execute("CREATE OR REPLACE TABLE business_departments (department VARCHAR)")
    depts = sorted(policy.business_departments)
    if depts:
        con.executemany("INSERT INTO business_departments VALUES (?)", [(d,) for d in depts])
    # Calendar over every JST day the events touch, up to the audit day.
    first, last = con.execute(
        f"SELECT MIN({jst_day('ts')}), MAX({jst_day('ts')}) FROM events"
    ).fetchone() or (None, None)
    audit_day = (as_of_utc + JST_OFFSET).date()
    first = first or audit_day
    last = max(last or audit_day, audit_day)
    calendar_arrow = calendar_table(first, last)  # noqa: F841 (read by name below)
    con.execute("CREATE OR REPLACE TABLE calendar AS SELECT * FROM calendar_arrow")
    con.execute(
        """
        CREATE OR REPLACE TABLE ledger AS
        SELECT * EXCLUDE (k) FROM (
          SELECT a.*, ROW_NUMBER() OVER (PARTITION BY system, account_id ORDER BY file, line) AS k FROM accounts a
        ) WHERE k = 1
        """
    )


def _build_ev(con: duckdb.DuckDBPyConnection, policy: Any, run: _Exec | None = None) -> int:
    """Create ``ev`` and return the number of distinct requests decided."""
    run = run or _Exec(con, lambda *a, **k: None)
    cols = ", ".join(_KEY_COLUMNS)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP VIEW ev_base AS
        WITH off AS (
          SELECT e.event_id,
                 MAX(CASE WHEN o.role = 'system_owner' THEN 1 ELSE 0 END) AS so,
                 MAX(CASE WHEN o.role = 'export_delegate' THEN 1 ELSE 0 END) AS ed,
                 MAX(CASE WHEN o.role = 'info_system_manager' THEN 1 ELSE 0 END) AS ism
          FROM events e
          JOIN ledger l ON l.system = e.system AND l.account_id = e.account_id
          JOIN officers o ON o.system = e.system AND o.person_id = l.person_id
           AND o.from_at <= e.ts AND (o.to_at IS NULL OR e.ts < o.to_at)
          GROUP BY e.event_id
        ), b AS (
          SELECT e.*,
                 l.account_id IS NOT NULL AS known,
                 l.person_id, l.employment, l.department, l.roles, l.permission,
                 l.revoked_at, l.expires_at,
                 v.version,
                 CASE WHEN e.action = 'transfer' THEN e.recipient_department END AS req_recipient,
                 CASE WHEN e.action = 'transfer' THEN e.method END AS req_method,
                 COALESCE(off.so, 0) AS off_system_owner,
                 COALESCE(off.ed, 0) AS off_export_delegate,
                 COALESCE(off.ism, 0) AS off_info_system_manager
          FROM events e
          LEFT JOIN ledger l ON l.system = e.system AND l.account_id = e.account_id
          LEFT JOIN policy_versions v
            ON v.from_at <= e.ts AND e.ts < v.to_at
          LEFT JOIN off ON off.event_id = e.event_id
        )
        SELECT b.*, b.known AND b.version IS NOT NULL AS decidable, HASH({cols}) AS req_hash FROM b
        """
    )
    # Each distinct request once (``rid``), decided by joins against the policy relations.
    run(
        f"""CREATE OR REPLACE TEMP TABLE dreq AS SELECT row_number() OVER () AS rid, * FROM (
            SELECT DISTINCT req_hash, {cols} FROM ev_base WHERE decidable) k""",
        "decisions",
    )
    n_keys, n_ids = con.execute("SELECT count(*), count(DISTINCT req_hash) FROM dreq").fetchone()  # type: ignore[misc]
    vocab = policy.vocabulary
    run(f"CREATE OR REPLACE TEMP TABLE dtuples AS {tuples_sql('dreq', vocab)}", "decisions")
    load_policy_tables(con, policy.evaluator)  # the model family is enforced at load: always compiled
    run(f"CREATE OR REPLACE TEMP TABLE dallowed AS {allowed_sql('dtuples')}", "decisions")
    run(
        f"""CREATE OR REPLACE TEMP TABLE decisions AS
        SELECT r.req_hash AS k_req_hash, {", ".join(f"r.{c} AS k_{c}" for c in _KEY_COLUMNS)}, c.allowed, c.deny_rule
        FROM dreq r JOIN ({classify_sql('dreq', 'dtuples', 'dallowed', vocab)}) c ON c.rid = r.rid""",
        "decisions",
    )
    for table in ("dreq", "dtuples", "dallowed"):
        con.execute(f"DROP TABLE {table}")
    # Join on the 64-bit hash of the request; should two distinct requests ever share a hash,
    # compare every key column as well (exact, slower).
    join = "b.req_hash = d.k_req_hash"
    if _EXACT_JOIN or n_keys != n_ids:
        join += " AND " + " AND ".join(f"b.{c} IS NOT DISTINCT FROM d.k_{c}" for c in _KEY_COLUMNS)
    run(
        f"""
        CREATE OR REPLACE TEMP TABLE ev AS
        SELECT b.* EXCLUDE (decidable, req_hash), d.allowed, d.deny_rule
        FROM ev_base b LEFT JOIN decisions d ON b.decidable AND {join}
        """,
        "ev",
    )
    con.execute("DROP VIEW ev_base")
    return int(n_keys)


#: The columns of ``cand`` (one candidate finding row per rule hit) and their types, in the order every
#: candidate SELECT gives them.
CAND_SCHEMA = (("rule", "VARCHAR"), ("scope", "VARCHAR"), ("rnk", "INTEGER"), ("system", "VARCHAR"),
               ("account_id", "VARCHAR"), ("file", "VARCHAR"), ("file_idx", "INTEGER"), ("line", "BIGINT"),
               ("event_id", "VARCHAR"), ("ts", "TIMESTAMP"), ("first_ts", "TIMESTAMP"), ("last_ts", "TIMESTAMP"),
               ("n", "BIGINT"))
CAND_COLUMNS = tuple(c for c, _ in CAND_SCHEMA)


def candidate_sql(rule: Any, ctx: RuleContext) -> str:
    """The rule's query as ``cand`` rows (:data:`CAND_COLUMNS`), portable SQL with typed NULLs
    (every engine runs this text: DuckDB as is, Spark transpiled by sqlglot)."""
    sql = rule.sql(ctx)
    rnk = PRECEDENCE.index(rule.id) if rule.id in PRECEDENCE else len(PRECEDENCE)
    head = f"'{rule.id}' AS rule, '{rule.scope}' AS scope, CAST({rnk} AS INTEGER) AS rnk, q.system"
    if rule.scope in ("event", "independent"):
        return (f"SELECT {head}, q.account_id, q.file, CAST(q.file_idx AS INTEGER) AS file_idx,"
                f" CAST(q.line AS BIGINT) AS line, q.event_id, q.ts, q.ts AS first_ts, q.ts AS last_ts,"
                f" CAST(1 AS BIGINT) AS n FROM ({sql}) q")
    if rule.scope == "account":
        return (f"SELECT DISTINCT {head}, q.account_id, CAST(NULL AS VARCHAR) AS file,"
                f" CAST(NULL AS INTEGER) AS file_idx, CAST(NULL AS BIGINT) AS line, CAST(NULL AS VARCHAR) AS event_id,"
                f" CAST(NULL AS TIMESTAMP) AS ts, CAST(NULL AS TIMESTAMP) AS first_ts,"
                f" CAST(NULL AS TIMESTAMP) AS last_ts, CAST(0 AS BIGINT) AS n FROM ({sql}) q")
    return (f"SELECT {head}, CAST(NULL AS VARCHAR) AS account_id, q.file, CAST(q.file_idx AS INTEGER) AS file_idx,"
            f" CAST(q.line AS BIGINT) AS line, q.event_id, q.last_ts AS ts, q.first_ts, q.last_ts,"
            f" CAST(q.event_count AS BIGINT) AS n FROM ({sql}) q")


def precedence_sql(candidates: str) -> str:
    """SPEC §4 "one event, one event-level finding" over the relation ``candidates``: an event's
    event-scope candidates keep the first rule in PRECEDENCE order (portable SQL)."""
    cols = ", ".join(CAND_COLUMNS)
    return f"""SELECT {cols} FROM (
      SELECT c.*, CASE WHEN c.scope = 'event'
                       THEN ROW_NUMBER() OVER (PARTITION BY c.scope, c.event_id ORDER BY c.rnk)
                       ELSE 1 END AS w
      FROM {candidates} c
    ) ranked WHERE w = 1"""


class RuleEngine(Protocol):
    """Where the rule queries run: leaves ``cand`` (precedence applied, :data:`CAND_COLUMNS`) in ``con``.

    ``queries`` are ``(rule id, candidate_sql)`` pairs. DuckDB runs them on ``con`` itself
    (:class:`DuckDBRules`); Spark runs them over the relations they read (``pia_policy.audit._spark``).
    """

    name: str

    def candidates(self, con: duckdb.DuckDBPyConnection, queries: list[tuple[str, str]],
                   log: Callable[..., None]) -> None: ...


class DuckDBRules:
    """The rule queries on the audit's own DuckDB connection (the default engine)."""

    name = "duckdb"

    def __init__(self, execute: _Exec) -> None:
        self.execute = execute

    def candidates(self, con: duckdb.DuckDBPyConnection, queries: list[tuple[str, str]],
                   log: Callable[..., None]) -> None:
        con.execute(f"CREATE OR REPLACE TEMP TABLE cand_all ({', '.join(f'{c} {t}' for c, t in CAND_SCHEMA)})")
        for rule_id, sql in queries:
            started = time.perf_counter()
            self.execute(f"INSERT INTO cand_all {sql}", rule_id)
            log("rule_done", rule=rule_id, seconds=round(time.perf_counter() - started, 4))
        self.execute(f"CREATE OR REPLACE TEMP TABLE cand AS {precedence_sql('cand_all')}", "precedence")
        con.execute("DROP TABLE cand_all")


def _run_rules(
    con: duckdb.DuckDBPyConnection,
    ctx: RuleContext,
    present: Any,
    log: Callable[..., None],
    execute: _Exec | None = None,
    engine: RuleEngine | None = None,
) -> tuple[list[str], list[dict[str, str]]]:
    """The rules whose inputs are present, run by ``engine`` (DuckDB by default) into ``cand``."""
    run: list[str] = []
    skipped: list[dict[str, str]] = []
    queries: list[tuple[str, str]] = []
    for rule in rules_mod.all_rules():
        missing = [f for f in rule.requires if not _has(present, f)]
        if missing:
            skipped.append({"rule": rule.id, "missing": ", ".join(missing)})
            continue
        if rule.sql is None:  # pragma: no cover - every shipped rule has a query
            continue
        queries.append((rule.id, candidate_sql(rule, ctx)))
        run.append(rule.id)
    (engine or DuckDBRules(execute or _Exec(con, log))).candidates(con, queries, log)
    return run, skipped


#: The order of findings.jsonl / findings.csv: severity (critical first), rule, system, account_id.
FINDINGS_ORDER = (
    "CASE severity WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 ELSE 3 END, "
    "rule, COALESCE(system, ''), COALESCE(account_id, '')"
)


def _aggregate(con: duckdb.DuckDBPyConnection, run: _Exec) -> None:
    """Create the ``findings`` table: one row per (rule, system, account_id), SPEC §5 columns.

    ``first_ts``/``last_ts`` stay naive UTC TIMESTAMPs (:func:`finding_rows` writes them as JST
    text); ``evidence`` is a LIST of STRUCT(file, line, event_id), the first
    ``_EVIDENCE_LIMIT`` references in input order. Nothing per finding passes through Python.
    """
    con.execute("CREATE OR REPLACE TEMP TABLE rule_meta (rule VARCHAR, severity VARCHAR, log BOOLEAN, "
                "basis VARCHAR, action VARCHAR)")
    con.executemany("INSERT INTO rule_meta VALUES (?, ?, ?, ?, ?)",
                    [(r.id, r.severity, r.scope == "system", r.basis, r.remedy_ja) for r in rules_mod.all_rules()])
    run(
        f"""
        CREATE OR REPLACE TABLE findings AS
        WITH g AS (
          SELECT rule, system, account_id, SUM(n) AS n, MIN(first_ts) AS first_ts, MAX(last_ts) AS last_ts
          FROM cand GROUP BY rule, system, account_id
        ), refs AS (
          SELECT rule, system, account_id,
                 LIST(STRUCT_PACK(file := file, line := line, event_id := event_id)
                      ORDER BY file_idx, file, line, event_id) AS evidence
          FROM (
            SELECT *, ROW_NUMBER() OVER (PARTITION BY rule, system, account_id
                                         ORDER BY file_idx, file, line, event_id) AS k
            FROM (SELECT DISTINCT rule, system, account_id, file, file_idx, line, event_id
                  FROM cand WHERE file IS NOT NULL) d
          ) WHERE k <= {_EVIDENCE_LIMIT}
          GROUP BY rule, system, account_id
        )
        SELECT '{SCHEMA_VERSION}' AS schema_version,
               LEFT(SHA256(g.rule || '|' || COALESCE(g.system, '') || '|' || COALESCE(g.account_id, '')), 16)
                 AS finding_id,
               g.rule, m.severity,
               CASE WHEN m.log THEN NULL ELSE g.account_id END AS account_id,
               CASE WHEN m.log THEN NULL ELSE l.person_id END AS person_id,
               CASE WHEN m.log THEN NULL ELSE l.department END AS department,
               g.system, g.first_ts, g.last_ts, CAST(COALESCE(g.n, 0) AS BIGINT) AS event_count,
               r.evidence, m.basis, m.action
        FROM g JOIN rule_meta m ON m.rule = g.rule
        LEFT JOIN ledger l ON l.system = g.system AND l.account_id = g.account_id
        LEFT JOIN refs r ON r.rule = g.rule AND r.system IS NOT DISTINCT FROM g.system
                        AND r.account_id IS NOT DISTINCT FROM g.account_id
        """,
        "findings",
    )


def finding_rows(con: duckdb.DuckDBPyConnection, *, limit: int | None = None,
                 also_rules: Iterable[str] = ()) -> Iterator[dict[str, Any]]:
    """The ``findings`` table as SPEC §5 records (JST text times), in output order, fetched in chunks.

    ``limit``: the first ``limit`` findings only, plus every finding of ``also_rules`` (what the
    report and the notices need: the table's rows and the findings that ask for a reply).
    """
    listed = ", ".join(f"'{r}'" for r in also_rules if r.replace("_", "").isalnum())
    if limit is None:
        sql = f"SELECT * FROM findings ORDER BY {FINDINGS_ORDER}"
    elif not listed:
        sql = f"SELECT * FROM findings ORDER BY {FINDINGS_ORDER} LIMIT {int(limit)}"
    else:
        sql = (f"SELECT * EXCLUDE (k) FROM (SELECT *, ROW_NUMBER() OVER (ORDER BY {FINDINGS_ORDER}) AS k "
               f"FROM findings) WHERE k <= {int(limit)} OR rule IN ({listed}) ORDER BY k")
    cur = con.cursor().execute(sql)
    names = [d[0] for d in cur.description]
    while chunk := cur.fetchmany(4096):
        for values in chunk:
            row = dict(zip(names, values))
            row["first_ts"] = iso_jst(row["first_ts"])
            row["last_ts"] = iso_jst(row["last_ts"])
            row["evidence"] = row["evidence"] or []
            yield row


def read_findings(con: duckdb.DuckDBPyConnection, *, limit: int | None = None) -> list[Finding]:
    """The first ``limit`` findings (all with None) as :class:`Finding` objects, in output order."""
    return [Finding.model_validate(row) for row in finding_rows(con, limit=limit)]


def _counts(con: duckdb.DuckDBPyConnection) -> tuple[dict[str, int], dict[str, int]]:
    """Findings per rule (every rule id) and per severity (critical first)."""
    by_rule = {rid: 0 for rid in rules_mod.RULE_IDS}
    by_severity = {s: 0 for s in reversed(SEVERITIES)}
    for rule, severity, n in con.execute("SELECT rule, severity, COUNT(*) FROM findings GROUP BY ALL").fetchall():
        by_rule[rule] = by_rule.get(rule, 0) + int(n)
        by_severity[severity] += int(n)
    return by_rule, by_severity


def _breakdowns(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, int]]:
    def by_day(sql: str) -> dict[str, int]:
        return {d.isoformat(): int(n) for d, n in con.execute(sql).fetchall()}

    def by_hour(sql: str) -> dict[str, int]:
        counts = {f"{h:02d}": 0 for h in range(24)}
        for h, n in con.execute(sql).fetchall():
            counts[f"{int(h):02d}"] = int(n)
        return counts

    def per(column: str) -> dict[str, int]:
        return {str(k): int(n) for k, n in con.execute(
            f"SELECT COALESCE(NULLIF({column}, ''), '-') AS k, COUNT(*) FROM findings GROUP BY k ORDER BY k"
        ).fetchall()}

    day = jst_day("ts")
    hour = "EXTRACT(HOUR FROM ts + INTERVAL '9' HOUR)"
    flagged = (
        "(SELECT DISTINCT event_id, ts FROM cand WHERE scope IN ('event', 'independent')"
        " AND event_id IS NOT NULL) f"
    )
    return {
        "events_by_day": by_day(f"SELECT {day} AS d, COUNT(*) FROM events GROUP BY d ORDER BY d"),
        "events_by_hour": by_hour(f"SELECT {hour} AS h, COUNT(*) FROM events GROUP BY h ORDER BY h"),
        "flagged_events_by_day": by_day(f"SELECT {day} AS d, COUNT(*) FROM {flagged} GROUP BY d ORDER BY d"),
        "flagged_events_by_hour": by_hour(f"SELECT {hour} AS h, COUNT(*) FROM {flagged} GROUP BY h ORDER BY h"),
        "findings_by_department": per("department"),
        "findings_by_system": per("system"),
    }


def run_engine(
    con: duckdb.DuckDBPyConnection,
    policy: Any,
    *,
    as_of_utc: dt.datetime,
    params: dict[str, Any],
    present: Iterable[str] | dict[str, Any] | None = None,
    log: Callable[..., None] | None = None,
    after_rules: Callable[[duckdb.DuckDBPyConnection], None] | None = None,
    engine: RuleEngine | None = None,
) -> EngineResult:
    """Judge the ingested tables in ``con`` against ``policy`` at the audit time ``as_of_utc``.

    ``after_rules`` (the state of SPEC §8) runs between the rules (table ``cand``) and the aggregation.
    ``engine`` runs the rule queries (default: DuckDB on ``con``; ``--engine spark``: Spark).
    """
    say: Callable[..., None] = log or (lambda *a, **k: None)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    execute = _Exec(con, say)
    _create_support_tables(con, policy, as_of_utc)
    distinct = _build_ev(con, policy, execute)
    timings["decisions"] = round(time.perf_counter() - t0, 4)
    say("decisions_joined", distinct_requests=distinct, seconds=timings["decisions"])
    t1 = time.perf_counter()
    ctx = RuleContext(as_of_utc=_ts_literal(as_of_utc), params=dict(params))
    present = _with_policy_files(present, policy)
    run, skipped = _run_rules(con, ctx, present, say, execute, engine)
    if after_rules is not None:
        after_rules(con)
    _aggregate(con, execute)
    by_rule, by_severity = _counts(con)
    retention = _log_retention(con, ctx) if "LOG_RETENTION_SHORT" in run else None
    timings["rules"] = round(time.perf_counter() - t1, 4)
    versions = [
        r[0] for r in con.execute(
            "SELECT DISTINCT version FROM ev WHERE version IS NOT NULL ORDER BY version"
        ).fetchall()
    ]
    return EngineResult(
        findings_total=sum(by_severity.values()),
        findings_by_rule=by_rule,
        findings_by_severity=by_severity,
        rules_run=run,
        rules_skipped=skipped,
        versions_used=versions,
        breakdowns=_breakdowns(con),
        distinct_requests=distinct,
        timings=timings,
        memory_raised=execute.raised,
        log_retention=retention,
    )


def _log_retention(con: duckdb.DuckDBPyConnection, ctx: RuleContext) -> dict[str, Any]:
    """Per system: is the retention period (III-4「5年間保存」) covered by log_archive, and which stretches are not."""
    years = int(ctx.params.get("retention_years", 5))
    audit = dt.datetime.fromisoformat(ctx.as_of_utc)
    try:
        need = audit.replace(year=audit.year - years)
    except ValueError:  # 29 February
        need = audit.replace(year=audit.year - years, day=28)
    systems = [r[0] for r in con.execute(
        "SELECT DISTINCT system FROM events UNION SELECT DISTINCT system FROM log_archive ORDER BY 1").fetchall()]
    report: dict[str, Any] = {s: {"covered": True, "missing": []} for s in systems}
    for system, gap_from, gap_to in con.execute(f"SELECT * FROM ({retention_gaps(ctx)}) ORDER BY 1, 2").fetchall():
        report[system]["covered"] = False
        report[system]["missing"].append({"from": iso_jst(gap_from), "to": iso_jst(gap_to)})
    return {"years": years, "required_from": iso_jst(need), "systems": report}
