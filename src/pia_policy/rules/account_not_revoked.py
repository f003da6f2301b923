"""ACCOUNT_NOT_REVOKED: account not revoked after the holder left (異動・退職後に失効していないID)."""

from __future__ import annotations

from ._base import Rule, RuleContext
from ._portable import days, departure_windows, ts

__all__ = ["RULE"]


def _sql(ctx: RuleContext) -> str:
    """Candidate rows (DESIGN.md columns of this scope)."""
    audit = ts(ctx.as_of_utc)
    grace = days(int(ctx.params.get("revocation_grace_days", 7)))
    return f"""
WITH {departure_windows(audit)}
SELECT DISTINCT a.system, a.account_id
FROM accounts a JOIN win w ON w.system = a.system AND w.account_id = a.account_id
WHERE (a.revoked_at IS NULL OR a.revoked_at > {audit})
  AND (a.expires_at IS NULL OR a.expires_at > {audit})
  AND w.back_at IS NULL AND w.left_at + {grace} < {audit}
"""


RULE = Rule(
    id="ACCOUNT_NOT_REVOKED",
    severity="high",
    scope="account",
    basis=("別添3 III-3 リスク2 アクセス権限の発効・失効の管理（失効管理:「権限を有していた職員の異動／退職が生じた際には"
           "アクセス権限を更新し、当該ユーザIDを失効させる。」）; 7日の猶予は市の運用"),
    title_ja="異動・退職後に失効していないID",
    title_en="Account not revoked after the holder left",
    remedy_ja="当該IDを失効させる",
    remedy_en="Revoke the ID",
    requires=(),
    sql=_sql,
)
