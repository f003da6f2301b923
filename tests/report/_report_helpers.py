"""Test helpers: findings and summaries shaped as docs/DESIGN.md says (no audit needed), and
an HTML parser (standard library) to read the report by its attributes."""

from __future__ import annotations

from collections import Counter
from html.parser import HTMLParser
from typing import Any

from pia_policy import rules
from pia_policy.audit import finding_id
from pia_policy.models import SEVERITIES, Evidence, Finding

#: A valid My Number (check digit 8) used to prove that no output carries one.
MY_NUMBER = "123456789018"


def make_finding(rule: str, *, account_id: str | None = "a001", department: str | None = "中央区健康課",
                 system: str | None = "fukushi", first_ts: str | None = "2025-03-31T23:30:00",
                 last_ts: str | None = "2025-04-01T10:45:00", event_count: int = 3,
                 person_id: str | None = "p001", evidence: int = 2) -> Finding:
    """A Finding with the rule's catalogue severity, basis and remedy."""
    r = rules.get(rule)
    return Finding(
        schema_version="1.0", finding_id=finding_id(rule, system, account_id), rule=rule, severity=r.severity, account_id=account_id,
        person_id=person_id, department=department, system=system, first_ts=first_ts, last_ts=last_ts,
        event_count=event_count,
        evidence=[Evidence(file="events/day.jsonl", line=i + 1, event_id=f"e{i}") for i in range(evidence)],
        basis=r.basis, action=r.remedy_ja,
    )


def sample_findings() -> list[Finding]:
    """A small mix: notice rules in two departments, an unknown account, a LOG finding."""
    return [
        make_finding("UNKNOWN_ACCOUNT", account_id="ghost", department=None, person_id=None, event_count=5),
        make_finding("MY_NUMBER_WITHOUT_PERMISSION", account_id="a002", department="健康保険課", system="hyojun"),
        make_finding("LONG_SESSION", account_id="a001", department="中央区健康課"),
        make_finding("LONG_SESSION", account_id="a003", department="健康保険課", system="gyomu_kyotsu"),
        make_finding("ACCOUNT_NOT_REVOKED", account_id="a004", department="中央区健康課", first_ts=None,
                     last_ts=None, event_count=0, evidence=0),
        make_finding("ACCOUNT_DORMANT", account_id="a005", department="美浜区市民総合窓口課", first_ts=None,
                     last_ts=None, event_count=0, evidence=0),
        make_finding("LOG_GAP", account_id=None, department=None, person_id=None, system="hyojun"),
    ]


def make_summary(findings: list[Finding], **overrides: Any) -> dict[str, Any]:
    """A summary.json-shaped dict consistent with ``findings``."""
    by_rule = {rid: 0 for rid in rules.RULE_IDS}
    by_rule.update(Counter(f.rule for f in findings))
    by_sev = {s: 0 for s in SEVERITIES}
    by_sev.update(Counter(f.severity for f in findings))
    summary: dict[str, Any] = {
        "schema_version": "1.0",
        "tool": "pia-policy 0.1.0",
        "as_of": "2025-04-02",
        "audit_time": "2025-04-01T15:00:00Z",
        "run": {"started_at": "2025-04-01T18:00:00Z", "finished_at": "2025-04-01T18:00:05Z", "seconds": 5.0},
        "inputs": [{"path": "events/day.jsonl", "role": "events", "size": 12345, "sha256": "ab" * 32}],
        "policy": {"path": "(packaged)", "versions_used": ["2025-03-24"]},
        "thresholds": {"session_hours": 10, "bulk_subjects": 500, "revocation_grace_days": 7,
                       "dormant_days": 90, "gap_minutes": 60, "departure_grace_hours": 0},
        "fail_on": "high",
        "rules_run": list(rules.RULE_IDS),
        "rules_skipped": [],
        "file_errors": [],
        "counts": {"lines_read": 1260, "events_evaluated": 1234, "duplicates": 6, "lines_rejected": 20,
                   "ledger_rows_rejected": 1, "rejected_by_reason": {"bad_timestamp": 15, "invalid_json": 5}},
        "findings_by_rule": by_rule,
        "findings_by_severity": by_sev,
        "breakdowns": {
            "events_by_day": {"2025-03-30": 400, "2025-04-01": 834},
            "events_by_hour": {f"{h:02d}": (50 if 8 <= h <= 17 else 3) for h in range(24)},
            "flagged_events_by_day": {"2025-04-01": 17},
            "flagged_events_by_hour": {"09": 10, "23": 7},
            "findings_by_department": dict(Counter(f.department or "" for f in findings)),
            "findings_by_system": dict(Counter(f.system or "" for f in findings)),
        },
        "exit_code": 1,
    }
    summary.update(overrides)
    return summary




class Element:
    """A start tag's name and attributes, and the text inside it (until its end tag)."""

    def __init__(self, tag: str, attrs: dict[str, str | None]) -> None:
        self.tag = tag
        self.attrs = attrs
        self.text = ""


class Collect(HTMLParser):
    """Every element (flat list), with the text it contains."""

    VOID = {"meta", "link", "br", "input", "img", "hr", "line", "col"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[Element] = []
        self._open: list[Element] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        el = Element(tag, dict(attrs))
        self.elements.append(el)
        if tag == "script":
            self._in_script = True
        if tag not in self.VOID:
            self._open.append(el)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append(Element(tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False
        for i in range(len(self._open) - 1, -1, -1):
            if self._open[i].tag == tag:
                del self._open[i:]
                break

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts.append(data)
        for el in self._open:
            el.text += data

    def find(self, tag: str | None = None, **attrs: str) -> list[Element]:
        """Elements with this tag (any if None) whose attributes equal ``attrs`` (``_`` for ``-``)."""
        want = {k.replace("_", "-"): v for k, v in attrs.items()}
        return [
            e for e in self.elements
            if (tag is None or e.tag == tag) and all(e.attrs.get(k) == v for k, v in want.items())
        ]

    def having(self, attr: str, tag: str | None = None) -> list[Element]:
        return [e for e in self.elements if attr in e.attrs and (tag is None or e.tag == tag)]


def parse(html: str) -> Collect:
    c = Collect()
    c.feed(html)
    c.close()
    return c


def chart_values(doc: Collect, chart: str) -> dict[str, int]:
    """{data-key: data-value} of the bars of one chart (parsed in document order)."""
    out: dict[str, int] = {}
    inside = False
    for e in doc.elements:
        if e.tag == "svg":
            inside = e.attrs.get("data-chart") == chart
        elif inside and e.tag == "rect" and "data-key" in e.attrs:
            out[str(e.attrs["data-key"])] = int(str(e.attrs["data-value"]))
    return out
