"""``--engine spark`` (SPEC §7): the same audit on Apache Spark (real pyspark, local[2], real JVM) gives
findings.jsonl byte for byte equal to DuckDB's, on the example city and on a generated city where
every rule fires, also when the JVM's (and the process's) default time zone is not UTC."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator

import pytest

from pia_policy.audit import audit
from pia_policy.audit._log import run_logger
from pia_policy.cli import main
from pia_policy.rules import RULE_IDS

pytestmark = pytest.mark.spark

_EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
_SRC = Path(__file__).resolve().parents[2] / "src"


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    """One local Spark for the module (each audit takes its own session of it, as a library caller's would)."""
    from pia_policy.audit._spark import open_spark

    rules = open_spark()
    yield rules
    rules.session.sparkContext.stop()


def _audit(data: Path, as_of: str, out: Path, **options: Any) -> Any:
    return audit(data, as_of=as_of, out=out, reports=False, log=run_logger(io.StringIO()), **options)


def _add_duty_inputs(data: Path) -> None:
    """The optional inputs of the duties, each with findings and near misses in the generated city."""
    with open(data / "accounts.csv", encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    non_regular = sorted({r["person_id"] for r in rows if r["employment"] == "non_regular"})
    contractors = sorted({r["person_id"] for r in rows if r["employment"] == "contractor"})
    assert non_regular and contractors
    pledged = non_regular[: len(non_regular) // 2]
    (data / "pledges.csv").write_text(
        "person_id,signed_at,submitted_to\n" + "".join(f"{p},2024-04-01,所属長\n" for p in pledged), encoding="utf-8")
    (data / "consultations.csv").write_text(
        "recipient_department,purpose,agreed_on\n緑区健康課,shoni_shitei_iryohi,2025-03-24\n", encoding="utf-8")
    (data / "contractor_roster.csv").write_text(
        f"person_id,role,from,to\n{contractors[0]},worker,2024-04-01,\n", encoding="utf-8")
    (data / "log_archive.csv").write_text(
        "system,from,to\nfukushi,2019-01-01,2025-03-19\nhyojun,2021-01-01,2025-03-19\n", encoding="utf-8")


@pytest.fixture(scope="module")
def every_rule_city(gen: Any, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, bytes]:
    """(data, as_of, DuckDB's findings.jsonl) of a small generated city where every rule has a finding."""
    base = tmp_path_factory.mktemp("spark_city")
    truth = gen.generate(17, 3000, 8, base / "city", jobs=1)
    _add_duty_inputs(base / "city")
    result = _audit(base / "city", truth["as_of"], base / "duckdb")
    assert {r for r, n in result.summary["findings_by_rule"].items() if n} == set(RULE_IDS)
    return base / "city", truth["as_of"], (base / "duckdb" / "findings.jsonl").read_bytes()


def test_example_city_is_byte_identical_on_spark(spark: Any, tmp_path: Path) -> None:
    as_of = json.loads((_EXAMPLES / "city_truth.json").read_text(encoding="utf-8"))["as_of"]
    duck = _audit(_EXAMPLES / "city", as_of, tmp_path / "duckdb")
    on_spark = _audit(_EXAMPLES / "city", as_of, tmp_path / "spark", engine="spark")
    assert (tmp_path / "spark" / "findings.jsonl").read_bytes() == (tmp_path / "duckdb" / "findings.jsonl").read_bytes()
    assert on_spark.findings_total == duck.findings_total == 44
    assert on_spark.exit_code == duck.exit_code
    engine = on_spark.summary["run"]["engine"]
    assert engine["name"] == "spark" and engine["master"] == "local[2]" and engine["duckdb"]["name"] == "duckdb"
    assert (engine["session_time_zone"], engine["timestamp_type"]) == ("UTC", "TIMESTAMP_NTZ")
    assert duck.summary["run"]["engine"]["name"] == "duckdb"
    for key in ("counts", "findings_by_rule", "findings_by_severity", "breakdowns", "rules_run", "policy"):
        assert on_spark.summary[key] == duck.summary[key], key
    # the caller's session is left as it was: the audit ran in a session of its own
    assert spark.session.catalog.listTables() == []


def test_every_rule_city_is_byte_identical_on_spark(spark: Any, every_rule_city: tuple[Path, str, bytes],
                                                    tmp_path: Path) -> None:
    data, as_of, expected = every_rule_city
    _audit(data, as_of, tmp_path / "spark", engine="spark")
    assert (tmp_path / "spark" / "findings.jsonl").read_bytes() == expected


@pytest.mark.parametrize("zone", ["Asia/Tokyo", "America/New_York"])
def test_the_jvm_time_zone_never_changes_a_finding(zone: str, every_rule_city: tuple[Path, str, bytes],
                                                   tmp_path: Path) -> None:
    """A fresh process whose TZ (the JVM's default zone, Python's local time) is not UTC."""
    data, as_of, expected = every_rule_city
    env = {**os.environ, "TZ": zone, "PYTHONPATH": str(_SRC)}
    env.pop("JAVA_TOOL_OPTIONS", None)
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "pia_policy", "audit", str(data), "--as-of", as_of,
                           "--out", str(out), "--no-reports", "--engine", "spark"],
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stderr[-3000:]  # planted criticals
    engine = json.loads((out / "summary.json").read_text(encoding="utf-8"))["run"]["engine"]
    assert engine["jvm_time_zone"] == zone  # the setting took effect in the JVM that ran the rules
    assert engine["session_time_zone"] == "UTC"
    assert (out / "findings.jsonl").read_bytes() == expected


def test_spark_remote_needs_engine_spark_and_a_connect_url(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = _EXAMPLES / "city"
    for extra in (["--spark-remote", "sc://localhost:15002"],
                  ["--engine", "duckdb", "--spark-remote", "sc://localhost:15002"],
                  ["--engine", "spark", "--spark-remote", "http://localhost:15002"],
                  ["--engine", "spark", "--spark-remote", "sc://localhost"],
                  ["--engine", "flink"]):
        try:
            code = main(["audit", str(data), "--as-of", "2025-04-04", "--out", str(tmp_path / "o"), *extra])
        except SystemExit as stop:  # argparse's own refusal of a choice
            code = stop.code
        assert code == 2, extra
        err = capsys.readouterr().err
        assert ("--spark-remote" in err) or ("--engine" in err), err
    assert not (tmp_path / "o").exists()


def test_spark_remote_from_the_config_file_with_engine_on_the_command_line(tmp_path: Path) -> None:
    from pia_policy.audit._settings import resolve_settings, flag_label

    cfg = tmp_path / "audit.toml"
    cfg.write_text('[audit]\nengine = "spark"\n', encoding="utf-8")
    opts = resolve_settings(config=cfg, overrides={"spark_remote": "sc://spark.example:15002"}, label=flag_label)
    assert (opts.engine, opts.spark_remote) == ("spark", "sc://spark.example:15002")
    cfg.write_text('[audit]\nspark_remote = "sc://spark.example:15002"\n', encoding="utf-8")
    with pytest.raises(ValueError, match="spark_remote"):
        resolve_settings(config=cfg)


def _run_cli_without(tmp_path: Path, env: dict[str, str], prelude: str = "") -> subprocess.CompletedProcess[str]:
    code = (f"import sys; {prelude}from pia_policy.cli import main; "
            f"sys.exit(main(['audit', {str(_EXAMPLES / 'city')!r}, '--as-of', '2025-04-04', "
            f"'--out', {str(tmp_path / 'o')!r}, '--engine', 'spark']))")
    return subprocess.run([sys.executable, "-c", code], env={**env, "PYTHONPATH": str(_SRC)},
                          capture_output=True, text=True, timeout=120)


def test_missing_pyspark_is_exit_2_naming_the_extra(tmp_path: Path) -> None:
    done = _run_cli_without(tmp_path, dict(os.environ), prelude="sys.modules['pyspark'] = None; ")
    assert done.returncode == 2, done.stderr[-2000:]
    assert "pip install 'pia-policy[spark]'" in done.stderr
    assert not (tmp_path / "o").exists()


def test_missing_java_is_exit_2_naming_the_package(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "JAVA_HOME"}
    env["PATH"] = str(Path(sys.executable).parent)  # python, no java
    done = _run_cli_without(tmp_path, env)
    assert done.returncode == 2, done.stderr[-2000:]
    assert "openjdk-17-jre-headless" in done.stderr and "Java" in done.stderr
    assert not (tmp_path / "o").exists()
