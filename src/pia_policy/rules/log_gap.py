"""LOG_GAP: gap in the log during business hours (業務時間中のログの欠落)."""

from __future__ import annotations

from ._base import Rule, RuleContext

__all__ = ["RULE"]


def _sql(ctx: RuleContext) -> str:
    raise NotImplementedError("LOG_GAP: detection not written yet")


RULE = Rule(
    id="LOG_GAP",
    severity="medium",
    scope="system",
    basis="別添3 III-3 リスク2 特定個人情報の使用の記録（ログを記録し定期的に確認）; 市の運用",
    title_ja="業務時間中のログの欠落",
    title_en="Gap in the log during business hours",
    remedy_ja="当該時間帯のログの欠落の原因（障害・停止・改ざん）を確認する",
    remedy_en="Find out why the log is missing for the period (outage, stop or tampering)",
    requires=(),
    sql=_sql,
)
