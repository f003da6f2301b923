"""`pia-policy lint`: problems of a policy directory, each with file and line."""

from __future__ import annotations

import tomllib
from collections import defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Iterable

from ..departments import expand_department, is_ward_group
from ._family import FAMILY, model_problems
from ._changes import changes_problems
from ._source import (
    METADATA_FILE,
    MODEL_FILE,
    PolicyError,
    PolicyLine,
    _versions,
    default_policy_dir,
    holder_departments_from,
    policy_csv_files,
    read_csv_lines,
    read_policy_file,
)

__all__ = ["LintProblem", "lint"]


@dataclass(frozen=True)
class LintProblem:
    """One problem: where (file, line) and what (a stable code and a message)."""

    file: str
    line: int | None
    code: str
    message: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.code}: {self.message}"


def _find_line(text: str, needle: str) -> int | None:
    for no, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return no
    return None


def _closure(parents: dict[str, set[str]], name: str) -> set[str]:
    seen, frontier = {name}, {name}
    while frontier:
        frontier = {p for n in frontier for p in parents.get(n, ())} - seen
        seen |= frontier
    return seen


def lint(path: str | Path | None = None, *, holder_departments: Iterable[str] | None = None,
         database: Any = None, table_name: str = "pia_policy_rule") -> list[LintProblem]:
    """Lint a policy directory (default: the packaged policies); an empty list means clean.

    With ``database`` (a SQLAlchemy URL) the lines — and the metadata saved with them, if any —
    come from the database instead of the CSV files; problems of a row name ``db:<table>`` and
    the row id.
    """
    directory = Path(path) if path is not None else default_policy_dir()
    problems: list[LintProblem] = []
    model_path = directory / MODEL_FILE
    meta_path = directory / METADATA_FILE
    if not model_path.exists():
        return [LintProblem(str(model_path), None, "missing_file", f"no {MODEL_FILE} in {directory}")]
    try:
        model_text = read_policy_file(model_path, directory)
    except PolicyError as exc:
        return [LintProblem(str(model_path), exc.line, "invalid_file", exc.detail)]
    family = model_problems(model_text, str(model_path))
    problems.extend(LintProblem(str(model_path), e.line, "model_family", e.detail) for e in family)
    if not meta_path.exists():
        return problems + [LintProblem(str(meta_path), None, "missing_file", f"no {METADATA_FILE} in {directory}")]
    db_meta = None
    if database is not None:
        from ._db import load_metadata_text, where

        db_meta = load_metadata_text(database, table_name)
        if db_meta is not None:
            meta_path = Path(where(table_name) + "_metadata")
    try:
        meta_text = db_meta if db_meta is not None else read_policy_file(meta_path, directory)
    except PolicyError as exc:
        return problems + [LintProblem(str(meta_path), exc.line, "invalid_file", exc.detail)]
    try:
        meta = tomllib.loads(meta_text)
    except tomllib.TOMLDecodeError as exc:
        return problems + [LintProblem(str(meta_path), getattr(exc, "lineno", None), "invalid_metadata", str(exc))]
    try:
        versions = _versions(meta, str(meta_path))
    except PolicyError as exc:
        return problems + [LintProblem(str(meta_path), None, "invalid_metadata", exc.detail)]
    if family:
        return problems  # lines of another model cannot be judged by the family's meaning

    # versions: no overlap, no gap, only the last open-ended
    for prev, nxt in zip(versions, versions[1:]):
        where = _find_line(meta_text, f'"{nxt.id}"')
        if prev.in_force_to is None or prev.in_force_to > nxt.in_force_from:
            problems.append(LintProblem(str(meta_path), where, "version_overlap",
                                        f"version {prev.id} (to {prev.in_force_to or 'open'}) overlaps {nxt.id} (from {nxt.in_force_from})"))
        elif prev.in_force_to < nxt.in_force_from:
            problems.append(LintProblem(str(meta_path), where, "version_gap",
                                        f"no version in force from {prev.in_force_to} to {nxt.in_force_from} (between {prev.id} and {nxt.id})"))
    for v in versions:
        if v.in_force_to is not None and v.in_force_to <= v.in_force_from:
            problems.append(LintProblem(str(meta_path), _find_line(meta_text, f'"{v.id}"'), "version_empty",
                                        f"version {v.id} ends ({v.in_force_to}) before it starts ({v.in_force_from})"))

    # CSV
    arity = FAMILY.arity()
    lines: list[PolicyLine] = []
    if database is not None:
        from ._db import load_lines

        try:
            lines = load_lines(database, model_text, table_name=table_name, arity=arity)
        except PolicyError as exc:
            problems.append(LintProblem(exc.file or str(database), exc.line, "invalid_row", exc.detail))
    for csv_path in policy_csv_files(directory) if database is None else ():
        errors: list[PolicyError] = []
        try:
            text = read_policy_file(csv_path, directory, encoding="utf-8-sig")
        except PolicyError as exc:
            problems.append(LintProblem(str(csv_path), exc.line, "invalid_file", exc.detail))
            continue
        lines.extend(read_csv_lines(text, str(csv_path), arity, errors))
        problems.extend(LintProblem(str(csv_path), e.line, "invalid_csv", e.detail) for e in errors)

    tokens = meta.get("tokens", {})
    holder_group = tokens.get("holder_group", "grp:holder")
    holders = holder_departments_from(meta, holder_departments)
    known: set[str] = set(holders)
    for name in meta.get("departments", {}).get("known", []):
        known.update(expand_department(name))
    purposes = set(meta.get("purposes", {}))
    citations: dict[str, Any] = meta.get("lines", {})
    version_ids = {v.id for v in versions}

    for x in meta["versions"]:
        if "my_number_affairs" not in x:
            problems.append(LintProblem(str(meta_path), _find_line(meta_text, f'"{x.get("id")}"'), "missing_my_number_affairs",
                                        f"version {x.get('id')} lists no my_number_affairs (別添3 I-1②); kojin_bango grants cannot be checked"))
    g2_parents: dict[str, set[str]] = defaultdict(set)
    g3_parents: dict[str, set[str]] = defaultdict(set)
    group_tokens: set[str] = {holder_group}
    for pl in lines:
        if pl.ptype == "g2":
            g2_parents[pl.values[0]].add(pl.values[1])
            group_tokens.add(pl.values[1])
        elif pl.ptype == "g3":
            g3_parents[pl.values[0]].add(pl.values[1])
        if pl.ptype in ("g", "g4") and pl.values[2] not in version_ids:
            problems.append(LintProblem(pl.file, pl.line, "unknown_version",
                                        f"version {pl.values[2]!r} is not in {METADATA_FILE} (known: {', '.join(sorted(version_ids))})"))

    def department_ok(name: str) -> bool:
        if name == "*" or name in group_tokens and not is_ward_group(name):
            return True
        return all(d in known for d in expand_department(name))

    for pl in lines:
        if pl.ptype == "g2" and not department_ok(pl.values[0]):
            problems.append(LintProblem(pl.file, pl.line, "unknown_department",
                                        f"unknown department {pl.values[0]!r}"))
    for pl in lines:
        if pl.ptype != "p":
            continue
        sub, dom, obj, act, aff, ver, perm, rcpt, meth, lid = pl.values
        if ver not in version_ids:
            problems.append(LintProblem(pl.file, pl.line, "unknown_version",
                                        f"version {ver!r} is not in {METADATA_FILE} (known: {', '.join(sorted(version_ids))})"))
        for name in (dom, rcpt):
            if not department_ok(name):
                problems.append(LintProblem(pl.file, pl.line, "unknown_department", f"unknown department {name!r}"))
        citation = str(citations.get(lid, {}).get("citation", ""))
        if not citation:
            problems.append(LintProblem(pl.file, pl.line, "missing_citation",
                                        f"line id {lid!r} has no citation in {METADATA_FILE} [lines.{lid}]"))
        dom_groups = _closure(g2_parents, dom) if dom != "*" else set()
        dom_members_holder = dom == "*" or holder_group in dom_groups or dom in holders
        is_transfer_line = act == "transfer" or not dom_members_holder
        if is_transfer_line and act not in ("login", "logout"):
            if aff != "*" and aff not in purposes:
                problems.append(LintProblem(pl.file, pl.line, "unknown_purpose",
                                            f"unknown purpose {aff!r} (known: {', '.join(sorted(purposes))})"))
            if "別紙1" not in citation:
                problems.append(LintProblem(pl.file, pl.line, "transfer_without_bessi1",
                                            f"transfer line {lid!r} does not cite 別紙1"))
        if aff == "*" and act not in ("login", "logout"):
            problems.append(LintProblem(pl.file, pl.line, "wildcard_affair",
                                        f"line {lid!r} allows {act} without an affair (aff \"*\")"))
    for ver, code, message in changes_problems(lines, versions, meta):
        where = _find_line(meta_text, f'[changes."{ver}"]') or _find_line(meta_text, f'"{ver}"') if ver else None
        problems.append(LintProblem(str(meta_path), where, code, message))
    problems.extend(_lint_issuance(directory, meta))
    return _with_invariants(problems, directory, holder_departments, lines, meta_text)


def _lint_issuance(directory: Path, meta: dict[str, Any]) -> list[LintProblem]:
    """The issuance policy (if any): its model family and lines, and a citation for every line id."""
    from ._issuance import read_issuance

    try:
        issuance = read_issuance(directory)
    except PolicyError as exc:
        return [LintProblem(exc.file or str(directory), exc.line, "invalid_issuance", exc.detail)]
    if issuance is None:
        return []
    cited = meta.get("issuance_lines", {})
    return [LintProblem(pl.file, pl.line, "missing_citation",
                        f"issuance line id {pl.values[7]!r} has no citation in {METADATA_FILE} "
                        f"[issuance_lines.{pl.values[7]}]")
            for pl in issuance.lines if not str(cited.get(pl.values[7], {}).get("citation", ""))]


def _with_invariants(problems: list[LintProblem], directory: Path, holder_departments: Iterable[str] | None,
                     lines: list[PolicyLine], meta_text: str) -> list[LintProblem]:
    """Add the exhaustive invariant violations (one problem per invariant and policy line)."""
    from ._invariants import policy_violations
    from ._policy import Policy
    from ._source import read_source

    if any(p.code in _BLOCKING for p in problems):
        return problems
    try:
        source = read_source(directory, lines=lines, metadata_text=meta_text)
        policy = Policy.from_source(source, holder_departments=holder_departments)
    except PolicyError as exc:
        return problems + [LintProblem(exc.file or str(directory), exc.line, "invalid_policy", exc.detail)]
    seen = {(p.file, p.line, p.code) for p in problems}
    for v in policy_violations(policy):
        key = (v.file or str(directory), v.line, v.invariant)
        if key not in seen:
            seen.add(key)
            problems.append(LintProblem(key[0], v.line, v.invariant, v.message))
    return problems


#: Problems after which the policy cannot be loaded, so its decisions cannot be checked.
_BLOCKING = frozenset({"invalid_csv", "invalid_row", "invalid_file", "invalid_issuance", "invalid_model", "invalid_metadata", "model_family",
                       "missing_file", "version_overlap", "version_gap", "version_empty", "unknown_version"})
