"""Every rule is one portable SQL query: it transpiles to Spark SQL with sqlglot and parses back."""

from __future__ import annotations

import re

import pytest
import sqlglot

from pia_policy.rules import RULE_IDS, RuleContext, all_rules, get

_CTX = RuleContext(
    as_of_utc="2025-06-01 15:00:00.000000",
    params={"session_hours": 10, "bulk_subjects": 500, "revocation_grace_days": 7, "dormant_days": 90,
            "gap_minutes": 60, "departure_grace_hours": 1.5},
)
#: DuckDB-only spellings a rule must not use.
_FORBIDDEN = [r"::", r"\bQUALIFY\b", r"\bepoch", r"\blist_", r"\bdate_diff\b", r"\bdatediff\b", r"\bstrftime\b",
              r"\bstrptime\b", r"\bEXCLUDE\b", r"\bregexp_", r"\bstruct_", r"\bunnest\b", r"\bepoch_ms\b"]


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_rule_transpiles_to_spark_and_parses_back(rule_id: str) -> None:
    sql = get(rule_id).sql(_CTX)
    statements = [s for s in sqlglot.parse(sql, read="duckdb") if s is not None]
    assert len(statements) == 1, "one query per rule"
    spark = sqlglot.transpile(sql, read="duckdb", write="spark", unsupported_level=sqlglot.ErrorLevel.RAISE)
    assert len(spark) == 1
    parsed = sqlglot.parse_one(spark[0], read="spark")
    assert parsed.find(sqlglot.exp.Select) is not None


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_rule_uses_no_duckdb_only_syntax(rule_id: str) -> None:
    sql = get(rule_id).sql(_CTX)
    for pattern in _FORBIDDEN:
        assert not re.search(pattern, sql, flags=re.IGNORECASE), f"{rule_id}: {pattern}"


def test_catalogue_metadata_is_complete() -> None:
    rules = all_rules()
    assert [r.id for r in rules] == list(RULE_IDS)
    for r in rules:
        assert r.basis and r.remedy_ja and r.title_ja and r.sql is not None
        assert r.scope in ("event", "independent", "account", "system")
    scopes = {r.id: r.scope for r in rules}
    assert {k for k, v in scopes.items() if v == "independent"} == {
        "TERMINAL_NOT_AUTHORIZED", "LONG_SESSION", "BULK_ACCESS", "PLEDGE_MISSING", "CONTRACTOR_NOT_ON_ROSTER"}
    assert {k for k, v in scopes.items() if v == "system"} == {"LOG_GAP", "LOG_SEQUENCE_GAP", "LOG_RETENTION_SHORT"}
