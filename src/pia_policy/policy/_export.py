"""`pia-policy export --format casbin`: one flat model + policy any stock Casbin evaluates alike (SPEC §9).

What Python adds to the files as written — 各区X課 expanded to the six wards, the holder group
generated from the holder departments, role/department/resource/affair hierarchies — is resolved
here: every grouping line becomes direct (a member → every group it reaches, within Casbin's
default depth, per version for ``g`` and ``g4``), so no implementation has to follow a hierarchy
or know a naming convention. The model is the family's model (``FAMILY_MODEL_TEXT``); the p
lines are every version's lines as loaded. ``versions.csv`` gives the in-force dates a caller
needs to fill ``ver``.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._engine import CompiledPolicy, _Graph
from ._family import FAMILY_MODEL_TEXT

if TYPE_CHECKING:
    from ._policy import Policy

__all__ = ["export_casbin", "flat_lines"]

_HEADER = """# pia_policy export (Casbin, flattened): groups resolved to direct lines, 各区X課 expanded.
# Request: sub, dom, obj, act, aff, ver, perm, rcpt, meth — one role per call ("" for none),
# a concrete department, the version id in force (versions.csv). Allowed when any call is.
"""


def _direct(graph: _Graph) -> list[tuple[str, str]]:
    out = []
    for child in sorted(graph.parents):
        out.extend((child, group) for group in sorted(graph.closure(child) - {child}))
    return out


def flat_lines(policy: Policy) -> list[tuple[str, ...]]:
    """Every line of the flat policy: p lines as loaded, then g/g2/g3/g4 resolved to direct membership."""
    loaded = policy.lines
    compiled = CompiledPolicy(loaded)
    rows: list[tuple[str, ...]] = [("p",) + pl.values for pl in loaded if pl.ptype == "p"]
    for ver in sorted(compiled.g):
        rows.extend(("g", child, group, ver) for child, group in _direct(compiled.g[ver]))
    rows.extend(("g2", child, group) for child, group in _direct(compiled.g2))
    rows.extend(("g3", child, group) for child, group in _direct(compiled.g3))
    for ver in sorted(compiled.g4):
        rows.extend(("g4", child, group, ver) for child, group in _direct(compiled.g4[ver]))
    seen: set[tuple[str, ...]] = set()
    unique = []
    for row in rows:
        if row not in seen:
            seen.add(row)
            unique.append(row)
    return unique


def _csv(rows: list[tuple[str, ...]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    for row in rows:
        writer.writerow(row)
    return buf.getvalue()


def export_casbin(policy: Policy, out: str | Path) -> dict[str, Any]:
    """Write ``model.conf``, ``policy.csv`` and ``versions.csv`` into ``out``; returns what was written."""
    directory = Path(out)
    directory.mkdir(parents=True, exist_ok=True)
    rows = flat_lines(policy)
    (directory / "model.conf").write_text(FAMILY_MODEL_TEXT.lstrip(), encoding="utf-8")
    (directory / "policy.csv").write_text(_HEADER + _csv(rows), encoding="utf-8")
    versions = [("id", "in_force_from", "in_force_to")] + [
        (v.id, v.in_force_from.isoformat(), v.in_force_to.isoformat() if v.in_force_to else "")
        for v in policy.versions]
    (directory / "versions.csv").write_text(_csv(versions), encoding="utf-8")
    return {"out": str(directory), "files": ["model.conf", "policy.csv", "versions.csv"],
            "p_lines": sum(1 for r in rows if r[0] == "p"), "g_lines": sum(1 for r in rows if r[0] != "p"),
            "versions": [v.id for v in policy.versions]}
