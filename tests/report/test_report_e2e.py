"""End to end: a tiny data directory through ``pia_policy.audit.audit`` to report.html and notices."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _report_helpers import chart_values, parse

from pia_policy.audit import audit

ACCOUNTS = """account_id,system,person_id,employment,department,roles,permission,issued_at,issued_by,approved_by,request_ref,revoked_at,expires_at,last_login_at
a1,fukushi,p1,regular,健康保険課,kouki_staff,read,2024-01-01,p9,,,,,2025-03-31T09:00:00+09:00
a2,fukushi,p2,regular,中央区市民総合窓口課,kouki_staff,read,2024-01-01,p9,,,,,2025-03-15T09:00:00+09:00
a3,fukushi,p3,regular,美浜区市民総合窓口課,kouki_staff,read,2024-01-01,p9,,,,,2024-12-01T09:00:00+09:00
"""
PERSONNEL = """person_id,event,effective_date,from_department,to_department
p2,transfer,2025-03-20,中央区市民総合窓口課,保護課
"""


def _events() -> str:
    rows = [
        # a1: 11 h 30 min session (LONG_SESSION)
        {"ts": "2025-04-01T08:00:00+09:00", "system": "fukushi", "event_id": "e1", "account_id": "a1",
         "session_id": "s1", "action": "login"},
        {"ts": "2025-04-01T19:30:00+09:00", "system": "fukushi", "event_id": "e2", "account_id": "a1",
         "session_id": "s1", "action": "logout"},
        # a1: 9 h session (near miss)
        {"ts": "2025-04-02T08:30:00+09:00", "system": "fukushi", "event_id": "e3", "account_id": "a1",
         "session_id": "s2", "action": "login"},
        {"ts": "2025-04-02T17:30:00+09:00", "system": "fukushi", "event_id": "e4", "account_id": "a1",
         "session_id": "s2", "action": "logout"},
    ]
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows) + "{not json\n"


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("data")
    (data / "events").mkdir()
    (data / "events" / "fukushi.jsonl").write_text(_events(), encoding="utf-8")
    (data / "accounts.csv").write_text(ACCOUNTS, encoding="utf-8")
    (data / "personnel.csv").write_text(PERSONNEL, encoding="utf-8")
    out = tmp_path_factory.mktemp("out") / "run"
    audit(data, as_of="2025-04-03", out=out)
    return out


def test_report_numbers_equal_summary_json(audited: Path) -> None:
    summary = json.loads((audited / "summary.json").read_text(encoding="utf-8"))
    findings = [json.loads(line) for line in (audited / "findings.jsonl").read_text(encoding="utf-8").splitlines()]
    doc = parse((audited / "report.html").read_text(encoding="utf-8"))
    for key in ("events_evaluated", "lines_rejected", "duplicates", "lines_read"):
        (card,) = doc.find("div", data_count=key)
        assert int(str(card.attrs["data-value"])) == summary["counts"][key], key
    assert summary["counts"]["events_evaluated"] == 4 and summary["counts"]["lines_rejected"] == 1
    for sev, n in summary["findings_by_severity"].items():
        (card,) = doc.find("div", data_severity=sev)
        assert int(str(card.attrs["data-value"])) == n
    assert chart_values(doc, "findings_by_rule") == {k: v for k, v in summary["findings_by_rule"].items() if v}
    for name, counts in summary["breakdowns"].items():
        assert {k: v for k, v in chart_values(doc, name).items() if v} == {k: v for k, v in counts.items() if v}
    rows = doc.having("data-finding-id", "tr")
    assert [r.attrs["data-finding-id"] for r in rows] == [f["finding_id"] for f in findings]


def test_notices_follow_the_findings(audited: Path) -> None:
    findings = [json.loads(line) for line in (audited / "findings.jsonl").read_text(encoding="utf-8").splitlines()]
    expected: dict[str, set[tuple[str, str]]] = {}
    for f in findings:
        if f["rule"] in ("LONG_SESSION", "ACCOUNT_NOT_REVOKED", "ACCOUNT_DORMANT") and f["department"]:
            expected.setdefault(f["department"], set()).add((f["rule"], f["account_id"]))
    # the planted ones
    assert ("LONG_SESSION", "a1") in expected["健康保険課"]
    assert ("ACCOUNT_NOT_REVOKED", "a2") in expected["中央区市民総合窓口課"]
    assert ("ACCOUNT_DORMANT", "a3") in expected["美浜区市民総合窓口課"]
    written = {p.stem: p for p in (audited / "notices").glob("*.html")}
    assert set(written) == set(expected)
    for dept, items in expected.items():
        doc = parse(written[dept].read_text(encoding="utf-8"))
        got = {(str(r.attrs["data-rule"]), str(r.attrs["data-account"])) for r in doc.having("data-account", "tr")}
        assert got == items, dept
    html = written["健康保険課"].read_text(encoding="utf-8")
    assert "令和7年4月1日 (2025-04-01) 08:00" in html  # the session's login, in JST
    assert "回答期限：令和7年4月17日 (2025-04-17)" in html
