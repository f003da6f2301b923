"""LONG_SESSION: long session (長時間のログオン継続)."""

from __future__ import annotations

from ._base import Rule, RuleContext

__all__ = ["RULE"]


def _sql(ctx: RuleContext) -> str:
    raise NotImplementedError("LONG_SESSION: detection not written yet")


RULE = Rule(
    id="LONG_SESSION",
    severity="medium",
    scope="independent",
    basis="別添3 III-3 リスク2 特定個人情報の使用の記録（一定時間ログオンを継続した者）",
    title_ja="長時間のログオン継続",
    title_en="Long session",
    remedy_ja="所属課あてに通知し、利用目的等を報告させる",
    remedy_en="Notify the department and have it report the purpose of use",
    requires=(),
    sql=_sql,
)
