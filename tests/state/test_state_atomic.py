"""SPEC §8: the state is written in one transaction after the outputs; a SIGKILL at any moment
(during the audit, between the outputs and the state, in the middle of the commit) leaves it as
it was before the run or as the finished run wrote it, never in between."""

from __future__ import annotations

import random
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from state_world import THRESHOLDS, base_events, ts_of, write_night

from pia_policy.models import JST

CHILD = textwrap.dedent(
    """
    import os, signal, sys
    import sqlalchemy as sa
    from pia_policy.audit import audit
    from pia_policy.state import _store

    data, out, state, kill_at = sys.argv[1:5]

    def die(*_a, **_k):
        os.kill(os.getpid(), signal.SIGKILL)

    if kill_at.startswith("commit-"):  # the n-th statement of the commit transaction
        limit = int(kill_at.split("-")[1])
        real = _store.StateStore.commit_night
        def commit_night(self, *a, **k):
            calls = []
            @sa.event.listens_for(self.engine, "before_cursor_execute")
            def count(*_a, **_k):
                calls.append(1)
                if len(calls) == limit:
                    die()
            return real(self, *a, **k)
        _store.StateStore.commit_night = commit_night
    elif kill_at == "before-commit":  # outputs written, state not yet
        _store.StateStore.commit_night = die
    print("ready", flush=True)
    audit(data, as_of="2025-03-27", out=out, state=state, reports=False, thresholds={"bulk_subjects": 5},
          log=lambda *a, **k: None)
    print("done", flush=True)
    """
)


def dump(state: str) -> Any:
    engine = sa.create_engine(f"sqlite:///{state}")
    with engine.connect() as con:
        out = (
            con.execute(sa.text("SELECT as_of FROM pia_nights ORDER BY 1")).all(),
            con.execute(sa.text("SELECT as_of, finding_id, event_count, lifecycle FROM pia_findings ORDER BY 1, 2")).all(),
            con.execute(sa.text("SELECT as_of, kind, rows, length(data) FROM pia_blobs ORDER BY 1, 2")).all(),
        )
    engine.dispose()
    return out


def test_sigkill_leaves_the_state_before_or_after(tmp_path: Path) -> None:
    import datetime as dt

    from pia_policy.audit import audit

    events = base_events()
    cut = dt.datetime(2025, 3, 25, 12, tzinfo=JST)
    n1 = write_night(tmp_path / "n1", "n00", [e for e in events if ts_of(e) < cut])
    n2 = write_night(tmp_path / "n2", "n01", [e for e in events if ts_of(e) >= cut])
    base = tmp_path / "base.db"
    audit(n1, as_of="2025-03-25", out=tmp_path / "o1", state=str(base), reports=False, thresholds=THRESHOLDS,
          log=lambda *a, **k: None)
    before = dump(str(base))
    script = tmp_path / "child.py"
    script.write_text(CHILD, encoding="utf-8")

    def start(state: Path, kill_at: str) -> subprocess.Popen[str]:
        proc = subprocess.Popen([sys.executable, str(script), str(n2), str(tmp_path / "o2"), str(state), kill_at],
                                stdout=subprocess.PIPE, text=True)
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        return proc

    ref = tmp_path / "ref.db"
    shutil.copy(base, ref)
    proc = start(ref, "-")
    t0 = time.perf_counter()
    assert proc.wait(timeout=120) == 0
    duration = time.perf_counter() - t0
    after = dump(str(ref))
    assert after != before and [r[0] for r in after[0]] == ["2025-03-25", "2025-03-27"]

    seed = random.randrange(2**32)
    rng = random.Random(seed)
    outcomes = {"before": 0, "after": 0}
    plans = ["before-commit", "commit-2", "commit-5"] + [None] * 4
    for attempt, plan in enumerate(plans):
        state = tmp_path / f"s{attempt}.db"
        shutil.copy(base, state)
        proc = start(state, plan or "-")
        if plan is None:
            time.sleep(rng.uniform(0, duration * 1.1))
            proc.send_signal(signal.SIGKILL)
        code = proc.wait(timeout=120)
        got = dump(str(state))
        assert got in (before, after), f"seed {seed}, attempt {attempt} ({plan}): state in between"
        outcomes["before" if got == before else "after"] += 1
        if plan is not None:
            assert code == -signal.SIGKILL, f"{plan}: the child was not killed"
            assert got == before, f"{plan}: a run killed before its commit ended changed the state"
        # the next run (the same night again) completes from whatever was left
        rerun = audit(n2, as_of="2025-03-27", out=tmp_path / "o3", state=str(state), reports=False,
                      thresholds=THRESHOLDS, log=lambda *a, **k: None)
        assert dump(str(state)) == after
        assert rerun.summary["state"]["base_night"] == "2025-03-25"
    assert outcomes["before"] >= 3
