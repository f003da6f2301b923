"""Benchmark of the inputs layer: ingest of N generated JSONL lines vs ``polars.read_ndjson``.

Not a test (SPEC §7: benchmarks, not timed tests). Run:
    .venv/bin/python tests/inputs/bench_ingest.py [--lines 1000000] [--dir /tmp/pia-bench]
Prints events/s and the ratio to polars (median of ``--repeat`` interleaved runs).
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import time
from pathlib import Path

import duckdb

from pia_policy.inputs import ingest

ACTIONS = ("view", "search", "update", "print", "login", "logout")
RESOURCES = ("kihon_joho", "iryo_hoken", "kojin_bango", "kaigo")


def generate(path: Path, n: int) -> None:
    """Write ``n`` realistic events (about 260 bytes a line)."""
    with open(path, "w", encoding="utf-8") as fh:
        chunk = []
        for i in range(n):
            s = i % 86400
            chunk.append(
                f'{{"ts": "2025-04-01T{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}+09:00", "system": "fukushi", '
                f'"seq": {i}, "event_id": "e{i:09d}", "account_id": "acc{i % 500:04d}", "session_id": "s{i % 900}", '
                f'"terminal_id": "t{i % 50}", "action": "{ACTIONS[i % 6]}", "resource": "{RESOURCES[i % 4]}", '
                f'"affair": "kouki-01", "subject_id": "sub{i % 20000:06d}"}}\n'
            )
            if len(chunk) == 100_000:
                fh.write("".join(chunk))
                chunk = []
        fh.write("".join(chunk))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--dir", type=Path, default=Path("/tmp/pia-bench-inputs"))
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    data = args.dir
    (data / "events").mkdir(parents=True, exist_ok=True)
    ev = data / "events" / "events.jsonl"
    if not ev.exists() or ev.stat().st_size < args.lines * 200:
        generate(ev, args.lines)
    (data / "accounts.csv").write_text("account_id,system,department\n")
    (data / "personnel.csv").write_text("person_id,event,effective_date\n")
    import polars as pl

    ours, theirs = [], []
    for _ in range(args.repeat):
        t = time.perf_counter()
        pl.read_ndjson(ev)
        theirs.append(time.perf_counter() - t)
        con = duckdb.connect()
        t = time.perf_counter()
        res = ingest(con, data, as_of_utc=dt.datetime(2025, 4, 2))
        ours.append(time.perf_counter() - t)
        con.close()
    a, b = statistics.median(ours), statistics.median(theirs)
    n = res.counts["lines_read"]
    print(f"lines={n} size={ev.stat().st_size / 1e6:.0f} MB")
    print(f"ingest: {a:.2f} s ({n / a:,.0f} events/s); polars.read_ndjson: {b:.2f} s; ratio {a / b:.2f}x")


if __name__ == "__main__":
    main()
