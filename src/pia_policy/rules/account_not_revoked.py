"""ACCOUNT_NOT_REVOKED: account not revoked after the holder left (異動・退職後に失効していないID)."""

from __future__ import annotations

from ._base import Rule, RuleContext

__all__ = ["RULE"]


def _sql(ctx: RuleContext) -> str:
    raise NotImplementedError("ACCOUNT_NOT_REVOKED: detection not written yet")


RULE = Rule(
    id="ACCOUNT_NOT_REVOKED",
    severity="high",
    scope="account",
    basis="別添3 III-3 リスク2 アクセス権限の発効・失効の管理（失効管理）",
    title_ja="異動・退職後に失効していないID",
    title_en="Account not revoked after the holder left",
    remedy_ja="当該IDを失効させる",
    remedy_en="Revoke the ID",
    requires=(),
    sql=_sql,
)
