"""report.html: self-contained, escaped, numbers equal to the summary, bilingual, notices beside."""

from __future__ import annotations

import json
import re
from pathlib import Path

from _report_helpers import MY_NUMBER, chart_values, make_finding, make_summary, parse

from pia_policy import rules
from pia_policy.report import write_reports
from pia_policy.report._html import SIBLING_FILES


def _write(tmp_path: Path, findings, summary=None, **kw):  # type: ignore[no-untyped-def]
    summary = summary or make_summary(findings)
    paths = write_reports(tmp_path, findings, summary, **kw)
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    return paths, html, summary


def test_paths_returned_are_the_files_written(tmp_path: Path, sample_findings) -> None:  # type: ignore[no-untyped-def]
    paths, _, _ = _write(tmp_path, sample_findings)
    on_disk = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert sorted(paths) == on_disk
    assert paths[0] == "report.html"
    # notices: 中央区健康課 (LONG_SESSION, ACCOUNT_NOT_REVOKED), 健康保険課 (LONG_SESSION),
    # 美浜区市民総合窓口課 (ACCOUNT_DORMANT); no notice for findings of other rules
    assert sorted(paths[1:]) == sorted(
        ["notices/中央区健康課.html", "notices/健康保険課.html", "notices/美浜区市民総合窓口課.html"]
    )


def test_self_contained_no_network_reference(tmp_path: Path, sample_findings) -> None:  # type: ignore[no-untyped-def]
    _, html, _ = _write(tmp_path, sample_findings)
    doc = parse(html)
    assert not doc.find("link")
    assert not [e for e in doc.find("script") if "src" in e.attrs]
    assert not [e for e in doc.elements if e.tag in ("img", "iframe", "object", "embed")]
    assert not re.search(r"https?://(?!www\.w3\.org/2000/svg)", html)
    assert "@import" not in html and "url(" not in html
    # every link goes to an anchor, a notice written beside the report, or a SPEC §5 file beside it
    for a in doc.find("a"):
        href = a.attrs.get("href") or ""
        assert href.startswith("#") or href.startswith("notices/") or href in SIBLING_FILES, href
    assert {a.attrs.get("href") for a in doc.having("data-sibling", "a")} == set(SIBLING_FILES)


def test_cards_and_charts_carry_the_summary_numbers(tmp_path: Path, sample_findings) -> None:  # type: ignore[no-untyped-def]
    _, html, summary = _write(tmp_path, sample_findings)
    doc = parse(html)
    for key in ("events_evaluated", "lines_rejected", "duplicates", "lines_read"):
        (card,) = doc.find("div", data_count=key)
        assert int(str(card.attrs["data-value"])) == summary["counts"][key]
        assert f"{summary['counts'][key]:,}" in card.text
    for sev, n in summary["findings_by_severity"].items():
        (card,) = doc.find("div", data_severity=sev)
        assert int(str(card.attrs["data-value"])) == n
    nonzero = {k: v for k, v in summary["findings_by_rule"].items() if v}
    assert chart_values(doc, "findings_by_rule") == nonzero
    b = summary["breakdowns"]
    for name in ("events_by_day", "flagged_events_by_day", "events_by_hour", "flagged_events_by_hour",
                 "findings_by_department", "findings_by_system"):
        shown = {k: v for k, v in chart_values(doc, name).items() if v}
        assert shown == {k: v for k, v in b[name].items() if v}, name
    # the day axis is continuous: the missing day 2025-03-31 is shown as an empty bar
    assert list(chart_values(doc, "events_by_day")) == ["2025-03-30", "2025-03-31", "2025-04-01"]
    assert chart_values(doc, "events_by_day")["2025-03-31"] == 0
    assert list(chart_values(doc, "events_by_hour")) == [f"{h:02d}" for h in range(24)]


def test_table_has_one_row_per_finding_with_citation_and_remedy(tmp_path: Path, sample_findings) -> None:  # type: ignore[no-untyped-def]
    _, html, _ = _write(tmp_path, sample_findings)
    doc = parse(html)
    rows = doc.having("data-finding-id", "tr")
    assert [r.attrs["data-finding-id"] for r in rows] == [f.finding_id for f in sample_findings]
    for row, f in zip(rows, sample_findings):
        assert row.attrs["data-rule"] == f.rule
        assert row.attrs["data-severity"] == f.severity
        assert row.attrs["data-department"] == (f.department or "")
        assert row.attrs["data-system"] == (f.system or "")
        assert f.basis in row.text
        assert f.action in row.text
        assert rules.get(f.rule).title_ja in row.text and rules.get(f.rule).title_en in row.text
    # filters offer exactly the values present
    opts = {e.attrs.get("value") for e in doc.find("option")}
    assert {f.rule for f in sample_findings} <= opts
    assert {"中央区健康課", "健康保険課", "美浜区市民総合窓口課"} <= opts


def test_dates_in_wareki_with_iso(tmp_path: Path) -> None:
    f = make_finding("LONG_SESSION", first_ts="2025-03-31T15:00:00Z", last_ts="2025-04-01T01:00:00+00:00")
    _, html, _ = _write(tmp_path, [f])
    assert "令和7年4月1日 (2025-04-01) 00:00" in html  # 15:00 UTC = 00:00 JST next day
    assert "令和7年4月1日 (2025-04-01) 10:00" in html
    assert 'data-iso="2025-04-02"' in html and "令和7年4月2日 (2025-04-02)" in html  # audit date


def test_rule_unknown_to_the_catalogue_is_shown_by_its_id(tmp_path: Path) -> None:
    # A findings.jsonl from another version may carry a rule id this catalogue lacks:
    # the row keeps the id as its title and the finding's own severity.
    f = make_finding("LONG_SESSION", department="健康保険課").model_copy(
        update={"rule": "FUTURE_RULE", "severity": "high"})
    _, html, _ = _write(tmp_path, [f])
    (row,) = parse(html).having("data-finding-id", "tr")
    assert row.attrs["data-rule"] == "FUTURE_RULE" and row.attrs["data-severity"] == "high"
    assert "FUTURE_RULE" in row.text


def test_user_strings_are_escaped(tmp_path: Path) -> None:
    evil = '<script>alert("x")</script>"><img src=x onerror=alert(1)>'
    f = make_finding("UNKNOWN_ACCOUNT", account_id=evil, department=evil, person_id=evil)
    summary = make_summary([f])
    summary["file_errors"] = [{"file": evil, "error": evil}]
    summary["rules_skipped"] = [{"rule": "TERMINAL_NOT_AUTHORIZED", "missing": evil}]
    _, html, _ = _write(tmp_path, [f], summary)
    assert "<img src=x" not in html
    assert '<script>alert("x")' not in html
    doc = parse(html)
    assert len(doc.find("script")) == 1  # only the page's own script
    assert not [e for e in doc.elements if any(k.startswith("on") for k in e.attrs)]
    (row,) = doc.having("data-finding-id", "tr")
    assert row.attrs["data-department"] == evil  # the value survives, as data


def test_no_my_number_anywhere(tmp_path: Path) -> None:
    grouped = "1234-5678-9018"
    f = make_finding("LONG_SESSION", account_id=f"u{MY_NUMBER}x", department=f"課{grouped}",
                     person_id="１２３４５６７８９０１８")
    summary = make_summary([f])
    summary["file_errors"] = [{"file": f"events/{MY_NUMBER}.jsonl", "error": "x"}]
    paths, _, _ = _write(tmp_path, [f], summary)
    for rel in paths:
        text = (tmp_path / rel).read_text(encoding="utf-8")
        assert MY_NUMBER not in text and grouped not in text and "１２３４５６７８９０１８" not in text, rel
        assert "12345678" not in text and "1234-5678" not in text, rel
    assert all(MY_NUMBER not in p for p in paths)


def test_not_a_my_number_is_kept(tmp_path: Path) -> None:
    # 12 digits with a wrong check digit, and 13 digits: not My Numbers, shown as they are
    f = make_finding("LONG_SESSION", account_id="123456789012", person_id="1234567890180")
    _, html, _ = _write(tmp_path, [f])
    assert "123456789012" in html and "1234567890180" in html


def test_english_default_and_bilingual_labels(tmp_path: Path, sample_findings) -> None:  # type: ignore[no-untyped-def]
    _, html, _ = _write(tmp_path, sample_findings, lang="en")
    doc = parse(html)
    (body,) = doc.find("body")
    assert body.attrs["class"] == "lang-en" and body.attrs["data-default-lang"] == "en"
    # every Japanese label has its English twin
    ja = [e.text for e in doc.elements if e.tag == "span" and e.attrs.get("class") == "ja"]
    en = [e.text for e in doc.elements if e.tag == "span" and e.attrs.get("class") == "en"]
    assert len(ja) == len(en) > 50
    assert "Findings by rule" in en and "規則別の指摘" in ja


def test_no_findings_is_a_calm_page(tmp_path: Path) -> None:
    summary = make_summary([])
    paths, html, _ = _write(tmp_path, [], summary)
    assert paths == ["report.html"]
    doc = parse(html)
    assert not doc.having("data-finding-id", "tr")
    assert "指摘はありません。" in html
    (svg,) = doc.find("svg", data_chart="findings_by_rule")
    assert svg.attrs["data-bars"] == "0"


def test_summary_without_breakdowns_still_renders(tmp_path: Path, sample_findings) -> None:  # type: ignore[no-untyped-def]
    summary = make_summary(sample_findings)
    del summary["breakdowns"]
    _, html, _ = _write(tmp_path, sample_findings, summary)
    doc = parse(html)
    # department chart falls back to the findings themselves
    assert chart_values(doc, "findings_by_department")["中央区健康課"] == 2
    assert chart_values(doc, "events_by_day") == {}


def test_report_only_option(tmp_path: Path, sample_findings) -> None:  # type: ignore[no-untyped-def]
    paths, _, _ = _write(tmp_path, sample_findings, notices=False)
    assert paths == ["report.html"] and not (tmp_path / "notices").exists()


def test_rebuild_from_output_directory(tmp_path: Path, sample_findings) -> None:  # type: ignore[no-untyped-def]
    from pia_policy.report import write_reports_from_dir
    from pia_policy.report.__main__ import main

    summary = make_summary(sample_findings)
    (tmp_path / "summary.json").write_text(json.dumps(summary, ensure_ascii=False), encoding="utf-8")
    (tmp_path / "findings.jsonl").write_text(
        "".join(f.model_dump_json() + "\n" for f in sample_findings), encoding="utf-8")
    paths = write_reports_from_dir(tmp_path)
    assert "report.html" in paths and len(paths) == 4
    assert main([str(tmp_path / "missing")]) == 2
    assert main([str(tmp_path), "--no-notices", "--lang", "en"]) == 0


def test_table_rows_are_capped_but_counts_are_not(tmp_path: Path) -> None:
    findings = [make_finding("LONG_SESSION", account_id=f"u{i}") for i in range(4)]
    # boundary: exactly max_rows rows -> everything shown, no note
    _, html, _ = _write(tmp_path / "a", findings, max_rows=4)
    doc = parse(html)
    assert len(doc.having("data-finding-id", "tr")) == 4 and not doc.find(id="rows-truncated")
    # one more finding than the cap -> one left out, and said so
    _, html, _ = _write(tmp_path / "b", findings, max_rows=3)
    doc = parse(html)
    assert len(doc.having("data-finding-id", "tr")) == 3
    (note,) = doc.find(id="rows-truncated")
    assert note.attrs["data-value"] == "1" and "findings.csv" in note.text
    (card,) = doc.find("div", data_count="findings")
    assert card.attrs["data-value"] == "4"


def test_unknown_department_key_is_labelled(tmp_path: Path) -> None:
    f = make_finding("UNKNOWN_ACCOUNT", department=None)
    summary = make_summary([f])
    summary["breakdowns"]["findings_by_department"] = {"-": 1}  # the engine's key for "no department"
    _, html, _ = _write(tmp_path, [f], summary)
    doc = parse(html)
    assert chart_values(doc, "findings_by_department") == {"-": 1}
    svg_text = html.split('data-chart="findings_by_department"', 1)[1].split("</svg>", 1)[0]
    assert "（不明）" in svg_text and "(unknown)" in svg_text
