"""LOG_RETENTION_SHORT: the log archive does not cover the last 5 years (ログの5年間保存の欠落)."""

from __future__ import annotations

from ._base import Rule, RuleContext
from ._portable import ts

__all__ = ["RULE", "retention_gaps"]


def retention_gaps(ctx: RuleContext) -> str:
    """``(system, gap_from, gap_to)``: each stretch of ``[audit time - N years, audit time)`` that no
    ``log_archive`` row of the system covers (``from`` <= t < ``to``), for every system with events
    or archive rows. N is ``retention_years`` (default 5)."""
    years = int(ctx.params.get("retention_years", 5))
    audit = ts(ctx.as_of_utc)
    need = f"({audit} - INTERVAL '{years}' YEAR)"
    return f"""
WITH systems AS (
  SELECT DISTINCT system FROM events UNION SELECT DISTINCT system FROM log_archive
), seg AS (
  SELECT system, GREATEST(from_at, {need}) AS s, LEAST(to_at, {audit}) AS t FROM log_archive
  WHERE to_at > {need} AND from_at < {audit} AND to_at > from_at
), ordered AS (
  SELECT system, s, t, MAX(t) OVER (PARTITION BY system ORDER BY s, t
                                    ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS reach
  FROM seg
), inner_gaps AS (
  SELECT system, COALESCE(reach, {need}) AS gap_from, s AS gap_to FROM ordered
  WHERE s > COALESCE(reach, {need})
), tail AS (
  SELECT y.system, COALESCE(MAX(o.t), {need}) AS gap_from, {audit} AS gap_to
  FROM systems y LEFT JOIN seg o ON o.system = y.system
  GROUP BY y.system HAVING COALESCE(MAX(o.t), {need}) < {audit}
)
SELECT system, gap_from, gap_to FROM inner_gaps UNION ALL SELECT system, gap_from, gap_to FROM tail"""


def _sql(ctx: RuleContext) -> str:
    """One row per uncovered stretch (system scope: no evidence lines, event_count 0)."""
    return f"""
SELECT g.system, CAST(NULL AS VARCHAR) AS file, CAST(NULL AS INTEGER) AS file_idx, CAST(NULL AS BIGINT) AS line,
       CAST(NULL AS VARCHAR) AS event_id, g.gap_from AS first_ts, g.gap_to AS last_ts, 0 AS event_count
FROM ({retention_gaps(ctx)}) g
"""


RULE = Rule(
    id="LOG_RETENTION_SHORT",
    severity="medium",
    scope="system",
    basis=("別添3 III-4 特定個人情報ファイルの取扱いの記録（「上記システムアクセスログ及びアプリケーションアクセスログの"
           "保管期間は、千葉市公文書管理規則に準じ5年間保存する。」）; 全システムへの適用と log_archive.csv による確認は市の運用"),
    title_ja="ログの保存期間（5年間）の欠落",
    title_en="The log archive does not cover the last 5 years",
    remedy_ja="欠落期間のログの所在を確認し、保存されていない場合は原因と対策を記録する",
    remedy_en="Find the logs of the missing period; if they are lost, record why and what is done about it",
    requires=("log_archive.csv",),
    sql=_sql,
)
