"""Who may receive, and for what: partial evaluation of the transfer question over the compiled policy.

``check_transfer(d, p)`` asks the evaluator one Casbin tuple with every token fixed. Here one token
(the recipient or the purpose) is left open: the policy lines of the version are matched on the
fixed tokens once, which leaves the set of line values for the open token; the names whose group
closure reaches one of them (or every name, for ``*``) are the answer. A policy whose matcher is
not the canonical one is answered by asking the evaluator once per name instead.
"""

from __future__ import annotations

from typing import Iterable

from ._decide import pair_line
from ._engine import _EMPTY, CompiledPolicy, Evaluator, Vocabulary, _Graph

__all__ = ["transfer_recipients", "transfer_purposes"]

_RCPT, _AFF = 5, 3  # positions in a CompiledPolicy candidate (sub, dom, obj, aff, perm, rcpt, meth, lid)


def _residual(cp: CompiledPolicy, vocab: Vocabulary, version: str, open_at: int,
              department: str | None, purpose: str | None) -> set[str]:
    """The open token's values of the lines that allow a canonical transfer on the fixed tokens."""
    out: set[str] = set()
    subs = cp.g.get(version, _EMPTY).closure(vocab.staff_role)
    doms = cp.g2.closure(vocab.canonical_holder)
    objs = cp.g3.closure(vocab.transfer_resource)
    affs = cp.g4.get(version, _EMPTY).closure(purpose) if purpose is not None else None
    rcpts = cp.g2.closure(department) if department is not None else None
    for cand in cp.index.get((version, "transfer"), ()):
        p_sub, p_dom, p_obj, p_aff, p_perm, p_rcpt, p_meth, _lid = cand
        if (p_sub != "*" and p_sub not in subs) or (p_dom != "*" and p_dom not in doms) \
                or (p_obj != "*" and p_obj not in objs) or (p_perm not in ("*", "update")) \
                or (p_meth != "*" and p_meth != vocab.transfer_method):
            continue
        if affs is not None and p_aff != "*" and p_aff not in affs:
            continue
        if rcpts is not None and p_rcpt != "*" and p_rcpt not in rcpts:
            continue
        out.add(cand[open_at])
    return out


def _reaching(graph: _Graph, names: Iterable[str], residual: set[str]) -> list[str]:
    if "*" in residual:
        return sorted(names)
    return sorted(n for n in names if graph.closure(n) & residual)


def transfer_recipients(ev: Evaluator, vocab: Vocabulary, version: str, purpose: str,
                        departments: Iterable[str]) -> list[str]:
    """The ``departments`` a canonical transfer for ``purpose`` may go to in ``version`` (sorted)."""
    if isinstance(ev, CompiledPolicy):
        return _reaching(ev.g2, departments, _residual(ev, vocab, version, _RCPT, None, purpose))
    return sorted(d for d in departments if pair_line(ev, vocab, version, d, purpose) is not None)


def transfer_purposes(ev: Evaluator, vocab: Vocabulary, version: str, department: str,
                      purposes: Iterable[str]) -> list[str]:
    """The ``purposes`` a canonical transfer to ``department`` may have in ``version`` (sorted)."""
    if isinstance(ev, CompiledPolicy):
        graph = ev.g4.get(version, _EMPTY)
        return _reaching(graph, purposes, _residual(ev, vocab, version, _AFF, department, None))
    return sorted(p for p in purposes if pair_line(ev, vocab, version, department, p) is not None)

