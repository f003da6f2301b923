"""TERMINAL_NOT_AUTHORIZED: access from an unregistered terminal or one outside the business departments (未登録または業務担当課以外の端末からのアクセス)."""

from __future__ import annotations

from ._base import Rule, RuleContext
from ._portable import event_cols

__all__ = ["RULE"]


def _sql(ctx: RuleContext) -> str:
    """Candidate rows (DESIGN.md columns of this scope)."""
    return f"""
WITH ok AS (
  SELECT DISTINCT t.terminal_id FROM terminals t JOIN business_departments b ON b.department = t.department
)
SELECT {event_cols('e')}
FROM ev e LEFT JOIN ok ON ok.terminal_id = e.terminal_id
WHERE e.terminal_id IS NOT NULL AND e.terminal_id <> '' AND ok.terminal_id IS NULL
"""


RULE = Rule(
    id="TERMINAL_NOT_AUTHORIZED",
    severity="high",
    scope="independent",
    basis="別添3 III-3 リスク3（福祉システム:「業務担当課以外の部署には、端末を設置しない。」）; 他システムへの適用は市の運用",
    title_ja="未登録または業務担当課以外の端末からのアクセス",
    title_en="Access from an unregistered terminal or one outside the business departments",
    remedy_ja="端末の設置場所を確認し、業務担当課以外の端末を撤去する",
    remedy_en="Check where the terminal is and remove terminals outside the business departments",
    requires=('terminals.csv',),
    sql=_sql,
)
