"""Every process picks up a policy change: LISTEN/NOTIFY on PostgreSQL, data_version/identity on SQLite,
file identity for directories; a replaced SQLite file is noticed by reload (issue 10)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import threading
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from pia_policy.policy import Policy, PolicyError, lint
from pia_policy.policy._db import adapter

from pia_policy.models import AccessRequest

TRANSFER = AccessRequest(version="2025-03-24", system="fukushi", department="健康保険課",
                         roles=frozenset({"kouki_staff"}), action="transfer", resource="kihon_joho",
                         affair="seishin_nyuin_iryohi", recipient_department="中央区健康課", method="fukushi_system")


def _line(policy: Policy, line_id: str, version: str) -> list[str]:
    return next(list(pl.values) for pl in policy.source_lines
                if pl.ptype == "p" and pl.values[-1] == line_id and pl.values[5] == version)

CHILD = textwrap.dedent("""
    import sys, threading
    from pia_policy.models import AccessRequest
    from pia_policy.policy import Policy
    url, table = sys.argv[1], sys.argv[2]
    T = AccessRequest(version="2025-03-24", system="fukushi", department="健康保険課",
                      roles=frozenset({"kouki_staff"}), action="transfer", resource="kihon_joho",
                      affair="seishin_nyuin_iryohi", recipient_department="中央区健康課", method="fukushi_system")
    policy = Policy.from_database(url, table_name=table)
    done = threading.Event()
    w = policy.watch(lambda p: done.set() if not p.decide(T).allowed else None, interval=0.2)
    print("ready", policy.decide(T).allowed, flush=True)
    print("reloaded" if done.wait(90) else "timeout", policy.decide(T).allowed, w.reloads, flush=True)
    w.stop()
""")


def _children(url: str, table: str, n: int = 2) -> list[subprocess.Popen[str]]:
    procs = [subprocess.Popen([sys.executable, "-c", CHILD, url, table], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(n)]
    for p in procs:
        assert p.stdout is not None
        line = p.stdout.readline()
        assert line.split() == ["ready", "True"], line + (p.stderr.read() if p.stderr else "")
    return procs


def _finish(procs: list[subprocess.Popen[str]]) -> None:
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert out.split()[:2] == ["reloaded", "False"], out + err


@pytest.mark.postgres
def test_two_processes_pick_up_a_postgres_change(policy: Policy, pg_url: str) -> None:
    url, table = pg_url, f"pia_policy_rule_{uuid.uuid4().hex[:12]}"
    try:
        policy.save_to_database(url, table_name=table)
        procs = _children(url, table)
        # an administrator's edit, not through pia_policy: the table's trigger announces it
        engine = sa.create_engine(url)
        with engine.begin() as con:
            con.execute(sa.text(f'DELETE FROM "{table}" WHERE v9 = :id AND v5 = :v'),
                        {"id": "bessi1-4-transfer", "v": "2025-03-24"})
        engine.dispose()
        _finish(procs)
    finally:
        engine = sa.create_engine(url)
        with engine.begin() as con:
            con.execute(sa.text(f'DROP TABLE IF EXISTS "{table}"'))
            con.execute(sa.text(f'DROP TABLE IF EXISTS "{table}_metadata"'))
        engine.dispose()


def test_two_processes_pick_up_a_sqlite_change(policy: Policy, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'policy.db'}"
    policy.save_to_database(url, table_name="pia_policy_rule")
    procs = _children(url, "pia_policy_rule")
    adapter(url, "pia_policy_rule").remove_policy("p", "p", _line(policy, "bessi1-4-transfer", "2025-03-24"))
    _finish(procs)


def test_reload_notices_a_replaced_sqlite_file(policy: Policy, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'policy.db'}"
    policy.save_to_database(url)
    live = Policy.from_database(url)
    assert live.decide(TRANSFER).allowed
    other = tmp_path / "new.db"
    policy.save_to_database(f"sqlite:///{other}")
    adapter(f"sqlite:///{other}", "pia_policy_rule").remove_policy(
        "p", "p", _line(policy, "bessi1-4-transfer", "2025-03-24"))
    os.replace(other, tmp_path / "policy.db")  # e.g. a deploy copies a new file over the old one
    live.reload()
    assert not live.decide(TRANSFER).allowed


def test_database_rows_are_checked_like_files(policy: Policy, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'policy.db'}"
    policy.save_to_database(url)
    ad = adapter(url, "pia_policy_rule")
    bad = list(_line(policy, "bessi1-4-recipient", "2025-03-24"))
    bad[1], bad[5] = "中央区健康科", "2025-3-24"  # a typo'd department and a mistyped version
    ad.add_policy("p", "p", bad)
    problems = lint(database=url)
    codes = {p.code for p in problems}
    assert {"unknown_department", "unknown_version"} <= codes
    assert all(p.file == "db:pia_policy_rule" and p.line for p in problems)
    with pytest.raises(PolicyError, match="db:pia_policy_rule"):
        Policy.from_database(url)
    # a new line id without a citation
    ad.remove_policy("p", "p", bad)
    ad.add_policy("p", "p", list(_line(policy, "staff-view", "2020")[:-1]) + ["new-line"])
    assert "missing_citation" in {p.code for p in lint(database=url)}


def test_a_failed_reload_keeps_the_policy_and_the_watcher_says_why(policy: Policy, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'policy.db'}"
    policy.save_to_database(url)
    live = Policy.from_database(url)
    seen = threading.Event()
    with live.watch(lambda p: seen.set(), interval=0.1) as w:
        adapter(url, "pia_policy_rule").add_policy("p", "p", ["*", "税務課", "kihon_joho", "view", "kouki-01",
                                                               "2025-03-24", "*", "*", "*", "staff-view"])
        for _ in range(100):
            if w.last_error:
                break
            seen.wait(0.1)
        assert w.last_error and "税務課" in w.last_error and not seen.is_set()
    assert live.decide(TRANSFER).allowed  # still the previous policy


def test_file_watcher(policy_copy: Path) -> None:
    live = Policy.load(policy_copy)
    seen = threading.Event()
    with live.watch(lambda p: seen.set(), interval=0.1):
        text = (policy_copy / "policy.csv").read_text(encoding="utf-8")
        (policy_copy / "policy.csv").write_text(
            "\n".join(line for line in text.splitlines() if "bessi1-4-transfer" not in line) + "\n", encoding="utf-8")
        assert seen.wait(30)
    assert not live.decide(TRANSFER).allowed


def test_lint_database_cli(policy: Policy, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'policy.db'}"
    policy.save_to_database(url)
    done = subprocess.run([sys.executable, "-m", "pia_policy", "lint", "--database", url],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    shutil.copy(tmp_path / "policy.db", tmp_path / "copy.db")
    adapter(url, "pia_policy_rule").add_policy("p", "p", ["*", "中央区健康科", "kihon_joho", "view", "kouki-01",
                                                          "2025-03-24", "*", "*", "*", "staff-view"])
    done = subprocess.run([sys.executable, "-m", "pia_policy", "lint", "--database", url],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and "db:pia_policy_rule" in done.stderr and "中央区健康科" in done.stderr
