"""ACCOUNT_ISSUER_INVALID: account issued or approved improperly (発効手続が正しくないID)."""

from __future__ import annotations

from ._base import Rule, RuleContext

__all__ = ["RULE"]


def _sql(ctx: RuleContext) -> str:
    """Candidate rows (DESIGN.md columns of this scope)."""
    return """
WITH fk_ok AS (
  SELECT DISTINCT a.file, a.line FROM accounts a JOIN officers o
    ON o.system = a.system AND o.role = 'system_owner' AND o.person_id = a.issued_by
   AND (a.issued_at IS NULL OR (o.from_at <= a.issued_at AND (o.to_at IS NULL OR a.issued_at < o.to_at)))
  WHERE a.system = 'fukushi'
), hy_ok AS (
  SELECT DISTINCT a.file, a.line FROM accounts a JOIN officers o
    ON o.system = a.system AND o.role = 'info_system_manager' AND o.person_id = a.approved_by
   AND (a.issued_at IS NULL OR (o.from_at <= a.issued_at AND (o.to_at IS NULL OR a.issued_at < o.to_at)))
  WHERE a.system = 'hyojun'
)
SELECT DISTINCT a.system, a.account_id
FROM accounts a
LEFT JOIN fk_ok ON fk_ok.file = a.file AND fk_ok.line = a.line
LEFT JOIN hy_ok ON hy_ok.file = a.file AND hy_ok.line = a.line
WHERE (a.system = 'fukushi' AND fk_ok.line IS NULL)
   OR (a.system = 'hyojun' AND hy_ok.line IS NULL)
   OR (a.system = 'gyomu_kyotsu' AND a.employment = 'non_regular'
       AND (a.request_ref IS NULL OR a.request_ref = ''))
   OR (a.person_id IS NOT NULL AND (a.issued_by = a.person_id OR a.approved_by = a.person_id))
"""


RULE = Rule(
    id="ACCOUNT_ISSUER_INVALID",
    severity="medium",
    scope="account",
    basis="別添3 III-3 リスク2 アクセス権限の発効・失効の管理（発効管理）; 自己発効の禁止は市の運用",
    title_ja="発効手続が正しくないID",
    title_en="Account issued or approved improperly",
    remedy_ja="発効の手続を確認し、正しい発効者・承認者によりIDを発行し直す",
    remedy_en="Check the issuing procedure and have the right issuer or approver issue the ID again",
    requires=('officers.csv',),
    sql=_sql,
)
