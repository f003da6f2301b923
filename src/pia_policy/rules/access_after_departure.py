"""ACCESS_AFTER_DEPARTURE: access after the holder left the department (異動・退職後のアクセス)."""

from __future__ import annotations

from ._base import Rule, RuleContext

__all__ = ["RULE"]


def _sql(ctx: RuleContext) -> str:
    raise NotImplementedError("ACCESS_AFTER_DEPARTURE: detection not written yet")


RULE = Rule(
    id="ACCESS_AFTER_DEPARTURE",
    severity="critical",
    scope="event",
    basis="別添3 III-3 リスク2（元職員等による不正使用）; 参考 別紙2 R5（元派遣社員による持ち出し）",
    title_ja="異動・退職後のアクセス",
    title_en="Access after the holder left the department",
    remedy_ja="当該IDを失効させ、異動・退職後の利用について所属長から報告を求める",
    remedy_en="Revoke the ID and ask the head of department to report on the use after departure",
    requires=(),
    sql=_sql,
)
