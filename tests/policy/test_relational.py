"""The audit's relational decisions (audit/_decisions.py) equal casbin.Enforcer.enforce and ``decide``.

Random policies of the model family and the shipped one: the allowed set computed by joins
equals ``enforce`` tuple by tuple, and the whole classification (allow + SPEC §4 deny rule)
equals ``_decide.decide`` with Casbin as the evaluator. The SQL transpiles to Spark SQL.
"""

from __future__ import annotations

import itertools
import re

import duckdb
import pyarrow as pa
import pytest
import sqlglot
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pia_policy import testing as pt
from pia_policy.audit._decisions import (
    OFFICER_ROLES,
    TOKENS,
    allowed_sql,
    classify_sql,
    load_policy_tables,
    tuples_sql,
)
from pia_policy.models import AccessRequest
from pia_policy.policy import CompiledPolicy, Policy, Vocabulary
from pia_policy.policy._decide import decide
from pia_policy.policy._engine import CasbinEvaluator, build_enforcer

_SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
_REQ_COLUMNS = ("rid", "version", "system", "department", "employment", "roles", "permission", "action", "resource", "affair",
                "req_recipient", "req_method", "off_system_owner", "off_export_delegate", "off_info_system_manager")


def _tuples_table(rows: list[tuple[str, ...]]) -> pa.Table:
    cols = list(zip(*rows)) if rows else [()] * len(TOKENS)
    return pa.table({c: pa.array(list(v), pa.string()) for c, v in zip(TOKENS, cols)})


def _allowed_by_sql(compiled: CompiledPolicy, rows: list[tuple[str, ...]]) -> set[tuple[str, ...]]:
    con = duckdb.connect()
    load_policy_tables(con, compiled)
    con.register("tuples_arrow", _tuples_table(rows))
    return set(con.execute(allowed_sql("tuples_arrow")).fetchall())


def allowed_by_evaluator(con: duckdb.DuckDBPyConnection, tuples: str, evaluator: object) -> pa.Table:
    """The allowed distinct tuples of ``tuples``, asked of ``evaluator`` per tuple (Casbin: the reference)."""
    rows = con.execute(f"SELECT DISTINCT {', '.join(TOKENS)} FROM {tuples}").fetchall()
    allowed = [r for r in rows if evaluator.allowing_line(tuple(r)) is not None]  # type: ignore[attr-defined]
    cols = list(zip(*allowed)) if allowed else [()] * len(TOKENS)
    return pa.table({c: pa.array(list(v), pa.string()) for c, v in zip(TOKENS, cols)})


def _request_row(rid: int, r: AccessRequest, ledger_roles: str | None) -> tuple[object, ...]:
    """The audit's key columns of a request: ledger roles as text, officer roles as 0/1 flags."""
    transfer = r.action == "transfer"
    flags = tuple(int(role in r.roles) for role in OFFICER_ROLES)
    return (rid, r.version, r.system, r.department or None, r.employment, ledger_roles, r.permission, r.action, r.resource,
            r.affair, r.recipient_department if transfer else None, r.method if transfer else None, *flags)


def _classify(evaluator: object, vocab: Vocabulary, rows: list[tuple[object, ...]]) -> dict[int, tuple[bool, str]]:
    con = duckdb.connect()
    types = {"rid": pa.int64(), "off_system_owner": pa.int32(), "off_export_delegate": pa.int32(),
             "off_info_system_manager": pa.int32()}
    cols = list(zip(*rows))
    con.register("req_arrow", pa.table({c: pa.array(list(v), types.get(c, pa.string()))
                                        for c, v in zip(_REQ_COLUMNS, cols)}))
    con.execute(f"CREATE TABLE tq AS {tuples_sql('req_arrow', vocab)}")
    if isinstance(evaluator, CompiledPolicy):
        load_policy_tables(con, evaluator)
        con.execute(f"CREATE TABLE ta AS {allowed_sql('tq')}")
    else:
        allowed_arrow = allowed_by_evaluator(con, "tq", evaluator)  # type: ignore[arg-type]  # noqa: F841
        con.execute("CREATE TABLE ta AS SELECT * FROM allowed_arrow")
    out = con.execute(f"SELECT rid, allowed, deny_rule FROM ({classify_sql('req_arrow', 'tq', 'ta', vocab)})")
    return {rid: (allowed, rule) for rid, allowed, rule in out.fetchall()}


def _expected(r: AccessRequest, reference: CasbinEvaluator, vocab: Vocabulary) -> tuple[bool, str | None]:
    d = decide(r, reference, vocab, str)
    return d.allowed, d.rule


# ---- the allowed set -------------------------------------------------------------------------------

@settings(max_examples=40, **_SETTINGS)
@given(st.data())
def test_random_policies_allowed_by_joins_equals_enforce(data: st.DataObject) -> None:
    rp = data.draw(pt.random_policies(max_lines=40))
    requests = data.draw(st.lists(pt.casbin_requests(rp), min_size=1, max_size=80))
    enforcer = build_enforcer(pt.MODEL_TEXT, rp.lines)
    expected = {t for t in requests if enforcer.enforce(*t)}
    assert _allowed_by_sql(CompiledPolicy(rp.lines), requests) == expected, rp.lines


def test_deep_role_hierarchy_follows_casbins_level_limit_in_sql() -> None:
    from pia_policy.policy import PolicyLine

    chain = [f"r{i}" for i in range(12)]
    lines = [PolicyLine("g", (a, b, "v0")) for a, b in zip(chain, chain[1:])]
    lines.append(PolicyLine("p", ("r10", "*", "*", "view", "*", "v0", "*", "*", "*", "l-r10")))
    requests = [(r, "d", "o", "view", "a", "v0", "read", "", "") for r in chain]
    allowed = _allowed_by_sql(CompiledPolicy(lines), requests)
    # r1 reaches r10 in 9 steps (Casbin's limit), r0 needs 10: not allowed
    assert ("r1", "d", "o", "view", "a", "v0", "read", "", "") in allowed
    assert ("r0", "d", "o", "view", "a", "v0", "read", "", "") not in allowed
    enforcer = build_enforcer(pt.MODEL_TEXT, lines)
    assert allowed == {t for t in requests if enforcer.enforce(*t)}


# ---- the whole decision ----------------------------------------------------------------------------

_VOCAB = Vocabulary(holders=frozenset({"健康保険課"}))


@st.composite
def _random_requests(draw: st.DrawFn, rp: pt.RandomPolicy) -> tuple[AccessRequest, str | None]:
    ledger = draw(st.lists(st.sampled_from(rp.subjects[:-1] + ("my_number_user", "system_owner", "export_delegate")),
                           max_size=3, unique=True))
    officer = draw(st.sets(st.sampled_from(OFFICER_ROLES), max_size=2))
    roles = frozenset(r for r in ledger if r not in OFFICER_ROLES) | officer
    req = AccessRequest(
        version=draw(st.sampled_from(rp.versions + ("v9",))), system=draw(st.sampled_from(("fukushi", "hyojun"))),
        department=draw(st.sampled_from(rp.departments + ("",))),
        employment=draw(st.sampled_from(("regular", "non_regular", "contractor"))), roles=roles,
        permission=draw(st.sampled_from(("read", "update"))),
        action=draw(st.sampled_from(rp.actions + ("login", "search", "print"))),
        resource=draw(st.one_of(st.none(), st.sampled_from(rp.resources[:-1]))),
        affair=draw(st.one_of(st.none(), st.sampled_from(rp.affairs[:-1]))),
        recipient_department=draw(st.one_of(st.none(), st.sampled_from(rp.departments))),
        method=draw(st.sampled_from((None, "fukushi_system", "usb"))),
    )
    return req, ";".join(ledger) if ledger else draw(st.sampled_from((None, "")))


def _check(rp_lines: tuple, pairs: list[tuple[AccessRequest, str | None]], vocab: Vocabulary) -> None:
    compiled = CompiledPolicy(rp_lines)
    reference = CasbinEvaluator(build_enforcer(pt.MODEL_TEXT, rp_lines))
    rows = [_request_row(i, r, ledger) for i, (r, ledger) in enumerate(pairs)]
    by_sql = _classify(compiled, vocab, rows)
    by_casbin_tuples = _classify(reference, vocab, rows)
    for i, (r, _) in enumerate(pairs):
        assert by_sql[i] == _expected(r, reference, vocab), (r, rp_lines)
        assert by_casbin_tuples[i] == by_sql[i]


@settings(max_examples=25, **_SETTINGS)
@given(st.data())
def test_random_policy_classification_equals_decide_with_casbin(data: st.DataObject) -> None:
    rp = data.draw(pt.random_policies(max_lines=40))
    pairs = data.draw(st.lists(_random_requests(rp), min_size=1, max_size=60))
    _check(rp.lines, pairs, _VOCAB)


def test_random_policy_grid_covers_every_deny_rule() -> None:
    # a fixed policy where each deny rule of SPEC §4 is reachable: the grid must produce all of them
    from pia_policy.policy import PolicyLine

    lines = (
        PolicyLine("p", ("my_number_user", "*", "kojin_bango", "view", "kouki-01", "v0", "*", "*", "*", "l0")),
        PolicyLine("p", ("kouki_staff", "*", "kihon_joho", "transfer", "kouki-15", "v0", "*", "保護課",
                         "fukushi_system", "l1")),
        PolicyLine("p", ("kouki_staff", "健康保険課", "kihon_joho", "view", "*", "v0", "*", "*", "*", "l2")),
        PolicyLine("p", ("*", "*", "*", "login", "*", "v0", "*", "*", "*", "l3")),
    )
    pairs = []
    for sub, dept, act, res, aff, meth, system in itertools.product(
        ("kouki_staff", "my_number_user", "system_owner"), ("健康保険課", "保護課"),
        ("view", "transfer", "export", "login"), ("kojin_bango", "kihon_joho", None), ("kouki-01", "kouki-15", None),
        ("fukushi_system", "usb"), ("fukushi", "hyojun"),
    ):
        r = AccessRequest(version="v0", system=system, department=dept, roles=frozenset({sub}),
                          permission="update", action=act, resource=res, affair=aff, recipient_department="保護課",
                          method=meth)
        pairs.append((r, sub if sub not in OFFICER_ROLES else None))
    _check(lines, pairs, _VOCAB)
    compiled = CompiledPolicy(lines)
    rules = {rule for _, rule in _classify(compiled, _VOCAB, [_request_row(i, r, led) for i, (r, led)
                                                                in enumerate(pairs)]).values()}
    assert rules == {None, "MY_NUMBER_WITHOUT_PERMISSION", "MY_NUMBER_OUTSIDE_AFFAIR", "TRANSFER_NOT_PERMITTED",
                     "TRANSFER_METHOD_NOT_PERMITTED", "MEDIA_EXPORT_UNAUTHORIZED", "ACCESS_DENIED_BY_POLICY"}


@settings(max_examples=25, **_SETTINGS)
@given(st.lists(pt.access_requests(), min_size=20, max_size=100))
def test_shipped_policy_classification_equals_decide_with_casbin(reqs: list[AccessRequest]) -> None:
    policy = _shipped()
    rows = [_request_row(i, r, ";".join(sorted(r.roles - set(OFFICER_ROLES))) or None) for i, r in enumerate(reqs)]
    got = _classify(policy.evaluator, policy.vocabulary, rows)
    for i, r in enumerate(reqs):
        d = policy.decide_with_casbin(r)
        assert got[i] == (d.allowed, d.rule), r


def test_officer_roles_in_the_ledger_do_not_count() -> None:
    # SPEC §2.5: system_owner written in the ledger gives no export right; only the officer flag does
    policy = _shipped()
    v = policy.versions[-1].id
    r = AccessRequest(version=v, system="fukushi", department=policy.vocabulary.canonical_holder,
                      roles=frozenset({"kouki_staff"}), permission="update", action="export", resource="kihon_joho",
                      affair="kouki-01")
    ledger_only = _request_row(0, r, "kouki_staff;system_owner")
    flagged = _request_row(1, r.model_copy(update={"roles": frozenset({"kouki_staff", "system_owner"})}), "kouki_staff")
    got = _classify(policy.evaluator, policy.vocabulary, [ledger_only, flagged])
    assert got[0] == (False, "MEDIA_EXPORT_UNAUTHORIZED")
    assert got[1][1] != "MEDIA_EXPORT_UNAUTHORIZED"


_POLICY: list[Policy] = []


def _shipped() -> Policy:
    if not _POLICY:
        _POLICY.append(Policy.load())
    return _POLICY[0]


# ---- portable SQL ----------------------------------------------------------------------------------

@pytest.mark.parametrize("which", ["tuples", "allowed", "classify"])
def test_decision_sql_transpiles_to_spark(which: str) -> None:
    vocab = _shipped().vocabulary
    sql = {"tuples": tuples_sql("dreq", vocab), "allowed": allowed_sql("dtuples"),
           "classify": classify_sql("dreq", "dtuples", "dallowed", vocab)}[which]
    spark = sqlglot.transpile(sql, read="duckdb", write="spark", unsupported_level=sqlglot.ErrorLevel.RAISE)
    assert len(spark) == 1
    assert sqlglot.parse_one(spark[0], read="spark").find(sqlglot.exp.Select) is not None
    for pattern in (r"::", r"\bQUALIFY\b", r"\bEXCLUDE\b", r"\blist_", r"\bstruct_"):
        assert not re.search(pattern, sql, flags=re.IGNORECASE), pattern
