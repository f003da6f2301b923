"""UNKNOWN_ACCOUNT: access by an account not in the ledger (台帳にないIDによるアクセス)."""

from __future__ import annotations

from ._base import Rule, RuleContext
from ._portable import event_cols

__all__ = ["RULE"]


def _sql(ctx: RuleContext) -> str:
    """Candidate rows (DESIGN.md columns of this scope)."""
    return f"SELECT {event_cols('e')} FROM ev e WHERE NOT e.known"


RULE = Rule(
    id="UNKNOWN_ACCOUNT",
    severity="critical",
    scope="event",
    basis="別添3 III-3 リスク2 アクセス権限の発効・失効の管理（発効管理）",
    title_ja="台帳にないIDによるアクセス",
    title_en="Access by an account not in the ledger",
    remedy_ja="当該IDの発効経緯を確認し、台帳に登録されていないIDは直ちに停止する",
    remedy_en="Find out how the ID was issued; disable any ID missing from the ledger at once",
    requires=(),
    sql=_sql,
)
