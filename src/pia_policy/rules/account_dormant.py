"""ACCOUNT_DORMANT: dormant account (長期間使用されていないID)."""

from __future__ import annotations

from ._base import Rule, RuleContext

__all__ = ["RULE"]


def _sql(ctx: RuleContext) -> str:
    raise NotImplementedError("ACCOUNT_DORMANT: detection not written yet")


RULE = Rule(
    id="ACCOUNT_DORMANT",
    severity="low",
    scope="account",
    basis="別添3 III-3 リスク2 アクセス権限の発効・失効の管理",
    title_ja="長期間使用されていないID",
    title_en="Dormant account",
    remedy_ja="所属課に利用の要否を確認し、不要なIDを失効させる",
    remedy_en="Ask the department whether the ID is still needed and revoke it if not",
    requires=(),
    sql=_sql,
)
