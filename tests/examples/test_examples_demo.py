"""`make demo` (examples/demo.py): runs the audit on the bundled city and exits 0 with findings."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from examples_helpers import ROOT


def test_demo_prints_summary_and_outputs(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    p = subprocess.run([sys.executable, str(ROOT / "examples" / "demo.py"), "--out", str(out)],
                       capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert p.returncode == 0, p.stderr
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    by_sev = summary["findings_by_severity"]
    assert sum(by_sev.values()) > 0
    line = "findings by severity: " + ", ".join(f"{s} {by_sev[s]}" for s in ("critical", "high", "medium", "low"))
    assert line in p.stdout
    assert "exit code 1" in p.stdout
    for name in ("findings.jsonl", "summary.json", "report.html", "notices"):
        assert str(out / name) in p.stdout
    assert "LOG_SEQUENCE_GAP" in p.stdout and f"{summary['counts']['lines_read']:,}" in p.stdout


def test_demo_shows_two_nights_with_a_triage_between(tmp_path: Path) -> None:
    """SPEC §8 for a newcomer: night 1 with a state, an acknowledgement, night 2 on the same state."""
    out = tmp_path / "demo"
    p = subprocess.run([sys.executable, str(ROOT / "examples" / "demo.py"), "--out", str(out)],
                       capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert p.returncode == 0, p.stderr
    night1 = json.loads((tmp_path / "demo-night1" / "summary.json").read_text(encoding="utf-8"))
    night2 = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert (night1["as_of"], night2["as_of"]) == ("2025-04-03", "2025-04-04")
    assert night1["lifecycle"]["new"] > 0 and night1["lifecycle"]["ongoing"] == 0
    assert night2["lifecycle"]["ongoing"] > 0 and night2["lifecycle"]["suppressed"] == 1
    assert "$ pia-policy triage --state" in p.stdout and "--status acknowledged" in p.stdout
    assert f"night 1 (2025-04-03): new {night1['lifecycle']['new']}" in p.stdout
    assert f"night 2 (2025-04-04): new {night2['lifecycle']['new']}" in p.stdout
    acknowledged = [json.loads(x) for x in (out / "findings.jsonl").read_text(encoding="utf-8").splitlines()
                    if '"acknowledged"' in x]
    assert len(acknowledged) == 1 and acknowledged[0]["triage"]["by"] == "情報セキュリティ管理者（デモ）"


def test_demo_exits_2_when_the_audit_cannot_run(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    p = subprocess.run([sys.executable, str(ROOT / "examples" / "demo.py"), "--data", str(empty),
                        "--out", str(tmp_path / "o")], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert p.returncode == 2
    assert "could not run" in p.stderr
