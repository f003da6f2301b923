"""LONG_SESSION: long session (長時間のログオン継続)."""

from __future__ import annotations

from ._base import Rule, RuleContext
from ._portable import seconds, ts

__all__ = ["RULE"]


def _sql(ctx: RuleContext) -> str:
    """Candidate rows (DESIGN.md columns of this scope).

    Each login ends at the first logout of its (system, account_id, session_id) at or after it,
    found in one sorted pass: logins and logouts ordered by time (a login before a logout of the
    same instant), the minimum logout time over the rows that follow. Linear in the events after
    the sort, however many sessions share one ``session_id`` (a self-join was quadratic). A login
    without ``session_id`` never pairs: it lasts until the audit time.
    """
    limit = seconds(float(ctx.params.get("session_hours", 10)) * 3600)
    return f"""
WITH se AS (
  SELECT system, account_id, session_id, file, file_idx, line, event_id, ts,
         CASE WHEN action = 'login' THEN 0 ELSE 1 END AS kind
  FROM ev WHERE action IN ('login', 'logout')
), s AS (
  SELECT se.*,
         MIN(CASE WHEN kind = 1 THEN ts END) OVER (
           PARTITION BY system, account_id, session_id ORDER BY ts, kind
           ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING) AS end_ts
  FROM se
)
SELECT system, account_id, file, file_idx, line, event_id, ts FROM s
WHERE kind = 0
  AND COALESCE(CASE WHEN session_id IS NOT NULL THEN end_ts END, {ts(ctx.as_of_utc)}) > ts + {limit}
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
