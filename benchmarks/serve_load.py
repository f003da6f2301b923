#!/usr/bin/env python3
"""Load test of ``pia-policy serve`` on loopback: throughput, p50/p99 and errors during policy reloads.

One command::

    .venv/bin/python benchmarks/serve_load.py [--requests 50000] [--connections 16]
        [--batch-requests 10000] [--batch-sizes 50,10] [--reloads 10] [--quick]

It starts ``pia-policy serve`` as a user runs it (a child process on 127.0.0.1, a copy of the
shipped policies, ``--decision-log`` on, ``--reload-interval 0.2``) and drives it from an asyncio
client of its own (HTTP/1.1 keep-alive, one task per connection, no client library) in this process:

1. ``single``: ``POST /v1/check-access`` / ``/v1/check-transfer`` bodies, one decision per request;
2. ``batch of N``: ``POST /v1/batch`` with N decisions per request, for each N of ``--batch-sizes``.

The bodies cycle through a pool of distinct requests (departments, actions, resources, affairs,
times across the three versions). During each phase the policy files are rewritten ``--reloads``
times, evenly spread over the requests; the phase checks ``/healthz`` counted every reload and that
every answer was a 200 with the decisions asked for. Client and server share the machine's cores,
so the figures are a floor for a dedicated server. Writes ``serve_load.json`` and ``serve_load.md``
into ``--results`` (default ``benchmarks/results``). The server's CPU time (``/proc``) gives
decisions per server CPU-second, a figure the other processes on a shared machine disturb less.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

__all__ = ["main", "run"]

ROOT = Path(__file__).resolve().parents[1]
GOAL_DECISIONS_PER_S = 5000.0
GOAL_P99_MS = 20.0
ALLOWED = b'"allowed"'


def _pool() -> list[dict[str, Any]]:
    """Distinct check bodies: holder staff, My Number users, recipients, transfers, over three versions."""
    from pia_policy.departments import WARDS

    ats = ("2025-03-01T10:00:00", "2025-06-02T10:00:00", "2025-12-01T10:00:00")
    out: list[dict[str, Any]] = []
    roles_sets = (["kouki_staff"], ["kouki_staff", "my_number_user"], [])
    for at, roles, dept, (action, resource), affair in itertools.product(
            ats, roles_sets, ("健康保険課", f"{WARDS[0]}市民総合窓口課", f"{WARDS[1]}健康課"),
            (("view", "kihon_joho"), ("view", "kojin_bango"), ("update", "iryo_hoken"), ("search", "kaigo")),
            ("kouki-01", "kouki-15", "shoni_shitei_iryohi")):
        out.append({"check": "access", "at": at, "action": action, "resource": resource, "affair": affair,
                    "subject_id": "SUB0001",
                    "account": {"account_id": "k0001", "system": "fukushi", "department": dept, "roles": roles,
                                "permission": "update"}})
    for at, dept, purpose, method in itertools.product(
            ats, ("健康支援課", "保護課", f"{WARDS[2]}健康課", f"{WARDS[3]}こども家庭課"),
            ("shoni_shitei_iryohi", "gaikokujin_hogo", "hitorioya_iryohi"), ("fukushi_system", "usb")):
        out.append({"check": "transfer", "at": at, "department": dept, "purpose": purpose, "method": method,
                    "account_id": "k0002"})
    return out


def _request(path: str, body: bytes) -> bytes:
    return (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode() + body


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = next(int(ln.split(":", 1)[1]) for ln in lines[1:] if ln.lower().startswith("content-length:"))
    return status, await reader.readexactly(length)


async def _phase(port: int, payloads: list[tuple[bytes, int]], connections: int, reloads: int,
                 reload: Any) -> dict[str, Any]:
    latencies: list[float] = []
    errors: list[str] = []
    next_index = itertools.count()
    total = len(payloads)
    reload_every = max(1, total // (reloads + 1)) if reloads else 0
    reloads_started = 0

    done = 0

    async def reloader() -> None:
        # the reloads run beside the workers (never holding a connection), one after another
        nonlocal reloads_started
        loop = asyncio.get_running_loop()
        while reloads_started < reloads and done < total:
            if done >= (reloads_started + 1) * reload_every:
                reloads_started += 1
                await loop.run_in_executor(None, reload)
            else:
                await asyncio.sleep(0.01)

    async def worker() -> None:
        nonlocal done
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while True:
                i = next(next_index)
                if i >= total:
                    return
                request, expected = payloads[i]
                t0 = time.perf_counter()
                writer.write(request)
                status, body = await _read_response(reader)
                latencies.append(time.perf_counter() - t0)
                done += 1
                if status != 200:
                    errors.append(f"{status}: {body[:200]!r}")
                elif body.count(ALLOWED) != expected:
                    errors.append(f"answered {body.count(ALLOWED)} decisions of {expected}")
        finally:
            writer.close()

    t0 = time.perf_counter()
    await asyncio.gather(reloader(), *(worker() for _ in range(connections)))
    wall = time.perf_counter() - t0
    latencies.sort()
    decisions = sum(n for _, n in payloads)

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000

    return {"requests": total, "decisions": decisions, "wall_s": round(wall, 2),
            "requests_per_s": round(total / wall, 1), "decisions_per_s": round(decisions / wall, 1),
            "p50_ms": round(pct(0.50), 2), "p99_ms": round(pct(0.99), 2), "max_ms": round(latencies[-1] * 1000, 2),
            "errors": len(errors), "first_errors": errors[:5], "reloads_triggered": reloads_started}


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, all its threads (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _get(port: int, path: str) -> Any:
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", path)
    raw = conn.getresponse().read()
    conn.close()
    return json.loads(raw) if path != "/metrics" else raw.decode()


def _log_counters(port: int) -> tuple[float, float, float]:
    """(fsyncs, seconds in fsync, lines) of the decision log, from /metrics."""
    values = {ln.split()[0]: float(ln.split()[1]) for ln in _get(port, "/metrics").splitlines()
              if ln.startswith("pia_policy_decision_log_")}
    return (values["pia_policy_decision_log_fsyncs_total"], values["pia_policy_decision_log_fsync_seconds_total"],
            values["pia_policy_decision_log_lines_total"])


def _wait_reloads(port: int, want: int, seconds: float = 30.0) -> int:
    deadline = time.monotonic() + seconds
    got = 0
    while time.monotonic() < deadline:
        got = int(_get(port, "/healthz")["reloads"])
        if got >= want:
            break
        time.sleep(0.1)
    return got


def run(args: argparse.Namespace) -> dict[str, Any]:
    from pia_policy.policy import default_policy_dir

    work = Path(tempfile.mkdtemp(prefix="pia-serve-load-"))
    policy_dir = work / "policies"
    shutil.copytree(default_policy_dir(), policy_dir)
    csv_path = policy_dir / "policy.csv"
    original = csv_path.read_text(encoding="utf-8")
    generation = itertools.count(1)
    port = 0

    def reload() -> None:
        # a new file renamed over the old one, as an administrator's deployment does; then wait until
        # the service serves it (so that reloads triggered close together are not merged into one)
        n = next(generation)
        tmp = policy_dir / ".policy.csv.tmp"
        tmp.write_text(original + f"# deployment {n}\n", encoding="utf-8")
        os.replace(tmp, csv_path)
        _wait_reloads(port, n)

    env = {**os.environ, "PIA_POLICY_LANG": "en"}
    server_err = work / "server.err"
    with open(server_err, "w") as err:
        log_args = ["--decision-log", str(work / "log")] if args.decision_log else []
        proc = subprocess.Popen([sys.executable, "-m", "pia_policy", "serve", "--port", "0", "--policy",
                                 str(policy_dir), *log_args, "--reload-interval", "0.2"], stderr=err, env=env)
    try:
        deadline = time.monotonic() + 60
        while "http://127.0.0.1:" not in server_err.read_text() and time.monotonic() < deadline:
            time.sleep(0.1)
        port = int(server_err.read_text().split("http://127.0.0.1:")[1].split()[0])
        pool = _pool()
        single = [(_request("/v1/check-" + b["check"], json.dumps({k: v for k, v in b.items() if k != "check"},
                                                                    ensure_ascii=False).encode()), 1)
                  for b in itertools.islice(itertools.cycle(pool), args.requests)]
        phases: list[tuple[str, list[tuple[bytes, int]]]] = [("single", single)]
        cycle = itertools.cycle(pool)
        for size in args.batch_sizes:
            batches = []
            for _ in range(args.batch_requests):
                items = list(itertools.islice(cycle, size))
                batches.append((_request("/v1/batch", json.dumps({"requests": items}, ensure_ascii=False).encode()),
                                size))
            phases.append((f"batch of {size}", batches))
        results: dict[str, Any] = {}
        seen = 0
        for name, payloads in phases:
            server_cpu, client_cpu = _cpu_seconds(proc.pid), time.process_time()
            log_before = _log_counters(port) if args.decision_log else (0.0, 0.0, 0.0)
            phase = asyncio.run(_phase(port, payloads, args.connections, args.reloads, reload))
            server_cpu, client_cpu = _cpu_seconds(proc.pid) - server_cpu, time.process_time() - client_cpu
            phase["server_cpu_s"], phase["client_cpu_s"] = round(server_cpu, 2), round(client_cpu, 2)
            phase["decisions_per_server_cpu_s"] = round(phase["decisions"] / server_cpu, 1)
            phase["server_cpu_share"] = round(server_cpu / phase["wall_s"], 2)
            if args.decision_log:
                syncs, sync_s, lines = (b - a for a, b in zip(log_before, _log_counters(port)))
                phase["fsyncs"], phase["fsync_mean_ms"] = int(syncs), round(sync_s / syncs * 1000, 2)
                phase["lines_per_fsync"] = round(lines / syncs, 1)
            else:
                phase["fsyncs"], phase["fsync_mean_ms"], phase["lines_per_fsync"] = 0, 0.0, 0.0
            total_seen = _wait_reloads(port, seen + phase["reloads_triggered"])
            phase["reloads_seen_by_healthz"], seen = total_seen - seen, total_seen
            results[name] = phase
        health = _get(port, "/healthz")
        log_lines = sum(len(p.read_text(encoding="utf-8").splitlines()) for p in (work / "log").glob("*.jsonl"))
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
        shutil.rmtree(work, ignore_errors=True)
    return {
        "when_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "load_before": os.getloadavg()},
        "settings": {"connections": args.connections, "batch_sizes": args.batch_sizes, "reloads": args.reloads,
                     "pool_distinct_bodies": len(_pool()), "decision_log": args.decision_log, "reload_interval_s": 0.2},
        "phases": results, "healthz_after": {k: health[k] for k in ("status", "reloads", "versions")},
        "decision_log_lines": log_lines,
        "goal": {"decisions_per_s": GOAL_DECISIONS_PER_S, "p99_ms": GOAL_P99_MS},
    }


def _markdown(r: dict[str, Any]) -> str:
    rows = ["| phase | requests | decisions | wall | requests/s | decisions/s | p50 | p99 | max | errors | "
            "reloads (triggered / seen) | server CPU (share of a core) | decisions per server CPU-second | "
            "fsyncs | mean fsync | lines per fsync |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|"]
    for name, p in r["phases"].items():
        rows.append(f"| {name} | {p['requests']:,} | {p['decisions']:,} | {p['wall_s']} s | {p['requests_per_s']:,} | "
                    f"{p['decisions_per_s']:,} | {p['p50_ms']} ms | {p['p99_ms']} ms | {p['max_ms']} ms | "
                    f"{p['errors']} | {p['reloads_triggered']} / {p['reloads_seen_by_healthz']} | "
                    f"{p['server_cpu_s']} s ({p['server_cpu_share']}) | {p['decisions_per_server_cpu_s']:,} | "
                    f"{p['fsyncs']:,} | {p['fsync_mean_ms']} ms | {p['lines_per_fsync']} |")
    s = r["settings"]
    return "\n".join([
        f"# `pia-policy serve` load test ({r['when_utc']} UTC)", "",
        f"{s['connections']} keep-alive connections on 127.0.0.1, "
        f"decision log {'on (fsync per group)' if s['decision_log'] else 'off'}, "
        f"reload interval {s['reload_interval_s']} s, {s['pool_distinct_bodies']} distinct bodies, "
        f"batch sizes {', '.join(map(str, s['batch_sizes']))}; {r['machine']['cpus']} CPUs shared by client and server "
        f"(load average before: {', '.join(f'{x:.1f}' for x in r['machine']['load_before'])}); "
        f"Python {r['machine']['python']}.", "", *rows, "",
        f"Decision log lines written: {r['decision_log_lines']:,}. /healthz after: {r['healthz_after']}.", ""])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=50_000)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--batch-requests", type=int, default=10_000)
    parser.add_argument("--batch-sizes", type=lambda t: [int(x) for x in t.split(",")], default=[50, 10],
                        help="one batch phase per size (default 50,10)")
    parser.add_argument("--reloads", type=int, default=10)
    parser.add_argument("--no-decision-log", dest="decision_log", action="store_false",
                        help="serve without --decision-log (results go to serve_load_no_log.*)")
    parser.add_argument("--quick", action="store_true", help="a few hundred requests (smoke test)")
    parser.add_argument("--results", type=Path, default=None,
                        help="where serve_load.json/.md go (default benchmarks/results; with --quick: nowhere)")
    args = parser.parse_args(argv)
    if args.quick:
        args.requests, args.batch_requests, args.batch_sizes, args.reloads = 300, 60, [10], 2
    result = run(args)
    print(json.dumps(result, ensure_ascii=False, indent=2))
    if args.results is None and not args.quick:
        args.results = ROOT / "benchmarks" / "results"
    if args.results is not None:
        args.results.mkdir(parents=True, exist_ok=True)
        stem = "serve_load" if args.decision_log else "serve_load_no_log"
        (args.results / f"{stem}.json").write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
        (args.results / f"{stem}.md").write_text(_markdown(result))
    failed = any(p["errors"] or p["reloads_seen_by_healthz"] < p["reloads_triggered"] for p in result["phases"].values())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
