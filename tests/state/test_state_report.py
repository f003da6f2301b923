"""SPEC §8 in the report and the notices: lifecycle cards, systems silent, open findings per night
(from the state), status column with new and reopened first; notices for new and reopened only."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "audit"))
from audit_data import account, write_data  # noqa: E402

from pia_policy.audit import audit, finding_id  # noqa: E402
from pia_policy.state._triage import triage  # noqa: E402


def ev(n: int, ts: str, acc: str, action: str = "view", system: str = "fukushi", **kw: Any) -> dict[str, Any]:
    row = {"ts": ts, "system": system, "event_id": f"X{n}", "account_id": acc, "action": action, **kw}
    if action not in ("login", "logout"):
        row.update(resource="kihon_joho", affair="kouki-01")
    return row


ACCOUNTS = [account("A1"), account("H1", system="hyojun"),
            account("D1", last_login_at="2025-01-01T09:00:00+09:00")]  # dormant: a notice rule


def night(tmp: Path, state: str, as_of: str, events: list[dict[str, Any]]) -> Any:
    data = write_data(tmp / f"d{as_of}", {f"{as_of}.jsonl": events}, ACCOUNTS)
    return audit(data, as_of=as_of, out=tmp / f"o{as_of}", state=state, log=lambda *a, **k: None)


def test_report_and_notices_follow_the_lifecycle(tmp_path: Path) -> None:
    state = str(tmp_path / "s.db")
    night(tmp_path, state, "2025-06-03", [ev(1, "2025-06-02T10:00:00+09:00", "A1"),
                                          ev(2, "2025-06-02T10:00:00+09:00", "H1", system="hyojun")])
    notices1 = sorted(p.name for p in (tmp_path / "o2025-06-03" / "notices").glob("*.html"))
    assert notices1 == ["健康保険課.html"]  # ACCOUNT_DORMANT of D1, new
    triage(state, finding_id("ACCOUNT_DORMANT", "fukushi", "D1"), status="acknowledged", by="山田", reason="休職中")
    r2 = night(tmp_path, state, "2025-06-04", [ev(3, "2025-06-03T10:00:00+09:00", "U9")])
    out = tmp_path / "o2025-06-04"
    assert not (out / "notices").exists() or not list((out / "notices").glob("*.html"))  # ongoing: no new notice
    html = (out / "report.html").read_text(encoding="utf-8")
    cards = dict(re.findall(r'data-lifecycle="(\w+)" data-value="(\d+)"', html))
    # new: U9 and the fukushi LOG_GAP across the two nights; ongoing: D1 dormant, H1 issuer
    assert cards == {"new": "2", "ongoing": "2", "reopened": "0", "resolved": "0", "suppressed": "1"}
    assert cards == {k: str(v) for k, v in r2.summary["lifecycle"].items()}
    assert re.search(r'data-count="systems_silent" data-value="1"', html)
    assert 'id="systems-silent"' in html
    chart = html[html.index('id="lifecycle"'):]
    chart = chart[:chart.index("</svg>")]
    bars = re.findall(r'<rect class="bar"[^>]*data-key="(2025-06-0\d)" data-value="(\d+)"', chart)
    assert bars == [("2025-06-03", "2"), ("2025-06-04", "4")]
    rows = re.findall(r'<tr id="f-(\w+)".*?data-lifecycle="(\w+)"', html)
    assert [life for _, life in rows] == ["new", "new", "ongoing", "ongoing"]  # new first, then by severity
    assert "確認済" in html and "山田" in html


def test_stateless_report_has_no_lifecycle(tmp_path: Path) -> None:
    data = write_data(tmp_path / "d", {"a.jsonl": [ev(1, "2025-06-02T10:00:00+09:00", "U9")]}, ACCOUNTS)
    audit(data, as_of="2025-06-03", out=tmp_path / "o", log=lambda *a, **k: None)
    html = (tmp_path / "o" / "report.html").read_text(encoding="utf-8")
    assert 'id="lifecycle"' not in html and "data-lifecycle" not in html


def test_rebuilt_report_keeps_the_lifecycle(tmp_path: Path) -> None:
    from pia_policy.outputs import verify
    from pia_policy.report import write_reports_from_dir

    state = str(tmp_path / "s.db")
    night(tmp_path, state, "2025-06-03", [ev(1, "2025-06-02T10:00:00+09:00", "U9")])
    out = tmp_path / "o2025-06-03"
    assert write_reports_from_dir(out)[0] == "report.html"
    html = (out / "report.html").read_text(encoding="utf-8")
    assert 'data-lifecycle="new"' in html and verify(out) == []


def test_reopened_notice_keeps_the_first_deadline(tmp_path: Path) -> None:
    """A notice's reply deadline is fixed on the night the finding was first noticed (SPEC §8)."""
    moved = [{"person_id": "P-A2", "event": "transfer", "effective_date": "2025-05-01",
              "from_department": "健康保険課", "to_department": "保護課"}]
    ledgers = {"2025-06-03": [account("A1"), account("A2")],
               "2025-06-04": [account("A1"), account("A2", revoked_at="2025-06-03")],
               "2025-06-05": [account("A1"), account("A2")]}
    state = str(tmp_path / "s.db")
    deadlines = {}
    for i, (as_of, accounts) in enumerate(ledgers.items()):
        data = write_data(tmp_path / f"d{as_of}", {"a.jsonl": [ev(i, f"{as_of}T00:00:00+09:00", "A1")]},
                          accounts, moved)
        audit(data, as_of=as_of, out=tmp_path / f"o{as_of}", state=state, log=lambda *a, **k: None)
        notice = tmp_path / f"o{as_of}" / "notices" / "健康保険課.html"
        deadlines[as_of] = (re.search(r'data-reply-by="([0-9-]+)"', notice.read_text(encoding="utf-8")).group(1)
                            if notice.exists() else None)
    # new on 06-03 (deadline +14 days), resolved on 06-04 (no notice), reopened on 06-05: same deadline
    assert deadlines == {"2025-06-03": "2025-06-17", "2025-06-04": None, "2025-06-05": "2025-06-17"}
