"""Hypothesis strategies and invariants for the CI of systems that use pia_policy.

Needs the optional extra: ``pip install 'pia-policy[testing]'`` (hypothesis).

Example (a test in your own repository)::

    from hypothesis import given
    from pia_policy.policy import Policy
    from pia_policy import testing as pt

    POLICY = Policy.load("my_city/policies")

    @given(pt.access_requests(POLICY))
    def test_my_policy_keeps_the_invariants(req):
        pt.assert_invariants(POLICY, req)
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Sequence

try:
    from hypothesis import strategies as st
except ModuleNotFoundError as exc:  # pragma: no cover
    raise ModuleNotFoundError(
        "pia_policy.testing needs hypothesis: pip install 'pia-policy[testing]'", name=exc.name
    ) from exc

from .models import ACTIONS, MY_NUMBER_USE_ACTIONS, RESOURCES, SYSTEMS, AccessRequest, Account
from .policy import Policy, PolicyLine
from .policy._invariants import BESSI1_PAIRS, policy_violations
from .policy._family import FAMILY_MODEL_TEXT

__all__ = [
    "BESSI1_PAIRS",
    "MODEL_TEXT",
    "RandomPolicy",
    "departments",
    "purposes",
    "affairs",
    "roles",
    "policy_versions",
    "moments",
    "accounts",
    "access_requests",
    "access_events",
    "transfers",
    "random_policies",
    "casbin_requests",
    "invariant_no_my_number_without_permission",
    "invariant_no_transfer_outside_bessi1",
    "invariant_nothing_after_revocation",
    "assert_invariants",
    "assert_policy_invariants",
]

_ROLES = ("kouki_staff", "my_number_user", "system_owner", "export_delegate", "info_system_manager")
_OTHER_DEPARTMENTS = ("税務課", "介護保険課", "市民課", "中央区地域づくり支援課")


# ---- strategies over a loaded policy -----------------------------------------------------------

def departments(policy: Policy | None = None, *, include_unknown: bool = True) -> st.SearchStrategy[str]:
    """Department names: the departments the policy knows, plus a few it does not (ledger data)."""
    policy = policy or Policy.load()
    known = sorted(policy.departments)
    return st.sampled_from(known + (list(_OTHER_DEPARTMENTS) if include_unknown else []))


def purposes(policy: Policy | None = None) -> st.SearchStrategy[str]:
    """Transfer purpose codes (別紙1)."""
    policy = policy or Policy.load()
    return st.sampled_from(sorted(policy.purposes))


def affairs(policy: Policy | None = None) -> st.SearchStrategy[str | None]:
    """Affair codes, purpose codes, or None."""
    policy = policy or Policy.load()
    return st.one_of(st.none(), st.sampled_from(list(policy.affairs) + sorted(policy.purposes)))


def roles() -> st.SearchStrategy[frozenset[str]]:
    """Sets of account and officer roles."""
    return st.frozensets(st.sampled_from(_ROLES), max_size=3)


def policy_versions(policy: Policy | None = None) -> st.SearchStrategy[str]:
    """Version ids of the policy."""
    policy = policy or Policy.load()
    return st.sampled_from([v.id for v in policy.versions])


def moments(policy: Policy | None = None) -> st.SearchStrategy[dt.datetime]:
    """Naive JST datetimes from the first version's start to a year after the last change, boundaries likely."""
    policy = policy or Policy.load()
    vs = policy.versions
    start = dt.datetime.combine(vs[0].in_force_from, dt.time())
    last = max(v.in_force_from for v in vs)
    end = dt.datetime.combine(last, dt.time()) + dt.timedelta(days=365)
    boundaries = [dt.datetime.combine(v.in_force_from, dt.time()) for v in vs]
    near_values = sorted({x for b in boundaries for x in (b, b - dt.timedelta(seconds=1), b + dt.timedelta(hours=12))
                          if x >= start})
    near = st.sampled_from(near_values)
    return st.one_of(near, st.datetimes(min_value=start, max_value=end))


def accounts(policy: Policy | None = None, *, revoked: bool | None = None) -> st.SearchStrategy[Account]:
    """``accounts.csv`` rows; ``revoked`` True/False forces a revocation date or none."""
    policy = policy or Policy.load()
    revoked_at: st.SearchStrategy[Any]
    if revoked is None:
        revoked_at = st.one_of(st.none(), moments(policy))
    elif revoked:
        revoked_at = moments(policy)
    else:
        revoked_at = st.none()
    return st.builds(
        Account,
        account_id=st.from_regex(r"[a-z]{2}[0-9]{4}", fullmatch=True),
        system=st.sampled_from(SYSTEMS),
        person_id=st.from_regex(r"P[0-9]{5}", fullmatch=True),
        employment=st.sampled_from(("regular", "non_regular", "contractor")),
        department=departments(policy, include_unknown=False),
        roles=roles(),
        permission=st.sampled_from(("read", "update")),
        revoked_at=revoked_at,
    )


def access_requests(policy: Policy | None = None) -> st.SearchStrategy[AccessRequest]:
    """Requests as the compiled policy sees them (version, account attributes, event)."""
    policy = policy or Policy.load()
    recipients = sorted(policy.business_departments - policy.holder_departments)
    return st.builds(
        AccessRequest,
        version=policy_versions(policy),
        system=st.sampled_from(SYSTEMS),
        department=departments(policy),
        employment=st.sampled_from(("regular", "non_regular", "contractor")),
        roles=roles(),
        permission=st.sampled_from(("read", "update")),
        action=st.sampled_from(ACTIONS),
        resource=st.one_of(st.none(), st.sampled_from(RESOURCES)),
        affair=affairs(policy),
        recipient_department=st.one_of(st.none(), st.sampled_from(recipients + list(_OTHER_DEPARTMENTS))),
        method=st.sampled_from((None, "fukushi_system", "usb", "email")),
    )


def access_events(policy: Policy | None = None) -> st.SearchStrategy[dict[str, Any]]:
    """Access-log events (SPEC §3) as dicts, ready to write as JSONL."""
    policy = policy or Policy.load()

    def build(ts: dt.datetime, system: str, account: str, action: str, resource: str | None,
              affair: str | None, n: int) -> dict[str, Any]:
        ev: dict[str, Any] = {"ts": ts.isoformat(), "system": system, "event_id": f"e{n}", "account_id": account,
                              "action": action}
        if action in ("login", "logout"):
            ev["session_id"] = f"s-{account}"
        else:
            ev["resource"] = resource or "kihon_joho"
            if affair:
                ev["affair"] = affair
        return ev

    return st.builds(build, moments(policy), st.sampled_from(SYSTEMS), st.from_regex(r"[a-z]{2}[0-9]{4}", fullmatch=True),
                     st.sampled_from(ACTIONS), st.sampled_from(RESOURCES), affairs(policy), st.integers(0, 10**9))


def transfers(policy: Policy | None = None) -> st.SearchStrategy[tuple[str, str, str | None, dt.datetime]]:
    """(department, purpose, method, at) arguments of ``Policy.check_transfer``."""
    policy = policy or Policy.load()
    return st.tuples(departments(policy, include_unknown=False), purposes(policy),
                     st.sampled_from(("fukushi_system", "usb", None)), moments(policy))


# ---- random policies in the model family ------------------------------------------------------

#: The pia_policy Casbin model family (policies/model.conf says the same; see policy.FAMILY).
MODEL_TEXT = FAMILY_MODEL_TEXT


@dataclass(frozen=True)
class RandomPolicy:
    """A random policy of the model family: lines plus the vocabulary requests draw from."""

    lines: tuple[PolicyLine, ...]
    versions: tuple[str, ...]
    subjects: tuple[str, ...]
    departments: tuple[str, ...]
    resources: tuple[str, ...]
    actions: tuple[str, ...]
    affairs: tuple[str, ...]


_R_SUBJECTS = ("u", "kouki_staff", "my_number_user", "system_owner", "r1", "r2", "r3")
_R_SUB_GROUPS = ("r1", "r2", "r3", "export_officer")
_R_DEPTS = ("健康保険課", "保護課", "中央区健康課", "緑区健康課", "税務課")
_R_DEPT_GROUPS = ("grp:holder", "各区健康課", "grp:a", "grp:b")
_R_OBJS = ("kojin_bango", "kihon_joho", "iryo_hoken", "chihouzei")
_R_OBJ_GROUPS = ("grp:general", "grp:transfer")
_R_ACTS = ("view", "update", "transfer", "export")
_R_AFFS = ("kouki-01", "kouki-15", "kouki-16", "gaikokujin_hogo")
_R_AFF_GROUPS = ("grp:kouki", "grp:mn", "grp:x")
_R_METHODS = ("fukushi_system", "usb")


@st.composite
def random_policies(draw: Any, max_lines: int = 25) -> RandomPolicy:
    """Random policies in the model family: RBAC with domains (per version), role hierarchies, groups."""
    n_versions = draw(st.integers(1, 3))
    versions = tuple(f"v{i}" for i in range(n_versions))
    ver = st.sampled_from(versions)
    star = st.just("*")
    lines: list[PolicyLine] = []
    n = draw(st.integers(0, max_lines))
    for i in range(n):
        values = (
            draw(st.one_of(star, st.sampled_from(_R_SUBJECTS + _R_SUB_GROUPS))),
            draw(st.one_of(star, st.sampled_from(_R_DEPTS + _R_DEPT_GROUPS))),
            draw(st.one_of(star, st.sampled_from(_R_OBJS + _R_OBJ_GROUPS))),
            draw(st.sampled_from(_R_ACTS)),
            draw(st.one_of(star, st.sampled_from(_R_AFFS + _R_AFF_GROUPS))),
            draw(ver),
            draw(st.sampled_from(("*", "read", "update"))),
            draw(st.one_of(star, st.sampled_from(_R_DEPTS + _R_DEPT_GROUPS))),
            draw(st.one_of(star, st.sampled_from(_R_METHODS))),
            f"l{i}",
        )
        lines.append(PolicyLine("p", values))
    # role hierarchy per version (chains may be long: Casbin follows at most 10 levels)
    for _ in range(draw(st.integers(0, 14))):
        a = draw(st.sampled_from(_R_SUBJECTS + _R_SUB_GROUPS))
        b = draw(st.sampled_from(_R_SUB_GROUPS + _R_SUBJECTS))
        lines.append(PolicyLine("g", (a, b, draw(ver))))
    for _ in range(draw(st.integers(0, 8))):
        lines.append(PolicyLine("g2", (draw(st.sampled_from(_R_DEPTS + _R_DEPT_GROUPS)),
                                       draw(st.sampled_from(_R_DEPT_GROUPS)))))
    for _ in range(draw(st.integers(0, 6))):
        lines.append(PolicyLine("g3", (draw(st.sampled_from(_R_OBJS)), draw(st.sampled_from(_R_OBJ_GROUPS)))))
    for _ in range(draw(st.integers(0, 8))):
        lines.append(PolicyLine("g4", (draw(st.sampled_from(_R_AFFS + _R_AFF_GROUPS)),
                                       draw(st.sampled_from(_R_AFF_GROUPS)), draw(ver))))
    # deduplicate (Casbin's model drops duplicate lines)
    seen: set[tuple[str, tuple[str, ...]]] = set()
    unique = []
    for pl in lines:
        if (pl.ptype, pl.values) not in seen:
            seen.add((pl.ptype, pl.values))
            unique.append(pl)
    return RandomPolicy(tuple(unique), versions, _R_SUBJECTS + ("",), _R_DEPTS, _R_OBJS + ("",),
                        _R_ACTS, _R_AFFS + ("",))


def casbin_requests(rp: RandomPolicy) -> st.SearchStrategy[tuple[str, ...]]:
    """Casbin request tuples (sub, dom, obj, act, aff, ver, perm, rcpt, meth) for a random policy."""
    return st.tuples(
        st.sampled_from(rp.subjects + _R_SUB_GROUPS), st.sampled_from(rp.departments + _R_DEPT_GROUPS),
        st.sampled_from(rp.resources), st.sampled_from(rp.actions), st.sampled_from(rp.affairs + _R_AFF_GROUPS),
        st.sampled_from(rp.versions + ("v9",)), st.sampled_from(("read", "update")),
        st.sampled_from(rp.departments + ("",)), st.sampled_from(_R_METHODS + ("",)),
    )



# ---- invariants ---------------------------------------------------------------------------------

def _is_transfer(policy: Policy, req: AccessRequest) -> tuple[str, str | None] | None:
    if req.action == "transfer":
        return (req.recipient_department or "", req.affair)
    holder = req.department in policy.holder_departments or req.employment == "contractor"
    if not holder and req.resource is not None and req.action not in ("login", "logout"):
        return (req.department, req.affair)
    return None


def invariant_no_my_number_without_permission(policy: Policy, req: AccessRequest) -> bool:
    """My Number use (view/search/update/print of kojin_bango) is never allowed without my_number_user."""
    vocab = policy.vocabulary
    if req.resource == vocab.my_number_resource and req.action in MY_NUMBER_USE_ACTIONS \
            and vocab.my_number_role not in req.roles:
        return not policy.decide(req, validate=False).allowed
    return True


def invariant_no_transfer_outside_bessi1(policy: Policy, req: AccessRequest,
                                         pairs: frozenset[tuple[str, str]] = BESSI1_PAIRS) -> bool:
    """An allowed transfer has a 別紙1 pair, happens inside 福祉システム by method fukushi_system, and cites 別紙1."""
    pair = _is_transfer(policy, req)
    if pair is None:
        return True
    d = policy.decide(req, validate=False)
    if not d.allowed:
        return True
    if (pair[0], pair[1] or "") not in pairs:
        return False
    if req.system != policy.vocabulary.transfer_system:
        return False
    if req.action == "transfer" and req.method != policy.vocabulary.transfer_method:
        return False
    return "別紙1" in d.basis


def invariant_nothing_after_revocation(policy: Policy, account: Account, action: str, resource: str | None,
                                       affair: str | None, at: dt.datetime) -> bool:
    """No account is allowed anything at or after its revoked_at / expires_at."""
    from .policy import to_utc_naive

    limits = [x for x in (account.revoked_at, account.expires_at) if x is not None]
    if not any(to_utc_naive(at) >= to_utc_naive(x) for x in limits):
        return True
    d = policy.check_access(account, action, resource, affair, at=at)
    return not d.allowed and d.rule == "ACCESS_AFTER_REVOCATION"


def assert_invariants(policy: Policy, req: AccessRequest) -> None:
    """Assert the request-level invariants (My Number, 別紙1) with a readable message."""
    assert invariant_no_my_number_without_permission(policy, req), f"My Number use allowed without permission: {req}"
    assert invariant_no_transfer_outside_bessi1(policy, req), f"transfer outside 別紙1 allowed: {req}"


def assert_policy_invariants(policy: Policy, *, pairs: frozenset[tuple[str, str]] = BESSI1_PAIRS) -> None:
    """Exhaustive check of every policy invariant over the finite request domain (``request_domain``).

    No My Number use without ``my_number_user``, none outside the version's My Number affairs,
    no transfer outside 別紙1 (pair and method), nothing after revocation. The message lists each
    violation with the policy line (file:line) that allows it.
    """
    found = policy_violations(policy, pairs=pairs)
    assert not found, "policy invariants broken:\n" + "\n".join(str(v) for v in found)
