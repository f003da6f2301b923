"""TRANSFER_WITHOUT_CONSULTATION: a permitted transfer before the 事前協議 with the recipient (事前協議のない移転)."""

from __future__ import annotations

from ._base import Rule, RuleContext
from ._portable import event_cols

__all__ = ["RULE"]


def _sql(ctx: RuleContext) -> str:
    """Allowed transfers (a ``transfer`` event, or a non-holder account's access: SPEC §4 readings)
    whose (recipient department, purpose) pair had no consultation agreed at or before the event."""
    return f"""
SELECT {event_cols('e')}
FROM ev e
LEFT JOIN holder_departments h ON h.department = e.department
LEFT JOIN consultations c
  ON c.recipient_department = CASE WHEN e.action = 'transfer' THEN e.recipient_department ELSE e.department END
 AND c.purpose = e.affair AND c.agreed_at <= e.ts
WHERE e.known AND e.allowed AND e.resource IS NOT NULL AND e.action NOT IN ('login', 'logout')
  AND (e.action = 'transfer' OR (h.department IS NULL AND COALESCE(e.employment, 'regular') <> 'contractor'))
  AND c.purpose IS NULL
"""


RULE = Rule(
    id="TRANSFER_WITHOUT_CONSULTATION",
    severity="high",
    scope="event",
    basis=("別添3 III-5 リスク1 ルール内容及びルール遵守の確認方法（「庁内への移転については、番号法関連法令及び"
           "番号利用条例に照らし、定められた事務についてのみ行うこととし、その際には、事前にデータ利用について"
           "移転先と協議を行う。」）"),
    title_ja="事前協議のない移転",
    title_en="Transfer before the prior consultation with the recipient",
    remedy_ja="移転先との事前協議の記録を確認し、協議が済むまで移転先の閲覧権限を停止する",
    remedy_en="Check the record of the prior consultation and suspend the recipient's access until it is done",
    requires=("consultations.csv",),
    sql=_sql,
)
