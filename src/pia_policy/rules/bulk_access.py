"""BULK_ACCESS: access to an unusual number of people's records (大量の個人の記録へのアクセス)."""

from __future__ import annotations

from ._base import Rule, RuleContext
from ._portable import event_cols, jst_day

__all__ = ["RULE"]


def _sql(ctx: RuleContext) -> str:
    """Candidate rows (DESIGN.md columns of this scope)."""
    limit = int(ctx.params.get("bulk_subjects", 500))
    return f"""
WITH d AS (
  SELECT system, account_id, {jst_day('ts')} AS day
  FROM ev WHERE subject_id IS NOT NULL AND subject_id <> ''
  GROUP BY system, account_id, {jst_day('ts')}
  HAVING COUNT(DISTINCT subject_id) > {limit}
)
SELECT {event_cols('e')}
FROM ev e JOIN d ON e.system = d.system AND e.account_id = d.account_id AND {jst_day('e.ts')} = d.day
WHERE e.subject_id IS NOT NULL AND e.subject_id <> ''
"""


RULE = Rule(
    id="BULK_ACCESS",
    severity="high",
    scope="independent",
    basis=("別添3 III-3 リスク3（従業者が事務外で使用するリスク）; 参考 別紙2 R5 不正目的の事案（「コールセンタシステムの"
           "運用保守業務従事者（元派遣社員）が顧客データが保管されているサーバにアクセスし、不正に約5万人の個人情報を"
           "持ち出していた」）; 500人/日の閾値は市の運用"),
    title_ja="大量の個人の記録へのアクセス",
    title_en="Access to an unusual number of people's records",
    remedy_ja="アクセスした記録と業務内容を照合し、事務外の利用がないか所属長に確認する",
    remedy_en="Match the records touched against the work done and have the head of department confirm no use outside the affairs",
    requires=(),
    sql=_sql,
)
