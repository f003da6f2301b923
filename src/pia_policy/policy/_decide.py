"""From Casbin answers to an explained ``Decision`` (SPEC §4 deny rules, first true wins).

The classification asks only counterfactual questions of the evaluator ("would a canonical
transfer of this pair be allowed?", "would a My Number user be allowed this affair?"), so
the policy itself is never restated here.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Callable

from .. import rules
from .._i18n import msg
from ..models import MY_NUMBER_USE_ACTIONS, AccessRequest, Decision
from ._engine import Evaluator, RequestKey, Tokens, Vocabulary, first_allowing, key_method, key_tokens, request_key

__all__ = ["decide", "decide_key", "pair_line", "my_number_affair_line"]


def pair_line(ev: Evaluator, vocab: Vocabulary, version: str, department: str, purpose: str | None,
              method: str | None = None) -> str | None:
    """The line allowing a canonical transfer of the (department, purpose) pair, or None.

    Canonical: a holder ``kouki_staff`` account with update permission transfers
    ``transfer_resource`` by ``transfer_method`` (or ``method`` when given).
    """
    meth = vocab.transfer_method if method is None else method
    t: Tokens = (vocab.staff_role, vocab.canonical_holder, vocab.transfer_resource, "transfer",
                 purpose or "", version, "update", department, meth)
    return ev.allowing_line(t)


def my_number_affair_line(ev: Evaluator, vocab: Vocabulary, version: str, affair: str | None,
                          action: str = "view") -> str | None:
    """The line allowing a holder My Number user (update permission) this use in ``affair``, or None."""
    t: Tokens = (vocab.my_number_role, vocab.canonical_holder, vocab.my_number_resource, action,
                 affair or "", version, "update", "", "")
    return ev.allowing_line(t)


@lru_cache(maxsize=4096)
def _decision(allowed: bool, rule: str | None, version: str, basis: str, remedy: str | None, matched: str | None,
              explanation: str) -> Decision:
    """The (immutable) ``Decision`` of this content: distinct requests share few, so few models are built."""
    return Decision(allowed=allowed, rule=rule, version=version, basis=basis, remedy=remedy, matched=matched,
                    explanation=explanation)


def _deny(rule_id: str, version: str, explanation: str, matched: str | None = None) -> Decision:
    rule = rules.get(rule_id)
    return _decision(False, rule_id, version, rule.basis, rule.remedy_ja, matched, explanation)


def decide(req: AccessRequest, ev: Evaluator, vocab: Vocabulary, citation: Callable[[str], str]) -> Decision:
    """The explained decision for one request, every allow/deny answered by ``ev``."""
    return decide_key(request_key(req), ev, vocab, citation)


def decide_key(key: RequestKey, ev: Evaluator, vocab: Vocabulary, citation: Callable[[str], str]) -> Decision:
    """:func:`decide` of a request given as its ``RequestKey`` (the hot path builds no model)."""
    version, system, department, employment, roles, _perm, act, res, affair, recipient, method = key
    lid = first_allowing(ev, key_tokens(key, vocab))
    if lid is not None:
        return _decision(True, None, version, citation(lid), None, lid or None,
                         msg(f"許可: 方針 {version} の {lid} に該当", f"allowed by line {lid} of policy {version}"))
    is_holder = department in vocab.holders or employment == "contractor"
    if res == vocab.my_number_resource and act in MY_NUMBER_USE_ACTIONS:
        if vocab.my_number_role not in roles:
            return _deny("MY_NUMBER_WITHOUT_PERMISSION", version, msg(
                f"{vocab.my_number_role} 権限のない個人番号の{act}",
                f"My Number {act} without the {vocab.my_number_role} role"))
        if my_number_affair_line(ev, vocab, version, affair, act) is None:
            return _deny("MY_NUMBER_OUTSIDE_AFFAIR", version, msg(
                f"事務 {affair or '(なし)'} は方針 {version} の個人番号利用事務ではない",
                f"affair {affair or '(none)'} is not a My Number affair in policy {version}"))
    pair: tuple[str, str | None] | None = None
    if act == "transfer":
        pair = (recipient or "", affair)
    elif not is_holder and res is not None and act not in ("login", "logout"):
        pair = (department, affair)
    if pair is not None:
        allowing = pair_line(ev, vocab, version, pair[0], pair[1])
        if allowing is None:
            return _deny("TRANSFER_NOT_PERMITTED", version, msg(
                f"移転先 {pair[0] or '(なし)'}・用途 {pair[1] or '(なし)'} は方針 {version} で許可されていない",
                f"transfer to {pair[0] or '(none)'} for {pair[1] or '(none)'} is not permitted in policy {version}"))
        if pair_line(ev, vocab, version, pair[0], pair[1], key_method(key, vocab)) is None:
            if system != vocab.transfer_system:
                why = msg(f"移転は {vocab.transfer_system} 内に限る ({system} 上の移転先によるアクセス・移転は"
                          f"{vocab.transfer_method} ではない)",
                          f"a transfer happens only inside {vocab.transfer_system} (on {system} no method is "
                          f"{vocab.transfer_method})")
            else:
                why = msg(f"移転方法 {method or '(なし)'} は許可されていない ({vocab.transfer_method} のみ)",
                          f"transfer method {method or '(none)'} is not permitted (only {vocab.transfer_method})")
            return _deny("TRANSFER_METHOD_NOT_PERMITTED", version, why, matched=allowing or None)
    if act == "export" and not (roles & vocab.export_roles):
        return _deny("MEDIA_EXPORT_UNAUTHORIZED", version, msg(
            "システム責任者等 (system_owner / export_delegate) 以外による外部媒体へのコピー",
            "export by someone other than the system_owner / export_delegate"))
    return _deny("ACCESS_DENIED_BY_POLICY", version, msg(
        f"方針 {version} に {act} {res or ''} ({affair or '事務なし'}) を許可する行がない",
        f"no line of policy {version} allows {act} {res or ''} ({affair or 'no affair'})"))
