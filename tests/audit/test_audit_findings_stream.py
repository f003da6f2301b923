"""Findings stay in DuckDB and are streamed to the outputs (issue 16 item 5): the API result is bounded,
the files hold every finding, and the report keeps only its table rows and the notices' findings."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from audit_data import HOLDER, account, event, write_data

from pia_policy.audit import audit
from pia_policy.report import REPORT_ROWS

AS_OF = "2025-06-02"
UNKNOWN = REPORT_ROWS + 40


def _quiet() -> object:
    from pia_policy.audit._log import run_logger

    return run_logger(io.StringIO())


@pytest.fixture(scope="module")
def crowd(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """REPORT_ROWS + 40 events of distinct unknown accounts (critical) and one dormant known account
    (medium): the dormant finding sorts after every critical one, beyond the report's rows."""
    root = tmp_path_factory.mktemp("crowd")
    evs = [event(i + 1, f"2025-05-30T{9 + i % 8:02d}:{i % 60:02d}:00+09:00", f"U{i:06d}")
           for i in range(UNKNOWN)]
    dormant = account("D1", last_login_at="2025-01-01T09:00:00+09:00")
    return write_data(root / "data", {"a.jsonl": evs}, [dormant])


def test_result_is_bounded_and_the_files_hold_every_finding(crowd: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = audit(crowd, as_of=AS_OF, out=out, log=_quiet(), findings_limit=25)
    lines = (out / "findings.jsonl").read_text(encoding="utf-8").splitlines()
    assert result.findings_total == len(lines) == UNKNOWN + 1
    assert len(result.findings) == 25 and result.findings_truncated
    assert [f.finding_id for f in result.findings] == [json.loads(line)["finding_id"] for line in lines[:25]]
    streamed = list(result.iter_findings())
    assert [f.finding_id for f in streamed] == [json.loads(line)["finding_id"] for line in lines]
    assert streamed[-1].rule == "ACCOUNT_DORMANT"  # severity order: the medium one last
    csv_rows = (out / "findings.csv").read_text(encoding="utf-8-sig").splitlines()
    assert len(csv_rows) == UNKNOWN + 2  # header + every finding
    assert result.summary["findings_by_severity"]["critical"] == UNKNOWN
    # the report's table stops at REPORT_ROWS; the dormant finding beyond it still gets its notice
    html = (out / "report.html").read_text(encoding="utf-8")
    assert f'id="rows-truncated" data-value="{UNKNOWN + 1 - REPORT_ROWS}"' in html
    assert html.count('<tr id="f-') == REPORT_ROWS
    (notice,) = (out / "notices").glob("*.html")
    assert notice.name == f"{HOLDER}.html" and 'data-account="D1"' in notice.read_text(encoding="utf-8")


def test_without_out_the_limit_none_keeps_every_finding(crowd: Path) -> None:
    result = audit(crowd, as_of=AS_OF, log=_quiet(), findings_limit=None, reports=False)
    assert len(result.findings) == result.findings_total == UNKNOWN + 1 and not result.findings_truncated
    assert len(list(result.iter_findings())) == UNKNOWN + 1
    bounded = audit(crowd, as_of=AS_OF, log=_quiet(), reports=False)
    assert len(bounded.findings) == 10_000 and bounded.findings == result.findings[:10_000]
    with pytest.raises(ValueError, match="findings_limit"):
        next(bounded.iter_findings())
