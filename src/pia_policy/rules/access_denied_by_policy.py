"""ACCESS_DENIED_BY_POLICY: operation the policy does not allow (ポリシーで許可されていない操作)."""

from __future__ import annotations

from ._base import Rule, RuleContext

__all__ = ["RULE"]


def _sql(ctx: RuleContext) -> str:
    raise NotImplementedError("ACCESS_DENIED_BY_POLICY: detection not written yet")


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
