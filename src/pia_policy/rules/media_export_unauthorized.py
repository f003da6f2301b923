"""MEDIA_EXPORT_UNAUTHORIZED: copy to external media by an unauthorised person (権限のない者による外部媒体へのコピー)."""

from __future__ import annotations

from ._base import Rule, RuleContext
from ._portable import event_cols

__all__ = ["RULE"]


def _sql(ctx: RuleContext) -> str:
    """Candidate rows (DESIGN.md columns of this scope)."""
    return (
        f"SELECT {event_cols('e')} FROM ev e"
        " WHERE e.known AND NOT e.allowed AND e.deny_rule = 'MEDIA_EXPORT_UNAUTHORIZED'"
    )


RULE = Rule(
    id="MEDIA_EXPORT_UNAUTHORIZED",
    severity="critical",
    scope="event",
    basis=("別添3 III-3 リスク3（福祉システム:「外部媒体へのデータのコピーを行える者はシステム責任者等に限定し」）;"
           " 他システムへの適用は市の運用"),
    title_ja="権限のない者による外部媒体へのコピー",
    title_en="Copy to external media by an unauthorised person",
    remedy_ja="コピーした媒体を回収し、コピーの経緯と内容を調査する",
    remedy_en="Recover the media, and investigate what was copied and why",
    requires=('officers.csv',),
    sql=_sql,
)
