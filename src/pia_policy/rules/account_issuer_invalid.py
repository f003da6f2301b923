"""ACCOUNT_ISSUER_INVALID: account issued or approved improperly (発効手続が正しくないID).

The rule knows no system: it asks the compiled issuance policy (``policies/issuance.csv``,
loaded as the relation ``issuance_lines``) the question of every ledger row, in SQL.
"""

from __future__ import annotations

from ._base import Rule, RuleContext

__all__ = ["RULE", "ISSUANCE_LINES_COLUMNS", "issuance_judgement"]

#: The relation the engine loads the issuance policy into (one row per line of issuance.csv).
ISSUANCE_LINES_COLUMNS: tuple[str, ...] = ("l_sys", "l_act", "l_emp", "l_by", "l_appr", "l_req", "l_self",
                                           "l_id", "l_eft")


def issuance_judgement(requests: str) -> str:
    """``(k, allowed)`` for a relation ``requests(k, sys, act, emp, by_role, appr_role, req, self_issue)``
    holding one row per Casbin request tuple of question ``k``: allowed (1) when some tuple has an
    allow line matching and no deny line matching (the issuance model's effect), else 0."""
    match = " AND ".join(
        f"(l.{col} = '*' OR l.{col} = r.{field})"
        for col, field in (("l_sys", "sys"), ("l_emp", "emp"), ("l_by", "by_role"), ("l_appr", "appr_role"),
                           ("l_req", "req"), ("l_self", "self_issue"))
    )
    return f"""
SELECT q.k, MAX(CASE WHEN q.allow_n > 0 AND q.deny_n = 0 THEN 1 ELSE 0 END) AS allowed FROM (
  SELECT r.k, r.by_role, r.appr_role,
         SUM(CASE WHEN l.l_eft = 'allow' THEN 1 ELSE 0 END) AS allow_n,
         SUM(CASE WHEN l.l_eft = 'deny' THEN 1 ELSE 0 END) AS deny_n
  FROM {requests} r LEFT JOIN issuance_lines l ON l.l_act = r.act AND {match}
  GROUP BY r.k, r.by_role, r.appr_role
) q GROUP BY q.k"""


def _roles(person_col: str) -> str:
    """Officer roles the person in ``person_col`` holds on the account's system at ``issued_at``."""
    return f"""SELECT a.file, a.line, o.role FROM accounts a JOIN officers o
    ON o.system = a.system AND o.person_id = a.{person_col}
   AND (a.issued_at IS NULL OR (o.from_at <= a.issued_at AND (o.to_at IS NULL OR a.issued_at < o.to_at)))"""


def _sql(ctx: RuleContext) -> str:
    """Candidate rows (DESIGN.md columns of this scope)."""
    return f"""
WITH iss_by AS ({_roles('issued_by')}
), iss_appr AS ({_roles('approved_by')}
), iss_req AS (
  SELECT DISTINCT CONCAT(a.file, '#', CAST(a.line AS VARCHAR)) AS k, a.system AS sys, 'issue' AS act,
         COALESCE(a.employment, 'regular') AS emp, COALESCE(b.role, '') AS by_role,
         COALESCE(p.role, '') AS appr_role,
         CASE WHEN a.request_ref IS NULL OR a.request_ref = '' THEN 'no' ELSE 'yes' END AS req,
         CASE WHEN a.person_id IS NOT NULL AND (a.issued_by = a.person_id OR a.approved_by = a.person_id)
              THEN 'yes' ELSE 'no' END AS self_issue
  FROM accounts a
  LEFT JOIN iss_by b ON b.file = a.file AND b.line = a.line
  LEFT JOIN iss_appr p ON p.file = a.file AND p.line = a.line
), iss_ok AS ({issuance_judgement('iss_req')}
)
SELECT DISTINCT a.system, a.account_id
FROM accounts a JOIN iss_ok j ON j.k = CONCAT(a.file, '#', CAST(a.line AS VARCHAR))
WHERE j.allowed = 0
"""


RULE = Rule(
    id="ACCOUNT_ISSUER_INVALID",
    severity="medium",
    scope="account",
    basis=("別添3 III-3 リスク2 アクセス権限の発効・失効の管理（発効管理; policies/issuance.csv の各行の出典）;"
           " 自己発効の禁止は市の運用"),
    title_ja="発効手続が正しくないID",
    title_en="Account issued or approved improperly",
    remedy_ja="発効の手続を確認し、正しい発効者・承認者によりIDを発行し直す",
    remedy_en="Check the issuing procedure and have the right issuer or approver issue the ID again",
    requires=("officers.csv", "issuance.csv"),
    sql=_sql,
)
