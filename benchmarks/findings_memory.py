#!/usr/bin/env python3
"""Hardening benchmarks (issue 16 items 5 and 8).

``--case unknown`` (default): N events from N distinct unknown accounts; every event is an
UNKNOWN_ACCOUNT finding of its own, so the run writes N findings. ``--case sessions``: N
login/logout pairs of one account sharing one ``session_id`` (LONG_SESSION pairing). Runs
``python -m pia_policy audit`` as a child process under ``/usr/bin/time -v`` and prints wall
seconds, peak RSS and the number of findings written. ``--n`` (default 1,000,000). To measure
another checkout, set ``PYTHONPATH=<checkout>/src``.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def write_city(root: Path, n: int) -> None:
    """accounts.csv with one account, an empty personnel.csv and ``n`` view events of unknown accounts."""
    (root / "events").mkdir(parents=True)
    (root / "accounts.csv").write_text(
        "account_id,system,person_id,employment,department,roles,permission,issued_at,issued_by\n"
        "A1,fukushi,P1,regular,健康保険課,kouki_staff,read,2025-01-01,P0\n", encoding="utf-8")
    (root / "personnel.csv").write_text("person_id,event,effective_date,from_department,to_department\n",
                                        encoding="utf-8")
    with open(root / "events" / "a.jsonl", "w", encoding="utf-8") as fh:
        for i in range(n):
            fh.write(json.dumps({"ts": f"2025-04-01T{9 + i % 8:02d}:{i % 60:02d}:00+09:00", "system": "fukushi",
                                 "event_id": f"E{i}", "account_id": f"U{i}", "action": "view",
                                 "resource": "kihon_joho", "affair": "kouki-01"}) + "\n")


def write_sessions(root: Path, n: int) -> None:
    """One account, ``n`` one-hour sessions twelve hours apart, all with ``session_id`` "s"."""
    import datetime as dt

    (root / "events").mkdir(parents=True)
    (root / "accounts.csv").write_text(
        "account_id,system,person_id,employment,department,roles,permission,issued_at,issued_by\n"
        "A1,fukushi,P1,regular,健康保険課,kouki_staff,read,1990-01-01,P0\n", encoding="utf-8")
    (root / "personnel.csv").write_text("person_id,event,effective_date,from_department,to_department\n",
                                        encoding="utf-8")
    start = dt.datetime(2025, 4, 1, 8) - dt.timedelta(hours=12 * n)
    with open(root / "events" / "a.jsonl", "w", encoding="utf-8") as fh:
        for i in range(n):
            at = start + dt.timedelta(hours=12 * i)
            for action, when in (("login", at), ("logout", at + dt.timedelta(hours=1))):
                fh.write(json.dumps({"ts": when.isoformat() + "+09:00", "system": "fukushi", "event_id": f"{action}{i}",
                                     "account_id": "A1", "action": action, "session_id": "s"}) + "\n")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--n", type=int, default=1_000_000)
    p.add_argument("--case", choices=("unknown", "sessions"), default="unknown")
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="pia-findings-bench-") as tmp:
        city = Path(tmp) / "city"
        (write_city if args.case == "unknown" else write_sessions)(city, args.n)
        out = Path(tmp) / "out"
        t0 = time.perf_counter()
        proc = subprocess.run(["/usr/bin/time", "-v", sys.executable, "-m", "pia_policy", "audit", str(city),
                               "--as-of", "2025-04-02", "--out", str(out)], capture_output=True, text=True)
        wall = time.perf_counter() - t0
        rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
        cpu = sum(float(m) for m in re.findall(r"(?:User|System) time \(seconds\): ([0-9.]+)", proc.stderr))
        lines = sum(1 for _ in open(out / "findings.jsonl", "rb")) if (out / "findings.jsonl").is_file() else None
        result = {"case": args.case, "n": args.n, "exit": proc.returncode, "wall_seconds": round(wall, 2),
                  "cpu_seconds": round(cpu, 2),
                  "peak_rss_mib": round(int(rss.group(1)) / 1024) if rss else None, "findings_written": lines}
        print(json.dumps(result))
        if proc.returncode not in (0, 1):
            print(proc.stderr[-3000:], file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
