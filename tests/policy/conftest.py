"""Fixtures for the policy tests: the shipped policy, loaded once, and a copy to edit."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pia_policy.policy import Policy, default_policy_dir


@pytest.fixture(scope="session")
def policy() -> Policy:
    return Policy.load()


@pytest.fixture()
def policy_copy(tmp_path: Path) -> Path:
    """A writable copy of the shipped policy directory."""
    dest = tmp_path / "policies"
    shutil.copytree(default_policy_dir(), dest)
    return dest
