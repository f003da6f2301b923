"""MEDIA_EXPORT_UNRECORDED: copy to external media without a record (記録のない外部媒体へのコピー)."""

from __future__ import annotations

from ._base import Rule, RuleContext
from ._portable import event_cols

__all__ = ["RULE"]


def _sql(ctx: RuleContext) -> str:
    """Candidate rows (DESIGN.md columns of this scope)."""
    return (
        f"SELECT {event_cols('e')} FROM ev e WHERE e.known AND e.action = 'export' AND e.allowed"
        " AND (e.record_ref IS NULL OR e.record_ref = '')"
    )


RULE = Rule(
    id="MEDIA_EXPORT_UNRECORDED",
    severity="medium",
    scope="event",
    basis="別添3 III-3 リスク3（福祉システム:「コピーした時の記録を保管する。」）; 他システムへの適用と record_ref による確認は市の運用",
    title_ja="記録のない外部媒体へのコピー",
    title_en="Copy to external media without a record",
    remedy_ja="コピーの記録を作成・保管させる",
    remedy_en="Have the copy recorded and the record kept",
    requires=('officers.csv',),
    sql=_sql,
)
