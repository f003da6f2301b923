"""Reading a policy directory: model.conf, policy CSV files and metadata.toml, with file/line errors."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Iterable

from ..departments import DEFAULT_HOLDER_DEPARTMENTS, expand_department, is_ward_group

__all__ = [
    "PolicyError",
    "PolicyLine",
    "PolicyVersion",
    "PolicySource",
    "ALLOWED_MATCHER_FUNCTIONS",
    "default_policy_dir",
    "read_source",
    "parse_model",
    "matcher_functions",
    "expand_lines",
    "read_csv_lines",
    "model_arity",
    "check_matcher",
    "holder_departments_from",
    "policy_csv_files",
]

#: Functions a matcher may call besides the role functions (g, g2, ...) declared by the model.
ALLOWED_MATCHER_FUNCTIONS: frozenset[str] = frozenset(
    {"keyMatch", "keyMatch2", "keyMatch3", "keyMatch4", "keyMatch5", "globMatch"}
)

MODEL_FILE = "model.conf"
METADATA_FILE = "metadata.toml"
#: ``in_force_from`` of a version whose start the source does not record.
UNKNOWN_START = "unknown"


class PolicyError(ValueError):
    """A policy directory that cannot be loaded; the message names the file and line."""

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None) -> None:
        where = f"{file}:{line}: " if file and line else (f"{file}: " if file else "")
        super().__init__(where + message)
        self.file = file
        self.line = line
        self.detail = message


@dataclass(frozen=True)
class PolicyVersion:
    """One effective-dated policy version; ``in_force_to`` is exclusive (first day no longer in force).

    ``start_known`` is False when the source does not record the start (metadata
    ``in_force_from = "unknown"``): ``in_force_from`` is then the first known day
    (``first_known_day``), before which no version is judged in force.
    """

    id: str
    in_force_from: dt.date
    in_force_to: dt.date | None = None
    note: str = ""
    start_known: bool = True


@dataclass(frozen=True)
class PolicyLine:
    """One Casbin policy or grouping line with where it came from."""

    ptype: str
    values: tuple[str, ...]
    file: str = "<generated>"
    line: int = 0


@dataclass
class PolicySource:
    """Everything read from a policy directory (lines as written, before 各区X課 expansion)."""

    directory: Path | None
    model_text: str
    lines: list[PolicyLine]
    metadata: dict[str, Any]
    versions: list[PolicyVersion]
    files: list[str] = field(default_factory=list)


def default_policy_dir() -> Path:
    """The packaged policies (``pia_policy/_policies``), else the source checkout's ``policies/``."""
    try:
        packaged = Path(str(resources.files("pia_policy") / "_policies"))
        if (packaged / MODEL_FILE).is_file():
            return packaged
    except (ModuleNotFoundError, TypeError):  # pragma: no cover
        pass
    here = Path(__file__).resolve()
    for parent in here.parents:
        candidate = parent / "policies"
        if (candidate / MODEL_FILE).is_file():
            return candidate
    raise PolicyError("no packaged policies found (pia_policy/_policies or ./policies)")


# ---- model -------------------------------------------------------------------------------------

_SECTION = re.compile(r"^\[(\w+)\]\s*$")
_CALL = re.compile(r"([A-Za-z_][A-Za-z_0-9.]*)\s*\(")


def parse_model(text: str, file: str = MODEL_FILE) -> dict[str, dict[str, tuple[str, int]]]:
    """Sections of a Casbin model: {section: {key: (value, line)}}; raises PolicyError on bad syntax."""
    sections: dict[str, dict[str, tuple[str, int]]] = {}
    current: str | None = None
    for no, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        m = _SECTION.match(line)
        if m:
            current = m.group(1)
            sections.setdefault(current, {})
            continue
        if current is None or "=" not in line:
            raise PolicyError(f"not a model line: {line!r}", file=file, line=no)
        key, value = line.split("=", 1)
        sections[current][key.strip()] = (value.strip(), no)
    for needed in ("request_definition", "policy_definition", "policy_effect", "matchers"):
        if needed not in sections:
            raise PolicyError(f"model has no [{needed}] section", file=file)
    return sections


def matcher_functions(sections: dict[str, dict[str, tuple[str, int]]]) -> list[tuple[str, int]]:
    """Every function name called in the matchers, with its line."""
    out: list[tuple[str, int]] = []
    for value, no in sections.get("matchers", {}).values():
        # ignore string literals
        stripped = re.sub(r'"[^"]*"', '""', value)
        out.extend((name, no) for name in _CALL.findall(stripped))
    return out


def check_matcher(sections: dict[str, dict[str, tuple[str, int]]], file: str = MODEL_FILE) -> list[PolicyError]:
    """Problems: matcher calls outside the allow-list (role functions of the model + ALLOWED_MATCHER_FUNCTIONS)."""
    roles = set(sections.get("role_definition", {}))
    problems: list[PolicyError] = []
    for name, no in matcher_functions(sections):
        if name not in roles and name not in ALLOWED_MATCHER_FUNCTIONS:
            allowed = ", ".join(sorted(roles | ALLOWED_MATCHER_FUNCTIONS))
            problems.append(
                PolicyError(f"matcher calls {name}(), which is not allowed (allowed: {allowed})", file=file, line=no)
            )
    return problems


def model_arity(sections: dict[str, dict[str, tuple[str, int]]]) -> dict[str, int]:
    arity: dict[str, int] = {}
    for key, (value, _no) in sections["policy_definition"].items():
        arity[key] = len([t for t in value.split(",") if t.strip()])
    for key, (value, _no) in sections.get("role_definition", {}).items():
        arity[key] = len([t for t in value.split(",") if t.strip()])
    return arity


# ---- policy CSV --------------------------------------------------------------------------------

def read_csv_lines(text: str, file: str, arity: dict[str, int],
                   errors: list[PolicyError] | None = None) -> list[PolicyLine]:
    """Policy lines of one CSV text; raises the first PolicyError, or collects them in ``errors``."""
    out: list[PolicyLine] = []
    for no, raw in enumerate(text.splitlines(), 1):
        try:
            pl = _csv_line(raw, no, file, arity)
        except PolicyError as exc:
            if errors is None:
                raise
            errors.append(exc)
            continue
        if pl is not None:
            out.append(pl)
    return out


def _csv_line(raw: str, no: int, file: str, arity: dict[str, int]) -> PolicyLine | None:
    stripped = raw.strip()
    if not stripped or stripped.startswith("#"):
        return None
    try:
        rows = list(csv.reader(io.StringIO(raw), skipinitialspace=True, strict=True))
    except csv.Error as exc:
        raise PolicyError(f"not valid CSV: {exc}", file=file, line=no) from None
    if len(rows) != 1:
        raise PolicyError("not valid CSV: a record must fit on one line", file=file, line=no)
    values = [v.strip() for v in rows[0]]
    ptype, rest = values[0], tuple(values[1:])
    if ptype not in arity:
        raise PolicyError(
            f"unknown policy type {ptype!r} (model defines: {', '.join(sorted(arity))})", file=file, line=no
        )
    if len(rest) != arity[ptype]:
        raise PolicyError(
            f"{ptype} line has {len(rest)} fields, the model defines {arity[ptype]}", file=file, line=no
        )
    if any(v == "" for v in rest):
        raise PolicyError("empty field", file=file, line=no)
    return PolicyLine(ptype, rest, file, no)


def _versions(meta: dict[str, Any], file: str) -> list[PolicyVersion]:
    versions: list[PolicyVersion] = []
    for i, item in enumerate(meta.get("versions", []), 1):
        try:
            vid = str(item["id"])
            known = str(item["in_force_from"]) != UNKNOWN_START
            if not known and "first_known_day" not in item:
                raise ValueError('in_force_from = "unknown" needs first_known_day (the first day judged)')
            start = dt.date.fromisoformat(str(item["in_force_from"] if known else item["first_known_day"]))
            end_raw = item.get("in_force_to")
            end = dt.date.fromisoformat(str(end_raw)) if end_raw else None
        except (KeyError, ValueError) as exc:
            raise PolicyError(f"[[versions]] entry {i}: {exc}", file=file) from None
        versions.append(PolicyVersion(vid, start, end, str(item.get("note", "")), known))
    if not versions:
        raise PolicyError("no [[versions]] defined", file=file)
    return sorted(versions, key=lambda v: v.in_force_from)


#: The issuance policy's CSV (policy/_issuance.py): another model, not read as access policy lines.
ISSUANCE_POLICY_FILE = "issuance.csv"
OTHER_MODEL_CSV: frozenset[str] = frozenset({ISSUANCE_POLICY_FILE})


def policy_csv_files(directory: Path) -> list[Path]:
    """The access policy's CSV files of a directory, in name order (other models' files aside)."""
    return [p for p in sorted(directory.glob("*.csv")) if p.name not in OTHER_MODEL_CSV]


def read_source(path: str | Path | None = None, *, lines: Iterable[PolicyLine] | None = None) -> PolicySource:
    """Read a policy directory. ``lines`` replaces the CSV files (policies kept in a database)."""
    directory = Path(path) if path is not None else default_policy_dir()
    model_path = directory / MODEL_FILE
    meta_path = directory / METADATA_FILE
    if not model_path.is_file():
        raise PolicyError(f"no {MODEL_FILE} in {directory}", file=str(model_path))
    model_text = model_path.read_text(encoding="utf-8")
    sections = parse_model(model_text, str(model_path))
    problems = check_matcher(sections, str(model_path))
    if problems:
        raise problems[0]
    arity = model_arity(sections)
    metadata: dict[str, Any] = {}
    if meta_path.is_file():
        try:
            metadata = tomllib.loads(meta_path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise PolicyError(f"invalid TOML: {exc}", file=str(meta_path)) from None
    else:
        raise PolicyError(f"no {METADATA_FILE} in {directory}", file=str(meta_path))
    files: list[str] = []
    if lines is None:
        collected: list[PolicyLine] = []
        for csv_path in policy_csv_files(directory):
            files.append(str(csv_path))
            try:
                text = csv_path.read_text(encoding="utf-8-sig")
            except UnicodeDecodeError as exc:
                raise PolicyError(f"not UTF-8: {exc}", file=str(csv_path)) from None
            collected.extend(read_csv_lines(text, str(csv_path), arity))
        all_lines = collected
    else:
        all_lines = list(lines)
    return PolicySource(directory, model_text, all_lines, metadata, _versions(metadata, str(meta_path)), files)


def holder_departments_from(meta: dict[str, Any], override: Iterable[str] | None) -> frozenset[str]:
    """Holder departments: the override, else metadata [holders].departments, else the SPEC default."""
    names: Iterable[str]
    if override is not None:
        names = override
    else:
        names = meta.get("holders", {}).get("departments") or DEFAULT_HOLDER_DEPARTMENTS
    out: set[str] = set()
    for name in names:
        out.update(expand_department(name))
    return frozenset(out)


def expand_lines(
    lines: list[PolicyLine],
    department_positions: dict[str, tuple[int, ...]],
    holders: frozenset[str],
    holder_group: str,
) -> list[PolicyLine]:
    """Add the g2 lines that expand every 各区X課 to its six wards, and the holder group lines."""
    groups: dict[str, None] = {}
    for pl in lines:
        for pos in department_positions.get(pl.ptype, ()):
            value = pl.values[pos]
            if is_ward_group(value):
                groups.setdefault(value, None)
    extra: list[PolicyLine] = []
    seen = {(pl.ptype, pl.values) for pl in lines}
    for group in groups:
        for ward_dept in expand_department(group):
            key = ("g2", (ward_dept, group))
            if key not in seen:
                seen.add(key)
                extra.append(PolicyLine("g2", (ward_dept, group)))
    for dept in sorted(holders):
        key = ("g2", (dept, holder_group))
        if key not in seen:
            seen.add(key)
            extra.append(PolicyLine("g2", (dept, holder_group)))
    return list(lines) + extra
