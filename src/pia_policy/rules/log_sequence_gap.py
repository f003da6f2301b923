"""LOG_SEQUENCE_GAP: missing or repeated log sequence numbers (ログの連番の欠番・重複)."""

from __future__ import annotations

from ._base import Rule, RuleContext

__all__ = ["RULE"]


def _sql(ctx: RuleContext) -> str:
    """Candidate rows (DESIGN.md columns of this scope).

    Per-system aggregates decide first (count, distinct count, min, max: hash aggregates, no
    sort); only systems whose numbers disagree are examined, and the sorts there carry
    ``(system, seq)`` alone. ``sq`` (read several times, so DuckDB materialises it) holds no
    strings but ``system``: ``file`` and ``event_id`` are joined back from ``events`` for the
    few repeated or missing numbers (a 512MB memory limit holds at 10 M events). A repeated
    number yields one row per repetition (``event_count`` 1); a gap yields one row at the first
    number after it (``event_count`` = the count of missing numbers, at most 2^63 - 1).
    Differences are taken in DECIMAL(38, 0): ``seq`` spans the whole BIGINT range, and
    ``MAX - MIN`` of -2^63 and a positive number does not fit in a BIGINT.
    """
    return """
WITH agg AS (
  SELECT system, COUNT(*) AS n, COUNT(DISTINCT seq) AS d,
         CAST(MIN(seq) AS DECIMAL(38, 0)) AS lo, CAST(MAX(seq) AS DECIMAL(38, 0)) AS hi
  FROM events WHERE seq IS NOT NULL GROUP BY system
), bad AS (
  SELECT system FROM agg WHERE n <> d OR d <> hi - lo + 1
), sq AS (
  SELECT system, seq, file_idx, line, ts
  FROM events WHERE seq IS NOT NULL AND system IN (SELECT system FROM bad)
), rep AS (
  SELECT system, seq FROM sq GROUP BY system, seq HAVING COUNT(*) > 1
), dup_rows AS (
  SELECT q.system, q.file_idx, q.line, q.ts,
         ROW_NUMBER() OVER (PARTITION BY q.system, q.seq ORDER BY q.file_idx, q.line) AS k
  FROM sq q JOIN rep r ON q.system = r.system AND q.seq = r.seq
), nums AS (
  SELECT system, seq, LAG(seq) OVER (PARTITION BY system ORDER BY seq) AS prev_seq
  FROM (SELECT DISTINCT system, seq FROM sq) x
), gaps AS (
  SELECT system, seq, prev_seq, missing FROM (
    SELECT system, seq, prev_seq,
           CAST(seq AS DECIMAL(38, 0)) - CAST(prev_seq AS DECIMAL(38, 0)) - 1 AS missing
    FROM nums WHERE prev_seq IS NOT NULL
  ) x WHERE missing > 0
), after_rows AS (
  SELECT g.system, g.seq, g.missing, q.file_idx, q.line, q.ts,
         ROW_NUMBER() OVER (PARTITION BY g.system, g.seq ORDER BY q.file_idx, q.line) AS k
  FROM gaps g JOIN sq q ON q.system = g.system AND q.seq = g.seq
), before_rows AS (
  SELECT g.system, g.seq, q.ts,
         ROW_NUMBER() OVER (PARTITION BY g.system, g.seq ORDER BY q.file_idx, q.line) AS k
  FROM gaps g JOIN sq q ON q.system = g.system AND q.seq = g.prev_seq
)
SELECT d.system, d.ts AS first_ts, d.ts AS last_ts, 1 AS event_count, e.file, d.file_idx, d.line, e.event_id
FROM dup_rows d JOIN events e ON e.file_idx = d.file_idx AND e.line = d.line
WHERE d.k > 1
UNION ALL
SELECT a.system, b.ts AS first_ts, a.ts AS last_ts,
       CAST(LEAST(a.missing, CAST(9223372036854775807 AS DECIMAL(38, 0))) AS BIGINT) AS event_count,
       e.file, a.file_idx, a.line, e.event_id
FROM after_rows a JOIN before_rows b ON a.system = b.system AND a.seq = b.seq AND b.k = 1
JOIN events e ON e.file_idx = a.file_idx AND e.line = a.line
WHERE a.k = 1
"""


RULE = Rule(
    id="LOG_SEQUENCE_GAP",
    severity="high",
    scope="system",
    basis="別添3 III-3 リスク2 特定個人情報の使用の記録; 市の運用",
    title_ja="ログの連番の欠番・重複",
    title_en="Missing or repeated log sequence numbers",
    remedy_ja="欠番・重複の原因を確認し、ログの完全性を検証する",
    remedy_en="Find the cause of the missing or repeated numbers and verify the log's integrity",
    requires=(),
    sql=_sql,
)
