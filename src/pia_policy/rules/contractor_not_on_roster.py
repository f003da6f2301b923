"""CONTRACTOR_NOT_ON_ROSTER: a contractor event by a person not reported as a worker (報告のない作業者による作業)."""

from __future__ import annotations

from ._base import Rule, RuleContext
from ._portable import event_cols

__all__ = ["RULE"]


def _sql(ctx: RuleContext) -> str:
    """Events of contractor accounts whose holder is on no roster row covering the event
    (``from`` <= ts < ``to``; an empty ``to`` is open-ended)."""
    return f"""
SELECT {event_cols('e')}
FROM ev e
LEFT JOIN contractor_roster r
  ON r.person_id = e.person_id AND r.from_at <= e.ts AND (r.to_at IS NULL OR e.ts < r.to_at)
WHERE e.known AND e.employment = 'contractor' AND r.person_id IS NULL
"""


RULE = Rule(
    id="CONTRACTOR_NOT_ON_ROSTER",
    severity="high",
    scope="independent",
    basis=("別添3 III-4 特定個人情報ファイルの閲覧者・更新者の制限（「管理者・作業者を報告させる」;"
           " 区政事務センター業務委託「委託先から委託元へ管理者及び情報の閲覧・更新を行う作業者を報告させる」）"),
    title_ja="報告のない作業者による委託先の作業",
    title_en="Contractor work by a person not on the reported roster",
    remedy_ja="委託先に作業者の報告を求め、報告のない者の作業を止めて作業内容を確認する",
    remedy_en="Have the contractor report its workers; stop and review work by anyone not reported",
    requires=("contractor_roster.csv",),
    sql=_sql,
)
