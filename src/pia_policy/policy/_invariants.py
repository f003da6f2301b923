"""The policy invariants of SPEC §2, checked exhaustively over the finite request domain.

- ``my_number_without_permission``: no My Number use (view/search/update/print of kojin_bango)
  is allowed to a role other than ``my_number_user`` (or to no role);
- ``my_number_outside_affairs``: none in an affair outside the version's My Number affairs
  (metadata.toml ``my_number_affairs``);
- ``transfer_outside_bessi1``: no transfer — action ``transfer`` (pair = recipient, purpose) or
  a non-holder department on a resource (pair = department, purpose) — with a pair outside
  別紙1, and no ``transfer`` action by another method than ``fukushi_system``;
- ``access_after_revocation``: nothing is allowed to an account at or after its revocation
  (checked through ``check_access``, which judges revocation before the policy).

The grid is ``request_domain(policy)``: one representative per class of values the policy cannot
tell apart; an allowed representative is checked for every value of its class, so a value that
shares its class with a permitted one is still caught.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..departments import expand_department
from ..models import MY_NUMBER_USE_ACTIONS, Account
from ._domain import request_domain
from ._engine import CompiledPolicy

if TYPE_CHECKING:
    from ._policy import Policy
    from ._source import PolicyLine

__all__ = ["BESSI1_PAIRS", "Violation", "policy_violations"]

#: 別紙1 (SPEC §2.2): the (recipient department, purpose) pairs a transfer may have, 各区 expanded.
BESSI1_PAIRS: frozenset[tuple[str, str]] = frozenset(
    (dept, purpose)
    for group, purpose in (
        ("保護課", "gaikokujin_hogo"), ("各区社会支援課", "gaikokujin_hogo"),
        ("障害者自立支援課", "shinshin_iryohi"), ("各区高齢障害支援課", "shinshin_iryohi"),
        ("こども家庭支援課", "hitorioya_iryohi"), ("各区こども家庭課", "hitorioya_iryohi"),
        ("精神保健福祉課", "seishin_nyuin_iryohi"), ("各区健康課", "seishin_nyuin_iryohi"),
        ("健康支援課", "shoni_shitei_iryohi"), ("各区健康課", "shoni_shitei_iryohi"),
    )
    for dept in expand_department(group)
)


@dataclass(frozen=True)
class Violation:
    """One invariant broken: which, for which request, allowed by which line (as written)."""

    invariant: str
    version: str
    request: tuple[str, ...]
    line_id: str | None
    file: str | None
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}: " if self.file and self.line else ""
        return f"{where}{self.invariant}: {self.message}"


class _LineFinder:
    """The source line (as written) that allows a tuple: line ids repeat across versions and lines."""

    def __init__(self, policy: Policy) -> None:
        self.groups = [pl for pl in policy.lines if pl.ptype != "p"]
        self.by_id: dict[str, list[PolicyLine]] = {}
        for pl in policy.source_lines:
            if pl.ptype == "p":
                self.by_id.setdefault(pl.values[-1], []).append(pl)
        self._single: dict[int, CompiledPolicy] = {}

    def find(self, line_id: str | None, t: tuple[str, ...]) -> PolicyLine | None:
        for pl in self.by_id.get(line_id or "", ()):
            key = id(pl)
            ev = self._single.get(key)
            if ev is None:
                ev = self._single[key] = CompiledPolicy(self.groups + [pl])
            if ev.allowing_line(t) is not None:  # type: ignore[arg-type]
                return pl
        return None


def policy_violations(policy: Policy, *, pairs: frozenset[tuple[str, str]] = BESSI1_PAIRS,
                      limit: int = 50) -> list[Violation]:
    """Every invariant violation of the policy (at most ``limit`` per invariant), exhaustively."""
    st = policy._state
    ev, vocab = st.compiled, st.vocab
    domain = request_domain(policy)
    members = domain.classes
    meta_versions = {str(x.get("id")): x for x in policy.metadata.get("versions", [])}
    out: list[Violation] = []
    counts: dict[str, int] = {}
    finder = _LineFinder(policy)

    def report(code: str, t: tuple[str, ...], lid: str | None, message: str) -> None:
        if counts.get(code, 0) >= limit:
            return
        counts[code] = counts.get(code, 0) + 1
        pl = finder.find(lid, t)
        out.append(Violation(code, t[5], t, lid, pl.file if pl else None, pl.line if pl else None,
                             f"{message} (request {', '.join(repr(x) for x in t)}; line {lid!r})"))

    for t in domain.casbin_requests():
        sub, dom, obj, act, aff, ver, perm, rcpt, meth = t
        mn_use = obj == vocab.my_number_resource and act in MY_NUMBER_USE_ACTIONS
        is_transfer = act == "transfer" or (dom not in vocab.holders and act not in ("login", "logout"))
        if not (mn_use or is_transfer):
            continue
        lid = ev.allowing_line(t)
        if lid is None:
            continue
        if mn_use:
            roles = [r for r in members.get(sub, (sub,))] if sub else [""]
            wrong = [r or "(no role)" for r in roles if r != vocab.my_number_role]
            if wrong:
                report("my_number_without_permission", t, lid,
                       f"{ver}: {vocab.my_number_resource} {act} allowed to {', '.join(wrong)} "
                       f"without {vocab.my_number_role}")
            declared = meta_versions.get(ver, {}).get("my_number_affairs")
            if declared is not None:
                outside = [a or "(no affair)" for a in (members.get(aff, (aff,)) if aff else ("",))
                           if a not in declared]
                if outside:
                    report("my_number_outside_affairs", t, lid,
                           f"{ver}: {vocab.my_number_resource} {act} allowed in {', '.join(outside)}, "
                           f"outside the version's My Number affairs")
        if is_transfer:
            dept = rcpt if act == "transfer" else dom
            depts = members.get(dept, (dept,)) if dept else ("",)
            purposes = members.get(aff, (aff,)) if aff else ("",)
            outside_pairs = sorted({(d, p) for d in depts for p in purposes} - pairs)
            if outside_pairs:
                shown = ", ".join(f"{d or '(none)'}/{p or '(none)'}" for d, p in outside_pairs[:6])
                report("transfer_outside_bessi1", t, lid, f"{ver}: {act} allowed for pairs outside 別紙1: {shown}")
            if act == "transfer":
                methods = members.get(meth, (meth,)) if meth else ("",)
                wrong_m = [m or "(none)" for m in methods if m != vocab.transfer_method]
                if wrong_m:
                    report("transfer_outside_bessi1", t, lid,
                           f"{ver}: transfer allowed by {', '.join(wrong_m)} (only {vocab.transfer_method})")
    out.extend(_revocation_violations(policy, domain, limit))
    return out


def _revocation_violations(policy: Policy, domain: object, limit: int) -> list[Violation]:
    """check_access at and after revoked_at / expires_at denies everything, for every version."""
    from ._domain import RequestDomain

    assert isinstance(domain, RequestDomain)
    out: list[Violation] = []
    known = policy.departments
    for v in policy.versions:
        at = dt.datetime.combine(v.in_force_from, dt.time())
        for dept in (d for d in domain.departments if d in known):
            for sub in ("",) + domain.roles:
                for field in ("revoked_at", "expires_at"):
                    account = Account(account_id="invariant", system="fukushi", department=dept,
                                      roles=frozenset({sub}) if sub else frozenset(), permission="update",
                                      **{field: at})
                    for act in domain.actions:
                        for res in (None,) if act in ("login", "logout") else domain.resources:
                            d = policy.check_access(account, act, res, None, at=at)
                            if d.allowed or d.rule != "ACCESS_AFTER_REVOCATION":
                                out.append(Violation("access_after_revocation", v.id, (sub, dept, res or "", act),
                                                     d.matched, None, None,
                                                     f"{v.id}: {act} {res or ''} allowed at {field}"))
                                if len(out) >= limit:
                                    return out
    return out
