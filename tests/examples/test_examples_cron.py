"""examples/cron/nightly_audit.sh: logrotate names, --as-of today (audits yesterday), exit codes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from examples_helpers import ROOT

SCRIPT = ROOT / "examples" / "cron" / "nightly_audit.sh"
CITY = ROOT / "examples" / "city"

pytestmark = pytest.mark.skipif(shutil.which("flock") is None or shutil.which("bash") is None,
                                reason="needs bash and flock (util-linux)")


def _rotated_logs(root: Path) -> Path:
    """The city's last two days as logrotate leaves them: -YYYYMMDD (yesterday) and -YYYYMMDD.gz."""
    logs = root / "log"
    for system in ("gyomu_kyotsu", "fukushi", "hyojun"):
        (logs / system).mkdir(parents=True)
        shutil.copy(CITY / "events" / f"{system}-2025-04-02.jsonl.gz", logs / system / "access.jsonl-20250402.gz")
        shutil.copy(CITY / "events" / f"{system}-2025-04-03.jsonl", logs / system / "access.jsonl-20250403")
        shutil.copy(CITY / "events" / f"{system}-2025-04-01.jsonl.gz", logs / system / "access.jsonl-20250401.gz")
    return logs


def _run(tmp: Path, **env: str) -> tuple[subprocess.CompletedProcess[str], Path]:
    notes = tmp / "notified"
    hook = tmp / "hook.sh"
    hook.write_text(f'#!/bin/sh\necho "$*" >> {notes}\n')
    hook.chmod(0o755)
    full = dict(os.environ, PIA_POLICY=str(Path(sys.executable).parent / "pia-policy"), LOG_ROOT=str(tmp / "log"),
                LEDGER_DIR=str(CITY), WORK_ROOT=str(tmp / "work"), OUT_ROOT=str(tmp / "audits"),
                AS_OF="2025-04-04", NOTIFY_FINDINGS=str(hook), NOTIFY_FAILURE=str(hook))
    full.update(env)
    p = subprocess.run(["bash", str(SCRIPT)], capture_output=True, text=True, env=full, timeout=120)
    return p, notes


def test_nightly_run_audits_yesterday_and_notifies_findings(tmp_path: Path) -> None:
    _rotated_logs(tmp_path)
    p, notes = _run(tmp_path)
    assert p.returncode == 0, p.stdout + p.stderr
    out = tmp_path / "audits" / "2025-04-04"
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["as_of"] == "2025-04-04" and summary["counts"]["lines_rejected"] == 0
    names = sorted(Path(i["path"]).name for i in summary["inputs"] if i.get("role", "events") == "events")
    assert [n for n in names if n.endswith(("jsonl", "jsonl.gz"))] == [
        f"{s}-2025-04-03.jsonl" for s in ("fukushi", "gyomu_kyotsu", "hyojun")]
    assert summary["findings_by_rule"]["LONG_SESSION"] >= 1  # the open session of the last day
    assert notes.read_text().strip() == str(out)
    assert (tmp_path / "audits" / "latest").resolve() == out.resolve()
    assert not (tmp_path / "work" / "2025-04-04").exists()


def test_days_window_takes_the_gzipped_rotations(tmp_path: Path) -> None:
    _rotated_logs(tmp_path)
    p, _ = _run(tmp_path, DAYS="3")
    assert p.returncode == 0, p.stdout + p.stderr
    summary = json.loads((tmp_path / "audits" / "2025-04-04" / "summary.json").read_text(encoding="utf-8"))
    events = [Path(i["path"]).name for i in summary["inputs"] if "jsonl" in Path(i["path"]).name]
    assert sum(n.endswith(".gz") for n in events) == 6 and len(events) == 9


def test_missing_logs_exit_2_and_alert(tmp_path: Path) -> None:
    (tmp_path / "log").mkdir()
    p, notes = _run(tmp_path)
    assert p.returncode == 2
    assert "no access log" in p.stdout and "no access log" in notes.read_text()


def test_missing_required_ledger_exit_2(tmp_path: Path) -> None:
    _rotated_logs(tmp_path)
    ledgers = tmp_path / "ledgers"
    ledgers.mkdir()
    shutil.copy(CITY / "personnel.csv", ledgers / "personnel.csv")
    p, notes = _run(tmp_path, LEDGER_DIR=str(ledgers))
    assert p.returncode == 2, p.stdout
    assert "could not run" in notes.read_text()
    assert not (tmp_path / "audits" / "latest").exists()
