"""The 変更箇所 table prints on A4 landscape: headless Debian Chromium (Playwright) renders it to PDF."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from pia_policy.policy import Policy, change_rows, render_changes

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"

if not Path(CHROMIUM).exists() and os.environ.get("CI") != "true":
    pytest.skip("Debian chromium is not installed (CI installs it)", allow_module_level=True)


def test_html_prints_on_a4_landscape(tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    policy = Policy.load()
    page_html = render_changes(change_rows(policy.source_lines, policy.versions, policy.metadata, "2020",
                                           "2025-11-26"), "html")
    path = tmp_path / "changes.html"
    path.write_text(page_html, encoding="utf-8")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"], headless=True)
        try:
            page = browser.new_page()
            page.goto(path.as_uri())
            cells = page.locator("tbody tr").count()
            header = page.locator("thead th").all_inner_texts()
            pdf = page.pdf(prefer_css_page_size=True)
        finally:
            browser.close()
    assert cells == 2
    assert header == ["変更日", "項目", "変更前の記載", "変更後の記載", "提出時期", "提出時期に係る説明"]
    boxes = [tuple(float(x) for x in m.groups())
             for m in re.finditer(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", pdf)]
    assert boxes, "no page in the PDF"
    for width, height in boxes:  # A4 landscape: 297 x 210 mm = 841.89 x 595.28 pt
        assert abs(width - 841.89) < 2 and abs(height - 595.28) < 2, (width, height)
