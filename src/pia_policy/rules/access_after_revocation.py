"""ACCESS_AFTER_REVOCATION: access after revocation or expiry (失効・期限切れ後のアクセス)."""

from __future__ import annotations

from ._base import Rule, RuleContext
from ._portable import event_cols

__all__ = ["RULE"]


def _sql(ctx: RuleContext) -> str:
    """Candidate rows (DESIGN.md columns of this scope)."""
    return (
        f"SELECT {event_cols('e')} FROM ev e WHERE e.known AND ("
        "(e.revoked_at IS NOT NULL AND e.ts >= e.revoked_at)"
        " OR (e.expires_at IS NOT NULL AND e.ts >= e.expires_at))"
    )


RULE = Rule(
    id="ACCESS_AFTER_REVOCATION",
    severity="critical",
    scope="event",
    basis="別添3 III-3 リスク2 アクセス権限の発効・失効の管理（失効管理）",
    title_ja="失効・期限切れ後のアクセス",
    title_en="Access after revocation or expiry",
    remedy_ja="失効処理がシステムに反映されているか確認し、当該IDを停止して利用者に事情を確認する",
    remedy_en="Check that the revocation took effect in the system, disable the ID and ask the user why it was used",
    requires=(),
    sql=_sql,
)
