"""Fixtures: the shipped policy and one running service for the API tests."""

from __future__ import annotations

from typing import Iterator

import pytest
from serve_kit import Server, running

from pia_policy.policy import Policy
from pia_policy.serve import Service


@pytest.fixture(scope="session")
def shipped() -> Policy:
    return Policy.load()


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    with running(Service(Policy.load())) as s:
        yield s
