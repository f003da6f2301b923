"""Reading a policy directory: model.conf, policy CSV files and metadata.toml, with file/line errors."""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import re
import stat
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Iterable

from ..departments import DEFAULT_HOLDER_DEPARTMENTS, expand_department, is_ward_group
from ._errors import PolicyError

__all__ = [
    "PolicyError",
    "PolicyLine",
    "PolicyVersion",
    "PolicySource",
    "default_policy_dir",
    "read_source",
    "read_policy_file",
    "read_metadata",
    "policy_csv_files",
    "expand_lines",
    "read_csv_lines",
    "holder_departments_from",
    "MAX_POLICY_FILE_BYTES",
]

#: A policy file larger than this is refused (policies are hand-written; this bounds memory).
MAX_POLICY_FILE_BYTES = 16 * 1024 * 1024

MODEL_FILE = "model.conf"
METADATA_FILE = "metadata.toml"
#: ``in_force_from`` of a version whose start the source does not record.
UNKNOWN_START = "unknown"


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


# ---- files --------------------------------------------------------------------------------------

def read_policy_file(path: Path, directory: Path | None = None, *, encoding: str = "utf-8") -> str:
    """The text of one policy file, or a ``PolicyError`` that names the file and never quotes it.

    Only regular files are read (a FIFO, device or directory is refused without opening it, so
    nothing hangs); a link whose target leaves the policy directory is refused; the size is
    bounded; a file that is not UTF-8 names the line of the first bad byte.
    """
    where = str(path)
    try:
        st = os.stat(path)
    except OSError as exc:
        raise PolicyError(f"cannot read: {exc.strerror}", file=where) from None
    if not stat.S_ISREG(st.st_mode):
        kind = "a directory" if stat.S_ISDIR(st.st_mode) else "a FIFO" if stat.S_ISFIFO(st.st_mode) \
            else "a device or socket"
        raise PolicyError(f"not a regular file ({kind}): policy files must be regular files", file=where)
    if directory is not None and path.is_symlink():
        target = path.resolve()
        if not target.is_relative_to(directory.resolve()):
            raise PolicyError("a link to a file outside the policy directory: copy the file into the directory",
                              file=where)
    if st.st_size > MAX_POLICY_FILE_BYTES:
        raise PolicyError(f"{st.st_size} bytes: larger than {MAX_POLICY_FILE_BYTES} bytes", file=where)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as f:
            data = f.read(MAX_POLICY_FILE_BYTES + 1)
    except OSError as exc:
        raise PolicyError(f"cannot read: {exc.strerror}", file=where) from None
    if len(data) > MAX_POLICY_FILE_BYTES:
        raise PolicyError(f"larger than {MAX_POLICY_FILE_BYTES} bytes", file=where)
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise PolicyError(f"not UTF-8 (byte {exc.start + 1}): save the file as UTF-8", file=where, line=line) from None


# ---- policy CSV --------------------------------------------------------------------------------

#: What a mistyped policy type looks like; anything else is not echoed (the file may not be a policy).
_PTYPE_LIKE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,15}")


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
        shown = repr(ptype) if _PTYPE_LIKE.fullmatch(ptype) else "(not a policy type)"
        raise PolicyError(
            f"unknown policy type {shown} (model defines: {', '.join(sorted(arity))})", file=file, line=no
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


def read_source(path: str | Path | None = None, *, lines: Iterable[PolicyLine] | None = None,
                metadata_text: str | None = None) -> PolicySource:
    """Read a policy directory. ``lines`` replaces the CSV files and ``metadata_text`` metadata.toml
    (policies kept in a database).

    The model must be in the model family (SPEC §9, ``_family.FAMILY``); every problem is a
    ``PolicyError`` naming the file and the line.
    """
    from ._family import FAMILY, check_model

    directory = Path(path) if path is not None else default_policy_dir()
    model_path = directory / MODEL_FILE
    meta_path = directory / METADATA_FILE
    if not model_path.exists():
        raise PolicyError(f"no {MODEL_FILE} in {directory}", file=str(model_path))
    model_text = read_policy_file(model_path, directory)
    check_model(model_text, str(model_path))
    arity = FAMILY.arity()
    if metadata_text is not None:
        metadata = _toml(metadata_text, str(meta_path))
    elif not meta_path.exists():
        raise PolicyError(f"no {METADATA_FILE} in {directory}", file=str(meta_path))
    else:
        metadata = read_metadata(meta_path, directory)
    files: list[str] = []
    if lines is None:
        collected: list[PolicyLine] = []
        for csv_path in policy_csv_files(directory):
            files.append(str(csv_path))
            text = read_policy_file(csv_path, directory, encoding="utf-8-sig")
            collected.extend(read_csv_lines(text, str(csv_path), arity))
        all_lines = collected
    else:
        all_lines = list(lines)
    return PolicySource(directory, model_text, all_lines, metadata, _versions(metadata, str(meta_path)), files)


def read_metadata(meta_path: Path, directory: Path | None = None) -> dict[str, Any]:
    """metadata.toml as a dict; ``PolicyError`` with the line of a TOML error."""
    return _toml(read_policy_file(meta_path, directory), str(meta_path))


def _toml(text: str, where: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"invalid TOML: {exc}", file=where, line=getattr(exc, "lineno", None)) from None


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
