"""Account issuance (発効) and revocation (失効) as a Casbin policy of its own model family.

``policies/issuance_model.conf`` + ``policies/issuance.csv`` say who may issue, approve and
revoke an account on which system, with which prerequisites; citations are in
``metadata.toml`` ``[issuance_lines.<id>]``. A request is one tuple per (issuer role, approver
role) pair of the people involved (``""`` when they hold none):

    sys  = the account's system          act  = issue | revoke
    emp  = regular | non_regular | contractor
    by   = an officer role the issuer (or revoker) holds on ``sys`` at the time
    appr = an officer role the approver holds on ``sys`` at the time
    req  = yes | no: the department's request (``request_ref``) is on file
    self = yes | no: the issuer or approver is the account's own holder

The effect is allow-unless-denied (``some allow && !some deny``): deny lines state what no
allow line may override (no self-issue). The audit never asks Casbin per ledger row: the
lines are loaded as the relation ``issuance_lines`` and matched in SQL
(``rules.account_issuer_invalid``); a property test proves the SQL answers equal
``casbin.Enforcer.enforce`` on random policies of this family. A system is only data here:
a city adds 介護 or 国保 with lines in its copy of ``issuance.csv``, no code change.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

import casbin

from ._engine import build_enforcer
from ._family import ModelFamily, check_model
from ._source import ISSUANCE_POLICY_FILE, PolicyError, PolicyLine, read_csv_lines, read_policy_file

__all__ = [
    "ISSUANCE_MODEL_FILE",
    "ISSUANCE_POLICY_FILE",
    "ISSUANCE_REQUEST_TOKENS",
    "ISSUANCE_POLICY_TOKENS",
    "ISSUANCE_ACTIONS",
    "ISSUANCE_EFFECT",
    "ISSUANCE_MATCHER",
    "ISSUANCE_FAMILY",
    "IssuancePolicy",
    "IssuanceRequest",
    "read_issuance",
    "citation_of",
]

ISSUANCE_MODEL_FILE = "issuance_model.conf"
ISSUANCE_REQUEST_TOKENS: tuple[str, ...] = ("sys", "act", "emp", "by", "appr", "req", "self")
ISSUANCE_POLICY_TOKENS: tuple[str, ...] = ISSUANCE_REQUEST_TOKENS + ("id", "eft")
ISSUANCE_ACTIONS: tuple[str, ...] = ("issue", "revoke")
ISSUANCE_EFFECT = "some(where (p.eft == allow)) && !some(where (p.eft == deny))"
#: The matcher the SQL relation implements: every field equal, or ``*`` in the policy line.
ISSUANCE_MATCHER = "r.act == p.act && " + " && ".join(
    f'(p.{t} == "*" || r.{t} == p.{t})' for t in ISSUANCE_REQUEST_TOKENS if t != "act"
)

_EFFECTS = ("allow", "deny")

#: The issuance model family, checked by the same tokenizer and section comparison as model.conf.
ISSUANCE_FAMILY = ModelFamily.from_text("issuance", f"""
[request_definition]
r = {", ".join(ISSUANCE_REQUEST_TOKENS)}

[policy_definition]
p = {", ".join(ISSUANCE_POLICY_TOKENS)}

[policy_effect]
e = {ISSUANCE_EFFECT}

[matchers]
m = {ISSUANCE_MATCHER}
""")


@dataclass(frozen=True)
class IssuanceRequest:
    """One issuance/revocation question; ``by_roles``/``appr_roles`` are officer roles held at the time."""

    system: str
    action: str
    employment: str
    by_roles: frozenset[str] = frozenset()
    appr_roles: frozenset[str] = frozenset()
    request: bool = False
    self_issue: bool = False

    def tuples(self) -> list[tuple[str, ...]]:
        """The Casbin request tuples: one per (issuer role, approver role), ``""`` for none."""
        req, own = ("yes" if self.request else "no"), ("yes" if self.self_issue else "no")
        return [(self.system, self.action, self.employment, b, a, req, own)
                for b in (sorted(self.by_roles) or [""]) for a in (sorted(self.appr_roles) or [""])]


@dataclass(frozen=True)
class IssuancePolicy:
    """The issuance policy of a directory: the model, its lines and the Casbin enforcer holding them."""

    model_text: str
    lines: tuple[PolicyLine, ...]
    enforcer: casbin.Enforcer
    file: str

    @property
    def systems(self) -> frozenset[str]:
        """Systems the lines name (``*`` aside)."""
        return frozenset(pl.values[0] for pl in self.lines if pl.values[0] != "*")

    def table(self) -> list[tuple[str, ...]]:
        """The lines as rows ``(sys, act, emp, by, appr, req, self, id, eft)`` for the SQL relation."""
        return [tuple(pl.values) for pl in self.lines]

    def enforce(self, req: IssuanceRequest) -> tuple[bool, list[str]]:
        """Casbin's answer: allowed when any request tuple is; the explaining line of the answer."""
        last: list[str] = []
        for t in req.tuples():
            ok, explain = self.enforcer.enforce_ex(*t)
            if ok:
                return True, list(explain)
            if explain:
                last = list(explain)
        return False, last

    def requirements(self, system: str, action: str, employment: str) -> list[PolicyLine]:
        """The allow lines that could apply to (system, action, employment): what a denial lacks."""
        return [pl for pl in self.lines if pl.values[8] == "allow" and pl.values[1] == action
                and pl.values[0] in ("*", system) and pl.values[2] in ("*", employment)]


def _check_lines(lines: Sequence[PolicyLine], file: str) -> None:
    for pl in lines:
        act, eft = pl.values[1], pl.values[8]
        if act not in ISSUANCE_ACTIONS:
            raise PolicyError(f"act {act!r} is not one of {', '.join(ISSUANCE_ACTIONS)}", file=file, line=pl.line)
        if eft not in _EFFECTS:
            raise PolicyError(f"eft {eft!r} is not one of {', '.join(_EFFECTS)}", file=file, line=pl.line)
        for name, value in zip(("req", "self"), pl.values[5:7]):
            if value not in ("*", "yes", "no"):
                raise PolicyError(f"{name} {value!r} is not one of *, yes, no", file=file, line=pl.line)


def read_issuance(directory: Path, lines: Iterable[PolicyLine] | None = None) -> IssuancePolicy | None:
    """The issuance policy of ``directory`` (None when it has neither file); PolicyError naming file and line."""
    model_path = directory / ISSUANCE_MODEL_FILE
    csv_path = directory / ISSUANCE_POLICY_FILE
    if not model_path.is_file() and not csv_path.is_file() and lines is None:
        return None
    for path in (model_path, csv_path) if lines is None else (model_path,):
        if not path.is_file():
            raise PolicyError(f"no {path.name} in {directory} (the issuance policy needs both "
                              f"{ISSUANCE_MODEL_FILE} and {ISSUANCE_POLICY_FILE})", file=str(path))
    model_text = read_policy_file(model_path, directory)
    check_model(model_text, str(model_path), ISSUANCE_FAMILY)
    if lines is None:
        text = read_policy_file(csv_path, directory, encoding="utf-8-sig")
        parsed = read_csv_lines(text, str(csv_path), ISSUANCE_FAMILY.arity())
    else:
        parsed = list(lines)
    _check_lines(parsed, str(csv_path))
    return IssuancePolicy(model_text, tuple(parsed), build_enforcer(model_text, parsed), str(csv_path))


def citation_of(metadata: dict[str, Any], line_id: str) -> str:
    """The citation of an issuance line id ("" when the metadata has none)."""
    return str(metadata.get("issuance_lines", {}).get(line_id, {}).get("citation", ""))
