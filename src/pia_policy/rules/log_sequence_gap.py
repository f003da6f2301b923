"""LOG_SEQUENCE_GAP: missing or repeated log sequence numbers (ログの連番の欠番・重複)."""

from __future__ import annotations

from ._base import Rule, RuleContext

__all__ = ["RULE"]


def _sql(ctx: RuleContext) -> str:
    """Candidate rows (DESIGN.md columns of this scope)."""
    return """
WITH s AS (
  SELECT system, seq, file, file_idx, line, event_id, ts,
         ROW_NUMBER() OVER (PARTITION BY system, seq ORDER BY file_idx, line) AS k
  FROM events WHERE seq IS NOT NULL
), u AS (
  SELECT system, seq, file, file_idx, line, event_id, ts,
         LAG(seq) OVER (PARTITION BY system ORDER BY seq) AS prev_seq,
         LAG(ts) OVER (PARTITION BY system ORDER BY seq) AS prev_ts
  FROM s WHERE k = 1
)
SELECT system, ts AS first_ts, ts AS last_ts, 1 AS event_count, file, file_idx, line, event_id
FROM s WHERE k > 1
UNION ALL
SELECT system, prev_ts AS first_ts, ts AS last_ts, seq - prev_seq - 1 AS event_count, file, file_idx, line, event_id
FROM u WHERE prev_seq IS NOT NULL AND seq - prev_seq > 1
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
