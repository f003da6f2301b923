#!/usr/bin/env python3
"""Audit benchmarks: throughput and peak memory of ``pia-policy audit`` at 1 M and 10 M events.

One command::

    .venv/bin/python benchmarks/run.py [--sizes 1000000,10000000] [--quick]

For each size it generates a city (``examples/generate_city.py --format jsonl``), then, in the
same run and on the same files:

1. the raw NDJSON parse of every events file by ``polars.read_ndjson`` (the floor: reading the
   bytes, nothing judged), in a child process;
2. ``pia-policy audit`` as a user runs it (a child process, under ``/usr/bin/time -v`` for the
   peak RSS), with DuckDB's memory limit set through ``PIA_POLICY_DUCKDB_MEMORY_LIMIT``;
3. the naive audit: ``Policy.decide_with_casbin`` (``casbin.Enforcer.enforce``) per event on a
   sample, extrapolated to the size.

It writes ``audit.json`` and ``audit.md`` into ``--results`` (default ``benchmarks/results``;
with ``--quick`` a tiny size into ``<work>/results``). Goals: audit ≤ 3× the raw parse, peak
RSS ≤ 1 GiB at 10 M and flat in the event count.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

__all__ = ["main", "run", "phases", "PHASES"]

ROOT = Path(__file__).resolve().parents[1]
GENERATOR = ROOT / "examples" / "generate_city.py"
GOAL_RATIO = 3.0
GOAL_RSS_MIB = 1024.0
#: "Flat": peak RSS grows by at most this factor while the events grow tenfold.
FLAT_FACTOR = 1.5
DEFAULT_MEMORY_LIMIT = "512MB"
_TIME = "/usr/bin/time"

_PARSE_CHILD = r"""
import json, sys, time, resource
import polars as pl
files = json.loads(sys.argv[1])
schema = {k: pl.Utf8 for k in ("ts", "system", "event_id", "account_id", "session_id", "terminal_id",
          "action", "resource", "affair", "subject_id", "recipient_department", "method", "record_ref")}
schema["seq"] = pl.Int64
t = time.perf_counter()
rows = 0
for f in files:
    rows += pl.read_ndjson(f, schema=schema).height
sec = time.perf_counter() - t
print(json.dumps({"rows": rows, "seconds": sec,
                  "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


# ------------------------------------------------------------------------------ machine
def machine() -> dict[str, Any]:
    """Cores, memory and versions of what is measured."""
    info: dict[str, Any] = {"nproc": os.cpu_count(), "python": platform.python_version(),
                            "platform": platform.platform()}
    try:
        info["nproc"] = int(subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip())
    except (OSError, ValueError):
        pass
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                info["mem_total_gib"] = round(int(line.split()[1]) / 1024 / 1024, 1)
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        info["free_g"] = subprocess.run(["free", "-g"], capture_output=True, text=True).stdout.rstrip()
    except OSError:
        pass
    from importlib import metadata

    for key, dist in (("duckdb", "duckdb"), ("polars", "polars"), ("casbin", "pycasbin"), ("pia_policy", "pia-policy")):
        try:
            info[f"{key}_version"] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            info[f"{key}_version"] = None
    return info


# ---------------------------------------------------------------------------- measuring
def _timed(cmd: list[str], env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run ``cmd``: wall seconds, peak RSS (MiB) and exit code; GNU time when present, else psutil."""
    if Path(_TIME).exists():
        t0 = time.perf_counter()
        p = subprocess.run([_TIME, "-v", *cmd], capture_output=True, text=True, env=env)
        wall = time.perf_counter() - t0
        m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", p.stderr)
        rss = int(m.group(1)) / 1024 if m else None
        cpu = sum(float(x) for x in re.findall(r"(?:User|System) time \(seconds\): ([0-9.]+)", p.stderr))
        return {"seconds": wall, "rss_mib": rss, "exit": p.returncode, "stdout": p.stdout,
                "stderr": p.stderr[-4000:], "log": p.stderr, "cpu_seconds": cpu, "rss_method": "GNU time -v"}
    import psutil  # benchmark-only dependency

    t0 = time.perf_counter()
    proc = psutil.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    peak = 0
    while proc.poll() is None:
        try:
            rss = proc.memory_info().rss + sum(c.memory_info().rss for c in proc.children(recursive=True))
            peak = max(peak, rss)
        except psutil.Error:
            pass
        time.sleep(0.05)
    out, err = proc.communicate()
    return {"seconds": time.perf_counter() - t0, "rss_mib": peak / 2**20, "exit": proc.returncode,
            "stdout": out, "stderr": err[-4000:], "log": err, "cpu_seconds": None,
            "rss_method": "psutil polling (50 ms)"}


#: Phases of the audit's run log (JSON lines on stderr), in order.
PHASES = ("startup", "ingest", "decisions", "rules", "outputs")


def phases(log: str, wall: float) -> dict[str, float]:
    """Seconds per phase from the audit's run log: ingest, decisions, rules (with aggregation) as logged;
    outputs = the rest of the run (support tables, summary, writing files); startup = the process's wall
    time outside the run (interpreter start, imports, exit)."""
    ev: dict[str, dict[str, Any]] = {}
    for line in log.splitlines():
        if line.startswith("{"):
            try:
                d = json.loads(line)
            except ValueError:
                continue
            ev.setdefault(d.get("event", ""), d)
    end = ev.get("run_end", {})
    run = float(end.get("seconds") or 0.0)
    ingest = float(ev.get("ingest_done", {}).get("seconds") or 0.0)
    decisions = float(end.get("decisions_seconds") or 0.0)
    rules = float(end.get("rules_seconds") or 0.0)
    return {"startup": max(0.0, wall - run), "ingest": ingest, "decisions": decisions, "rules": rules,
            "outputs": max(0.0, run - ingest - decisions - rules)}


def _naive(data: Path, files: list[Path], sample: int) -> dict[str, Any]:
    """Per-event ``enforce`` (through ``Policy.decide_with_casbin``) on ``sample`` events."""
    from pia_policy import AccessRequest, Policy

    policy = Policy.load()
    with open(data / "accounts.csv", encoding="utf-8-sig", newline="") as f:
        accounts = {(r["system"], r["account_id"]): r for r in csv.DictReader(f)}
    per_file = max(1, sample // max(1, len(files)) + 1)
    lines: list[str] = []
    for path in files:
        with open(path, encoding="utf-8") as f:
            for i, line in enumerate(f):
                if i >= per_file:
                    break
                lines.append(line)
    lines = lines[:sample]
    t0 = time.perf_counter()
    denied = 0
    for line in lines:
        ev = json.loads(line)
        acc = accounts.get((ev["system"], ev["account_id"]))
        if acc is None:
            continue
        req = AccessRequest(
            version=policy.version_at(ev["ts"]).id, system=ev["system"], department=acc["department"],
            employment=acc["employment"], roles=frozenset(r for r in acc["roles"].split(";") if r),
            permission=acc["permission"] or "read", action=ev["action"], resource=ev.get("resource"),
            affair=ev.get("affair"), recipient_department=ev.get("recipient_department"), method=ev.get("method"),
        )
        denied += not policy.decide_with_casbin(req).allowed
    sec = time.perf_counter() - t0
    return {"sample": len(lines), "seconds": sec, "per_event_us": sec / max(1, len(lines)) * 1e6, "denied": denied}


def _recall(out: Path, truth: dict[str, Any]) -> dict[str, int]:
    found: set[tuple[str, str, str | None]] = set()
    fpath = out / "findings.jsonl"
    if fpath.exists():
        with open(fpath, encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    d = json.loads(line)
                    found.add((d["rule"], d["system"], d.get("account_id")))
    planted = {(x["rule"], x["system"], x["account_id"]) for x in truth["findings"]}
    near = {(x["rule"], x["system"], x["account_id"]) for x in truth["must_not_flag"]}
    return {"planted": len(planted), "planted_found": len(planted & found),
            "near_misses_flagged": len(near & found), "findings": len(found),
            "unexpected": len(found - planted)}


# ---------------------------------------------------------------------------------- run
def _days_for(n: int) -> int:
    return 8 if n < 200_000 else 30


def run_size(n: int, work: Path, *, memory_limit: str, naive_sample: int, seed: int, keep: bool,
             log: Any = print, reuse: bool = False) -> dict[str, Any]:
    """Generate a city of ``n`` events, then measure parse, audit and naive on it."""
    city = work / f"city-{n}"
    truth_path = work / f"city-{n}_truth.json"
    out = work / f"out-{n}"
    days = _days_for(n)
    if reuse and city.is_dir() and truth_path.is_file():
        log(f"[{n:,}] reusing {city} (generated by an earlier --keep run)")
        gen = {"seconds": 0.0}
    else:
        log(f"[{n:,}] generating ({days} days) …")
        gen = _timed([sys.executable, str(GENERATOR), "--seed", str(seed), "--events", str(n), "--days", str(days),
                      "--format", "jsonl", "--out", str(city), "--truth", str(truth_path)])
        if gen["exit"] != 0:
            raise SystemExit(f"generator failed: {gen['stderr']}")
    truth = json.loads(truth_path.read_text(encoding="utf-8"))
    files = sorted((city / "events").glob("*.jsonl"))
    size_bytes = sum(f.stat().st_size for f in files)

    log(f"[{n:,}] raw parse (polars.read_ndjson) …")
    parse = _timed([sys.executable, "-c", _PARSE_CHILD, json.dumps([str(f) for f in files])])
    if parse["exit"] != 0:
        raise SystemExit(f"polars parse failed: {parse['stderr']}")
    parse_doc = json.loads(parse["stdout"].strip().splitlines()[-1])

    log(f"[{n:,}] pia-policy audit (PIA_POLICY_DUCKDB_MEMORY_LIMIT={memory_limit}) …")
    env = dict(os.environ, PIA_POLICY_DUCKDB_MEMORY_LIMIT=memory_limit)
    exe = shutil.which("pia-policy", path=str(Path(sys.executable).parent)) or "pia-policy"
    if out.exists():
        shutil.rmtree(out)
    audit_cmd = [exe, "audit", str(city), "--as-of", truth["as_of"], "--out", str(out)]
    aud = _timed(audit_cmd, env=env)
    if aud["exit"] not in (0, 1):
        raise SystemExit(f"audit failed (exit {aud['exit']}): {aud['stderr']}")
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    recall = _recall(out, truth)

    log(f"[{n:,}] naive: enforce per event on {naive_sample:,} events …")
    naive = _naive(city, files, naive_sample)
    lines = truth["counts"]["lines"]
    naive_total = naive["per_event_us"] * lines / 1e6
    row = {
        "events": truth["counts"]["events"], "lines": lines, "bytes": size_bytes, "files": len(files), "days": days,
        "generate_seconds": gen["seconds"],
        "parse_seconds": parse_doc["seconds"], "parse_process_seconds": parse["seconds"],
        "parse_rss_mib": parse["rss_mib"],
        "audit_seconds": aud["seconds"], "audit_cpu_seconds": aud["cpu_seconds"], "audit_rss_mib": aud["rss_mib"],
        "audit_exit": aud["exit"], "phases": phases(aud["log"], aud["seconds"]),
        "rss_method": aud["rss_method"],
        "ratio_audit_to_parse": aud["seconds"] / parse_doc["seconds"],
        "events_per_second": lines / aud["seconds"],
        "naive_sample": naive["sample"], "naive_per_event_us": naive["per_event_us"],
        "naive_extrapolated_seconds": naive_total, "naive_to_audit_ratio": naive_total / aud["seconds"],
        "summary_counts": summary.get("counts", {}), "summary_seconds": summary.get("run", {}).get("seconds"),
        "recall": recall, "command": " ".join(audit_cmd),
    }
    log(f"[{n:,}] audit {row['audit_seconds']:.1f} s, parse {row['parse_seconds']:.1f} s, "
        f"ratio {row['ratio_audit_to_parse']:.2f}, RSS {row['audit_rss_mib'] or 0:.0f} MiB, "
        f"naive ×{row['naive_to_audit_ratio']:.0f}")
    log(f"[{n:,}] phases: " + ", ".join(f"{k} {v:.2f} s" for k, v in row["phases"].items()))
    if not keep:
        shutil.rmtree(city, ignore_errors=True)
        shutil.rmtree(out, ignore_errors=True)
    return row


def _reads_memory_env() -> bool:
    """Whether the installed audit reads PIA_POLICY_DUCKDB_MEMORY_LIMIT at all (recorded, not assumed)."""
    try:
        import pia_policy
    except ImportError:
        return False
    pkg = Path(pia_policy.__file__).parent
    return any("PIA_POLICY_DUCKDB_MEMORY_LIMIT" in f.read_text(encoding="utf-8", errors="replace")
               for f in pkg.rglob("*.py"))


def _verdict(rows: list[dict[str, Any]]) -> dict[str, Any]:
    big = max(rows, key=lambda r: r["lines"])
    small = min(rows, key=lambda r: r["lines"])
    growth = None
    if big is not small:
        growth = {"events_factor": big["lines"] / small["lines"],
                  "time_factor": big["audit_seconds"] / small["audit_seconds"],
                  "rss_factor": (big["audit_rss_mib"] or 0) / max(1e-9, small["audit_rss_mib"] or 0)}
    return {
        "ratio_le_3": all(r["ratio_audit_to_parse"] <= GOAL_RATIO for r in rows),
        "rss_le_1gib": all((r["audit_rss_mib"] or 0) <= GOAL_RSS_MIB for r in rows),
        "rss_flat": None if growth is None else growth["rss_factor"] <= FLAT_FACTOR,
        "growth": growth,
    }


def _markdown(doc: dict[str, Any]) -> str:
    m = doc["machine"]
    out = ["# Audit benchmark", "",
           f"Run {doc['started_at']} with `{doc['command']}`.", "",
           f"Machine: {m.get('nproc')} cores ({m.get('cpu', '?')}), {m.get('mem_total_gib', '?')} GiB RAM, "
           f"Python {m['python']}, DuckDB {m.get('duckdb_version')}, polars {m.get('polars_version')}, "
           f"pycasbin {m.get('casbin_version')}.", "",
           "```", "$ nproc", str(m.get("nproc")), "$ free -g", m.get("free_g", "?"), "```", "",
           f"DuckDB memory limit: `PIA_POLICY_DUCKDB_MEMORY_LIMIT={doc['memory_limit']}` set in the audit's "
           "environment; " + ("the audit reads it (DuckDB spills to its temp directory beyond it)."
                              if doc["memory_limit_read_by_audit"] else
                              "**the audit does not read it yet**: DuckDB ran with its default limit "
                              "(80 % of RAM)."), "",
           "Data: `examples/generate_city.py --format jsonl` (plain NDJSON, one file per system per day); "
           "the parse floor is `polars.read_ndjson` of every events file with an explicit schema, "
           "timed inside its process; the audit is `pia-policy audit` in a child process, wall time "
           "including interpreter start-up, with the peak RSS from GNU `time -v`.", "",
           "| events | lines | NDJSON MB | days | parse s | audit s | audit / parse | events/s | audit peak RSS MiB "
           "| parse RSS MiB | naive µs/event | naive extrapolated s | naive / audit | planted found |",
           "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in doc["results"]:
        rc = r["recall"]
        out.append(
            f"| {r['events']:,} | {r['lines']:,} | {r['bytes'] / 1e6:,.0f} | {r['days']} | {r['parse_seconds']:.2f} "
            f"| {r['audit_seconds']:.2f} | {r['ratio_audit_to_parse']:.2f} | {r['events_per_second']:,.0f} "
            f"| {r['audit_rss_mib'] or 0:,.0f} | {r['parse_rss_mib'] or 0:,.0f} | {r['naive_per_event_us']:,.0f} "
            f"| {r['naive_extrapolated_seconds']:,.0f} | {r['naive_to_audit_ratio']:,.0f}× "
            f"| {rc['planted_found']}/{rc['planted']} |")
    out += ["", "Per phase (seconds, from the audit's run log; × parse = the phase's share of the ratio):", "",
            "| events | " + " | ".join(PHASES) + " | audit | parse |", "|---:|" + "---:|" * (len(PHASES) + 2)]
    for r in doc["results"]:
        ph = r.get("phases") or {}
        cells = " | ".join(f"{ph.get(k, 0):.2f} ({ph.get(k, 0) / r['parse_seconds']:.1f}×)" for k in PHASES)
        out.append(f"| {r['events']:,} | {cells} | {r['audit_seconds']:.2f} | {r['parse_seconds']:.2f} |")
    v = doc["verdict"]
    out += ["", "Goals:", "",
            f"- audit ≤ {GOAL_RATIO:g}× raw parse: **{'met' if v['ratio_le_3'] else 'missed'}**",
            f"- peak RSS ≤ 1 GiB: **{'met' if v['rss_le_1gib'] else 'missed'}**"]
    if v["growth"]:
        g = v["growth"]
        out.append(f"- flat memory (RSS ×{g['rss_factor']:.2f} while events ×{g['events_factor']:.1f}; "
                   f"goal ≤ ×{FLAT_FACTOR}): **{'met' if v['rss_flat'] else 'missed'}**; "
                   f"time ×{g['time_factor']:.2f}")
    else:
        out.append("- flat memory: needs two sizes")
    if doc.get("notes"):
        out += ["", "## Notes", "", *doc["notes"]]
    return "\n".join(out) + "\n"


def run(sizes: list[int], *, work: Path, results: Path, memory_limit: str, naive_sample: int, seed: int = 1,
        keep: bool = False, command: str = "", log: Any = print, reuse: bool = False) -> dict[str, Any]:
    """Run every size and write ``audit.json`` and ``audit.md`` into ``results``."""
    work.mkdir(parents=True, exist_ok=True)
    results.mkdir(parents=True, exist_ok=True)
    started = dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()
    rows = [run_size(n, work, memory_limit=memory_limit, naive_sample=naive_sample, seed=seed, keep=keep, log=log,
                     reuse=reuse) for n in sizes]
    doc = {"schema": 1, "started_at": started, "command": command, "machine": machine(),
           "memory_limit": memory_limit, "memory_limit_read_by_audit": _reads_memory_env(), "goals": {"ratio": GOAL_RATIO, "rss_mib": GOAL_RSS_MIB, "flat": FLAT_FACTOR},
           "results": rows, "verdict": _verdict(rows)}
    notes = results / "audit_notes.md"
    if notes.exists():
        doc["notes"] = notes.read_text(encoding="utf-8").splitlines()
    (results / "audit.json").write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    (results / "audit.md").write_text(_markdown(doc), encoding="utf-8")
    return doc


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", default="1000000,10000000", help="comma-separated event counts")
    p.add_argument("--quick", action="store_true", help="a tiny size (smoke test), results into <work>/results")
    p.add_argument("--work", type=Path, default=None, help="scratch directory (default: a temp dir)")
    p.add_argument("--results", type=Path, default=None, help="where audit.json/audit.md go")
    p.add_argument("--memory-limit", default=os.environ.get("PIA_POLICY_DUCKDB_MEMORY_LIMIT", DEFAULT_MEMORY_LIMIT))
    p.add_argument("--naive-sample", type=int, default=2000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--keep", action="store_true", help="keep the generated cities and outputs")
    p.add_argument("--reuse", action="store_true",
                   help="with --work: audit the cities an earlier --keep run left there instead of generating")
    p.add_argument("--render", action="store_true",
                   help="only re-render audit.md from audit.json and audit_notes.md in --results")
    args = p.parse_args(argv)
    if args.render:
        results = args.results or ROOT / "benchmarks" / "results"
        doc = json.loads((results / "audit.json").read_text(encoding="utf-8"))
        notes = results / "audit_notes.md"
        doc["notes"] = notes.read_text(encoding="utf-8").splitlines() if notes.exists() else []
        (results / "audit.json").write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        (results / "audit.md").write_text(_markdown(doc), encoding="utf-8")
        return 0
    sizes = [3000] if args.quick else [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    naive_sample = min(args.naive_sample, 200) if args.quick else args.naive_sample
    tmp = None
    if args.work is None:
        tmp = tempfile.TemporaryDirectory(prefix="pia-bench-")
        work = Path(tmp.name)
    else:
        work = args.work
    results = args.results or (work / "results" if args.quick else ROOT / "benchmarks" / "results")
    command = ".venv/bin/python benchmarks/run.py " + " ".join(argv if argv is not None else sys.argv[1:])
    try:
        doc = run(sizes, work=work, results=results, memory_limit=args.memory_limit, naive_sample=naive_sample,
                  seed=args.seed, keep=args.keep or args.reuse, command=command.strip(), reuse=args.reuse)
    finally:
        if tmp is not None and not args.keep:
            tmp.cleanup()
    v = doc["verdict"]
    print(f"{'events':>12} {'audit s':>8} {'parse s':>8} {'ratio':>6} {'RSS MiB':>8}  " + " ".join(f"{k:>9}" for k in PHASES))
    for r in doc["results"]:
        ph = r.get("phases") or {}
        print(f"{r['events']:>12,} {r['audit_seconds']:>8.2f} {r['parse_seconds']:>8.2f} "
              f"{r['ratio_audit_to_parse']:>6.2f} {r['audit_rss_mib'] or 0:>8.0f}  "
              + " ".join(f"{ph.get(k, 0):>9.2f}" for k in PHASES))
    print(f"wrote {results / 'audit.md'}: ratio ≤ 3 {v['ratio_le_3']}, RSS ≤ 1 GiB {v['rss_le_1gib']}, "
          f"flat {v['rss_flat']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
