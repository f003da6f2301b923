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
                AS_OF="2025-04-04", NOTIFY_FINDINGS=str(hook), NOTIFY_FAILURE=str(hook),
                STATE=str(tmp / "state.db"))
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


def _jsonl(path: Path, rows: list[dict[str, str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def _view(eid: str, ts: str, account: str, system: str = "fukushi") -> dict[str, str]:
    return {"ts": ts, "system": system, "event_id": eid, "account_id": account, "action": "view",
            "resource": "kihon_joho", "affair": "kouki-01"}


def test_event_after_midnight_in_yesterdays_file_is_judged_the_next_night(tmp_path: Path) -> None:
    """copytruncate at 00:05 leaves a 00:01 event in yesterday's file: the state carries it to the
    next night, which judges it (it is in no other file)."""
    logs = tmp_path / "log" / "fukushi"
    _jsonl(logs / "access.jsonl-20250403", [_view("N1", "2025-04-03T10:00:00+09:00", "F392545"),
                                            _view("N2", "2025-04-04T00:01:00+09:00", "ZZ-UNKNOWN")])
    p, _ = _run(tmp_path, SYSTEMS="fukushi")
    assert p.returncode == 0, p.stdout + p.stderr
    first = json.loads((tmp_path / "audits" / "2025-04-04" / "summary.json").read_text(encoding="utf-8"))
    assert (first["counts"]["deferred"], first["findings_by_rule"]["UNKNOWN_ACCOUNT"]) == (1, 0)
    _jsonl(logs / "access.jsonl-20250404", [_view("N3", "2025-04-04T10:00:00+09:00", "F392545")])
    p, _ = _run(tmp_path, SYSTEMS="fukushi", AS_OF="2025-04-05")
    assert p.returncode == 0, p.stdout + p.stderr
    out = tmp_path / "audits" / "2025-04-05"
    second = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert second["counts"]["resumed"] == 1
    (unknown,) = [json.loads(x) for x in (out / "findings.jsonl").read_text(encoding="utf-8").splitlines()
                  if '"UNKNOWN_ACCOUNT"' in x]
    assert (unknown["account_id"], unknown["first_ts"], unknown["lifecycle"]) == \
        ("ZZ-UNKNOWN", "2025-04-04T00:01:00+09:00", "new")


def test_csv_exports_and_late_rotations_are_fed(tmp_path: Path) -> None:
    logs = tmp_path / "log"
    _jsonl(logs / "fukushi" / "access.jsonl-20250403", [_view("A1", "2025-04-03T10:00:00+09:00", "F392545")])
    csv_path = logs / "hyojun" / "access.csv-20250403"
    csv_path.parent.mkdir(parents=True)
    csv_path.write_text("ts,system,event_id,account_id,action,resource,affair\n"
                        "2025-04-03T10:00:00+09:00,hyojun,C1,ZZ-CSV,view,kihon_joho,kouki-01\n", encoding="utf-8")
    p, _ = _run(tmp_path, SYSTEMS="fukushi hyojun")
    assert p.returncode == 0, p.stdout + p.stderr
    summary = json.loads((tmp_path / "audits" / "2025-04-04" / "summary.json").read_text(encoding="utf-8"))
    assert "hyojun-2025-04-03.csv" in {Path(i["path"]).name for i in summary["inputs"]}
    assert summary["counts"]["events_evaluated"] == 2
    # hyojun's file of 04-04 is late: missing on the night of 04-05, fed on the night of 04-06
    _jsonl(logs / "fukushi" / "access.jsonl-20250404", [_view("A2", "2025-04-04T10:00:00+09:00", "F392545")])
    p, _ = _run(tmp_path, SYSTEMS="fukushi hyojun", AS_OF="2025-04-05")
    assert p.returncode == 0 and "no log of hyojun for 2025-04-04" in p.stdout
    _jsonl(logs / "hyojun" / "access.jsonl-20250404", [_view("L1", "2025-04-04T11:00:00+09:00", "ZZ-LATE", "hyojun")])
    _jsonl(logs / "fukushi" / "access.jsonl-20250405", [_view("A3", "2025-04-05T10:00:00+09:00", "F392545")])
    _jsonl(logs / "hyojun" / "access.jsonl-20250405", [_view("L2", "2025-04-05T11:00:00+09:00", "ZZ-LATE", "hyojun")])
    p, _ = _run(tmp_path, SYSTEMS="fukushi hyojun", AS_OF="2025-04-06")
    assert p.returncode == 0, p.stdout + p.stderr
    out = tmp_path / "audits" / "2025-04-06"
    names = {Path(i["path"]).name for i in json.loads((out / "summary.json").read_text(encoding="utf-8"))["inputs"]}
    assert {"hyojun-2025-04-04.jsonl", "hyojun-2025-04-05.jsonl"} <= names
    late = [json.loads(x) for x in (out / "findings.jsonl").read_text(encoding="utf-8").splitlines()
            if '"ZZ-LATE"' in x]
    assert [f["event_count"] for f in late] == [2]
