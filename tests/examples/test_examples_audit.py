"""The audit on generated cities finds every planted violation, flags no near miss and
nothing in the benign background traffic (real generator files, real ingest, real policy)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from examples_helpers import keys

from pia_policy.audit import audit
from pia_policy.rules import DUTY_RULE_IDS, RULE_IDS, SPEC_RULE_IDS


def _run(data: Path, truth: dict[str, Any], out: Path) -> tuple[set[tuple[str, str, str | None]], dict[str, Any]]:
    result = audit(data, as_of=truth["as_of"], out=out, reports=False)
    assert result.exit_code == 1  # planted criticals
    found = {(f.rule, f.system, f.account_id) for f in result.findings}
    on_disk = [json.loads(line) for line in (out / "findings.jsonl").read_text(encoding="utf-8").splitlines()]
    assert {(f["rule"], f["system"], f["account_id"]) for f in on_disk} == found
    return found, result.summary


@pytest.fixture(scope="module")
def march(city: tuple[Path, dict[str, Any]], tmp_path_factory: pytest.TempPathFactory) -> tuple[set, dict, dict]:
    data, truth = city
    found, summary = _run(data, truth, tmp_path_factory.mktemp("out") / "march")
    return found, summary, truth


@pytest.fixture(scope="module")
def november(gen: Any, tmp_path_factory: pytest.TempPathFactory) -> tuple[set, dict, dict]:
    """Another window: 2025-11-26 (affair 15 out, 16 in), 振替休日 2025-11-24, no April wave."""
    base = tmp_path_factory.mktemp("nov")
    truth = gen.generate(3, 12000, 14, base / "city", start=gen.dt.date(2025, 11, 19), jobs=2)
    found, summary = _run(base / "city", truth, base / "out")
    return found, summary, truth


@pytest.mark.parametrize("window", ["march", "november"])
def test_every_planted_violation_is_found(window: str, request: pytest.FixtureRequest) -> None:
    found, _, truth = request.getfixturevalue(window)
    missing = keys(truth["findings"]) - found
    assert not missing, sorted(missing)


@pytest.mark.parametrize("window", ["march", "november"])
def test_no_near_miss_is_flagged(window: str, request: pytest.FixtureRequest) -> None:
    found, _, truth = request.getfixturevalue(window)
    wrong = keys(truth["must_not_flag"]) & found
    assert not wrong, sorted(wrong)


@pytest.mark.parametrize("window", ["march", "november"])
def test_benign_background_traffic_is_clean(window: str, request: pytest.FixtureRequest) -> None:
    found, _, truth = request.getfixturevalue(window)
    extra = found - keys(truth["findings"])
    assert not extra, sorted(extra)


def test_summary_counts_match_the_generated_files(march: tuple[set, dict, dict]) -> None:
    _, summary, truth = march
    c = summary["counts"]
    assert c["lines_read"] == truth["counts"]["lines"]
    assert c["events_evaluated"] == truth["counts"]["events"]
    assert c["duplicates"] == 1 and c["lines_rejected"] == 0 and c["ledger_rows_rejected"] == 0
    assert set(summary["policy"]["versions_used"]) == {"2020", "2025-03-24"}
    assert summary["findings_by_rule"] == {r: sum(1 for f in truth["findings"] if f["rule"] == r) for r in RULE_IDS}
    # the example city has the SPEC §3 inputs only: the optional-input duties are skipped, named
    assert [s["rule"] for s in summary["rules_skipped"]] == list(DUTY_RULE_IDS)


def test_november_window_uses_the_third_version(november: tuple[set, dict, dict]) -> None:
    _, summary, truth = november
    assert summary["policy"]["versions_used"] == ["2025-03-24", "2025-11-26"]
    rules = {f["rule"] for f in truth["findings"]}
    assert rules == set(SPEC_RULE_IDS)
    assert any("kouki-15 on 2025-11-26" in f["note"] for f in truth["findings"])
