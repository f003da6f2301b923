"""Atomicity under a real SIGKILL: OUT_DIR holds the previous complete set, the new one, or nothing."""

from __future__ import annotations

import json
import random
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from pia_policy.outputs import cleanup_leftovers, verify, write_outputs

ROWS = 30_000

CHILD = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    import pia_policy.outputs._atomic as atomic
    from pia_policy.outputs import write_outputs

    out, tag, rows, kill_at = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]

    def die():
        os.kill(os.getpid(), signal.SIGKILL)

    if kill_at == "after-exchange":  # new set in place, previous set not yet removed
        real_rmtree = atomic.shutil.rmtree
        atomic.shutil.rmtree = lambda *a, **k: die()
    elif kill_at == "between-renames":  # fallback swap: OUT_DIR renamed away, staging not yet in
        atomic._exchange = lambda a, b: False
        real_rename = os.rename
        calls = []
        def rename(src, dst):
            calls.append(src)
            if len(calls) == 2:
                die()
            real_rename(src, dst)
        atomic.os.rename = rename
    elif kill_at == "before-swap":
        import pia_policy.outputs._write as write_module
        write_module.swap_in = lambda *a, **k: die()

    def rejected():
        for i in range(rows):
            yield {"file": "events/a.jsonl", "line": i + 1, "reason": "invalid_json", "field": None,
                   "detail": f"{tag} row {i}", "excerpt": "x" * 80}

    print("ready", flush=True)
    write_outputs(out, findings=[], summary={"run_tag": tag, "counts": {"lines_rejected": rows}},
                  rejected=rejected(), extras=lambda s: [(s / "report.html").write_text(tag * 1000) and "report.html"])
    print("done", flush=True)
    """
)


def start(script: Path, out: Path, tag: str, kill_at: str = "-") -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, str(script), str(out), tag, str(ROWS), kill_at],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    return proc


def check_complete(out: Path) -> str:
    """The out_dir is one complete, consistent set: returns its run tag."""
    assert verify(out) == [], verify(out)
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    tag = summary["run_tag"]
    lines = (out / "rejected.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == summary["counts"]["lines_rejected"]
    for line in lines[:1] + lines[-1:]:  # first and last line come from the same run as the summary
        assert json.loads(line)["detail"].startswith(f"{tag} ")
    assert (out / "report.html").read_text() == tag * 1000
    return tag


@pytest.fixture
def script(tmp_path: Path) -> Path:
    path = tmp_path / "child.py"
    path.write_text(CHILD, encoding="utf-8")
    return path


def test_sigkill_at_random_moments(tmp_path: Path, script: Path) -> None:
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    out = tmp_path / "run" / "out"
    out.parent.mkdir()
    # how long a full write takes here (from "ready", after the imports, to the exit)
    proc = start(script, out, "calib")
    t0 = time.perf_counter()
    assert proc.wait(timeout=60) == 0
    duration = time.perf_counter() - t0
    assert check_complete(out) == "calib"
    shutil.rmtree(out)

    previous: str | None = None
    outcomes = {"killed": 0, "finished": 0}
    for attempt in range(20):
        if attempt == 8 and previous is None:  # make sure the second half starts from a complete set
            write_outputs(out, findings=[], summary={"run_tag": "base", "counts": {"lines_rejected": 1}},
                          rejected=[{"file": "f", "line": 1, "reason": "r", "detail": "base row"}],
                          extras=lambda s: [(s / "report.html").write_text("base" * 1000) and "report.html"])
            previous = "base"
        tag = f"run{attempt}"
        proc = start(script, out, tag)
        time.sleep(rng.uniform(0, duration * 1.1))
        proc.send_signal(signal.SIGKILL)
        code = proc.wait(timeout=60)
        outcomes["killed" if code == -signal.SIGKILL else "finished"] += 1
        if not out.exists():
            assert previous is None, f"seed {seed}: previous outputs lost at attempt {attempt}"
            continue
        found = check_complete(out)
        assert found in {previous, tag}, f"seed {seed}: attempt {attempt} left {found}"
        previous = found
    assert outcomes["killed"] >= 10, outcomes
    # the next run cleans up what the killed ones left beside OUT_DIR
    write_outputs(out, findings=[], summary={"run_tag": "final", "counts": {"lines_rejected": 0}}, rejected=[],
                  extras=lambda s: [(s / "report.html").write_text("final" * 1000) and "report.html"])
    assert sorted(p.name for p in out.parent.iterdir()) == ["out"]
    assert check_complete(out) == "final"


@pytest.mark.parametrize(
    ("kill_at", "expected"),
    [("before-swap", "base"), ("after-exchange", "new"), ("between-renames", None)],
)
def test_sigkill_at_each_swap_step(tmp_path: Path, script: Path, kill_at: str, expected: str | None) -> None:
    out = tmp_path / "out"
    write_outputs(out, findings=[], summary={"run_tag": "base", "counts": {"lines_rejected": 1}},
                  rejected=[{"file": "f", "line": 1, "reason": "r", "detail": "base row"}],
                  extras=lambda s: [(s / "report.html").write_text("base" * 1000) and "report.html"])
    proc = start(script, out, "new", kill_at)
    assert proc.wait(timeout=60) == -signal.SIGKILL
    leftovers = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".out."))
    assert leftovers  # the killed run left its staging or old directory behind
    if expected is None:
        # killed between the fallback's two renames: no OUT_DIR, the previous set beside it ...
        assert not out.exists()
        assert any(".old-" in name for name in leftovers)
        # ... and the next run puts it back before doing anything else
        cleanup_leftovers(out)
        assert check_complete(out) == "base"
    else:
        assert check_complete(out) == expected
    write_outputs(out, findings=[], summary={"run_tag": "next", "counts": {"lines_rejected": 0}}, rejected=[],
                  extras=lambda s: [(s / "report.html").write_text("next" * 1000) and "report.html"])
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".out.") or p.name == "out") == ["out"]
    assert check_complete(out) == "next"
