"""ACCOUNT_DORMANT: dormant account (長期間使用されていないID)."""

from __future__ import annotations

from ._base import Rule, RuleContext
from ._portable import days, ts

__all__ = ["RULE"]


def _sql(ctx: RuleContext) -> str:
    """Candidate rows (DESIGN.md columns of this scope)."""
    audit = ts(ctx.as_of_utc)
    cutoff = f"{audit} - {days(int(ctx.params.get('dormant_days', 90)))}"
    return f"""
WITH ll AS (
  SELECT system, account_id, MAX(ts) AS last_ts FROM ev WHERE action = 'login' GROUP BY system, account_id
), a AS (
  SELECT a.system, a.account_id, a.issued_at,
         CASE WHEN ll.last_ts IS NULL THEN a.last_login_at
              WHEN a.last_login_at IS NULL OR ll.last_ts > a.last_login_at THEN ll.last_ts
              ELSE a.last_login_at END AS last_login
  FROM accounts a LEFT JOIN ll ON ll.system = a.system AND ll.account_id = a.account_id
  WHERE (a.revoked_at IS NULL OR a.revoked_at > {audit}) AND (a.expires_at IS NULL OR a.expires_at > {audit})
)
SELECT DISTINCT system, account_id FROM a
WHERE (last_login IS NOT NULL AND last_login < {cutoff})
   OR (last_login IS NULL AND issued_at IS NOT NULL AND issued_at < {cutoff})
"""


RULE = Rule(
    id="ACCOUNT_DORMANT",
    severity="low",
    scope="account",
    basis="市の運用（評価書に定めなし。90日の閾値を含む）; 関連: 別添3 III-3 リスク2 アクセス権限の発効・失効の管理",
    title_ja="長期間使用されていないID",
    title_en="Dormant account",
    remedy_ja="所属課に利用の要否を確認し、不要なIDを失効させる",
    remedy_en="Ask the department whether the ID is still needed and revoke it if not",
    requires=(),
    sql=_sql,
)
