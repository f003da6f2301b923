"""Fixtures of the inputs tests: a data directory builder and an ingest runner."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pytest

from pia_policy.inputs import IngestResult, ingest

AS_OF_UTC = dt.datetime(2025, 4, 1, 15, 0)  # --as-of 2025-04-02 → 00:00 JST
ACCOUNTS = "account_id,system,person_id,employment,department,roles,permission,issued_at\n"
PERSONNEL = "person_id,event,effective_date,from_department,to_department\n"


def event(**over: Any) -> dict[str, Any]:
    """A valid access event; ``over`` replaces or (value ``...``) removes fields."""
    base: dict[str, Any] = {
        "ts": "2025-04-01T09:00:00+09:00",
        "system": "fukushi",
        "seq": 1,
        "event_id": "e1",
        "account_id": "acc1",
        "session_id": "s1",
        "action": "view",
        "resource": "kihon_joho",
        "affair": "kouki-01",
        "subject_id": "sub1",
    }
    base.update(over)
    return {k: v for k, v in base.items() if v is not ...}


def jl(*events: dict[str, Any] | str) -> bytes:
    """JSON Lines bytes of events (dicts) or raw lines (str), LF-terminated."""
    out = [e if isinstance(e, str) else json.dumps(e, ensure_ascii=False) for e in events]
    return ("\n".join(out) + "\n").encode("utf-8")


class Run:
    """An ingest run over a data directory made of ``files`` ({relative path: bytes | str})."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.n = 0

    def dir(self, files: dict[str, bytes | str], *, ledgers: bool = True) -> Path:
        self.n += 1
        d = self.base / f"d{self.n}"
        (d / "events").mkdir(parents=True)
        if ledgers:
            files = {"accounts.csv": ACCOUNTS, "personnel.csv": PERSONNEL, **files}
        for rel, data in files.items():
            p = d / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
        return d

    def __call__(
        self, files: dict[str, bytes | str], *, ledgers: bool = True, **kw: Any
    ) -> tuple[duckdb.DuckDBPyConnection, IngestResult]:
        d = self.dir(files, ledgers=ledgers)
        con = duckdb.connect()
        kw.setdefault("as_of_utc", AS_OF_UTC)
        return con, ingest(con, d, **kw)


@pytest.fixture
def run(tmp_path: Path) -> Run:
    return Run(tmp_path)


@pytest.fixture
def rows() -> Callable[..., list[dict[str, Any]]]:
    def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
        cur = con.execute(sql)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r)) for r in cur.fetchall()]

    return _rows


def reconcile(con: duckdb.DuckDBPyConnection, res: IngestResult) -> None:
    """lines_read = evaluated + duplicates + rejected, and the tables agree with the counts."""
    c = res.counts
    assert c["lines_read"] == c["events_evaluated"] + c["duplicates"] + c["lines_rejected"]
    assert con.execute("SELECT count(*) FROM events").fetchone()[0] == c["events_evaluated"]
    assert con.execute("SELECT count(*) FROM duplicates").fetchone()[0] == c["duplicates"]
    n_rej = con.execute("SELECT count(*) FROM rejected WHERE file LIKE 'events/%'").fetchone()[0]
    assert n_rej == c["lines_rejected"]
    n_led = con.execute("SELECT count(*) FROM rejected WHERE file NOT LIKE 'events/%'").fetchone()[0]
    assert n_led == c["ledger_rows_rejected"]
    assert sum(c["rejected_by_reason"].values()) == c["lines_rejected"] + c["ledger_rows_rejected"]
    # Every record is accounted for exactly once.
    dup = con.execute(
        """SELECT count(*) FROM (SELECT file, line FROM events UNION ALL SELECT file, line FROM duplicates
           UNION ALL SELECT file, line FROM rejected WHERE file LIKE 'events/%') GROUP BY file, line HAVING count(*) > 1"""
    ).fetchall()
    assert dup == []


@pytest.fixture(name="reconcile")
def reconcile_fixture() -> Callable[[duckdb.DuckDBPyConnection, IngestResult], None]:
    return reconcile


@pytest.fixture(name="event")
def event_fixture() -> Callable[..., dict[str, Any]]:
    return event


@pytest.fixture(name="jl")
def jl_fixture() -> Callable[..., bytes]:
    return jl
