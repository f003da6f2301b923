"""Fixtures of the report tests."""

from __future__ import annotations

import pytest
from _report_helpers import sample_findings

from pia_policy.models import Finding


@pytest.fixture(name="sample_findings")
def sample_findings_fixture() -> list[Finding]:
    """A small mix: notice rules in two departments, an unknown account, a LOG finding."""
    return sample_findings()
