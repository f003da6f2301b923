"""DuckDB engine setup of the audit: memory limit (env, config, argument), spilling, temporary files."""

from __future__ import annotations

import io
import json
import tempfile
from pathlib import Path

import pytest
from audit_data import account, clean_day, event, write_data

from pia_policy.audit import ConfigError, audit, read_config
from pia_policy.audit._settings import DEFAULT_DUCKDB_MEMORY_LIMIT, MEMORY_ENV, check_memory_limit
from pia_policy.inputs import InputError

AS_OF = "2025-06-02"


def _log() -> object:
    from pia_policy.audit._log import run_logger

    return run_logger(io.StringIO())


@pytest.fixture()
def tmpdir_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """TMPDIR of the run: where the engine's database file and spill directory go."""
    root = tmp_path / "tmp"
    root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(root))
    monkeypatch.delenv(MEMORY_ENV, raising=False)
    return root


@pytest.mark.parametrize(
    ("value", "expected"),
    [("512MB", "512MB"), ("1gib", "1GiB"), (" 768 mb ", "768MB"), ("2.5GB", "2.5GB"), ("64MiB", "64MiB"),
     ("1024TiB", "1024TiB")],
)
def test_memory_limit_accepted_and_normalised(value: str, expected: str) -> None:
    assert check_memory_limit(value, "x") == expected


@pytest.mark.parametrize("value", ["512", "abc", "0MB", "63MiB", "1000B", "-1GB", "", 512, "99999999999TB", "1025TiB"])
def test_memory_limit_rejected(value: object) -> None:
    with pytest.raises(ConfigError, match="x: .*64MiB"):
        check_memory_limit(value, "x")


def test_config_key(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('[audit]\nduckdb_memory_limit = "1gib"\n', encoding="utf-8")
    assert read_config(cfg)["duckdb_memory_limit"] == "1GiB"
    cfg.write_text('[audit]\nduckdb_memory_limit = "lots"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="duckdb_memory_limit"):
        read_config(cfg)
    cfg.write_text("[audit]\nduckdb_memory_limit = 512\n", encoding="utf-8")
    with pytest.raises(ConfigError):
        read_config(cfg)


def test_default_limit_recorded_and_temporary_files_removed(tmp_path: Path, tmpdir_root: Path) -> None:
    data = clean_day(tmp_path / "data")
    result = audit(data, as_of=AS_OF, out=tmp_path / "out", log=_log(), reports=False)
    engine = result.summary["run"]["engine"]
    assert engine["memory_limit"] == DEFAULT_DUCKDB_MEMORY_LIMIT
    assert engine["threads"] >= 1 and engine["name"] == "duckdb"
    written = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert written["run"]["engine"] == engine
    assert list(tmpdir_root.iterdir()) == []


def test_precedence_argument_env_config(tmp_path: Path, tmpdir_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = clean_day(tmp_path / "data")
    cfg = tmp_path / "c.toml"
    cfg.write_text('[audit]\nduckdb_memory_limit = "700MB"\n', encoding="utf-8")
    r = audit(data, as_of=AS_OF, config=cfg, log=_log(), reports=False)
    assert r.summary["run"]["engine"]["memory_limit"] == "700MB"
    monkeypatch.setenv(MEMORY_ENV, "600mb")
    r = audit(data, as_of=AS_OF, config=cfg, log=_log(), reports=False)
    assert r.summary["run"]["engine"]["memory_limit"] == "600MB"
    r = audit(data, as_of=AS_OF, config=cfg, log=_log(), reports=False, duckdb_memory_limit="1GiB")
    assert r.summary["run"]["engine"]["memory_limit"] == "1GiB"
    monkeypatch.setenv(MEMORY_ENV, "plenty")
    with pytest.raises(ConfigError, match=MEMORY_ENV):
        audit(data, as_of=AS_OF, log=_log(), reports=False)
    assert list(tmpdir_root.iterdir()) == []


def test_failed_run_removes_its_temporary_directory(tmp_path: Path, tmpdir_root: Path) -> None:
    data = clean_day(tmp_path / "data")
    (data / "accounts.csv").unlink()
    with pytest.raises(InputError):
        audit(data, as_of=AS_OF, log=_log(), reports=False)
    assert list(tmpdir_root.iterdir()) == []


def test_smallest_limit_gives_the_same_findings(tmp_path: Path, tmpdir_root: Path) -> None:
    # 40,000 events with a violation every 997th: the 64 MiB run must agree with a roomy one.
    evs = []
    for n in range(1, 40_001):
        acct = "GHOST" if n % 997 == 0 else f"S{n % 50}"
        evs.append(event(n, f"2025-05-{26 + n % 5:02d}T{9 + n % 8:02d}:{n % 60:02d}:00+09:00", acct,
                         subject_id=f"SUB{n % 3000}"))
    data = write_data(tmp_path / "data", {"a.jsonl": evs}, [account(f"S{i}") for i in range(50)])
    small = audit(data, as_of=AS_OF, log=_log(), reports=False, duckdb_memory_limit="64MiB")
    roomy = audit(data, as_of=AS_OF, log=_log(), reports=False, duckdb_memory_limit="2GB")
    assert small.summary["counts"]["events_evaluated"] == 40_000
    assert [f.model_dump() for f in small.findings] == [f.model_dump() for f in roomy.findings]
    unknown = [f for f in small.findings if f.rule == "UNKNOWN_ACCOUNT"]
    assert len(unknown) == 1 and unknown[0].event_count == 40_000 // 997


def test_statement_out_of_memory_is_retried_with_a_larger_limit() -> None:
    import duckdb

    from pia_policy.audit._engine import _Exec, _memory_limit_bytes

    con = duckdb.connect(config={"memory_limit": "64MiB", "threads": 1})
    big = "SELECT len(l) FROM (SELECT list(i) AS l FROM range(30000000) t(i))"  # a list cannot spill
    with pytest.raises(duckdb.OutOfMemoryException):
        con.execute(big).fetchall()
    events: list[tuple[str, dict[str, object]]] = []
    ex = _Exec(con, lambda name, **kw: events.append((name, kw)))
    assert ex(big, "test").fetchall() == [(30_000_000,)]
    assert ex.raised and all(r["step"] == "test" for r in ex.raised)
    assert _memory_limit_bytes(con) == int(ex.raised[-1]["memory_limit"][:-3]) << 20
    assert [name for name, _ in events] == ["engine_memory_raised"] * len(ex.raised)
    small = _Exec(con, lambda *a, **k: None)
    assert small("SELECT 42", "x").fetchall() == [(42,)] and small.raised == []


def test_directories_of_killed_runs_are_removed(tmp_path: Path, tmpdir_root: Path) -> None:
    import os
    import subprocess
    import sys

    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = int(child.stdout)  # a process that has exited
    stale = tmpdir_root / f"pia-policy-duckdb-{dead}-abc"
    (stale / "spill").mkdir(parents=True)
    (stale / "audit.duckdb").write_bytes(b"x")
    alive = tmpdir_root / f"pia-policy-duckdb-{os.getppid()}-def"  # our parent is running
    alive.mkdir()
    other = tmpdir_root / "pia-policy-duckdb-notapid"
    other.mkdir()
    audit(clean_day(tmp_path / "data"), as_of=AS_OF, log=_log(), reports=False)
    assert not stale.exists()
    assert alive.is_dir() and other.is_dir()
    assert sorted(p.name for p in tmpdir_root.iterdir()) == sorted([alive.name, other.name])
