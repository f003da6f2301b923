"""Helpers of the example-city tests: the generator module, reading a generated city back."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import importlib.util
import io
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
GENERATOR = ROOT / "examples" / "generate_city.py"
JST = dt.timezone(dt.timedelta(hours=9))


def load_generator() -> ModuleType:
    """examples/generate_city.py as a module (it is a script, not a package)."""
    if "generate_city" in sys.modules:
        return sys.modules["generate_city"]
    spec = importlib.util.spec_from_file_location("generate_city", GENERATOR)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules["generate_city"] = mod  # dataclasses and worker processes look it up
    spec.loader.exec_module(mod)
    return mod


def parse_ts(text: str) -> dt.datetime:
    """ISO 8601; no offset means JST (SPEC §3)."""
    t = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return t if t.tzinfo else t.replace(tzinfo=JST)


def read_events(data: Path) -> list[dict[str, Any]]:
    """Every record of every events file, in file-name and line order (duplicates kept)."""
    out: list[dict[str, Any]] = []
    for path in sorted((data / "events").iterdir()):
        raw = path.read_bytes()
        if path.name.endswith(".gz"):
            raw = gzip.decompress(raw)
        text = raw.decode("utf-8")
        if path.name.endswith(".csv"):
            for row in csv.DictReader(io.StringIO(text)):
                rec: dict[str, Any] = {k: v for k, v in row.items() if v != ""}
                rec["seq"] = int(rec["seq"])
                out.append(rec)
        else:
            out.extend(json.loads(line) for line in text.splitlines() if line.strip())
    for rec in out:
        rec["_t"] = parse_ts(rec["ts"])
    return out


def read_csv(path: Path, encoding: str = "utf-8-sig") -> list[dict[str, str]]:
    with open(path, encoding=encoding, newline="") as f:
        return list(csv.DictReader(f))


def keys(entries: list[dict[str, Any]]) -> set[tuple[str, str, str | None]]:
    return {(e["rule"], e["system"], e["account_id"]) for e in entries}


def tree_digest(data: Path) -> dict[str, bytes]:
    """Relative path → content, gzip members decompressed (independent of the zlib build)."""
    out = {}
    for path in sorted(p for p in data.rglob("*") if p.is_file()):
        raw = path.read_bytes()
        out[str(path.relative_to(data))] = gzip.decompress(raw) if path.name.endswith(".gz") else raw
    return out
