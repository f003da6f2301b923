"""ACCESS_DENIED_BY_POLICY: operation the policy does not allow (ポリシーで許可されていない操作)."""

from __future__ import annotations

from ._base import Rule, RuleContext
from ._portable import event_cols

__all__ = ["RULE"]

#: Denials the policy charges to a more specific rule (DESIGN.md, Decision.rule).
_DECISION_RULES = (
    "MY_NUMBER_WITHOUT_PERMISSION",
    "MY_NUMBER_OUTSIDE_AFFAIR",
    "TRANSFER_NOT_PERMITTED",
    "TRANSFER_METHOD_NOT_PERMITTED",
    "MEDIA_EXPORT_UNAUTHORIZED",
)


def _sql(ctx: RuleContext) -> str:
    """Candidate rows (DESIGN.md columns of this scope)."""
    others = ", ".join(f"'{r}'" for r in _DECISION_RULES)
    # An event when no policy version is in force (before the first one, or in a gap a city left)
    # is not allowed by any policy line: default deny. Only login/logout need no policy.
    return (
        f"SELECT {event_cols('e')} FROM ev e WHERE e.known AND ("
        f"(NOT e.allowed AND (e.deny_rule IS NULL OR e.deny_rule NOT IN ({others})))"
        " OR (e.version IS NULL AND e.action NOT IN ('login', 'logout')))"
    )


RULE = Rule(
    id="ACCESS_DENIED_BY_POLICY",
    severity="high",
    scope="event",
    basis="別添3 III-3 特定個人情報ファイルの使用",
    title_ja="ポリシーで許可されていない操作",
    title_en="Operation the policy does not allow",
    remedy_ja="当該操作の業務上の必要性を確認し、権限設定を見直す",
    remedy_en="Confirm the business need for the operation and review the permissions",
    requires=(),
    sql=_sql,
)
