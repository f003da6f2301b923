"""An audit whose window crosses a policy version boundary shows the change (summary.json and report.html)."""

from __future__ import annotations

import json
from pathlib import Path

from _report_helpers import parse

from pia_policy.audit import audit

ACCOUNTS = """account_id,system,person_id,employment,department,roles,permission,issued_at,issued_by
a1,fukushi,p1,regular,健康保険課,kouki_staff,read,2024-01-01,p9
"""


def _run(tmp_path: Path, days: list[str]) -> tuple[dict, str]:
    data = tmp_path / "data"
    (data / "events").mkdir(parents=True)
    rows = []
    for i, day in enumerate(days):
        rows += [{"ts": f"{day}T09:00:00+09:00", "system": "fukushi", "event_id": f"e{i}a", "account_id": "a1",
                  "session_id": f"s{i}", "action": "login"},
                 {"ts": f"{day}T10:00:00+09:00", "system": "fukushi", "event_id": f"e{i}b", "account_id": "a1",
                  "session_id": f"s{i}", "action": "logout"}]
    (data / "events" / "fukushi.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    (data / "accounts.csv").write_text(ACCOUNTS, encoding="utf-8")
    (data / "personnel.csv").write_text("person_id,event,effective_date,from_department,to_department\n",
                                        encoding="utf-8")
    out = tmp_path / "out"
    audit(data, as_of="2025-04-03", out=out)
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    return summary, (out / "report.html").read_text(encoding="utf-8")


def test_window_across_2025_03_24_shows_the_change(tmp_path: Path) -> None:
    summary, page = _run(tmp_path, ["2025-03-23", "2025-03-25"])
    assert summary["policy"]["versions_used"] == ["2020", "2025-03-24"]
    (change,) = summary["policy"]["version_changes"]
    assert change["from_version"] == "2020" and change["version"] == "2025-03-24"
    assert change["in_force_from"] == "2025-03-24"
    assert "特定個人情報の提供・移転" in change["summary"] and "重要な変更該当" in change["summary"]
    assert change["table"].startswith("pia-policy changes --from 2020 --to 2025-03-24")
    doc = parse(page)
    (section,) = doc.find("section", id="version-changes")
    text = section.text
    assert "令和7年3月24日" in text and "2020 → 2025-03-24" in text and "pia-policy changes --from 2020" in text


def test_window_inside_one_version_shows_none(tmp_path: Path) -> None:
    # the boundary day itself is in the new version: no change inside the window
    summary, page = _run(tmp_path, ["2025-03-24", "2025-03-25"])
    assert summary["policy"]["versions_used"] == ["2025-03-24"]
    assert summary["policy"]["version_changes"] == []
    assert 'id="version-changes"' not in page
