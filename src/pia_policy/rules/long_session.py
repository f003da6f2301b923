"""LONG_SESSION: long session (長時間のログオン継続)."""

from __future__ import annotations

from ._base import Rule, RuleContext
from ._portable import seconds, ts

__all__ = ["RULE"]


def _sql(ctx: RuleContext) -> str:
    """Candidate rows (DESIGN.md columns of this scope)."""
    limit = seconds(float(ctx.params.get("session_hours", 10)) * 3600)
    return f"""
WITH li AS (
  SELECT system, account_id, session_id, file, file_idx, line, event_id, ts FROM ev WHERE action = 'login'
), s AS (
  SELECT li.system, li.account_id, li.file, li.file_idx, li.line, li.event_id, li.ts, MIN(lo.ts) AS end_ts
  FROM li LEFT JOIN ev lo
    ON lo.action = 'logout' AND lo.system = li.system AND lo.account_id = li.account_id
   AND lo.session_id = li.session_id AND lo.ts >= li.ts
  GROUP BY li.system, li.account_id, li.file, li.file_idx, li.line, li.event_id, li.ts
)
SELECT system, account_id, file, file_idx, line, event_id, ts FROM s
WHERE COALESCE(end_ts, {ts(ctx.as_of_utc)}) > ts + {limit}
"""


RULE = Rule(
    id="LONG_SESSION",
    severity="medium",
    scope="independent",
    basis=("別添3 III-3 リスク2 特定個人情報の使用の記録（福祉システム:「特に一定時間ログオンを継続した者について、定期的に所属課あてに通知し、"
           "利用目的等を報告させる」）; 他システムへの適用と10時間の閾値は市の運用"),
    title_ja="長時間のログオン継続",
    title_en="Long session",
    remedy_ja="所属課あてに通知し、利用目的等を報告させる",
    remedy_en="Notify the department and have it report the purpose of use",
    requires=(),
    sql=_sql,
)
