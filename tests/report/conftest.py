"""Fixtures of the report tests."""

from __future__ import annotations

import pytest
from _report_helpers import make_finding

from pia_policy.models import Finding


@pytest.fixture()
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
