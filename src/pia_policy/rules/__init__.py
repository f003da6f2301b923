"""The rule catalogue (SPEC §4): a registry of small rule units, one module per rule id.

The module of rule ``FOO_BAR`` is ``pia_policy.rules.foo_bar``.
"""

from __future__ import annotations

import importlib
import threading

from ._base import Rule, RuleContext, Scope

__all__ = ["Rule", "RuleContext", "Scope", "RULE_IDS", "SPEC_RULE_IDS", "DUTY_RULE_IDS", "PRECEDENCE", "all_rules",
           "get"]

#: Every rule id: SPEC §4's nineteen in the contract's table order, then the optional-input duties.
RULE_IDS: tuple[str, ...] = (
    "UNKNOWN_ACCOUNT",
    "ACCESS_AFTER_REVOCATION",
    "ACCESS_AFTER_DEPARTURE",
    "CONTRACTOR_WITHOUT_APPROVAL",
    "MY_NUMBER_WITHOUT_PERMISSION",
    "MY_NUMBER_OUTSIDE_AFFAIR",
    "TRANSFER_NOT_PERMITTED",
    "TRANSFER_METHOD_NOT_PERMITTED",
    "MEDIA_EXPORT_UNAUTHORIZED",
    "MEDIA_EXPORT_UNRECORDED",
    "ACCESS_DENIED_BY_POLICY",
    "TERMINAL_NOT_AUTHORIZED",
    "LONG_SESSION",
    "BULK_ACCESS",
    "ACCOUNT_NOT_REVOKED",
    "ACCOUNT_DORMANT",
    "ACCOUNT_ISSUER_INVALID",
    "LOG_GAP",
    "LOG_SEQUENCE_GAP",
    # issue 13: duties of the source that need an optional input (after SPEC §4's 19, precedence unchanged)
    "PLEDGE_MISSING",
    "TRANSFER_WITHOUT_CONSULTATION",
    "CONTRACTOR_NOT_ON_ROSTER",
    "LOG_RETENTION_SHORT",
)

#: The nineteen rules of SPEC §4 (they need only the SPEC §3 inputs).
SPEC_RULE_IDS: tuple[str, ...] = RULE_IDS[:19]
#: The duties that each need an optional input of their own (README "Duties with an optional input").
DUTY_RULE_IDS: tuple[str, ...] = RULE_IDS[19:]

#: "One event, one event-level finding": an event breaking several is charged to the first.
PRECEDENCE: tuple[str, ...] = RULE_IDS[:11]

_REGISTRY: dict[str, Rule] | None = None
_REGISTRY_LOCK = threading.Lock()


def _load() -> dict[str, Rule]:
    """The registry, built once under a lock and published whole (concurrent first calls see all or wait)."""
    global _REGISTRY
    registry = _REGISTRY
    if registry is not None:
        return registry
    with _REGISTRY_LOCK:
        if _REGISTRY is None:
            built: dict[str, Rule] = {}
            for rid in RULE_IDS:
                module = importlib.import_module(f"{__name__}.{rid.lower()}")
                rule: Rule = module.RULE
                if rule.id != rid:
                    raise RuntimeError(f"rules.{rid.lower()} defines {rule.id}, expected {rid}")
                built[rid] = rule
            _REGISTRY = built
        return _REGISTRY


def get(rule_id: str) -> Rule:
    """The rule with this id; ``KeyError`` naming the valid ids otherwise."""
    try:
        return _load()[rule_id]
    except KeyError:
        raise KeyError(f"unknown rule id {rule_id!r}; valid: {', '.join(RULE_IDS)}") from None


def all_rules() -> tuple[Rule, ...]:
    """Every rule, in SPEC §4 order."""
    reg = _load()
    return tuple(reg[r] for r in RULE_IDS)
