"""TRANSFER_METHOD_NOT_PERMITTED: transfer by a method not permitted (許可されていない方法による移転)."""

from __future__ import annotations

from ._base import Rule, RuleContext
from ._portable import event_cols

__all__ = ["RULE"]


def _sql(ctx: RuleContext) -> str:
    """Candidate rows (DESIGN.md columns of this scope)."""
    return (
        f"SELECT {event_cols('e')} FROM ev e"
        " WHERE e.known AND NOT e.allowed AND e.deny_rule = 'TRANSFER_METHOD_NOT_PERMITTED'"
    )


RULE = Rule(
    id="TRANSFER_METHOD_NOT_PERMITTED",
    severity="high",
    scope="event",
    basis="別紙1 移転方法「福祉システム内」; 別添3 III-5 リスク2（「福祉システム内のアクセス権限を付与することにより行う。」）",
    title_ja="許可されていない方法による移転",
    title_en="Transfer by a method not permitted",
    remedy_ja="福祉システム内以外の方法による移転を中止させ、移転したデータの回収・消去を確認する",
    remedy_en="Stop transfers outside the welfare system and confirm the data sent is returned or erased",
    requires=(),
    sql=_sql,
)
