"""benchmarks/serve_load.py at a tiny size, so that it does not rot (fields and zero errors, not speed)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_load_test_quick_answers_everything_during_reloads(tmp_path: Path) -> None:
    p = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "serve_load.py"), "--quick", "--results",
                        str(tmp_path)], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-2000:]
    doc = json.loads((tmp_path / "serve_load.json").read_text(encoding="utf-8"))
    phases = doc["phases"]
    assert set(phases) == {"single", "batch of 10"}
    for phase in phases.values():
        assert phase["errors"] == 0 and phase["reloads_triggered"] >= 1
        assert phase["reloads_seen_by_healthz"] == phase["reloads_triggered"]
        for key in ("decisions_per_s", "p50_ms", "p99_ms", "server_cpu_s", "decisions_per_server_cpu_s"):
            assert phase[key] > 0, key
    assert doc["decision_log_lines"] == sum(p["decisions"] for p in phases.values())
    assert doc["healthz_after"]["status"] == "ok"
    assert "decisions per server CPU-second" in (tmp_path / "serve_load.md").read_text(encoding="utf-8")
