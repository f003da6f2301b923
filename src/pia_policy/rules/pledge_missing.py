"""PLEDGE_MISSING: use by a non-regular or other department's user without a signed pledge (誓約書のない利用)."""

from __future__ import annotations

from ._base import Rule, RuleContext
from ._portable import event_cols

__all__ = ["RULE"]


def _sql(ctx: RuleContext) -> str:
    """Events of users who must pledge (non-regular staff, staff of a non-holder department; not
    contractors, whose duties are in their contract) with no pledge signed at or before the event."""
    return f"""
SELECT {event_cols('e')}
FROM ev e
LEFT JOIN holder_departments h ON h.department = e.department
LEFT JOIN pledges p ON p.person_id = e.person_id AND p.signed_at <= e.ts
WHERE e.known AND COALESCE(e.employment, 'regular') <> 'contractor'
  AND (e.employment = 'non_regular' OR h.department IS NULL)
  AND p.person_id IS NULL
"""


RULE = Rule(
    id="PLEDGE_MISSING",
    severity="medium",
    scope="independent",
    basis=("別添3 III-3 リスク3（福祉システム:「利用者（非正規職員・他課の職員等）は、業務上知り得た情報の業務外利用の"
           "禁止に関する条項を含む遵守事項について誓約書に署名し、所属長等あてに提出する。」）;"
           " 他システムへの適用と、署名日以後の利用に限ることは市の運用"),
    title_ja="誓約書の提出がない利用者による利用",
    title_en="Use by a user who must pledge and has not",
    remedy_ja="利用を止め、誓約書に署名させて所属長等あてに提出させる",
    remedy_en="Stop the use and have the user sign the pledge and submit it to the head of the department",
    requires=("pledges.csv",),
    sql=_sql,
)
