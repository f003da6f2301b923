"""SPEC §8 finding lifecycle and triage: new / ongoing / reopened / resolved, closed,
acknowledged (until), false_positive, append-only history, `triage` and `findings` commands,
summary `lifecycle` and `systems_silent`, and --fail-on counting."""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "audit"))
from audit_data import account, write_data  # noqa: E402

from pia_policy.audit import audit, finding_id  # noqa: E402
from pia_policy.cli import main  # noqa: E402
from pia_policy.state import StateError  # noqa: E402
from pia_policy.state._triage import triage  # noqa: E402

QUIET = {"log": lambda *a, **k: None, "reports": False}


def ev(n: int, ts: str, acc: str = "A1", system: str = "fukushi") -> dict[str, Any]:
    return {"ts": ts, "system": system, "event_id": f"X{n}", "account_id": acc, "action": "view",
            "resource": "kihon_joho", "affair": "kouki-01"}


def night(tmp: Path, state: str, as_of: str, events: list[dict[str, Any]], accounts: list[dict[str, Any]] | None = None,
          personnel: list[dict[str, Any]] = ()) -> Any:  # type: ignore[assignment]
    data = write_data(tmp / f"d{as_of}", {f"{as_of}.jsonl": events},
                      accounts if accounts is not None else [account("A1")], list(personnel))
    return audit(data, as_of=as_of, out=tmp / f"o{as_of}", state=state, **QUIET)


def by_rule(result: Any, rule: str) -> list[Any]:
    return [f for f in result.findings if f.rule == rule]


UNKNOWN = finding_id("UNKNOWN_ACCOUNT", "fukushi", "U9")


def test_closed_event_finding_leaves_then_reopens_with_new_events(tmp_path: Path, state: str) -> None:
    r1 = night(tmp_path, state, "2025-06-03", [ev(1, "2025-06-02T10:00:00+09:00", "U9")])
    (f1,) = by_rule(r1, "UNKNOWN_ACCOUNT")
    assert (f1.lifecycle, f1.first_seen, f1.last_seen, f1.triage, r1.exit_code) == \
        ("new", "2025-06-03", "2025-06-03", None, 1)
    triage(state, UNKNOWN, status="closed", by="情報政策課 山田", reason="委託先の試験用ID、停止済み")
    r2 = night(tmp_path, state, "2025-06-04", [ev(2, "2025-06-03T10:00:00+09:00")])
    assert by_rule(r2, "UNKNOWN_ACCOUNT") == [] and r2.exit_code == 0
    assert r2.summary["lifecycle"]["suppressed"] == 1
    r3 = night(tmp_path, state, "2025-06-05", [ev(3, "2025-06-04T10:00:00+09:00", "U9")])
    (f3,) = by_rule(r3, "UNKNOWN_ACCOUNT")
    assert (f3.lifecycle, f3.event_count, f3.first_seen, r3.exit_code) == ("reopened", 2, "2025-06-03", 1)
    assert f3.triage is not None and f3.triage["status"] == "closed"
    assert r3.summary["lifecycle"]["reopened"] == 1
    # reopened once: the closure does not hide it again on the next quiet night
    r4 = night(tmp_path, state, "2025-06-06", [ev(4, "2025-06-05T10:00:00+09:00")])
    (f4,) = by_rule(r4, "UNKNOWN_ACCOUNT")
    assert (f4.lifecycle, f4.event_count) == ("ongoing", 2)


def test_false_positive_is_shown_but_quiet_also_for_later_events(tmp_path: Path, sqlite_state: str) -> None:
    night(tmp_path, sqlite_state, "2025-06-03", [ev(1, "2025-06-02T10:00:00+09:00", "U9")])
    triage(sqlite_state, UNKNOWN, status="false_positive", by="山田", reason="ログ収集基盤の監視ID")
    r2 = night(tmp_path, sqlite_state, "2025-06-04", [ev(2, "2025-06-03T10:00:00+09:00", "U9")])
    (f,) = by_rule(r2, "UNKNOWN_ACCOUNT")
    assert (f.lifecycle, f.event_count, f.triage["status"], r2.exit_code) == ("ongoing", 2, "false_positive", 0)
    assert r2.summary["lifecycle"]["suppressed"] == 1
    # the near miss: without triage the same night exits 1
    other = night(tmp_path / "b", str(tmp_path / "b.db"), "2025-06-03", [ev(1, "2025-06-02T10:00:00+09:00", "U9")])
    assert other.exit_code == 1


def test_acknowledged_until_a_night(tmp_path: Path, sqlite_state: str) -> None:
    night(tmp_path, sqlite_state, "2025-06-03", [ev(1, "2025-06-02T10:00:00+09:00", "U9")])
    triage(sqlite_state, UNKNOWN, status="acknowledged", by="山田", reason="調査中", until="2025-06-04")
    assert night(tmp_path, sqlite_state, "2025-06-04", [ev(2, "2025-06-03T10:00:00+09:00")]).exit_code == 0  # last day
    assert night(tmp_path, sqlite_state, "2025-06-05", [ev(3, "2025-06-04T10:00:00+09:00")]).exit_code == 1  # expired


def test_account_finding_resolves_and_reopens(tmp_path: Path, state: str) -> None:
    moved = [{"person_id": "P-A2", "event": "transfer", "effective_date": "2025-05-01",
              "from_department": "健康保険課", "to_department": "保護課"}]
    still = [account("A1"), account("A2")]
    revoked = [account("A1"), account("A2", revoked_at="2025-06-03")]
    fid = finding_id("ACCOUNT_NOT_REVOKED", "fukushi", "A2")
    r1 = night(tmp_path, state, "2025-06-03", [ev(1, "2025-06-02T10:00:00+09:00")], still, moved)
    assert [f.lifecycle for f in by_rule(r1, "ACCOUNT_NOT_REVOKED")] == ["new"]
    r2 = night(tmp_path, state, "2025-06-04", [ev(2, "2025-06-03T10:00:00+09:00")], revoked, moved)
    assert by_rule(r2, "ACCOUNT_NOT_REVOKED") == [] and r2.summary["lifecycle"]["resolved"] == 1
    r3 = night(tmp_path, state, "2025-06-05", [ev(3, "2025-06-04T10:00:00+09:00")], still, moved)
    (f3,) = by_rule(r3, "ACCOUNT_NOT_REVOKED")
    assert (f3.finding_id, f3.lifecycle, f3.first_seen) == (fid, "reopened", "2025-06-03")
    assert r3.summary["lifecycle"]["resolved"] == 0


def test_systems_silent(tmp_path: Path, sqlite_state: str) -> None:
    accounts = [account("A1"), account("H1", system="hyojun")]
    night(tmp_path, sqlite_state, "2025-06-03", [ev(1, "2025-06-02T10:00:00+09:00"),
                                          ev(2, "2025-06-02T10:00:00+09:00", "H1", "hyojun")], accounts)
    r2 = night(tmp_path, sqlite_state, "2025-06-04", [ev(3, "2025-06-03T10:00:00+09:00")], accounts)
    assert r2.summary["systems_silent"] == ["hyojun"]
    r3 = night(tmp_path, sqlite_state, "2025-06-05", [ev(4, "2025-06-04T10:00:00+09:00"),
                                               ev(5, "2025-06-04T10:00:00+09:00", "H1", "hyojun")], accounts)
    assert r3.summary["systems_silent"] == []


def test_findings_jsonl_carries_lifecycle_fields(tmp_path: Path, sqlite_state: str) -> None:
    night(tmp_path, sqlite_state, "2025-06-03", [ev(1, "2025-06-02T10:00:00+09:00", "U9")])
    line = json.loads((tmp_path / "o2025-06-03" / "findings.jsonl").read_text(encoding="utf-8").splitlines()[0])
    assert {"lifecycle", "first_seen", "last_seen", "triage"} <= set(line)
    summary = json.loads((tmp_path / "o2025-06-03" / "summary.json").read_text(encoding="utf-8"))
    assert set(summary["lifecycle"]) == {"new", "ongoing", "reopened", "resolved", "suppressed"}


def test_triage_and_findings_commands(tmp_path: Path, state: str, capsys: Any) -> None:
    night(tmp_path, state, "2025-06-03", [ev(1, "2025-06-02T10:00:00+09:00", "U9"),
                                          ev(2, "2025-06-02T11:00:00+09:00", "U8")])
    assert main(["triage", "--state", state, UNKNOWN, "--status", "acknowledged", "--by", "山田",
                 "--reason", "調査中"]) == 0
    assert main(["triage", "--state", state, UNKNOWN, "--status", "false_positive", "--by", "佐藤",
                 "--reason", "=HYPERLINK(\"x\") 監視用ID"]) == 0
    capsys.readouterr()
    assert main(["findings", "--state", state, "--status", "false_positive"]) == 0
    rows = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [r["finding_id"] for r in rows] == [UNKNOWN]
    assert [h["status"] for h in rows[0]["triage_history"]] == ["acknowledged", "false_positive"]
    assert rows[0]["triage_by"] == "佐藤"
    assert main(["findings", "--state", state, "--status", "open", "--rule", "UNKNOWN_ACCOUNT"]) == 0
    assert [json.loads(x)["account_id"] for x in capsys.readouterr().out.splitlines()] == ["U8"]
    assert main(["findings", "--state", state, "--format", "csv"]) == 0
    text = capsys.readouterr().out
    table = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    reason = next(r for r in table if r["finding_id"] == UNKNOWN)["triage_reason"]
    assert reason.startswith("'=")  # formula-injection safe
    assert len(table) == 2


@pytest.mark.parametrize("argv,needle", [
    (["--status", "closed", "--by", "x", "--reason", "y", "0123456789abcdef"], "0123456789abcdef"),
    (["--status", "closed", "--by", "x", "--reason", "y", "--until", "2025-07-01", UNKNOWN], "--until"),
    (["--status", "acknowledged", "--by", " ", "--reason", "y", UNKNOWN], "--by"),
    (["--status", "acknowledged", "--by", "x", "--reason", "y", "--until", "next week", UNKNOWN], "--until"),
])
def test_triage_refuses_bad_requests(tmp_path: Path, sqlite_state: str, capsys: Any, argv: list[str], needle: str) -> None:
    night(tmp_path, sqlite_state, "2025-06-03", [ev(1, "2025-06-02T10:00:00+09:00", "U9")])
    capsys.readouterr()
    assert main(["triage", "--state", sqlite_state, *argv]) == 2
    assert needle in capsys.readouterr().err


def test_triage_history_is_append_only(tmp_path: Path) -> None:
    state = str(tmp_path / "s.db")
    night(tmp_path, state, "2025-06-03", [ev(1, "2025-06-02T10:00:00+09:00", "U9")])
    for status in ("acknowledged", "open", "closed"):
        triage(state, UNKNOWN, status=status, by="山田", reason=status)
    night(tmp_path, state, "2025-06-04", [ev(2, "2025-06-03T10:00:00+09:00")])
    from pia_policy.state import StateStore

    store = StateStore(state)
    try:
        assert [h["status"] for h in store.triage_history()[UNKNOWN]] == ["acknowledged", "open", "closed"]
    finally:
        store.close()
    with pytest.raises(StateError):
        triage(state, UNKNOWN, status="deleted", by="x", reason="y")
