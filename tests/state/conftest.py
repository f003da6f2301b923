"""Fixtures of the state tests: a state on SQLite (a file) or on the CI's PostgreSQL."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Iterator

import pytest
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))

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
    url = request.getfixturevalue("pg_url")
    drop_state(url)
    yield url
    drop_state(url)


@pytest.fixture
def sqlite_state(tmp_path: Path) -> str:
    """A fresh SQLite state (the tests whose PostgreSQL run would add nothing but time)."""
    return str(tmp_path / "state.db")
