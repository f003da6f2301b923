"""LOG_SEQUENCE_GAP: missing or repeated log sequence numbers (ログの連番の欠番・重複)."""

from __future__ import annotations

from ._base import Rule, RuleContext

__all__ = ["RULE"]


def _sql(ctx: RuleContext) -> str:
    raise NotImplementedError("LOG_SEQUENCE_GAP: detection not written yet")


RULE = Rule(
    id="LOG_SEQUENCE_GAP",
    severity="high",
    scope="system",
    basis="別添3 III-3 リスク2 特定個人情報の使用の記録; 市の運用",
    title_ja="ログの連番の欠番・重複",
    title_en="Missing or repeated log sequence numbers",
    remedy_ja="欠番・重複の原因を確認し、ログの完全性を検証する",
    remedy_en="Find the cause of the missing or repeated numbers and verify the log's integrity",
    requires=(),
    sql=_sql,
)
