"""TERMINAL_NOT_AUTHORIZED: access from an unregistered terminal or one outside the business departments (未登録または業務担当課以外の端末からのアクセス)."""

from __future__ import annotations

from ._base import Rule, RuleContext

__all__ = ["RULE"]


def _sql(ctx: RuleContext) -> str:
    raise NotImplementedError("TERMINAL_NOT_AUTHORIZED: detection not written yet")


RULE = Rule(
    id="TERMINAL_NOT_AUTHORIZED",
    severity="high",
    scope="independent",
    basis="別添3 III-3 リスク3（業務担当課以外の部署には端末を設置しない）",
    title_ja="未登録または業務担当課以外の端末からのアクセス",
    title_en="Access from an unregistered terminal or one outside the business departments",
    remedy_ja="端末の設置場所を確認し、業務担当課以外の端末を撤去する",
    remedy_en="Check where the terminal is and remove terminals outside the business departments",
    requires=('terminals.csv',),
    sql=_sql,
)
