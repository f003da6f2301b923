#!/usr/bin/env python3
"""`make demo`: two nights of the nightly audit on the bundled example city, a triage between them.

Night 1 audits every day of the city's logs but the last (``--as-of`` the day before
<as_of>) with a state, as cron would (``--state out/demo-state.db``); then the security
officer acknowledges one finding (``pia-policy triage``); night 2 audits the last day
(``--as-of <as_of> --out out/demo``) on the same state. It prints each night's lifecycle
(new, ongoing, reopened, resolved, suppressed), the counts, the findings by severity and rule,
and where the outputs are. Exits 0 when the audits ran (the city is full of planted findings:
that is the point of the demo), 2 when one could not run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
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


def _split(data: Path, work: Path, as_of: str) -> tuple[Path, Path] | None:
    """Night 1: every events file dated before the last day; night 2: the last day's files.
    None when the files carry no date (then the demo runs one night)."""
    files = sorted((data / "events").glob("*")) if (data / "events").is_dir() else []
    last_day = (dt.date.fromisoformat(as_of) - dt.timedelta(days=1)).isoformat()
    if not files or not any(last_day in f.name for f in files) or all(last_day in f.name for f in files):
        return None
    shutil.rmtree(work, ignore_errors=True)
    nights = (work / "night1", work / "night2")
    for n in nights:
        (n / "events").mkdir(parents=True)
        for ledger in data.glob("*.csv"):
            (n / ledger.name).symlink_to(ledger.resolve())
    for f in files:
        (nights[1] if last_day in f.name else nights[0]).joinpath("events", f.name).symlink_to(f.resolve())
    return nights


def _audit(data: Path, as_of: str, out: Path, state: Path | None,
           links_into: Path | None = None) -> subprocess.CompletedProcess[bytes]:
    cmd = [sys.executable, "-m", "pia_policy", "audit", str(data), "--as-of", as_of, "--out", str(out)]
    if state is not None:
        cmd += ["--state", str(state)]
    if links_into is not None:  # a night's data directory is made of links into the city's data
        cmd += ["--allow-link-root", str(links_into.resolve())]
    print("$ pia-policy " + " ".join(cmd[3:]), flush=True)
    return subprocess.run(cmd, cwd=ROOT)


def _lifecycle(summary: dict[str, object]) -> str:
    life = summary.get("lifecycle") or {}
    assert isinstance(life, dict)
    silent = summary.get("systems_silent") or []
    return (", ".join(f"{k} {life.get(k, 0)}" for k in ("new", "ongoing", "reopened", "resolved", "suppressed"))
            + (f"; systems silent: {', '.join(map(str, silent))}" if silent else ""))


def _two_nights(args: argparse.Namespace, nights: tuple[Path, Path]) -> int:
    """Night 1, a triage action, night 2 (into ``args.out``); the exit code of night 2 or 2."""
    state = args.out.parent / f"{args.out.name}-state.db"
    for p in (state, Path(f"{state}.lock")):
        p.unlink(missing_ok=True)
    first_as_of = (dt.date.fromisoformat(args.as_of) - dt.timedelta(days=1)).isoformat()
    out1 = args.out.parent / f"{args.out.name}-night1"
    proc = _audit(nights[0], first_as_of, out1, state, args.data)
    if proc.returncode not in (0, 1):
        return 2
    summary = json.loads((out1 / "summary.json").read_text(encoding="utf-8"))
    print(f"night 1 ({first_as_of}): {_lifecycle(summary)}")
    first = [json.loads(x) for x in (out1 / "findings.jsonl").read_text(encoding="utf-8").splitlines() if x]
    if first:
        pick = first[0]
        cmd = [sys.executable, "-m", "pia_policy", "triage", "--state", str(state), pick["finding_id"],
               "--status", "acknowledged", "--by", "情報セキュリティ管理者（デモ）",
               "--reason", "所属課に確認中（回答待ち）"]
        print(f"\n# the officer acknowledges {pick['rule']} {pick.get('account_id') or pick['system']}:")
        print("$ pia-policy " + " ".join(cmd[3:]), flush=True)
        subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    print()
    return _audit(nights[1], args.as_of, args.out, state, args.data).returncode


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", type=Path, default=ROOT / "out" / "demo", help="output directory (default out/demo)")
    p.add_argument("--data", type=Path, default=CITY, help="data directory (default examples/city)")
    p.add_argument("--as-of", default=AS_OF, help=f"audit date (default {AS_OF})")
    args = p.parse_args(argv)

    t0 = time.perf_counter()
    nights = _split(args.data, args.out.parent / f"{args.out.name}-data", args.as_of)
    if nights is not None:
        code = _two_nights(args, nights)
    else:
        code = _audit(args.data, args.as_of, args.out, None).returncode
    seconds = time.perf_counter() - t0
    if code not in (0, 1):
        print(f"the audit could not run (exit {code})", file=sys.stderr)
        return 2
    summary = json.loads((args.out / "summary.json").read_text(encoding="utf-8"))
    counts = summary.get("counts", {})
    titles = _titles()

    print()
    print(f"監査日 (as-of) {summary.get('as_of', args.as_of)} — audit time {summary.get('audit_time', '')}")
    if "lifecycle" in summary:
        print(f"night 2 ({summary.get('as_of')}): {_lifecycle(summary)}")
    print(f"policy versions used: {', '.join(summary.get('policy', {}).get('versions_used', []) or ['?'])}")
    print(f"lines read {counts.get('lines_read', 0):,} = events evaluated {counts.get('events_evaluated', 0):,}"
          f" + duplicates {counts.get('duplicates', 0):,} + rejected {counts.get('lines_rejected', 0):,}"
          + (f" + deferred {counts['deferred']:,} (resumed from earlier nights {counts.get('resumed', 0):,})"
             if "deferred" in counts else "")
          + f"   ({seconds:.1f} s)")
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
                status = f"[{f['lifecycle']}{', ' + f['triage']['status'] if f.get('triage') else ''}] " \
                    if f.get("lifecycle") else ""
                print(f"  {status}[{f['severity']}] {f['rule']} {f['system']} {f.get('account_id') or '-'} "
                      f"{f.get('department') or ''} ×{f['event_count']}: {f['action']}")
    skipped = summary.get("rules_skipped") or []
    if skipped:
        print("rules skipped: " + ", ".join(f"{s['rule']} (no {s['missing']})" for s in skipped))
    if TRUTH.exists() and args.data.resolve() == CITY.resolve():
        truth = json.loads(TRUTH.read_text(encoding="utf-8"))
        print(f"(the example city has {len(truth['findings'])} planted findings and "
              f"{len(truth['must_not_flag'])} near misses: examples/city_truth.json)")
    print()
    print(f"exit code {code} (--fail-on {summary.get('fail_on', 'high')}); outputs in {args.out}:")
    for name in ("findings.jsonl", "findings.csv", "summary.json", "rejected.jsonl", "report.html", "notices"):
        path = args.out / name
        if path.exists():
            extra = f"  ({len(list(path.iterdir()))} files)" if path.is_dir() else ""
            print(f"  {path}{extra}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
