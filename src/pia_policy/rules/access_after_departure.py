"""ACCESS_AFTER_DEPARTURE: access after the holder left the department (異動・退職後のアクセス)."""

from __future__ import annotations

from ._base import Rule, RuleContext
from ._portable import event_cols, seconds

__all__ = ["RULE"]


def _sql(ctx: RuleContext) -> str:
    """Candidate rows (DESIGN.md columns of this scope)."""
    grace = seconds(float(ctx.params.get("departure_grace_hours", 0)) * 3600)
    return f"""
WITH lv AS (
  SELECT DISTINCT a.system, a.account_id, a.department, p.person_id, p.effective_at AS left_at
  FROM accounts a JOIN personnel p ON p.person_id = a.person_id
  WHERE p.event IN ('transfer', 'retire', 'contract_end')
    AND (p.from_department = a.department OR (p.from_department IS NULL AND p.event <> 'transfer'))
), win AS (
  SELECT lv.system, lv.account_id, lv.left_at, MIN(r.effective_at) AS back_at
  FROM lv LEFT JOIN personnel r
    ON r.person_id = lv.person_id AND r.to_department = lv.department
   AND r.event IN ('hire', 'transfer') AND r.effective_at > lv.left_at
  GROUP BY lv.system, lv.account_id, lv.left_at
)
SELECT DISTINCT {event_cols('e')}
FROM ev e JOIN win w ON e.system = w.system AND e.account_id = w.account_id
WHERE e.known AND e.ts >= w.left_at + {grace} AND (w.back_at IS NULL OR e.ts < w.back_at)
"""


RULE = Rule(
    id="ACCESS_AFTER_DEPARTURE",
    severity="critical",
    scope="event",
    basis="別添3 III-3 リスク2（元職員等による不正使用）; 参考 別紙2 R5（元派遣社員による持ち出し）",
    title_ja="異動・退職後のアクセス",
    title_en="Access after the holder left the department",
    remedy_ja="当該IDを失効させ、異動・退職後の利用について所属長から報告を求める",
    remedy_en="Revoke the ID and ask the head of department to report on the use after departure",
    requires=(),
    sql=_sql,
)
