"""Fixtures of the state tests: a state on SQLite (a file) or on the CI's PostgreSQL."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Iterator

import pytest
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))

PG_ENV = "PIA_POLICY_TEST_PG_URL"


def pg_url() -> str:
    url = os.environ.get(PG_ENV)
    if not url:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{PG_ENV} is not set in CI (.ci/run starts PostgreSQL and sets it)")
        pytest.skip(f"{PG_ENV} not set")
    return url


def drop_state(url: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as con:
        for t in ("pia_meta", "pia_nights", "pia_blobs", "pia_findings", "pia_triage"):
            con.execute(sa.text(f"DROP TABLE IF EXISTS {t}"))
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def state(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty state: a SQLite file path or a PostgreSQL URL (its pia_* tables dropped)."""
    if request.param == "sqlite":
        yield str(tmp_path / "state.db")
        return
    url = pg_url()
    drop_state(url)
    yield url
    drop_state(url)


@pytest.fixture
def sqlite_state(tmp_path: Path) -> str:
    """A fresh SQLite state (the tests whose PostgreSQL run would add nothing but time)."""
    return str(tmp_path / "state.db")
