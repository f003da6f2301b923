"""The finite request domain of a policy: every value a request can take that the policy can tell apart.

A decision depends on a request only through the Casbin tuple
``(sub, dom, obj, act, aff, ver, perm, rcpt, meth)`` (SPEC §9, one role per call). Every
dimension is finite: the values the policy names, the vocabulary of SPEC §2, and one
value the policy does not name (``OTHER_DEPARTMENT``, ``OTHER_AFFAIR``, ``OTHER_METHOD``),
which stands for every unnamed value (Casbin cannot tell two unnamed values apart). So
invariants, ``diff`` and the export check run over the whole domain, exhaustively.

A role *set* is allowed exactly when one of its roles is (the decision asks Casbin once per
role), so single roles plus ``""`` (no role) cover every role set.

With ``collapse=True`` (the default) each dimension keeps one representative per class of
values that neither the policy lines (through the model family's matcher: equality, ``"*"``
and the g/g2/g3/g4 closures) nor the decision's vocabulary (holders, the My Number role and
resource, export roles, the transfer method) can tell apart; ``RequestDomain.classes`` maps a
representative to every value it stands for. The collapsed grid is exhaustive for any
question whose answer depends only on the decision, and small enough to run in a test.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable, Iterator

from ..departments import expand_department, is_group_name
from ..models import ACTIONS, RESOURCES, SYSTEMS, AccessRequest

if TYPE_CHECKING:
    from ._policy import Policy

__all__ = [
    "RequestDomain",
    "request_domain",
    "known_departments",
    "OTHER_DEPARTMENT",
    "OTHER_AFFAIR",
    "OTHER_METHOD",
    "PERMISSIONS",
    "OFFICER_ROLES",
]

#: A department no policy line names (stands for every such department).
OTHER_DEPARTMENT = "（方針にない部署）"
#: An affair code no policy line names.
OTHER_AFFAIR = "kouki-99"
#: A transfer method no policy line names.
OTHER_METHOD = "other"
PERMISSIONS: tuple[str, ...] = ("read", "update")
#: Officer roles (officers.csv, SPEC §3): held in office, added to the account's roles.
OFFICER_ROLES: tuple[str, ...] = ("system_owner", "export_delegate", "info_system_manager")


@dataclass(frozen=True)
class RequestDomain:
    """The values of each request dimension (sorted, deterministic)."""

    versions: tuple[str, ...]
    roles: tuple[str, ...]
    departments: tuple[str, ...]
    resources: tuple[str, ...]
    actions: tuple[str, ...]
    affairs: tuple[str, ...]
    permissions: tuple[str, ...]
    methods: tuple[str, ...]
    #: representative -> every value it stands for (collapsed domains; identity otherwise)
    classes: dict[str, tuple[str, ...]] = field(default_factory=dict, compare=False)
    #: the ``meth`` of a request that is not a transfer: "" off the transfer system, the transfer
    #: method on it (SPEC §4: an access there goes through the system's own rights)
    system_methods: tuple[str, ...] = ("", "fukushi_system")
    #: the transfer system (別紙1 "福祉システム内") and one other, for ``access_requests``
    systems: tuple[str, str] = ("fukushi", "hyojun")

    def casbin_requests(self, versions: Iterable[str] | None = None) -> Iterator[tuple[str, ...]]:
        """Every Casbin request tuple of the domain (login/logout carry no obj/aff; only transfer a rcpt/meth).

        ``""`` is the empty value: no role, no affair, no recipient, no method.
        """
        vers = tuple(versions) if versions is not None else self.versions
        subs = ("",) + self.roles
        affs = ("",) + self.affairs
        rcpts = ("",) + self.departments
        meths = ("",) + self.methods
        system_pairs = tuple(("", m) for m in self.system_methods)
        for ver in vers:
            for act in self.actions:
                session = act in ("login", "logout")
                objs = ("",) if session else self.resources
                aff_values = ("",) if session else affs
                pairs: tuple[tuple[str, str], ...] = (
                    tuple((r, m) for r in rcpts for m in meths) if act == "transfer" else system_pairs
                )
                for sub in subs:
                    for dom in self.departments:
                        for perm in self.permissions:
                            for obj in objs:
                                for aff in aff_values:
                                    for rcpt, meth in pairs:
                                        yield (sub, dom, obj, act, aff, ver, perm, rcpt, meth)

    def access_requests(self, versions: Iterable[str] | None = None) -> Iterator[AccessRequest]:
        """The same grid as ``AccessRequest`` (one role or none; regular employment).

        The system follows ``meth``: the transfer system when a method is set, another one when not.
        """
        on, off = self.systems
        for sub, dom, obj, act, aff, ver, perm, rcpt, meth in self.casbin_requests(versions):
            yield AccessRequest.model_construct(
                version=ver, system=on if meth else off, department=dom, employment="regular",
                roles=frozenset({sub}) if sub else frozenset(), permission=perm, action=act,
                resource=obj or None, affair=aff or None, recipient_department=rcpt or None,
                method=meth or None,
            )

    def size(self, versions: Iterable[str] | None = None) -> int:
        """The number of tuples ``casbin_requests`` yields."""
        vers = len(tuple(versions)) if versions is not None else len(self.versions)
        total = 0
        for act in self.actions:
            session = act in ("login", "logout")
            n = (1 + len(self.roles)) * len(self.departments) * len(self.permissions)
            n *= 1 if session else len(self.resources) * (1 + len(self.affairs))
            if act == "transfer":
                n *= (1 + len(self.departments)) * (1 + len(self.methods))
            else:
                n *= len(self.system_methods)
            total += n
        return total * vers


def _group_names(lines: Iterable[Any]) -> set[str]:
    """Names that are groups (a parent in g2), never departments."""
    return {pl.values[1] for pl in lines if pl.ptype == "g2"}


def known_departments(lines: Iterable[Any], holders: Iterable[str], metadata: dict[str, Any]) -> frozenset[str]:
    """Concrete departments a policy knows: holders, every name its lines use, metadata [departments].known.

    Group names (a g2 parent, 各区X課, ``grp:…``) are never departments.
    """
    lines = list(lines)
    groups = _group_names(lines)
    names: set[str] = set(holders)
    for name in metadata.get("departments", {}).get("known", []):
        names.update(expand_department(str(name)))
    for pl in lines:
        if pl.ptype == "g2":
            names.add(pl.values[0])
        elif pl.ptype == "p":
            names.update((pl.values[1], pl.values[7]))
    return frozenset(n for n in names
                     if n != "*" and n not in groups and not is_group_name(n))


def _roles(policy: Policy) -> set[str]:
    vocab = policy.vocabulary
    names = {vocab.staff_role, vocab.my_number_role, *vocab.export_roles, *OFFICER_ROLES}
    for pl in policy.lines:
        if pl.ptype == "g":
            names.update(pl.values[:2])
        elif pl.ptype == "p" and pl.values[0] != "*":
            names.add(pl.values[0])
    return names


def _closure(parents: dict[str, set[str]], name: str, depth: int = 10) -> frozenset[str]:
    """``name`` and every group it reaches within Casbin's default hierarchy depth."""
    seen, frontier = {name}, {name}
    for _ in range(depth - 1):
        frontier = {p for n in frontier for p in parents.get(n, ())} - seen
        if not frontier:
            break
        seen |= frontier
    return frozenset(seen)


class _Signatures:
    """Per policy: what the lines and the vocabulary can observe of one value in each dimension."""

    def __init__(self, policy: Policy) -> None:
        self.vocab = policy.vocabulary
        self.versions = tuple(v.id for v in policy.versions)
        lines = policy.lines
        self.g: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
        self.g4: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
        self.g2: dict[str, set[str]] = defaultdict(set)
        self.g3: dict[str, set[str]] = defaultdict(set)
        named: dict[int, set[str]] = defaultdict(set)
        for pl in lines:
            v = pl.values
            if pl.ptype == "g":
                self.g[v[2]][v[0]].add(v[1])
            elif pl.ptype == "g4":
                self.g4[v[2]][v[0]].add(v[1])
            elif pl.ptype == "g2":
                self.g2[v[0]].add(v[1])
            elif pl.ptype == "g3":
                self.g3[v[0]].add(v[1])
            elif pl.ptype == "p":
                for i, value in enumerate(v):
                    named[i].add(value)
        self.subs, self.doms, self.objs = named[0], named[1] | named[7], named[2]
        self.affs, self.meths = named[4], named[8]

    def role(self, r: str) -> tuple[Any, ...]:
        v = self.vocab
        own = r if r in {v.staff_role, v.my_number_role, *v.export_roles} else None
        return (own,) + tuple(_closure(self.g[ver], r) & self.subs for ver in self.versions)

    def department(self, d: str) -> tuple[Any, ...]:
        v = self.vocab
        return (d in v.holders, d == v.canonical_holder, _closure(self.g2, d) & self.doms)

    def resource(self, o: str) -> tuple[Any, ...]:
        v = self.vocab
        own = o if o in (v.my_number_resource, v.transfer_resource) else None
        return (own, _closure(self.g3, o) & self.objs)

    def affair(self, a: str) -> tuple[Any, ...]:
        return tuple(_closure(self.g4[ver], a) & self.affs for ver in self.versions)

    def method(self, m: str) -> tuple[Any, ...]:
        return (m if m in self.meths or m == self.vocab.transfer_method else None,)


def _collapse(values: Iterable[str], signature: Any, classes: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    """One representative (the first in sorted order) per signature; records the classes."""
    groups: dict[Any, list[str]] = {}
    for value in sorted(values):
        groups.setdefault(signature(value), []).append(value)
    reps = []
    for members in groups.values():
        reps.append(members[0])
        classes[members[0]] = tuple(members)
    return tuple(sorted(reps))


def request_domain(*policies: Policy, include_other: bool = True, collapse: bool = True) -> RequestDomain:
    """The union of the policies' request domains (one policy, or the two sides of a diff).

    ``include_other`` adds one department, affair and method that no line names; ``collapse``
    keeps one representative per class of values the policies cannot tell apart.
    """
    if not policies:
        raise ValueError("request_domain needs at least one Policy")
    versions: dict[str, None] = {}
    roles: set[str] = set()
    departments: set[str] = set()
    affairs: set[str] = set()
    methods: set[str] = set()
    for policy in policies:
        versions.update((v.id, None) for v in policy.versions)
        roles |= _roles(policy)
        departments |= policy.departments
        affairs |= set(policy.affairs) | set(policy.purposes)
        methods |= set(policy.vocabulary.transfer_methods)
        methods |= {pl.values[8] for pl in policy.lines if pl.ptype == "p" and pl.values[8] != "*"}
    if include_other:
        departments.add(OTHER_DEPARTMENT)
        affairs.add(OTHER_AFFAIR)
        methods.add(OTHER_METHOD)
    classes: dict[str, tuple[str, ...]] = {}
    if collapse:
        sigs = [_Signatures(p) for p in policies]
        role_t = _collapse(roles, lambda x: tuple(s.role(x) for s in sigs), classes)
        dept_t = _collapse(departments, lambda x: tuple(s.department(x) for s in sigs), classes)
        res_t = _collapse(RESOURCES, lambda x: tuple(s.resource(x) for s in sigs), classes)
        aff_t = _collapse(affairs, lambda x: tuple(s.affair(x) for s in sigs), classes)
        meth_t = _collapse(methods, lambda x: tuple(s.method(x) for s in sigs), classes)
    else:
        role_t, dept_t, res_t = tuple(sorted(roles)), tuple(sorted(departments)), RESOURCES
        aff_t, meth_t = tuple(sorted(affairs)), tuple(sorted(methods))
    vocab = policies[0].vocabulary
    other_system = next(s for s in SYSTEMS if s != vocab.transfer_system)
    return RequestDomain(
        versions=tuple(versions), roles=role_t, departments=dept_t, resources=res_t, actions=ACTIONS,
        affairs=aff_t, permissions=PERMISSIONS, methods=meth_t, classes=classes,
        system_methods=("", vocab.transfer_method), systems=(vocab.transfer_system, other_system),
    )
