"""benchmarks/run.py at a tiny size, so that it does not rot (fields, not speed)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from examples_helpers import ROOT


def test_benchmark_quick_writes_every_figure(tmp_path: Path) -> None:
    results = tmp_path / "results"
    p = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "run.py"), "--quick", "--work", str(tmp_path / "w"),
                        "--results", str(results)], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    doc = json.loads((results / "audit.json").read_text(encoding="utf-8"))
    assert doc["machine"]["nproc"] >= 1 and doc["machine"]["mem_total_gib"] > 0
    assert doc["memory_limit"] and doc["command"].startswith(".venv/bin/python benchmarks/run.py")
    (row,) = doc["results"]
    for key in ("events", "lines", "bytes", "parse_seconds", "audit_seconds", "audit_rss_mib", "ratio_audit_to_parse",
                "events_per_second", "naive_per_event_us", "naive_extrapolated_seconds", "naive_to_audit_ratio"):
        assert isinstance(row[key], (int, float)) and row[key] > 0, key
    assert row["summary_counts"]["lines_read"] == row["lines"]
    assert row["recall"]["planted_found"] == row["recall"]["planted"] > 0
    assert row["recall"]["near_misses_flagged"] == 0
    assert set(doc["verdict"]) >= {"ratio_le_3", "rss_le_1gib", "rss_flat", "growth"}
    # the per-phase split comes from the audit's run log and adds up to the audit's wall time
    ph = row["phases"]
    assert list(ph) == ["startup", "ingest", "decisions", "rules", "outputs"]
    assert ph["ingest"] > 0 and ph["decisions"] > 0 and ph["rules"] > 0 and ph["startup"] > 0
    assert abs(sum(ph.values()) - row["audit_seconds"]) < 0.05 * row["audit_seconds"] + 0.01
    assert "ratio" in p.stdout and "decisions" in p.stdout
    md = (results / "audit.md").read_text(encoding="utf-8")
    assert "audit / parse" in md and "nproc" in md and "PIA_POLICY_DUCKDB_MEMORY_LIMIT" in md
    assert "| events | startup | ingest | decisions | rules | outputs |" in md


def test_state_benchmark_quick_writes_every_figure(tmp_path: Path) -> None:
    """benchmarks/state.py at a tiny size: every night measured with and without the state."""
    results = tmp_path / "results"
    p = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "state.py"), "--nights", "8", "--per-night", "800",
                        "--results", str(results)], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert p.returncode == 0, p.stderr
    doc = json.loads((results / "state.json").read_text(encoding="utf-8"))
    assert len(doc["rows"]) == 8 and doc["rows"][-1]["history_events"] > 8 * 800
    assert set(doc["rows"][-1]["state_steps_seconds"]) == {"read_base", "carry_in", "carry_out", "lifecycle", "commit"}
    assert doc["verdict"]["state_mb_per_30m_events"] > 0
    assert "| night |" in (results / "state.md").read_text(encoding="utf-8")
