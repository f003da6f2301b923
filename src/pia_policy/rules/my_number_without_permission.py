"""MY_NUMBER_WITHOUT_PERMISSION: my number use without the my number permission (個人番号利用事務の操作権限のない個人番号の利用)."""

from __future__ import annotations

from ._base import Rule, RuleContext
from ._portable import event_cols

__all__ = ["RULE"]


def _sql(ctx: RuleContext) -> str:
    """Candidate rows (DESIGN.md columns of this scope)."""
    return (
        f"SELECT {event_cols('e')} FROM ev e"
        " WHERE e.known AND NOT e.allowed AND e.deny_rule = 'MY_NUMBER_WITHOUT_PERMISSION'"
    )


RULE = Rule(
    id="MY_NUMBER_WITHOUT_PERMISSION",
    severity="critical",
    scope="event",
    basis=("別添3 III-3 リスク3（標準システム:「個人番号利用事務の操作権限が付与されていない職員等がログインした場合には、"
           "個人番号の表示、検索、更新ができない機能を設けている」）; 印刷を表示と同じ扱いとすること、他システムへの適用は市の運用"),
    title_ja="個人番号利用事務の操作権限のない個人番号の利用",
    title_en="My Number use without the My Number permission",
    remedy_ja="当該IDの権限設定を見直し、個人番号を利用した理由を所属長から報告させる",
    remedy_en="Review the ID's permissions and have the head of department report why My Number was used",
    requires=(),
    sql=_sql,
)
