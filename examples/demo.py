#!/usr/bin/env python3
"""`make demo`: the nightly audit on the bundled example city, then its summary.

Runs ``pia-policy audit examples/city --as-of <as_of> --out out/demo`` exactly as cron would,
prints the counts, the findings by severity and rule, and where the outputs are. Exits 0
when the audit ran (the city is full of planted findings: that is the point of the demo),
2 when it could not run.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

__all__ = ["main"]

ROOT = Path(__file__).resolve().parents[1]
CITY = ROOT / "examples" / "city"
TRUTH = ROOT / "examples" / "city_truth.json"
#: The audit date of the bundled city: the day after its last day of logs (see city_truth.json).
AS_OF = "2025-04-04"
_SEVERITIES = ("critical", "high", "medium", "low")
_TOP = 6


def _titles() -> dict[str, str]:
    try:
        from pia_policy import rules

        return {r.id: r.title_ja for r in rules.all_rules()}
    except Exception:  # the demo still prints ids without the catalogue
        return {}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", type=Path, default=ROOT / "out" / "demo", help="output directory (default out/demo)")
    p.add_argument("--data", type=Path, default=CITY, help="data directory (default examples/city)")
    p.add_argument("--as-of", default=AS_OF, help=f"audit date (default {AS_OF})")
    args = p.parse_args(argv)

    cmd = [sys.executable, "-m", "pia_policy", "audit", str(args.data), "--as-of", args.as_of, "--out", str(args.out)]
    print("$ pia-policy audit " + " ".join(cmd[4:]), flush=True)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT)
    seconds = time.perf_counter() - t0
    if proc.returncode not in (0, 1):
        print(f"the audit could not run (exit {proc.returncode})", file=sys.stderr)
        return 2
    summary = json.loads((args.out / "summary.json").read_text(encoding="utf-8"))
    counts = summary.get("counts", {})
    titles = _titles()

    print()
    print(f"監査日 (as-of) {summary.get('as_of', args.as_of)} — audit time {summary.get('audit_time', '')}")
    print(f"policy versions used: {', '.join(summary.get('policy', {}).get('versions_used', []) or ['?'])}")
    print(f"lines read {counts.get('lines_read', 0):,} = events evaluated {counts.get('events_evaluated', 0):,}"
          f" + duplicates {counts.get('duplicates', 0):,} + rejected {counts.get('lines_rejected', 0):,}"
          f"   ({seconds:.1f} s)")
    by_sev = summary.get("findings_by_severity", {})
    print("findings by severity: " + ", ".join(f"{s} {by_sev.get(s, 0)}" for s in _SEVERITIES))
    print("findings by rule:")
    for rule, n in summary.get("findings_by_rule", {}).items():
        if n:
            print(f"  {n:4d}  {rule:32s} {titles.get(rule, '')}")
    findings_path = args.out / "findings.jsonl"
    if findings_path.exists():
        lines = [ln for ln in findings_path.read_text(encoding="utf-8").splitlines() if ln.strip()]
        if lines:
            print(f"first findings (of {len(lines)}, most severe first):")
            for ln in lines[:_TOP]:
                f = json.loads(ln)
                print(f"  [{f['severity']}] {f['rule']} {f['system']} {f.get('account_id') or '-'} "
                      f"{f.get('department') or ''} ×{f['event_count']}: {f['action']}")
    skipped = summary.get("rules_skipped") or []
    if skipped:
        print("rules skipped: " + ", ".join(f"{s['rule']} (no {s['missing']})" for s in skipped))
    if TRUTH.exists() and args.data.resolve() == CITY.resolve():
        truth = json.loads(TRUTH.read_text(encoding="utf-8"))
        print(f"(the example city has {len(truth['findings'])} planted findings and "
              f"{len(truth['must_not_flag'])} near misses: examples/city_truth.json)")
    print()
    print(f"exit code {proc.returncode} (--fail-on {summary.get('fail_on', 'high')}); outputs in {args.out}:")
    for name in ("findings.jsonl", "findings.csv", "summary.json", "rejected.jsonl", "report.html", "notices"):
        path = args.out / name
        if path.exists():
            extra = f"  ({len(list(path.iterdir()))} files)" if path.is_dir() else ""
            print(f"  {path}{extra}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
