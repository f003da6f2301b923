"""ACCESS_AFTER_DEPARTURE: access after the holder left the department (異動・退職後のアクセス)."""

from __future__ import annotations

from ._base import Rule, RuleContext
from ._portable import departure_windows, event_cols, seconds

__all__ = ["RULE"]


def _sql(ctx: RuleContext) -> str:
    """Candidate rows (DESIGN.md columns of this scope)."""
    grace = seconds(float(ctx.params.get("departure_grace_hours", 0)) * 3600)
    return f"""
WITH {departure_windows()}
SELECT DISTINCT {event_cols('e')}
FROM ev e JOIN win w ON e.system = w.system AND e.account_id = w.account_id
WHERE e.known AND e.ts >= w.left_at + {grace} AND (w.back_at IS NULL OR e.ts < w.back_at)
"""


RULE = Rule(
    id="ACCESS_AFTER_DEPARTURE",
    severity="critical",
    scope="event",
    basis=("別添3 III-3 リスク2（「権限のない者（元職員、アクセス権限のない職員等）によって不正に使用されるリスク」）;"
           " 参考 別紙2 R5 不正目的の事案（運用保守業務従事者（元派遣社員）による持ち出し）"),
    title_ja="異動・退職後のアクセス",
    title_en="Access after the holder left the department",
    remedy_ja="当該IDを失効させ、異動・退職後の利用について所属長から報告を求める",
    remedy_en="Revoke the ID and ask the head of department to report on the use after departure",
    requires=(),
    sql=_sql,
)
