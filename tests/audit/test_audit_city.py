"""The shipped example city (examples/city, generated with a recorded truth): the audit finds
exactly the planted findings and none of the planted near misses."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from pia_policy.audit import audit
from pia_policy.audit._log import run_logger

_ROOT = Path(__file__).resolve().parents[2] / "examples"


@pytest.mark.skipif(not (_ROOT / "city_truth.json").is_file(), reason="example city not generated")
def test_example_city_matches_its_truth(tmp_path: Path) -> None:
    truth = json.loads((_ROOT / "city_truth.json").read_text(encoding="utf-8"))
    result = audit(_ROOT / "city", as_of=truth["as_of"], out=tmp_path / "out", reports=False,
                   log=run_logger(io.StringIO()))
    got = {(f.rule, f.system, f.account_id) for f in result.findings}
    expected = {(f["rule"], f["system"], f.get("account_id")) for f in truth["findings"]}
    assert got == expected
    must_not = {(f["rule"], f["system"], f.get("account_id")) for f in truth["must_not_flag"]}
    assert not got & must_not
    counts = result.summary["counts"]
    assert counts["lines_read"] == counts["events_evaluated"] + counts["duplicates"] + counts["lines_rejected"]
    assert counts["events_evaluated"] == truth["counts"]["events"]


@pytest.mark.skipif(not (_ROOT / "city_truth.json").is_file(), reason="example city not generated")
def test_rules_survive_the_trip_through_spark_sql(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every rule transpiled DuckDB → Spark SQL → DuckDB finds exactly the same on the example city
    (every rule fires there): the Spark text keeps the meaning, not only the syntax."""
    import dataclasses

    import sqlglot

    from pia_policy import rules

    truth = json.loads((_ROOT / "city_truth.json").read_text(encoding="utf-8"))
    direct = audit(_ROOT / "city", as_of=truth["as_of"], reports=False, log=run_logger(io.StringIO()))
    original = rules.all_rules()

    def via_spark(rule: rules.Rule) -> rules.Rule:
        def sql(ctx: rules.RuleContext) -> str:
            spark = sqlglot.transpile(rule.sql(ctx), read="duckdb", write="spark")[0]
            return sqlglot.transpile(spark, read="spark", write="duckdb")[0]

        return dataclasses.replace(rule, sql=sql)

    monkeypatch.setattr(rules, "all_rules", lambda: tuple(via_spark(r) for r in original))
    tripped = audit(_ROOT / "city", as_of=truth["as_of"], reports=False, log=run_logger(io.StringIO()))
    assert {f.rule for f in direct.findings} == set(rules.SPEC_RULE_IDS)  # the duties need their own inputs
    assert tripped.findings == direct.findings
