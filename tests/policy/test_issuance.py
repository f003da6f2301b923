"""Account issuance and revocation as a Casbin policy (policies/issuance_model.conf + issuance.csv)."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pia_policy.cli import main
from pia_policy.models import Officer
from pia_policy.policy import Policy, PolicyError, PolicyLine, lint
from pia_policy.policy._engine import build_enforcer
from pia_policy.policy._issuance import ISSUANCE_MODEL_FILE, IssuanceRequest
from pia_policy.rules.account_issuer_invalid import ISSUANCE_LINES_COLUMNS, issuance_judgement

AT = "2025-04-01T10:00"


def officer(system: str, role: str, person: str, frm: str = "2024-04-01", to: str | None = None) -> Officer:
    return Officer(system=system, role=role, person_id=person, **{"from": frm}, to=to)  # type: ignore[arg-type]


OFFICERS = [officer("fukushi", "system_owner", "OWNER", to="2025-04-01"), officer("hyojun", "info_system_manager", "ISM")]


# ---- the shipped issuance policy ----------------------------------------------------------------

def test_fukushi_ids_are_issued_by_the_system_owner_in_office(policy: Policy) -> None:
    ok = policy.check_issuance("fukushi", "regular", person_id="P1", issued_by="OWNER", officers=OFFICERS,
                               at="2025-03-31T23:59:59")
    assert ok.allowed and ok.matched == "fukushi-issue" and "システム責任者" in ok.basis
    # boundary: `to` is the first day out of office
    late = policy.check_issuance("fukushi", "regular", person_id="P1", issued_by="OWNER", officers=OFFICERS,
                                 at="2025-04-01")
    assert not late.allowed and late.rule == "ACCOUNT_ISSUER_INVALID" and "system_owner" in late.explanation
    # the hyojun manager is no fukushi issuer
    assert not policy.check_issuance("fukushi", "regular", person_id="P1", issued_by="ISM", officers=OFFICERS,
                                     at=AT).allowed


def test_hyojun_ids_are_approved_by_the_information_system_manager(policy: Policy) -> None:
    assert policy.check_issuance("hyojun", "regular", person_id="P1", approved_by="ISM", officers=OFFICERS,
                                 at=AT).allowed
    d = policy.check_issuance("hyojun", "regular", person_id="P1", issued_by="ISM", officers=OFFICERS, at=AT)
    assert not d.allowed and "appr=info_system_manager" in d.explanation


@pytest.mark.parametrize(("employment", "request_ref", "allowed"), [
    ("non_regular", None, False), ("non_regular", "", False), ("non_regular", "REQ-1", True),
    ("regular", None, True), ("contractor", None, True),
])
def test_gyomu_kyotsu_non_regular_needs_the_departments_request(policy: Policy, employment: str,
                                                                request_ref: str | None, allowed: bool) -> None:
    d = policy.check_issuance("gyomu_kyotsu", employment, person_id="P1", issued_by="ADMIN", request_ref=request_ref,
                              at=AT)
    assert d.allowed is allowed
    assert policy.check_revocation("gyomu_kyotsu", employment, person_id="P1", revoked_by="ADMIN",
                                   request_ref=request_ref, at=AT).allowed is allowed


def test_no_one_issues_approves_or_revokes_their_own_account(policy: Policy) -> None:
    own = policy.check_issuance("fukushi", "regular", person_id="OWNER", issued_by="OWNER", officers=OFFICERS, at=AT)
    assert not own.allowed and own.matched == "no-self-issue" and "市の運用" in own.basis
    assert not policy.check_issuance("hyojun", "regular", person_id="ISM", approved_by="ISM", officers=OFFICERS,
                                     at=AT).allowed
    assert not policy.check_revocation("hyojun", "regular", person_id="ISM", revoked_by="ISM", officers=OFFICERS,
                                       at=AT).allowed
    # near miss: the same officer for someone else
    assert policy.check_revocation("hyojun", "regular", person_id="P1", revoked_by="ISM", officers=OFFICERS,
                                   at=AT).allowed


def test_revocation_by_the_system_owner(policy: Policy) -> None:
    assert policy.check_revocation("fukushi", "regular", person_id="P1", revoker_roles=["system_owner"]).allowed
    assert not policy.check_revocation("fukushi", "regular", person_id="P1", revoker_roles=["export_delegate"]).allowed


def test_unknown_system_or_employment_is_a_value_error(policy: Policy) -> None:
    with pytest.raises(ValueError, match="fukushi"):
        policy.check_issuance("kaigo", "regular")
    with pytest.raises(ValueError, match="non_regular"):
        policy.check_issuance("fukushi", "part_time")


def test_issuance_csv_is_not_read_as_access_policy(policy: Policy) -> None:
    assert all(not pl.file.endswith("issuance.csv") for pl in policy.source_lines)
    assert policy.issuance is not None and len(policy.issuance.lines) >= 10
    assert lint() == []


# ---- a fourth system: data, not code -----------------------------------------------------------

def _add_kaigo(policy_copy: Path) -> Policy:
    with (policy_copy / "issuance.csv").open("a", encoding="utf-8") as fh:
        fh.write("p,kaigo,issue,*,system_owner,*,*,*,kaigo-issue,allow\n")
    return Policy.load(policy_copy)


def test_a_fourth_system_is_judged_with_no_code_change(policy_copy: Path) -> None:
    p = _add_kaigo(policy_copy)
    assert p.check_issuance("kaigo", "regular", person_id="P1", issuer_roles=["system_owner"]).allowed
    d = p.check_issuance("kaigo", "regular", person_id="P1", issuer_roles=[])
    assert not d.allowed and "kaigo-issue" in d.explanation
    # the no-self-issue deny line covers the new system too
    assert not p.check_issuance("kaigo", "regular", person_id="P1", issued_by="P1", issuer_roles=["system_owner"]).allowed


def test_a_fourth_system_in_the_audit(policy_copy: Path) -> None:
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "rules"))
    from rules_world import World

    world = World(_add_kaigo(policy_copy))
    world.officer("kaigo", "system_owner", "KOWNER", "2024-04-01")
    world.account("K1", system="kaigo", issued_by="KOWNER")                  # near miss: the owner issued it
    world.account("K2", system="kaigo", issued_by="SOMEONE")                 # violation
    world.account("K3", system="kaigo", person_id="KOWNER", issued_by="KOWNER")  # own account
    world.account("K4", system="kaigo", issued_by="KOWNER", issued_at="2024-03-31")  # boundary: before the term
    flagged = {f.account_id for f in world.run() if f.rule == "ACCOUNT_ISSUER_INVALID"}
    assert flagged == {"K2", "K3", "K4"}


def test_without_an_issuance_policy_the_rule_is_skipped(policy_copy: Path) -> None:
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "rules"))
    from rules_world import World

    (policy_copy / "issuance.csv").unlink()
    (policy_copy / ISSUANCE_MODEL_FILE).unlink()
    p = Policy.load(policy_copy)
    assert p.issuance is None
    world = World(p)
    world.account("A1", issued_by="NOBODY")
    world.run()
    assert {"rule": "ACCOUNT_ISSUER_INVALID", "missing": "issuance.csv"} in world.last.rules_skipped


# ---- the model family is checked ---------------------------------------------------------------

def test_a_model_outside_the_family_is_a_policy_error_naming_file_and_line(policy_copy: Path) -> None:
    model = policy_copy / ISSUANCE_MODEL_FILE
    text = model.read_text(encoding="utf-8")
    model.write_text(text.replace("(p.self == \"*\" || r.self == p.self)", "true"), encoding="utf-8")
    with pytest.raises(PolicyError, match=r"issuance_model.conf:\d+: m .*the issuance model family"):
        Policy.load(policy_copy)


def test_a_bad_line_is_a_policy_error_naming_file_and_line(policy_copy: Path) -> None:
    with (policy_copy / "issuance.csv").open("a", encoding="utf-8") as fh:
        fh.write("p,fukushi,issue,*,*,*,*,*,open-door,maybe\n")
    with pytest.raises(PolicyError, match=r"issuance.csv:\d+: eft 'maybe'"):
        Policy.load(policy_copy)
    (policy_copy / "issuance.csv").unlink()
    with pytest.raises(PolicyError, match="no issuance.csv"):
        Policy.load(policy_copy)


# ---- the CLI -------------------------------------------------------------------------------------

def test_cli_check_issuance_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-issuance", "--system", "fukushi", "--by-roles", "system_owner", "--person", "P1",
                 "--by", "P9", "--at", AT]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["allowed"] and out["matched"] == "fukushi-issue"
    assert main(["check-issuance", "--system", "fukushi", "--by-roles", "system_owner", "--person", "P1",
                 "--by", "P1", "--at", AT]) == 1
    assert json.loads(capsys.readouterr().out)["matched"] == "no-self-issue"
    assert main(["check-issuance", "--system", "gyomu_kyotsu", "--employment", "non_regular", "--action", "revoke",
                 "--at", AT]) == 1
    capsys.readouterr()
    assert main(["check-issuance", "--system", "kaigo", "--at", AT]) == 2
    assert "gyomu_kyotsu" in capsys.readouterr().err
    assert main(["check-issuance", "--system", "fukushi", "--by-roles", "boss", "--at", AT]) == 2


# ---- compiled (SQL relation) == casbin.Enforcer.enforce -----------------------------------------

_VALUES = {"sys": ("fukushi", "hyojun", "kaigo"), "emp": ("regular", "non_regular", "contractor"),
           "by": ("system_owner", "info_system_manager", ""), "appr": ("system_owner", "info_system_manager", ""),
           "req": ("yes", "no"), "self": ("yes", "no")}


@st.composite
def _issuance_policies(draw: st.DrawFn) -> list[PolicyLine]:
    lines = []
    for i in range(draw(st.integers(0, 12))):
        def field(name: str) -> str:
            return draw(st.one_of(st.just("*"), st.sampled_from(_VALUES[name])))
        values = (field("sys"), draw(st.sampled_from(("issue", "revoke"))), field("emp"), field("by"),
                  field("appr"), field("req"), field("self"), f"l{i}", draw(st.sampled_from(("allow", "deny"))))
        lines.append(PolicyLine("p", values))
    return lines


_REQUESTS = st.builds(
    IssuanceRequest,
    system=st.sampled_from(_VALUES["sys"]), action=st.sampled_from(("issue", "revoke")),
    employment=st.sampled_from(_VALUES["emp"]),
    by_roles=st.frozensets(st.sampled_from(("system_owner", "info_system_manager", "export_delegate")), max_size=2),
    appr_roles=st.frozensets(st.sampled_from(("system_owner", "info_system_manager")), max_size=2),
    request=st.booleans(), self_issue=st.booleans(),
)


def _sql_answers(lines: list[PolicyLine], requests: list[IssuanceRequest]) -> list[bool]:
    con = duckdb.connect()
    con.execute(f"CREATE TABLE issuance_lines ({', '.join(f'{c} VARCHAR' for c in ISSUANCE_LINES_COLUMNS)})")
    if lines:
        con.executemany(f"INSERT INTO issuance_lines VALUES ({', '.join('?' for _ in ISSUANCE_LINES_COLUMNS)})",
                        [pl.values for pl in lines])
    con.execute("CREATE TABLE q (k VARCHAR, sys VARCHAR, act VARCHAR, emp VARCHAR, by_role VARCHAR, "
                "appr_role VARCHAR, req VARCHAR, self_issue VARCHAR)")
    con.executemany("INSERT INTO q VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [(str(i), *t) for i, r in enumerate(requests) for t in r.tuples()])
    got = dict(con.execute(issuance_judgement("q")).fetchall())
    return [bool(got[str(i)]) for i in range(len(requests))]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_issuance_policies(), st.lists(_REQUESTS, min_size=1, max_size=20))
def test_sql_issuance_decisions_equal_casbin_enforce(lines: list[PolicyLine], requests: list[IssuanceRequest]) -> None:
    model = (Path(__file__).resolve().parents[2] / "policies" / ISSUANCE_MODEL_FILE).read_text(encoding="utf-8")
    enforcer = build_enforcer(model, lines)
    expected = [any(enforcer.enforce(*t) for t in r.tuples()) for r in requests]
    assert _sql_answers(lines, requests) == expected


def test_shipped_issuance_sql_equals_casbin_on_the_whole_domain(policy: Policy) -> None:
    assert policy.issuance is not None
    requests = [IssuanceRequest(s, a, e, frozenset({b}) - {""}, frozenset({p}) - {""}, rq, own)
                for s in ("fukushi", "hyojun", "gyomu_kyotsu", "kaigo") for a in ("issue", "revoke")
                for e in _VALUES["emp"] for b in _VALUES["by"] for p in _VALUES["appr"]
                for rq in (True, False) for own in (True, False)]
    expected = [policy.issuance.enforce(r)[0] for r in requests]
    assert _sql_answers(list(policy.issuance.lines), requests) == expected
    assert sum(expected) > 50 and not all(expected)


def test_lint_checks_the_issuance_policy(policy_copy: Path) -> None:
    assert lint(policy_copy) == []
    with (policy_copy / "issuance.csv").open("a", encoding="utf-8") as fh:
        fh.write("p,kaigo,issue,*,system_owner,*,*,*,kaigo-issue,allow\n")
    (problem,) = lint(policy_copy)
    assert problem.code == "missing_citation" and "issuance_lines.kaigo-issue" in problem.message
    assert problem.file.endswith("issuance.csv") and problem.line is not None
    model = policy_copy / ISSUANCE_MODEL_FILE
    model.write_text(model.read_text(encoding="utf-8").replace("!some(where (p.eft == deny))", "true"),
                     encoding="utf-8")
    assert [p.code for p in lint(policy_copy)] == ["invalid_issuance"]
