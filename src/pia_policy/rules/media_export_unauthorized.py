"""MEDIA_EXPORT_UNAUTHORIZED: copy to external media by an unauthorised person (権限のない者による外部媒体へのコピー)."""

from __future__ import annotations

from ._base import Rule, RuleContext

__all__ = ["RULE"]


def _sql(ctx: RuleContext) -> str:
    raise NotImplementedError("MEDIA_EXPORT_UNAUTHORIZED: detection not written yet")


RULE = Rule(
    id="MEDIA_EXPORT_UNAUTHORIZED",
    severity="critical",
    scope="event",
    basis="別添3 III-3 リスク3（外部媒体へのコピーはシステム責任者等に限定）",
    title_ja="権限のない者による外部媒体へのコピー",
    title_en="Copy to external media by an unauthorised person",
    remedy_ja="コピーした媒体を回収し、コピーの経緯と内容を調査する",
    remedy_en="Recover the media, and investigate what was copied and why",
    requires=(),
    sql=_sql,
)
