"""Decisions as a relational step: the compiled policy as tables, SPEC §4's deny classification as joins.

The audit decides every distinct request at once, in SQL, instead of one ``Policy.decide`` call
per request:

1. :func:`tuples_sql` turns each request into the Casbin request tuples it stands for
   (``request_tokens``: one per role, or one with sub ``""``) and the counterfactual tuples the
   deny classification asks about (``my_number_affair_line``, ``pair_line`` with the canonical
   and with the request's method), tagged by ``kind``;
2. the set of *allowed* tuples: :func:`allowed_sql` joins the distinct tuples against the
   compiled policy (:func:`policy_tables`: the p lines, and every grouping as a depth-limited
   closure, the relational form of ``CompiledPolicy``; the loader admits only that model family);
3. :func:`classify_sql` applies ``_decide.decide``'s order of deny rules (first true wins).

Equality with ``casbin.Enforcer.enforce`` is proven by ``tests/policy/test_relational.py``.
The SQL is portable (it transpiles to Spark SQL with sqlglot).
"""

from __future__ import annotations

from typing import Any, Iterable

import duckdb
import pyarrow as pa

from ..inputs._time import sql_literal as lit
from ..models import MY_NUMBER_USE_ACTIONS
from ..policy import CompiledPolicy, Vocabulary
from ..policy._engine import REQUEST_TOKENS

__all__ = [
    "TOKENS",
    "OFFICER_ROLES",
    "policy_tables",
    "load_policy_tables",
    "tuples_sql",
    "allowed_sql",
    "classify_sql",
]

#: The Casbin request tokens, as column names of a tuples relation.
TOKENS: tuple[str, ...] = REQUEST_TOKENS
#: Roles that hold only from officers.csv during the term (SPEC §2.5), never from the ledger,
#: in the order of the request's ``off_*`` flag columns.
OFFICER_ROLES: tuple[str, ...] = ("system_owner", "export_delegate", "info_system_manager")
_OFFICER_FLAGS = ("off_system_owner", "off_export_delegate", "off_info_system_manager")
_TABLE_PREFIX = "pol_"
#: ``decide``'s "pair" question applies: a transfer, or a non-holder account on a resource.
_HAS_PAIR = "act = 'transfer' OR (NOT holder AND res IS NOT NULL AND act NOT IN ('login', 'logout'))"


def _in(expr: str, values: Iterable[str]) -> str:
    vals = sorted(set(values))
    return f"{expr} IN ({', '.join(lit(v) for v in vals)})" if vals else "false"


# ---- the compiled policy as relations ----------------------------------------------------------

def _closure_rows(graph: Any, version: str | None) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for name in list(graph.parents):
        for anc in graph.closure(name):
            if anc != name:
                rows.append((name, anc) if version is None else (version, name, anc))
    return rows


def policy_tables(compiled: CompiledPolicy) -> dict[str, pa.Table]:
    """The compiled policy as Arrow tables (names without the ``pol_`` prefix).

    ``p``: one row per p line (``ver, act, sub, dom, obj, aff, perm, rcpt, meth``);
    ``g``/``g4``: ``(ver, name, anc)``; ``g2``/``g3``: ``(name, anc)`` — every ancestor a
    name reaches within Casbin's level limit (``_Graph.closure``), the name itself left out
    (a name always matches itself, see :func:`allowed_sql`).
    """
    s = pa.string()
    p_cols = ("ver", "act", "sub", "dom", "obj", "aff", "perm", "rcpt", "meth")
    p_rows = [(ver, act, *line[:7]) for (ver, act), lines in compiled.index.items() for line in lines]
    g_rows = [r for ver, graph in compiled.g.items() for r in _closure_rows(graph, ver)]
    g4_rows = [r for ver, graph in compiled.g4.items() for r in _closure_rows(graph, ver)]

    def table(cols: tuple[str, ...], rows: list[tuple[str, ...]]) -> pa.Table:
        data = list(zip(*rows)) if rows else [()] * len(cols)
        return pa.table({c: pa.array(list(v), s) for c, v in zip(cols, data)})

    return {
        "p": table(p_cols, p_rows),
        "g": table(("ver", "name", "anc"), g_rows),
        "g2": table(("name", "anc"), _closure_rows(compiled.g2, None)),
        "g3": table(("name", "anc"), _closure_rows(compiled.g3, None)),
        "g4": table(("ver", "name", "anc"), g4_rows),
    }


def load_policy_tables(con: duckdb.DuckDBPyConnection, compiled: CompiledPolicy) -> None:
    """Create the ``pol_*`` tables of :func:`policy_tables` in ``con``."""
    for name, tbl in policy_tables(compiled).items():
        con.register("_pia_pol", tbl)
        try:
            con.execute(f"CREATE OR REPLACE TEMP TABLE {_TABLE_PREFIX}{name} AS SELECT * FROM _pia_pol")
        finally:
            con.unregister("_pia_pol")


# ---- requests → tuples -------------------------------------------------------------------------

def _roles_sql(requests: str) -> str:
    """``(rid, role)``: the ledger roles (officer roles dropped) plus the officer roles in office."""
    officers = ", ".join(lit(r) for r in OFFICER_ROLES)
    parts = [
        f"""SELECT rid, role FROM (
              SELECT rid, unnest(string_split(coalesce(roles, ''), ';')) AS role FROM {requests}) s
            WHERE role <> '' AND role NOT IN ({officers})"""
    ]
    parts += [f"SELECT rid, {lit(role)} AS role FROM {requests} WHERE {flag} = 1"
              for role, flag in zip(OFFICER_ROLES, _OFFICER_FLAGS)]
    return " UNION ".join(parts)


def _request_view(requests: str, vocab: Vocabulary) -> str:
    """The request with the defaults of ``AccessRequest`` and the token values of ``request_tokens``
    (``meth`` is ``request_method``: only the transfer system carries a method)."""
    holder = _in("department", vocab.holders)
    return f"""SELECT rid, version AS ver, action AS act, resource AS res, affair AS aff_raw,
           coalesce(department, '') AS dept,
           coalesce(permission, 'read') AS perm,
           CASE WHEN coalesce(employment, 'regular') = 'contractor' AND NOT coalesce({holder}, false)
                THEN {lit(vocab.holder_group)} ELSE coalesce(department, '') END AS dom,
           CASE WHEN action IN ('login', 'logout') THEN '' ELSE coalesce(resource, '') END AS obj,
           CASE WHEN action IN ('login', 'logout') THEN '' ELSE coalesce(affair, '') END AS aff,
           CASE WHEN action = 'transfer' THEN coalesce(req_recipient, '') ELSE '' END AS rcpt,
           CASE WHEN system IS NULL OR system <> {lit(vocab.transfer_system)} THEN ''
                WHEN action = 'transfer' THEN coalesce(req_method, '')
                ELSE {lit(vocab.transfer_method)} END AS meth,
           coalesce({holder}, false) OR coalesce(employment, 'regular') = 'contractor' AS holder
    FROM {requests}"""


def tuples_sql(requests: str, vocab: Vocabulary) -> str:
    """``(rid, kind, sub, dom, obj, act, aff, ver, perm, rcpt, meth)`` for the requests in ``requests``.

    ``requests`` has ``rid`` and the audit's key columns (``version, system, department,
    employment, roles, permission, action, resource, affair, req_recipient, req_method, off_*``).
    Kinds: ``req`` (the request's own tuples), ``mn`` (a My Number user in this affair), ``pair``
    (a canonical transfer of the pair), ``pairm`` (the same by the request's method).
    """
    holder = lit(vocab.canonical_holder)
    mn_actions = _in("act", MY_NUMBER_USE_ACTIONS)
    pair_dept = ("CASE WHEN act = 'transfer' THEN rcpt ELSE dept END")
    canonical_transfer = (f"{lit(vocab.staff_role)}, {holder}, {lit(vocab.transfer_resource)}, 'transfer', "
                          f"coalesce(aff_raw, ''), ver, 'update', {pair_dept}")
    return f"""
    WITH rq AS ({_request_view(requests, vocab)}),
    rr AS ({_roles_sql(requests)})
    SELECT rq.rid, 'req' AS kind, coalesce(rr.role, '') AS sub, dom, obj, act, aff, ver, perm, rcpt, meth
    FROM rq LEFT JOIN rr ON rr.rid = rq.rid
    UNION ALL
    SELECT rid, 'mn', {lit(vocab.my_number_role)}, {holder}, {lit(vocab.my_number_resource)}, act,
           coalesce(aff_raw, ''), ver, 'update', '', ''
    FROM rq WHERE res = {lit(vocab.my_number_resource)} AND {mn_actions}
    UNION ALL
    SELECT rid, 'pair', {canonical_transfer}, {lit(vocab.transfer_method)} FROM rq WHERE {_HAS_PAIR}
    UNION ALL
    SELECT rid, 'pairm', {canonical_transfer}, meth FROM rq WHERE {_HAS_PAIR}"""


# ---- tuples → allowed --------------------------------------------------------------------------

def allowed_sql(tuples: str) -> str:
    """The distinct tuples of ``tuples`` that some p line allows (the canonical matcher, as joins).

    A token matches a p value when the value is ``*``, the token itself, or an ancestor in the
    token's grouping (``g``/``g4`` per version); each token's set of matching values is a small
    relation, so the match is one equi-join per token.
    """
    t = ", ".join(TOKENS)

    def matching(keys: str, col: str, table: str, on: str) -> str:
        """``(keys…, a)``: the values a p line may hold for the token ``col`` to match."""
        src = f"(SELECT DISTINCT {keys} FROM t)"
        return f"""SELECT {keys}, {col} AS a FROM {src} n0
          UNION SELECT {keys}, '*' AS a FROM {src} n1
          UNION SELECT n.*, g.anc AS a FROM {src} n JOIN {_TABLE_PREFIX}{table} g ON {on}"""

    names = "(SELECT dom AS name FROM t UNION SELECT rcpt AS name FROM t)"
    s_sub = matching("ver, sub", "sub", "g", "g.ver = n.ver AND g.name = n.sub")
    s_obj = matching("obj", "obj", "g3", "g.name = n.obj")
    s_aff = matching("ver, aff", "aff", "g4", "g.ver = n.ver AND g.name = n.aff")
    return f"""
    WITH t AS (SELECT DISTINCT {t} FROM {tuples}),
    s_sub AS ({s_sub}),
    s_obj AS ({s_obj}),
    s_aff AS ({s_aff}),
    s_dept AS (SELECT name, name AS a FROM {names} n0
               UNION SELECT name, '*' AS a FROM {names} n1
               UNION SELECT n.name, g.anc AS a FROM {names} n JOIN {_TABLE_PREFIX}g2 g ON g.name = n.name)
    SELECT DISTINCT {', '.join('t.' + c for c in TOKENS)}
    FROM t
    JOIN {_TABLE_PREFIX}p p ON p.ver = t.ver AND p.act = t.act
    JOIN s_sub ON s_sub.ver = t.ver AND s_sub.sub = t.sub AND s_sub.a = p.sub
    JOIN s_dept d ON d.name = t.dom AND d.a = p.dom
    JOIN s_obj ON s_obj.obj = t.obj AND s_obj.a = p.obj
    JOIN s_aff ON s_aff.ver = t.ver AND s_aff.aff = t.aff AND s_aff.a = p.aff
    JOIN s_dept r ON r.name = t.rcpt AND r.a = p.rcpt
    WHERE (p.perm = '*' OR p.perm = t.perm) AND (p.meth = '*' OR p.meth = t.meth)"""


# ---- the classification ------------------------------------------------------------------------

def classify_sql(requests: str, tuples: str, allowed: str, vocab: Vocabulary) -> str:
    """``(rid, allowed, deny_rule)`` per request: ``_decide.decide``'s deny rules, first true wins."""
    on = " AND ".join(f"a.{c} = q.{c}" for c in TOKENS)
    flags = ", ".join(
        f"max(CASE WHEN q.kind = '{k}' AND a.ver IS NOT NULL THEN 1 ELSE 0 END) AS ok_{k}"
        for k in ("req", "mn", "pair", "pairm")
    )
    return f"""
    WITH f AS (SELECT q.rid, {flags} FROM {tuples} q LEFT JOIN {allowed} a ON {on} GROUP BY q.rid),
    rf AS (SELECT rid, max(CASE WHEN role = {lit(vocab.my_number_role)} THEN 1 ELSE 0 END) AS has_mn,
                  max(CASE WHEN {_in('role', vocab.export_roles)} THEN 1 ELSE 0 END) AS has_export
           FROM ({_roles_sql(requests)}) x GROUP BY rid),
    rq AS ({_request_view(requests, vocab)})
    SELECT rq.rid, f.ok_req = 1 AS allowed,
      CASE WHEN f.ok_req = 1 THEN NULL
           WHEN rq.res = {lit(vocab.my_number_resource)} AND {_in('rq.act', MY_NUMBER_USE_ACTIONS)}
                AND coalesce(rf.has_mn, 0) = 0 THEN 'MY_NUMBER_WITHOUT_PERMISSION'
           WHEN rq.res = {lit(vocab.my_number_resource)} AND {_in('rq.act', MY_NUMBER_USE_ACTIONS)}
                AND f.ok_mn = 0 THEN 'MY_NUMBER_OUTSIDE_AFFAIR'
           WHEN ({_HAS_PAIR}) AND f.ok_pair = 0 THEN 'TRANSFER_NOT_PERMITTED'
           WHEN ({_HAS_PAIR}) AND f.ok_pairm = 0 THEN 'TRANSFER_METHOD_NOT_PERMITTED'
           WHEN rq.act = 'export' AND coalesce(rf.has_export, 0) = 0 THEN 'MEDIA_EXPORT_UNAUTHORIZED'
           ELSE 'ACCESS_DENIED_BY_POLICY' END AS deny_rule
    FROM rq JOIN f ON f.rid = rq.rid LEFT JOIN rf ON rf.rid = rq.rid"""
