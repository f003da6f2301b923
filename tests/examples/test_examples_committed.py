"""The committed example city is exactly what the documented command generates."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

from examples_helpers import ROOT, tree_digest

CITY = ROOT / "examples" / "city"
TRUTH = ROOT / "examples" / "city_truth.json"


def _documented_command() -> str:
    truth = json.loads(TRUTH.read_text(encoding="utf-8"))
    return truth["command"]


def test_the_command_is_documented() -> None:
    cmd = _documented_command()
    assert cmd.startswith("python examples/generate_city.py ") and "--out examples/city" in cmd
    assert cmd in (ROOT / "README.md").read_text(encoding="utf-8")


def test_committed_city_is_what_the_generator_makes(tmp_path: Path) -> None:
    argv = shlex.split(_documented_command())[2:]
    i = argv.index("--out")
    argv[i + 1] = str(tmp_path / "city")
    subprocess.run([sys.executable, str(ROOT / "examples" / "generate_city.py"), *argv], check=True,
                   capture_output=True, cwd=ROOT)
    assert tree_digest(tmp_path / "city") == tree_digest(CITY)
    made = json.loads((tmp_path / "city_truth.json").read_text(encoding="utf-8"))
    committed = json.loads(TRUTH.read_text(encoding="utf-8"))
    made.pop("command"), committed.pop("command")
    assert made == committed


def test_committed_city_is_small() -> None:
    size = sum(p.stat().st_size for p in CITY.rglob("*") if p.is_file())
    assert size < 5 * 2**20
