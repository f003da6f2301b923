"""The report and a notice as a person sees them: headless Debian Chromium through Playwright.

No browser is downloaded: Playwright drives /usr/bin/chromium. Skipped only when that binary
is absent outside CI (CI installs it, so there a missing browser fails).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Iterator

import pytest
from _report_helpers import make_finding, make_summary, sample_findings

from pia_policy.report import write_reports

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]

if not Path(CHROMIUM).exists() and os.environ.get("CI") != "true":
    pytest.skip("Debian chromium is not installed (CI installs it)", allow_module_level=True)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A fresh Chromium context with its own user data directory."""
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, args=ARGS, headless=True,
            viewport={"width": 1366, "height": 900}, locale="ja-JP", timezone_id="Asia/Tokyo",
        )
        try:
            yield context
        finally:
            context.close()


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An output directory with summary.json, report.html and notices."""
    directory = tmp_path_factory.mktemp("out")
    findings = sample_findings()
    findings.insert(2, make_finding("ACCESS_DENIED_BY_POLICY", account_id="a006", department="健康保険課",
                                    system="fukushi"))
    summary = make_summary(findings)
    (directory / "summary.json").write_text(json.dumps(summary, ensure_ascii=False), encoding="utf-8")
    write_reports(directory, findings, summary)
    return directory


def _open(context: Any, path: Path) -> tuple[Any, list[str]]:
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: errors.append("network: " + r.url) if not r.url.startswith(("file:", "data:",
                                                                                             "about:")) else None)
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    return page, errors


def test_report_shows_the_summary_numbers(browser: Any, out: Path) -> None:
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    page, errors = _open(browser, out / "report.html")
    page.screenshot(path=str(out / "report.png"), full_page=True)
    assert (out / "report.png").stat().st_size > 10_000
    for key in ("events_evaluated", "lines_rejected", "duplicates"):
        card = page.locator(f'div.card[data-count="{key}"]')
        assert card.get_attribute("data-value") == str(summary["counts"][key])
        assert card.locator(".num").inner_text() == f"{summary['counts'][key]:,}"  # what a person reads
    for sev, n in summary["findings_by_severity"].items():
        assert page.locator(f'div.card[data-severity="{sev}"] .num').inner_text() == f"{n:,}"
    for chart in ("findings_by_rule", "findings_by_department", "findings_by_system", "events_by_day",
                  "flagged_events_by_day", "events_by_hour", "flagged_events_by_hour"):
        svg = page.locator(f'svg[data-chart="{chart}"]')
        assert svg.count() == 1 and svg.is_visible(), chart
        bars = svg.locator("rect.bar")
        shown = {bars.nth(i).get_attribute("data-key"): int(bars.nth(i).get_attribute("data-value") or 0)
                 for i in range(bars.count())}
        expected = summary["findings_by_rule"] if chart == "findings_by_rule" else summary["breakdowns"][chart]
        assert {k: v for k, v in shown.items() if v} == {k: v for k, v in expected.items() if v}, chart
        box = svg.bounding_box()
        assert box and box["width"] > 100 and box["height"] > 20
    assert errors == []


def test_filters_narrow_and_sorting_reorders(browser: Any, out: Path) -> None:
    page, errors = _open(browser, out / "report.html")
    rows = page.locator("#findings-table tbody tr:not(.hidden)")
    assert rows.count() == 8
    page.select_option("#filter-rule", "LONG_SESSION")
    assert rows.count() == 2
    assert page.locator("#shown-count").inner_text() == "2"
    page.select_option("#filter-department", "健康保険課")
    assert rows.count() == 1 and "a003" in rows.first.inner_text()
    page.click("#filter-reset")
    page.select_option("#filter-severity", "critical")
    assert rows.count() == 2
    page.select_option("#filter-severity", "")
    page.select_option("#filter-system", "hyojun")
    assert rows.count() == 2
    page.click("#filter-reset")
    page.fill("#filter-text", "a005")
    assert rows.count() == 1
    page.click("#filter-reset")
    assert rows.count() == 8
    # sort by event count: ascending, then descending
    page.click('th[data-sort-key="count"]')
    counts = [int(c.replace(",", "")) for c in page.locator("#findings-table tbody tr td.num").all_inner_texts()]
    assert counts == sorted(counts)
    page.click('th[data-sort-key="count"]')
    counts = [int(c.replace(",", "")) for c in page.locator("#findings-table tbody tr td.num").all_inner_texts()]
    assert counts == sorted(counts, reverse=True)
    assert errors == []


def test_english_switch_changes_labels(browser: Any, out: Path) -> None:
    page, errors = _open(browser, out / "report.html")
    heading = page.locator("#timeline h2")
    assert heading.inner_text() == "時系列（日本時間）"
    assert "令和" in page.locator("#as-of").inner_text()
    page.click("#lang-toggle")
    assert heading.inner_text() == "Timeline (JST)"
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("#as-of").inner_text() == "2025-04-02"
    assert page.locator("#filter-rule option").first.inner_text() == "All"
    assert "Findings by rule" in page.locator("#charts").inner_text()
    page.click("#lang-toggle")
    assert heading.inner_text() == "時系列（日本時間）"
    assert errors == []


def test_notice_opens_and_prints_on_a4(browser: Any, out: Path) -> None:
    page, errors = _open(browser, out / "notices" / "中央区健康課.html")
    page.screenshot(path=str(out / "notice.png"), full_page=True)
    text = page.locator("body").inner_text()
    assert "中央区健康課　所属長　様" in text
    assert "回答期限：令和7年4月16日 (2025-04-16)" in text
    assert page.locator("tr[data-account]").count() == 2
    pdf = page.pdf(format="A4")  # the print path works (headless Chromium)
    assert pdf[:4] == b"%PDF"
    assert errors == []
    # the report links to this notice, and the link resolves
    report, errors2 = _open(browser, out / "report.html")
    link = report.locator('a[data-notice="中央区健康課"]')
    assert link.count() == 1
    with report.expect_navigation():
        link.click()
    assert report.url.endswith(".html") and "%E4%B8%AD" in report.url
    assert "所属長" in report.locator("body").inner_text()
    assert errors2 == []

