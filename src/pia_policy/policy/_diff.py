"""`pia-policy diff`: the requests whose decision differs between two (policy, version) sides.

Exact over the finite request domain (:func:`._domain.request_domain` of both policies, whose
values are classed so that one representative stands for every value no line can tell apart):
each class tuple is decided on each side by the compiled evaluator, and the tuples that differ
are merged into rectangular groups (one readable line each). Roles are judged one per request tuple, as Casbin sees them: an account with a role
set is allowed when one of its roles is, so a role set is newly allowed exactly when it holds a
newly allowed role and no role the "from" side already allowed.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

from .._i18n import msg
from ..departments import WARDS
from ..models import RESOURCES
from ._domain import OTHER_AFFAIR, OTHER_DEPARTMENT, OTHER_METHOD, RequestDomain, request_domain

__all__ = ["DiffGroup", "PolicyDiff", "diff_policies", "describe_departments"]

#: The dimensions of a Casbin request tuple, without ``ver`` (each side has its own version).
DIMENSIONS: tuple[str, ...] = ("sub", "dom", "obj", "act", "aff", "perm", "rcpt", "meth")


@dataclass(frozen=True)
class DiffGroup:
    """A rectangle of requests (every combination of the listed values) decided differently."""

    change: str  # "newly_allowed" | "newly_denied"
    roles: tuple[str, ...]
    departments: tuple[str, ...]
    resources: tuple[str, ...]
    actions: tuple[str, ...]
    affairs: tuple[str, ...]
    permissions: tuple[tuple[str, tuple[str, ...]], ...]  # per action: the permissions it holds for
    recipients: tuple[str, ...]
    methods: tuple[str, ...]
    requests: int
    policy_lines: tuple[str, ...]
    summary: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "summary": self.summary, "departments": list(self.departments), "roles": list(self.roles),
            "actions": list(self.actions), "permissions": {a: list(p) for a, p in self.permissions},
            "resources": list(self.resources),
            "affairs": list(self.affairs), "recipients": list(self.recipients), "methods": list(self.methods),
            "requests": self.requests, "policy_lines": list(self.policy_lines),
        }


@dataclass(frozen=True)
class PolicyDiff:
    """The result: what B allows that A did not (``newly_allowed``) and the reverse."""

    from_label: str
    to_label: str
    newly_allowed: tuple[DiffGroup, ...]
    newly_denied: tuple[DiffGroup, ...]
    requests_compared: int
    cells_evaluated: int
    values: dict[str, tuple[str, ...]] = field(repr=False, default_factory=dict)  # every value per dimension

    @property
    def empty(self) -> bool:
        return not self.newly_allowed and not self.newly_denied

    def to_dict(self) -> dict[str, Any]:
        return {
            "from": self.from_label, "to": self.to_label,
            "newly_allowed": [g.to_dict() for g in self.newly_allowed],
            "newly_denied": [g.to_dict() for g in self.newly_denied],
            "counts": {"requests_compared": self.requests_compared, "cells_evaluated": self.cells_evaluated,
                       "newly_allowed_requests": sum(g.requests for g in self.newly_allowed),
                       "newly_denied_requests": sum(g.requests for g in self.newly_denied)},
        }


# ---- computing ------------------------------------------------------------------------------------

_Key = tuple[frozenset[str], ...]  # one member set per DIMENSIONS


def _check_version(policy: Any, version: str) -> None:
    ids = [v.id for v in policy.versions]
    if version not in ids:
        raise ValueError(f"unknown version {version!r} (valid: {', '.join(ids)})")


def _members(domain: RequestDomain) -> dict[str, tuple[str, ...]]:
    """Every concrete value of each dimension (class representatives expanded), in domain order."""
    def expand(reps: Iterable[str]) -> tuple[str, ...]:
        return tuple(m for r in reps for m in domain.classes.get(r, (r,)))

    depts = expand(domain.departments)
    return {
        "sub": ("",) + expand(domain.roles), "dom": depts,
        "obj": tuple(sorted(expand(domain.resources), key=lambda r: RESOURCES.index(r) if r in RESOURCES else len(RESOURCES))),
        "act": tuple(domain.actions), "aff": ("",) + expand(domain.affairs), "perm": tuple(domain.permissions),
        "rcpt": ("",) + depts, "meth": ("",) + expand(domain.methods),
        "access_meth": tuple(domain.system_methods),  # the meth of a non-transfer request
    }


def diff_policies(policy_a: Any, version_a: str, policy_b: Any, version_b: str,
                  *, label_a: str | None = None, label_b: str | None = None) -> PolicyDiff:
    """Every request of the joint domain whose decision under (``policy_a``, ``version_a``) differs
    from (``policy_b``, ``version_b``), grouped. The two policies may be one object.

    The domain is the collapsed :func:`request_domain` of both policies: each tuple stands for the
    product of its values' classes, and is decided once per side by the compiled evaluator.
    """
    _check_version(policy_a, version_a)
    _check_version(policy_b, version_b)
    domain = request_domain(policy_a) if policy_a is policy_b else request_domain(policy_a, policy_b)
    ev_a = policy_a._state.compiled  # noqa: SLF001 - the compiled path of the same package
    ev_b = policy_b._state.compiled  # noqa: SLF001
    allowed: dict[_Key, set[str]] = {}
    denied: dict[_Key, set[str]] = {}
    classes = domain.classes
    cells = 0
    # an action no line of either side names is denied on both sides: its requests cannot differ
    named = tuple(a for a in domain.actions if (version_a, a) in ev_a.index or (version_b, a) in ev_b.index)
    for t in dataclasses.replace(domain, actions=named).casbin_requests([version_a]):
        cells += 1
        la = ev_a.allowing_line(t)
        lb = ev_b.allowing_line(t[:5] + (version_b,) + t[6:])
        if (la is None) == (lb is None):
            continue
        key = tuple(frozenset(classes.get(v, (v,)) if v else ("",)) for v in t[:5] + t[6:])
        if lb is not None:
            allowed.setdefault(key, set()).add(lb)
        else:
            denied.setdefault(key, set()).add(la or "")
    values = _members(domain)
    return PolicyDiff(
        from_label=label_a or f"{policy_a.origin}@{version_a}", to_label=label_b or f"{policy_b.origin}@{version_b}",
        newly_allowed=_groups("newly_allowed", allowed, values),
        newly_denied=_groups("newly_denied", denied, values),
        requests_compared=domain_size(values), cells_evaluated=cells, values=values,
    )


def domain_size(values: dict[str, tuple[str, ...]]) -> int:
    """The number of concrete request tuples (one version) of the expanded domain."""
    total = 0
    for act in values["act"]:
        n = len(values["sub"]) * len(values["dom"]) * len(values["perm"])
        if act not in ("login", "logout"):
            n *= len(values["obj"]) * len(values["aff"])
        if act == "transfer":
            n *= len(values["rcpt"]) * len(values["meth"])
        else:
            n *= len(values["access_meth"])
        total += n
    return total


# (merge order: permissions first, so that an action allowed for both permissions reads as one)
_MERGE_ORDER = ("perm", "meth", "rcpt", "dom", "sub", "act", "obj", "aff")
_IDX = {d: i for i, d in enumerate(DIMENSIONS)}


def _merge(cells: dict[_Key, set[str]]) -> dict[_Key, set[str]]:
    """Merge cells that differ in one dimension only, until nothing merges (rectangles stay exact)."""
    current = dict(cells)
    changed = True
    while changed:
        changed = False
        for dim in _MERGE_ORDER:
            i = _IDX[dim]
            buckets: dict[tuple[frozenset[str], ...], list[_Key]] = {}
            for key in current:
                buckets.setdefault(key[:i] + key[i + 1:], []).append(key)
            merged: dict[_Key, set[str]] = {}
            for rest, keys in buckets.items():
                if len(keys) > 1:
                    changed = True
                union = frozenset().union(*(k[i] for k in keys))
                new_key = rest[:i] + (union,) + rest[i:]
                ids: set[str] = set()
                for k in keys:
                    ids |= current[k]
                merged[new_key] = ids
            current = merged
    return current


def _ordered(values: frozenset[str], order: Sequence[str]) -> tuple[str, ...]:
    pos = {v: i for i, v in enumerate(order)}
    return tuple(sorted(values, key=lambda v: (pos.get(v, len(pos)), v)))


def _groups(change: str, cells: dict[_Key, set[str]], domain: dict[str, tuple[str, ...]]) -> tuple[DiffGroup, ...]:
    """Merged rectangles, then those that differ only in action and permission as one group."""
    ia, ip = _IDX["act"], _IDX["perm"]
    combined: dict[tuple[frozenset[str], ...], tuple[dict[str, set[str]], set[str]]] = {}
    for key, ids in _merge(cells).items():
        rest = tuple(k for i, k in enumerate(key) if i not in (ia, ip))
        by_action, all_ids = combined.setdefault(rest, ({}, set()))
        for act in key[ia]:
            by_action.setdefault(act, set()).update(key[ip])
        all_ids |= ids
    out = []
    others = [d for d in DIMENSIONS if d not in ("act", "perm")]
    for rest, (by_action, ids) in combined.items():
        values = {d: _ordered(v, domain[d]) for d, v in zip(others, rest)}
        actions = _ordered(frozenset(by_action), domain['act'])
        n = sum(len(by_action[a]) for a in actions)
        for d in others:
            n *= len(values[d])
        group = DiffGroup(
            change=change, roles=values["sub"], departments=values["dom"], resources=values["obj"],
            actions=actions, affairs=values["aff"],
            permissions=tuple((a, _ordered(frozenset(by_action[a]), domain['perm'])) for a in actions),
            recipients=values["rcpt"], methods=values["meth"], requests=n,
            policy_lines=tuple(sorted(i for i in ids if i)),
        )
        out.append(_with_summary(group, domain))
    acts = domain["act"]
    out.sort(key=lambda g: (acts.index(g.actions[0]), g.summary))
    return tuple(out)


# ---- wording --------------------------------------------------------------------------------------

#: The domain's stand-ins for names no policy uses, as an officer reads them.
_OTHER_LABELS = {
    OTHER_DEPARTMENT: ("方針にない部署", "departments the policy does not name"),
    OTHER_AFFAIR: ("方針にない事務", "affairs the policy does not name"),
    OTHER_METHOD: ("方針にない方法", "methods the policy does not name"),
}
_PERMISSION_JA = {"read": "照会権限", "update": "更新権限"}


def _label(value: str, empty_ja: str = "", empty_en: str = "") -> str:
    if value == "":
        return msg(empty_ja, empty_en)
    if value in _OTHER_LABELS:
        return msg(*_OTHER_LABELS[value])
    return value


def describe_departments(names: Iterable[str]) -> str:
    """Department names with the six wards of one 課 shown as 各区X課 (after the others), joined with 「・」."""
    names = list(names)
    present = set(names)
    out: list[str] = []
    wards: list[str] = []
    done: set[str] = set()
    for name in names:
        if name in done:
            continue
        ward = next((w for w in WARDS if name.startswith(w) and len(name) > len(w)), None)
        if ward is not None:
            suffix = name[len(ward):]
            six = [f"{w}{suffix}" for w in WARDS]
            if all(x in present for x in six):
                wards.append(f"各区{suffix}")
                done.update(six)
                continue
        out.append(_label(name, "なし", "none"))
        done.add(name)
    return "・".join(out + wards)


def _names(values: Sequence[str], everything: Sequence[str], *, empty_ja: str = "", empty_en: str = "") -> str:
    """The values joined with "/" ("" when they are every value of the dimension)."""
    if len(values) == len(everything):
        return ""
    return "/".join(x for x in (_label(v, empty_ja, empty_en) for v in values) if x)


def _actions_text(g: DiffGroup, domain: dict[str, tuple[str, ...]]) -> str:
    """``view/search/print/update（update は更新権限のみ）``: actions, with the permission where it matters."""
    every = set(domain["perm"])
    if len(g.actions) == len(domain["act"]) and all(set(p) == every for _a, p in g.permissions):
        return msg("全操作", "every action")
    notes = []
    for act, perms in g.permissions:
        if set(perms) != every:
            shown = "・".join(msg(_PERMISSION_JA.get(p, p), f"{p} permission") for p in perms)
            notes.append(msg(f"{act} は{shown}のみ", f"{act} with {shown} only"))
    text = "/".join(g.actions)
    if notes:
        text += msg(f"（{'、'.join(notes)}）", f" ({'; '.join(notes)})")
    return text


def _with_summary(g: DiffGroup, domain: dict[str, tuple[str, ...]]) -> DiffGroup:
    ja = msg("ja", "en") == "ja"
    depts = msg("全部署", "every department") if len(g.departments) == len(domain["dom"]) \
        else describe_departments(g.departments)
    roles = _names(g.roles, domain["sub"], empty_ja="役割なし", empty_en="no role")
    if ja:
        who = f"{depts}の {roles}" if roles else f"{depts}の全アカウント"
    else:
        who = f"{roles or 'every account'} of {depts}"
    acts = _actions_text(g, domain)
    res = _names(g.resources, domain["obj"], empty_ja="項目なし", empty_en="no resource")
    aff = _names(g.affairs, domain["aff"], empty_ja="事務なし", empty_en="no affair")
    verb = msg("許可", "allowed") if g.change == "newly_allowed" else msg("拒否", "denied")
    transfer = ""
    if "transfer" in g.actions:
        rc = "" if len(g.recipients) == len(domain["rcpt"]) else describe_departments(g.recipients)
        mt = _names(g.methods, domain["meth"], empty_ja="なし", empty_en="none")
        parts = [p for p in (msg(f"移転先 {rc}", f"recipient {rc}") if rc else "",
                             msg(f"方法 {mt}", f"method {mt}") if mt else "") if p]
        transfer = msg(f"（{'、'.join(parts)}）", f" ({', '.join(parts)})") if parts else ""
    else:  # an access on the transfer system carries its method; elsewhere none (request_method)
        mt = _names(g.methods, domain["access_meth"], empty_ja="移転システム外", empty_en="outside the transfer system")
        transfer = msg(f"（{mt}）", f" ({mt})") if mt else ""
    if ja:
        what = f"{res} の {acts}" if res else acts
        where = f" を {aff} で" if aff else " を"
        text = f"{who}: {what}{transfer}{where}{verb}"
    else:
        what = f"{acts} {res}" if res else acts
        where = f" in {aff}" if aff else ""
        text = f"{who}: {what}{transfer}{where} {verb}"
    return DiffGroup(**{**g.__dict__, "summary": text})
