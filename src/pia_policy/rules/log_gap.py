"""LOG_GAP: gap in the log during business hours (業務時間中のログの欠落)."""

from __future__ import annotations

from ._base import Rule, RuleContext
from ._portable import jst_seconds_of_day, seconds

__all__ = ["RULE"]


def _sql(ctx: RuleContext) -> str:
    """Candidate rows (DESIGN.md columns of this scope).

    The window over each system's events carries only ``(system, ts, file_idx, line)``; a pair
    whose wall-clock gap is not above the limit cannot hold more business time than that, so
    only the longer pairs meet the calendar, and only flagged gaps are joined back to their
    evidence row.
    """
    limit = int(round(float(ctx.params.get("gap_minutes", 60)) * 60))
    return f"""
WITH s AS (
  SELECT system, file_idx, line, ts,
         LAG(ts) OVER (PARTITION BY system ORDER BY ts, file_idx, line) AS prev_ts
  FROM events
), long_pairs AS (
  SELECT system, file_idx, line, ts, prev_ts FROM s
  WHERE prev_ts IS NOT NULL AND ts > prev_ts + {seconds(limit)}
), g AS (
  SELECT p.system, p.file_idx, p.line, p.prev_ts, p.ts,
         SUM({jst_seconds_of_day('LEAST(p.ts, c.bh_end)')} - {jst_seconds_of_day('GREATEST(p.prev_ts, c.bh_start)')}) AS busy
  FROM long_pairs p JOIN calendar c ON c.is_business AND c.bh_start < p.ts AND c.bh_end > p.prev_ts
  GROUP BY p.system, p.file_idx, p.line, p.prev_ts, p.ts
)
SELECT g.system, g.prev_ts AS first_ts, g.ts AS last_ts, 1 AS event_count,
       e.file, e.file_idx, e.line, e.event_id
FROM g JOIN events e ON e.file_idx = g.file_idx AND e.line = g.line
WHERE g.busy > {limit}
"""


RULE = Rule(
    id="LOG_GAP",
    severity="medium",
    scope="system",
    basis="別添3 III-3 リスク2 特定個人情報の使用の記録（ログを記録し定期的に確認）; 市の運用",
    title_ja="業務時間中のログの欠落",
    title_en="Gap in the log during business hours",
    remedy_ja="当該時間帯のログの欠落の原因（障害・停止・改ざん）を確認する",
    remedy_en="Find out why the log is missing for the period (outage, stop or tampering)",
    requires=(),
    sql=_sql,
)
