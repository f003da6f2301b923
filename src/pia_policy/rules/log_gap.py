"""LOG_GAP: gap in the log during business hours (業務時間中のログの欠落)."""

from __future__ import annotations

from ._base import Rule, RuleContext
from ._portable import jst_seconds_of_day

__all__ = ["RULE"]


def _sql(ctx: RuleContext) -> str:
    """Candidate rows (DESIGN.md columns of this scope)."""
    limit = int(round(float(ctx.params.get("gap_minutes", 60)) * 60))
    return f"""
WITH s AS (
  SELECT system, file, file_idx, line, event_id, ts,
         LAG(ts) OVER (PARTITION BY system ORDER BY ts, file_idx, line) AS prev_ts
  FROM events
), g AS (
  SELECT s.system, s.file, s.file_idx, s.line, s.event_id, s.prev_ts, s.ts,
         SUM({jst_seconds_of_day('LEAST(s.ts, c.bh_end)')} - {jst_seconds_of_day('GREATEST(s.prev_ts, c.bh_start)')}) AS busy
  FROM s JOIN calendar c ON c.is_business AND c.bh_start < s.ts AND c.bh_end > s.prev_ts
  WHERE s.prev_ts IS NOT NULL
  GROUP BY s.system, s.file, s.file_idx, s.line, s.event_id, s.prev_ts, s.ts
)
SELECT system, prev_ts AS first_ts, ts AS last_ts, 1 AS event_count, file, file_idx, line, event_id
FROM g WHERE busy > {limit}
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
