"""MY_NUMBER_OUTSIDE_AFFAIR: my number use outside the listed affairs (個人番号利用事務以外での個人番号の利用)."""

from __future__ import annotations

from ._base import Rule, RuleContext
from ._portable import event_cols

__all__ = ["RULE"]


def _sql(ctx: RuleContext) -> str:
    """Candidate rows (DESIGN.md columns of this scope)."""
    return (
        f"SELECT {event_cols('e')} FROM ev e"
        " WHERE e.known AND NOT e.allowed AND e.deny_rule = 'MY_NUMBER_OUTSIDE_AFFAIR'"
    )


RULE = Rule(
    id="MY_NUMBER_OUTSIDE_AFFAIR",
    severity="high",
    scope="event",
    basis="別添3 I-1② 個人番号を利用する事務",
    title_ja="個人番号利用事務以外での個人番号の利用",
    title_en="My Number use outside the listed affairs",
    remedy_ja="利用した事務と目的を確認し、評価書に記載のない事務での利用を中止させる",
    remedy_en="Confirm the affair and purpose, and stop use in affairs the assessment does not list",
    requires=(),
    sql=_sql,
)
