"""CONTRACTOR_WITHOUT_APPROVAL: contractor access without approval and witness (許可・立会のない委託先アクセス)."""

from __future__ import annotations

from ._base import Rule, RuleContext
from ._portable import event_cols

__all__ = ["RULE"]


def _sql(ctx: RuleContext) -> str:
    """Candidate rows (DESIGN.md columns of this scope)."""
    return f"""
SELECT {event_cols('e')}
FROM ev e LEFT JOIN approvals ap
  ON ap.account_id = e.account_id AND ap.from_at <= e.ts AND (ap.to_at IS NULL OR e.ts < ap.to_at)
 AND ap.approved_by IS NOT NULL AND ap.approved_by <> '' AND ap.witness IS NOT NULL AND ap.witness <> ''
WHERE e.known AND e.employment = 'contractor' AND ap.approval_id IS NULL
"""


RULE = Rule(
    id="CONTRACTOR_WITHOUT_APPROVAL",
    severity="high",
    scope="event",
    basis="別添3 III-4 特定個人情報ファイルの閲覧者・更新者の制限（許可と立会）",
    title_ja="許可・立会のない委託先アクセス",
    title_en="Contractor access without approval and witness",
    remedy_ja="委託先に作業内容を報告させ、許可と立会の記録を確認する",
    remedy_en="Have the contractor report the work done and check the approval and witness records",
    requires=('approvals.csv',),
    sql=_sql,
)
