"""ACCOUNT_ISSUER_INVALID: account issued or approved improperly (発効手続が正しくないID)."""

from __future__ import annotations

from ._base import Rule, RuleContext

__all__ = ["RULE"]


def _sql(ctx: RuleContext) -> str:
    raise NotImplementedError("ACCOUNT_ISSUER_INVALID: detection not written yet")


RULE = Rule(
    id="ACCOUNT_ISSUER_INVALID",
    severity="medium",
    scope="account",
    basis="別添3 III-3 リスク2 アクセス権限の発効・失効の管理（発効管理）; 自己発効の禁止は市の運用",
    title_ja="発効手続が正しくないID",
    title_en="Account issued or approved improperly",
    remedy_ja="発効の手続を確認し、正しい発効者・承認者による再発効を行う",
    remedy_en="Check the issuing procedure and have the ID re-issued by the right issuer or approver",
    requires=('officers.csv',),
    sql=_sql,
)
