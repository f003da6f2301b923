#!/usr/bin/env python3
"""State benchmark (SPEC §8): a night's extra cost for reading and writing the state, and its size.

One command::

    .venv/bin/python benchmarks/state.py [--nights 30] [--per-night 1000000] [--results DIR]

It generates a city of ``nights × per-night`` events over ``nights`` days
(``examples/generate_city.py --format jsonl``), then audits it night by night with one SQLite
state (each night's data directory holds that day's files and the ledgers), and after every
night audits the same directory once more without a state. Per night it records the audit's
wall time with and without the state, the time in the state's own steps (reading the base,
the DuckDB carry-in, the carry-out, the lifecycle, the commit) and the state's size. It writes
``state.json`` and ``state.md`` into ``--results`` (default ``benchmarks/results``).

Goals: the state's steps < 10 % of the night's audit time after 30 nights; state < 200 MB per
30 M events of history.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from run import GENERATOR, machine  # noqa: E402

__all__ = ["main"]

GOAL_SHARE = 0.10
GOAL_MB_PER_30M = 200.0


def _timers() -> dict[str, float]:
    """Wrap the state's steps with wall-clock timers (added up per night)."""
    from pia_policy.state import _night, _store

    spent: dict[str, float] = {}

    def wrap(owner: Any, name: str, key: str) -> None:
        real: Callable[..., Any] = getattr(owner, name)

        def timed(*a: Any, **k: Any) -> Any:
            t = time.perf_counter()
            try:
                return real(*a, **k)
            finally:
                spent[key] = spent.get(key, 0.0) + time.perf_counter() - t

        setattr(owner, name, timed)

    wrap(_store.StateStore, "base_for", "read_base")
    wrap(_night.Night, "prepare", "carry_in")
    wrap(_night.Night, "after_rules", "carry_out")
    wrap(_night.Night, "judge", "lifecycle")
    wrap(_store.StateStore, "commit_night", "commit")
    return spent


def run(nights: int, per_night: int, work: Path, seed: int = 1, log: Any = print) -> dict[str, Any]:
    from pia_policy.audit import audit

    city = work / "city"
    log(f"generating {nights} days × {per_night:,} events …")
    gen = subprocess.run([sys.executable, str(GENERATOR), "--seed", str(seed), "--events", str(nights * per_night),
                          "--days", str(nights), "--format", "jsonl", "--out", str(city),
                          "--truth", str(work / "truth.json")], capture_output=True, text=True)
    if gen.returncode != 0:
        raise SystemExit(f"generator failed: {gen.stderr}")
    files = sorted((city / "events").glob("*.jsonl"))
    days = sorted({f.stem[-10:] for f in files})  # <system>-YYYY-MM-DD.jsonl
    spent = _timers()
    state = work / "state.db"
    # the night directories link into the generated city: allow that root (as the cron layout does)
    quiet = {"log": lambda *a, **k: None, "reports": False, "allow_link_root": [str(city.resolve())]}
    rows = []
    history = 0
    for i, day in enumerate(days):
        data = work / "night"
        shutil.rmtree(data, ignore_errors=True)
        (data / "events").mkdir(parents=True)
        for ledger in city.glob("*.csv"):
            (data / ledger.name).symlink_to(ledger)
        for f in files:
            if f.stem.endswith(day):
                (data / "events" / f.name).symlink_to(f)
        as_of = (dt.date.fromisoformat(day) + dt.timedelta(days=1)).isoformat()
        spent.clear()
        t = time.perf_counter()
        r = audit(data, as_of=as_of, out=work / "out-state", state=str(state), **quiet)
        with_state = time.perf_counter() - t
        steps = dict(spent)
        t = time.perf_counter()
        audit(data, as_of=as_of, out=work / "out-plain", **quiet)
        plain = time.perf_counter() - t
        counts = r.summary["counts"]
        history += counts["events_evaluated"] + counts.get("resumed", 0)
        row = {"night": i + 1, "as_of": as_of, "lines": counts["lines_read"], "history_events": history,
               "audit_seconds_with_state": round(with_state, 3), "audit_seconds_without": round(plain, 3),
               "state_steps_seconds": {k: round(v, 3) for k, v in steps.items()},
               "state_seconds": round(sum(steps.values()), 3),
               "state_share": round(sum(steps.values()) / with_state, 4),
               "state_bytes": state.stat().st_size, "findings": len(r.findings),
               "lifecycle": r.summary["lifecycle"]}
        rows.append(row)
        log(f"night {i + 1:2d} {as_of}: {row['lines']:,} lines, audit {with_state:.2f} s with state, "
            f"{plain:.2f} s without; state steps {row['state_seconds']:.2f} s ({row['state_share']:.1%}); "
            f"state {row['state_bytes'] / 1e6:.1f} MB for {history:,} events")
    last = rows[-1]
    mb_per_30m = last["state_bytes"] / 1e6 * 30e6 / max(1, last["history_events"])
    return {"machine": machine(), "nights": nights, "per_night": per_night, "rows": rows,
            "verdict": {"last_night_state_share": last["state_share"], "goal_share": GOAL_SHARE,
                        "state_mb_per_30m_events": round(mb_per_30m, 1), "goal_mb_per_30m": GOAL_MB_PER_30M}}


def _markdown(doc: dict[str, Any]) -> str:
    lines = [f"# State benchmark: {doc['nights']} nights × {doc['per_night']:,} events", "",
             "| night | lines | history | audit with state | without | state steps | share | state size |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in doc["rows"]:
        lines.append(f"| {r['night']} | {r['lines']:,} | {r['history_events']:,} | {r['audit_seconds_with_state']:.2f} s"
                     f" | {r['audit_seconds_without']:.2f} s | {r['state_seconds']:.2f} s | {r['state_share']:.1%}"
                     f" | {r['state_bytes'] / 1e6:.1f} MB |")
    v = doc["verdict"]
    lines += ["", f"Last night: state steps {v['last_night_state_share']:.1%} of the audit (goal < "
              f"{v['goal_share']:.0%}); state {v['state_mb_per_30m_events']} MB per 30 M events of history "
              f"(goal < {v['goal_mb_per_30m']:.0f} MB).", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--nights", type=int, default=30)
    p.add_argument("--per-night", type=int, default=1_000_000)
    p.add_argument("--results", type=Path, default=ROOT / "benchmarks" / "results")
    p.add_argument("--work", type=Path, default=None)
    p.add_argument("--name", default="state")
    args = p.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="pia-state-bench-"))
    try:
        doc = run(args.nights, args.per_night, work)
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / f"{args.name}.json").write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    (args.results / f"{args.name}.md").write_text(_markdown(doc))
    print(_markdown(doc))
    return 0


if __name__ == "__main__":
    sys.exit(main())
