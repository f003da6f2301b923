"""TRANSFER_NOT_PERMITTED: transfer not permitted (許可されていない移転)."""

from __future__ import annotations

from ._base import Rule, RuleContext
from ._portable import event_cols

__all__ = ["RULE"]


def _sql(ctx: RuleContext) -> str:
    """Candidate rows (DESIGN.md columns of this scope)."""
    return (
        f"SELECT {event_cols('e')} FROM ev e"
        " WHERE e.known AND NOT e.allowed AND e.deny_rule = 'TRANSFER_NOT_PERMITTED'"
    )


RULE = Rule(
    id="TRANSFER_NOT_PERMITTED",
    severity="critical",
    scope="event",
    basis="別紙1（番号法第9条第2項、条例第3条第2項及び別表(第3条関係)）; 別添3 III-5 リスク1",
    title_ja="許可されていない移転",
    title_en="Transfer not permitted",
    remedy_ja="移転を停止し、移転先の閲覧権限を取り消して、移転の経緯を調査する",
    remedy_en="Stop the transfer, withdraw the recipient's access and investigate how it happened",
    requires=(),
    sql=_sql,
)
