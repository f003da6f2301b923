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
from typing import Any, Iterable, Protocol, Sequence

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
    "RequestKey",
    "request_key",
    "request_tokens",
    "key_tokens",
    "request_method",
    "key_method",
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


#: A (version, action) table: the line ids in order, then per token (sub, dom, obj, aff, perm, rcpt,
#: meth) a dict name -> bitmask of the lines that name satisfies and the mask of any other name.
_Table = tuple[tuple[str, ...], dict[str, int], int, dict[str, int], int, dict[str, int], int,
               dict[str, int], int, dict[str, int], int, dict[str, int], int, dict[str, int], int]


class CompiledPolicy:
    """Policy lines indexed by (version, action), groupings as memoised closures, and per (version,
    action) a bitmask table: bit i set = candidate line i matches that token value (first line wins)."""

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
        self._tables: dict[tuple[str, str], _Table] = {}

    def prepare(self) -> CompiledPolicy:
        """Build every (version, action) table now (a loaded policy does, so no request pays for it)."""
        for key in self.index:
            self._table(key)
        return self

    def _table(self, key: tuple[str, str]) -> _Table:
        hit = self._tables.get(key)
        if hit is not None:
            return hit
        ver = key[0]
        cands = self.index[key]
        graphs = (self.g.get(ver, _EMPTY), self.g2, self.g3, self.g4.get(ver, _EMPTY), None, self.g2, None)
        parts: list[Any] = [tuple(c[7] for c in cands)]
        for pos, graph in enumerate(graphs):
            star = sum(1 << i for i, c in enumerate(cands) if c[pos] == "*")
            names = {c[pos] for c in cands} - {"*"}
            if graph is not None:  # a grouped name reaches a line value through its closure
                names |= set(graph.parents) | {p for ps in graph.parents.values() for p in ps}
            masks: dict[str, int] = {}
            for name in names:
                reach = graph.closure(name) if graph is not None else (name,)
                mask = star | sum(1 << i for i, c in enumerate(cands) if c[pos] in reach)
                if mask != star:
                    masks[name] = mask
            parts += (masks, star)
        table: _Table = tuple(parts)  # type: ignore[assignment]
        self._tables[key] = table
        return table

    def allowing_line(self, tokens: Tokens) -> str | None:
        sub, dom, obj, act, aff, ver, perm, rcpt, meth = tokens
        table = self._tables.get((ver, act))
        if table is None:
            if (ver, act) not in self.index:
                return None
            table = self._table((ver, act))
        lids, s, s0, d, d0, o, o0, a, a0, p, p0, r, r0, m, m0 = table
        hit = (s.get(sub, s0) & d.get(dom, d0) & o.get(obj, o0) & a.get(aff, a0) & p.get(perm, p0)
               & r.get(rcpt, r0) & m.get(meth, m0))
        if not hit:
            return None
        return lids[(hit & -hit).bit_length() - 1]


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


#: A request as a tuple (the decision cache key): version, system, department, employment, roles,
#: permission, action, resource, affair, recipient_department, method (``AccessRequest``'s fields).
RequestKey = tuple[str, str, str, str, frozenset[str], str, str, str | None, str | None, str | None, str | None]


def request_key(req: AccessRequest) -> RequestKey:
    """The ``RequestKey`` of a request."""
    return (req.version, req.system, req.department, req.employment, req.roles, req.permission, req.action,
            req.resource, req.affair, req.recipient_department, req.method)


def request_tokens(req: AccessRequest, vocab: Vocabulary) -> list[Tokens]:
    """The Casbin request tuples of one request: one per role (sorted), or one with sub "" if none."""
    return key_tokens(request_key(req), vocab)


def key_tokens(key: RequestKey, vocab: Vocabulary) -> list[Tokens]:
    """The Casbin request tuples of one request key: one per role (sorted), or one with sub "" if none.

    login/logout ignore resource and affair; only ``transfer`` carries a recipient; the method
    is :func:`request_method`; a contractor account is judged as holder staff (SPEC §2.5)
    whatever its department.
    """
    version, _system, dom, employment, roles, permission, act, resource, affair, recipient, _meth = key
    if act in ("login", "logout"):
        obj, aff = "", ""
    else:
        obj, aff = resource or "", affair or ""
    rcpt = (recipient or "") if act == "transfer" else ""
    meth = key_method(key, vocab)
    if employment == "contractor" and dom not in vocab.holders:
        dom = vocab.holder_group
    subjects = sorted(roles) or [""]
    return [(s, dom, obj, act, aff, version, permission, rcpt, meth) for s in subjects]


def request_method(req: AccessRequest, vocab: Vocabulary) -> str:
    """The ``meth`` token: how the data would leave the holder (SPEC §4 transfer readings).

    A transfer happens only inside the transfer system (別紙1 "福祉システム内"): on any other
    system the method is "" whatever the event says. On the transfer system a ``transfer``
    event carries its ``method``; any other event is an access through the system's own
    access rights, i.e. ``transfer_method`` (its ``method`` field is ignored).
    """
    return key_method(request_key(req), vocab)


def key_method(key: RequestKey, vocab: Vocabulary) -> str:
    """:func:`request_method` of a request key."""
    if key[1] != vocab.transfer_system:
        return ""
    if key[6] == "transfer":
        return key[10] or ""
    return vocab.transfer_method


def first_allowing(evaluator: Evaluator, tuples: Sequence[Tokens]) -> str | None:
    """The id of the line allowing the first allowed tuple, or None."""
    for t in tuples:
        lid = evaluator.allowing_line(t)
        if lid is not None:
            return lid
    return None

