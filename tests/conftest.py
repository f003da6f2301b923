"""Fixtures shared by every test package."""

from __future__ import annotations

import os

import pytest

PG_ENV = "PIA_POLICY_TEST_PG_URL"


@pytest.fixture
def pg_url() -> str:
    """The CI's PostgreSQL URL (.ci/run starts it); skipped where none is configured, failed in CI."""
    url = os.environ.get(PG_ENV)
    if not url:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{PG_ENV} is not set in CI (.ci/run starts PostgreSQL and sets it)")
        pytest.skip(f"{PG_ENV} not set")
    return url
