"""Fixtures of the rule tests: the real shipped policy and an empty World."""

from __future__ import annotations

from typing import Any

import pytest
from rules_world import World


@pytest.fixture(scope="session")
def policy() -> Any:
    from pia_policy.policy import Policy

    return Policy.load()


@pytest.fixture
def world(policy: Any) -> World:
    return World(policy)
