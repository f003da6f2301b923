"""Fixtures of the end-to-end audit tests (real files, real ingest, real policy, real outputs)."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(scope="session")
def policy() -> Any:
    from pia_policy.policy import Policy

    return Policy.load()
