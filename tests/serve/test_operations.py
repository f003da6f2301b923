"""Bearer tokens, hot reload, the CLI (loopback refusal, real process) and the committed OpenAPI schema."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from serve_kit import Server, running

from pia_policy._cli_serve import is_loopback
from pia_policy.policy import Policy, default_policy_dir
from pia_policy.serve import PolicyWatcher, Service, create_app

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "s3cret-token-for-tests-0123456789"
TRANSFER = {"department": "健康支援課", "purpose": "shoni_shitei_iryohi", "at": "2025-12-01"}


# ---- tokens ------------------------------------------------------------------------------------

def test_every_call_needs_the_bearer_token(tmp_path: Path) -> None:
    log = tmp_path / "log"
    from pia_policy.serve import DecisionLog

    service = Service(Policy.load(), tokens=(TOKEN.encode(), b"rotated-second-token-000000"),
                      decision_log=DecisionLog(log))
    with running(service) as srv:
        for method, path, body in (("POST", "/v1/check-transfer", TRANSFER), ("GET", "/healthz", None),
                                   ("GET", "/metrics", None), ("GET", "/v1/versions", None),
                                   ("GET", "/openapi.json", None)):
            missing = srv.call(method, path, body)
            assert missing.status == 401 and missing.headers["www-authenticate"] == "Bearer", path
            assert srv.call(method, path, body, token=TOKEN[:-1]).status == 401, path    # near miss
            assert srv.call(method, path, body, token=TOKEN + "x").status == 401, path   # near miss
            assert srv.call(method, path, body, headers={"Authorization": TOKEN}).status == 401  # no scheme
            assert srv.call(method, path, body, token=TOKEN).status == 200, path
        assert srv.post("/v1/check-transfer", TRANSFER, token="rotated-second-token-000000").status == 200
        metrics = srv.get("/metrics", token=TOKEN).text
    assert 'path="/v1/check-transfer",status="401"' in metrics
    assert TOKEN not in metrics
    # refused calls decide nothing and log nothing
    assert sum(len(p.read_text().splitlines()) for p in log.glob("*.jsonl")) == 2


# ---- hot reload --------------------------------------------------------------------------------

def _wait(predicate, seconds: float = 20.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def _replace(path: Path, text: str) -> None:
    """Write as a careful editor does (a new file renamed over the old): the watcher never sees half a file."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def test_file_changes_are_reloaded_and_a_broken_file_keeps_the_old_policy(tmp_path: Path) -> None:
    directory = tmp_path / "policies"
    shutil.copytree(default_policy_dir(), directory)
    policy = Policy.load(directory)
    service = Service(policy)
    service.watcher = PolicyWatcher(policy, 0.05)
    with running(service) as srv:
        before = srv.get("/healthz").json
        assert srv.post("/v1/check-transfer", TRANSFER).json["allowed"] is True
        csv_path = directory / "policy.csv"
        good = csv_path.read_text(encoding="utf-8")
        # withdraw 別紙1 No.5 from the 2025-11-26 version
        _replace(csv_path, "\n".join(ln for ln in good.splitlines() if not ("bessi1-5" in ln and "2025-11-26" in ln)))
        assert _wait(lambda: srv.get("/healthz").json["reloads"] == 1)
        after = srv.get("/healthz").json
        assert after["digest"] != before["digest"] and after["status"] == "ok" and after["age_seconds"] < 5
        assert srv.post("/v1/check-transfer", TRANSFER).json["rule"] == "TRANSFER_NOT_PERMITTED"
        assert srv.get("/v1/recipients?purpose=shoni_shitei_iryohi&at=2025-12-01").json["recipients"] == []
        # a broken line: the service keeps answering from the last good policy and says so
        _replace(csv_path, good + "p, only, three\n")
        assert _wait(lambda: srv.get("/healthz").json["status"] == "stale")
        health = srv.get("/healthz").json
        assert "policy.csv" in health["last_reload_error"] and health["digest"] == after["digest"]
        assert srv.post("/v1/check-transfer", TRANSFER).json["rule"] == "TRANSFER_NOT_PERMITTED"
        assert "pia_policy_policy_reload_errors_total 1.0" in srv.get("/metrics").text
        _replace(csv_path, good)
        assert _wait(lambda: srv.get("/healthz").json["status"] == "ok")
        assert srv.post("/v1/check-transfer", TRANSFER).json["allowed"] is True
        assert srv.get("/healthz").json["digest"] == before["digest"]


def test_an_unchanged_source_is_not_reloaded(tmp_path: Path) -> None:
    directory = tmp_path / "policies"
    shutil.copytree(default_policy_dir(), directory)
    watcher = PolicyWatcher(Policy.load(directory), 0.02)
    watcher.start()
    try:
        digest, loaded_at = watcher.digest, watcher.loaded_at
        time.sleep(0.3)  # fifteen checks of an unchanged directory
        assert (watcher.reloads, watcher.reload_errors, watcher.loaded_at) == (0, 0, loaded_at)
        os.utime(directory / "metadata.toml", ns=(1, 1))  # changed, content the same
        assert _wait(lambda: watcher.reloads == 1)
        time.sleep(0.3)
        assert watcher.reloads == 1 and watcher.loaded_at > loaded_at and watcher.digest == digest
    finally:
        watcher.stop()


def test_a_service_that_does_not_watch_reports_no_reloads() -> None:
    watcher = PolicyWatcher(Policy.load(), 0)
    watcher.start()
    assert (watcher.reloads, watcher.reload_errors, watcher.last_error) == (0, 0, None)
    watcher.stop()


@pytest.mark.postgres
def test_database_changes_are_reloaded(pg_url: str) -> None:
    from sqlalchemy import create_engine, text

    table = "pia_serve_reload_test"
    Policy.load().save_to_database(pg_url, table_name=table)
    try:
        policy = Policy.from_database(pg_url, table_name=table)
        service = Service(policy)
        service.watcher = PolicyWatcher(policy, 0.05)
        with running(service) as srv:
            before = srv.get("/healthz").json
            assert srv.post("/v1/check-transfer", TRANSFER).json["allowed"] is True
            # an administrator's edit in psql: the table's trigger announces it (LISTEN/NOTIFY)
            with create_engine(pg_url).begin() as conn:
                conn.execute(text(f"DELETE FROM {table} WHERE v9 = 'bessi1-5-transfer' AND v5 = '2025-11-26'"))
            assert _wait(lambda: srv.get("/healthz").json["reloads"] == 1)
            assert srv.get("/healthz").json["digest"] != before["digest"]
            assert srv.post("/v1/check-transfer", TRANSFER).json["rule"] == "TRANSFER_NOT_PERMITTED"
    finally:
        with create_engine(pg_url).begin() as conn:
            conn.execute(text(f"DROP TABLE IF EXISTS {table}"))


# ---- the CLI -----------------------------------------------------------------------------------

def _cli(*args: str, **kw: object) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PIA_POLICY_LANG": "en"}
    return subprocess.run([sys.executable, "-m", "pia_policy", "serve", *args], capture_output=True, text=True,
                          env=env, timeout=60, **kw)  # type: ignore[call-overload]


def test_loopback_addresses() -> None:
    assert all(is_loopback(h) for h in ("127.0.0.1", "127.8.9.1", "::1", "[::1]", "localhost"))
    assert not any(is_loopback(h) for h in ("0.0.0.0", "::", "192.168.1.10", "example.org", "localhost.example"))


def test_a_non_loopback_address_without_a_token_is_refused(tmp_path: Path) -> None:
    for host in ("0.0.0.0", "192.0.2.1"):
        done = _cli("--host", host, "--port", "0")
        assert done.returncode == 2 and "--token-file" in done.stderr, done.stderr
    empty = tmp_path / "tokens"
    empty.write_text("# no token yet\n\n")
    done = _cli("--host", "0.0.0.0", "--port", "0", "--token-file", str(empty))
    assert done.returncode == 2 and "no token" in done.stderr
    short = tmp_path / "short"
    short.write_text("abc\n")
    assert _cli("--token-file", str(short), "--port", "0").returncode == 2
    assert _cli("--token-file", str(tmp_path / "absent"), "--port", "0").returncode == 2
    assert _cli("--policy", str(tmp_path / "nowhere"), "--port", "0").returncode == 2


def test_the_cli_serves_with_tokens_and_never_prints_them(tmp_path: Path) -> None:
    tokens = tmp_path / "tokens"
    tokens.write_text(f"# rotated monthly\n{TOKEN}\n")
    env = {**os.environ, "PIA_POLICY_LANG": "en"}
    proc = subprocess.Popen([sys.executable, "-m", "pia_policy", "serve", "--port", "0", "--token-file", str(tokens),
                             "--decision-log", str(tmp_path / "log"), "--log-level", "info"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stderr is not None
        first = proc.stderr.readline()
        assert "listening on http://127.0.0.1:" in first and "tokens on" in first, first
        port = int(first.split("http://127.0.0.1:")[1].split()[0])
        srv = Server("127.0.0.1", port, None)  # type: ignore[arg-type]
        assert _wait(lambda: _alive(srv))
        assert srv.post("/v1/check-transfer", TRANSFER).status == 401
        assert srv.post("/v1/check-transfer", TRANSFER, token=TOKEN).json["allowed"] is True
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert TOKEN not in first + out + err
    assert len(list((tmp_path / "log").glob("decisions-*.jsonl"))) == 1


def _alive(srv: Server) -> bool:
    try:
        return srv.get("/healthz").status in (200, 401)
    except OSError:
        return False


# ---- OpenAPI -----------------------------------------------------------------------------------

def test_committed_openapi_matches_the_app() -> None:
    committed = json.loads((ROOT / "docs" / "openapi.json").read_text(encoding="utf-8"))
    assert committed == create_app(Service(Policy.load())).openapi(), \
        "docs/openapi.json is stale: regenerate with `pia-policy serve --openapi > docs/openapi.json`"


def test_openapi_is_published_and_printed(server: Server) -> None:
    published = server.get("/openapi.json").json
    assert set(published["paths"]) >= {"/v1/check-access", "/v1/check-transfer", "/v1/batch", "/v1/versions",
                                       "/v1/recipients", "/healthz", "/metrics"}
    printed = _cli("--openapi")
    assert printed.returncode == 0 and json.loads(printed.stdout) == published
