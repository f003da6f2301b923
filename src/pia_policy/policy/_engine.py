"""The Casbin model family, the compiled (indexed) evaluator and the explained decision.

Both paths share one thing: the mapping of an ``AccessRequest`` to Casbin request tuples
(``request_tokens``) and the classification of a denial (``classify``), which only asks
"is this tuple allowed?" of the evaluator it is given. ``CompiledPolicy`` answers that
from dicts and sets; ``CasbinEvaluator`` answers it with ``casbin.Enforcer.enforce_ex``.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from typing import Iterable, Protocol, Sequence

import casbin
from casbin.model import Model

from ..models import AccessRequest
from ._source import PolicyLine

__all__ = [
    "REQUEST_TOKENS",
    "POLICY_TOKENS",
    "Tokens",
    "Evaluator",
    "CompiledPolicy",
    "CasbinEvaluator",
    "Vocabulary",
    "build_enforcer",
    "request_tokens",
    "request_method",
]

# Casbin logs a WARNING for every denied request; quiet it unless the application configured it.
_casbin_log = logging.getLogger("casbin")
if _casbin_log.level == logging.NOTSET:
    _casbin_log.setLevel(logging.ERROR)

REQUEST_TOKENS: tuple[str, ...] = ("sub", "dom", "obj", "act", "aff", "ver", "perm", "rcpt", "meth")
POLICY_TOKENS: tuple[str, ...] = REQUEST_TOKENS + ("id",)

#: Casbin's default role manager follows at most this many levels (RoleManager(10)).
MAX_HIERARCHY_LEVEL = 10

Tokens = tuple[str, str, str, str, str, str, str, str, str]


class Evaluator(Protocol):
    """Answers: which policy line (id) allows this Casbin request tuple, if any."""

    def allowing_line(self, tokens: Tokens) -> str | None: ...


# ---- Casbin reference --------------------------------------------------------------------------

def build_enforcer(model_text: str, lines: Iterable[PolicyLine]) -> casbin.Enforcer:
    """A real ``casbin.Enforcer`` holding the model and the (expanded) lines."""
    model = Model()
    model.load_model_from_text(model_text)
    enforcer = casbin.Enforcer(model)
    by_type: dict[tuple[str, str], list[list[str]]] = defaultdict(list)
    for pl in lines:
        sec = "g" if pl.ptype.startswith("g") else "p"
        by_type[(sec, pl.ptype)].append(list(pl.values))
    m = enforcer.get_model()
    for (sec, ptype), rules in by_type.items():
        m.add_policies(sec, ptype, rules)
    enforcer.build_role_links()
    return enforcer


class CasbinEvaluator:
    """The reference evaluator: every answer is ``casbin.Enforcer.enforce_ex``."""

    def __init__(self, enforcer: casbin.Enforcer) -> None:
        self.enforcer = enforcer
        p_tokens = enforcer.get_model()["p"]["p"].tokens
        self._id_index = p_tokens.index("p_id") if "p_id" in p_tokens else None

    def allowing_line(self, tokens: Tokens) -> str | None:
        ok, explain = self.enforcer.enforce_ex(*tokens)
        if not ok:
            return None
        if self._id_index is not None and explain:
            return str(explain[self._id_index])
        return ""


# ---- compiled ----------------------------------------------------------------------------------

class _Graph:
    """One grouping (optionally per domain) with Casbin's depth-limited reachability, memoised."""

    def __init__(self, edges: Iterable[tuple[str, str]]) -> None:
        self.parents: dict[str, list[str]] = defaultdict(list)
        for child, parent in edges:
            self.parents[child].append(parent)
        self._memo: dict[str, frozenset[str]] = {}

    def closure(self, name: str) -> frozenset[str]:
        hit = self._memo.get(name)
        if hit is not None:
            return hit
        seen = {name}
        frontier = {name}
        # depth 0 .. MAX_HIERARCHY_LEVEL-1, as casbin's RoleManager._has_link
        for _ in range(MAX_HIERARCHY_LEVEL - 1):
            nxt: set[str] = set()
            for n in frontier:
                nxt.update(self.parents.get(n, ()))
            if not nxt:
                break
            seen.update(nxt)
            frontier = nxt
        result = frozenset(seen)
        if len(self._memo) < 100_000:
            self._memo[name] = result
        return result


_EMPTY = _Graph(())


class CompiledPolicy:
    """Policy lines indexed by (version, action) and groupings as memoised closures."""

    def __init__(self, lines: Sequence[PolicyLine]) -> None:
        self.index: dict[tuple[str, str], list[tuple[str, ...]]] = defaultdict(list)
        g: dict[str, list[tuple[str, str]]] = defaultdict(list)
        g4: dict[str, list[tuple[str, str]]] = defaultdict(list)
        g2: list[tuple[str, str]] = []
        g3: list[tuple[str, str]] = []
        for pl in lines:
            v = pl.values
            if pl.ptype == "p":
                sub, dom, obj, act, aff, ver, perm, rcpt, meth, lid = v
                self.index[(ver, act)].append((sub, dom, obj, aff, perm, rcpt, meth, lid))
            elif pl.ptype == "g":
                g[v[2]].append((v[0], v[1]))
            elif pl.ptype == "g2":
                g2.append((v[0], v[1]))
            elif pl.ptype == "g3":
                g3.append((v[0], v[1]))
            elif pl.ptype == "g4":
                g4[v[2]].append((v[0], v[1]))
        self.index = dict(self.index)
        self.g = {ver: _Graph(e) for ver, e in g.items()}
        self.g2 = _Graph(g2)
        self.g3 = _Graph(g3)
        self.g4 = {ver: _Graph(e) for ver, e in g4.items()}

    def allowing_line(self, tokens: Tokens) -> str | None:
        sub, dom, obj, act, aff, ver, perm, rcpt, meth = tokens
        candidates = self.index.get((ver, act))
        if not candidates:
            return None
        subs = self.g.get(ver, _EMPTY).closure(sub)
        doms = self.g2.closure(dom)
        objs = self.g3.closure(obj)
        affs = self.g4.get(ver, _EMPTY).closure(aff)
        rcpts: frozenset[str] | None = None
        for p_sub, p_dom, p_obj, p_aff, p_perm, p_rcpt, p_meth, lid in candidates:
            if p_sub != "*" and p_sub not in subs:
                continue
            if p_dom != "*" and p_dom not in doms:
                continue
            if p_obj != "*" and p_obj not in objs:
                continue
            if p_aff != "*" and p_aff not in affs:
                continue
            if p_perm != "*" and p_perm != perm:
                continue
            if p_rcpt != "*":
                if rcpts is None:
                    rcpts = self.g2.closure(rcpt)
                if p_rcpt not in rcpts:
                    continue
            if p_meth != "*" and p_meth != meth:
                continue
            return lid
        return None


# ---- requests and vocabulary -------------------------------------------------------------------

@dataclass(frozen=True)
class Vocabulary:
    """Names the decision relies on (metadata.toml [tokens]) and the holder departments."""

    holders: frozenset[str]
    holder_group: str = "grp:holder"
    staff_role: str = "kouki_staff"
    my_number_role: str = "my_number_user"
    my_number_resource: str = "kojin_bango"
    export_roles: frozenset[str] = frozenset({"system_owner", "export_delegate"})
    transfer_resource: str = "kihon_joho"
    transfer_method: str = "fukushi_system"
    #: Every method a transfer request may name (the API refuses others); fukushi_system is the permitted one.
    transfer_methods: tuple[str, ...] = ("fukushi_system", "usb", "email", "paper", "other")
    #: The system inside which a transfer happens (別紙1 "福祉システム内"); elsewhere no method qualifies.
    transfer_system: str = "fukushi"

    @property
    def canonical_holder(self) -> str:
        return min(self.holders) if self.holders else self.holder_group


def request_tokens(req: AccessRequest, vocab: Vocabulary) -> list[Tokens]:
    """The Casbin request tuples of one request: one per role (sorted), or one with sub "" if none.

    login/logout ignore resource and affair; only ``transfer`` carries a recipient; the method
    is :func:`request_method`; a contractor account is judged as holder staff (SPEC §2.5)
    whatever its department.
    """
    act = req.action
    if act in ("login", "logout"):
        obj, aff = "", ""
    else:
        obj, aff = req.resource or "", req.affair or ""
    rcpt = (req.recipient_department or "") if act == "transfer" else ""
    meth = request_method(req, vocab)
    dom = req.department
    if req.employment == "contractor" and dom not in vocab.holders:
        dom = vocab.holder_group
    subjects = sorted(req.roles) or [""]
    return [(s, dom, obj, act, aff, req.version, req.permission, rcpt, meth) for s in subjects]


def request_method(req: AccessRequest, vocab: Vocabulary) -> str:
    """The ``meth`` token: how the data would leave the holder (SPEC §4 transfer readings).

    A transfer happens only inside the transfer system (別紙1 "福祉システム内"): on any other
    system the method is "" whatever the event says. On the transfer system a ``transfer``
    event carries its ``method``; any other event is an access through the system's own
    access rights, i.e. ``transfer_method`` (its ``method`` field is ignored).
    """
    if req.system != vocab.transfer_system:
        return ""
    if req.action == "transfer":
        return req.method or ""
    return vocab.transfer_method


def first_allowing(evaluator: Evaluator, tuples: Sequence[Tokens]) -> str | None:
    """The id of the line allowing the first allowed tuple, or None."""
    for t in tuples:
        lid = evaluator.allowing_line(t)
        if lid is not None:
            return lid
    return None

