"""Policies in a database through sqlalchemy-adapter: SQLite by default, PostgreSQL when configured."""

from __future__ import annotations

import threading
import time
import uuid
from pathlib import Path
from typing import Iterator

import pytest
import sqlalchemy as sa

from pia_policy.models import AccessRequest
from pia_policy.policy import Policy
from pia_policy.policy._db import adapter

@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """(url, table) — a fresh table per test; dropped afterwards."""
    table = f"pia_policy_rule_{uuid.uuid4().hex[:12]}"
    url = f"sqlite:///{tmp_path / 'policy.db'}" if request.param == "sqlite" else request.getfixturevalue("pg_url")
    yield url, table
    engine = sa.create_engine(url)
    with engine.begin() as con:
        con.execute(sa.text(f'DROP TABLE IF EXISTS "{table}"'))
    engine.dispose()


TRANSFER = AccessRequest(version="2025-03-24", system="fukushi", department="健康保険課",
                         roles=frozenset({"kouki_staff"}), action="transfer", resource="kihon_joho",
                         affair="seishin_nyuin_iryohi", recipient_department="中央区健康課", method="fukushi_system")
RECIPIENT = AccessRequest(version="2025-03-24", system="fukushi", department="中央区健康課", action="view",
                          resource="iryo_hoken", affair="seishin_nyuin_iryohi")


def _line(policy: Policy, line_id: str, version: str) -> list[str]:
    return next(list(pl.values) for pl in policy.source_lines
                if pl.ptype == "p" and pl.values[-1] == line_id and pl.values[5] == version)


def test_save_and_load_round_trip(db: tuple[str, str], policy: Policy) -> None:
    url, table = db
    n = policy.save_to_database(url, table_name=table)
    assert n == len(policy.source_lines)
    stored = Policy.from_database(url, table_name=table)
    assert sorted((pl.ptype, pl.values) for pl in stored.source_lines) == \
        sorted((pl.ptype, pl.values) for pl in policy.source_lines)
    assert stored.business_departments == policy.business_departments
    for dept in sorted(policy.business_departments):
        for purpose in policy.purposes:
            for at in ("2025-03-23", "2025-03-24", "2025-11-26"):
                assert stored.check_transfer(dept, purpose, at=at) == policy.check_transfer(dept, purpose, at=at)
    assert stored.decide(TRANSFER) == stored.decide_with_casbin(TRANSFER)


def test_reload_picks_up_a_database_change(db: tuple[str, str], policy: Policy) -> None:
    url, table = db
    policy.save_to_database(url, table_name=table)
    stored = Policy.from_database(url, table_name=table)
    assert stored.decide(TRANSFER).allowed and stored.decide(RECIPIENT).allowed
    ad = adapter(url, table)
    ad.remove_policy("p", "p", _line(policy, "bessi1-4-transfer", "2025-03-24"))
    ad.remove_policy("p", "p", _line(policy, "bessi1-4-recipient", "2025-03-24"))
    assert stored.decide(TRANSFER).allowed  # not yet reloaded
    stored.reload()
    d = stored.decide(TRANSFER)
    assert not d.allowed and d.rule == "TRANSFER_NOT_PERMITTED"
    assert stored.decide(RECIPIENT).rule == "TRANSFER_NOT_PERMITTED"
    assert stored.decide(TRANSFER) == stored.decide_with_casbin(TRANSFER)
    # the other purpose of 各区健康課 is untouched
    assert stored.check_transfer("中央区健康課", "shoni_shitei_iryohi", at="2025-06-01").allowed


def test_reload_under_concurrent_readers(db: tuple[str, str], policy: Policy) -> None:
    url, table = db
    policy.save_to_database(url, table_name=table)
    stored = Policy.from_database(url, table_name=table)
    line = _line(policy, "bessi1-4-transfer", "2025-03-24")
    allowed = stored.decide(TRANSFER)
    ad = adapter(url, table)
    stop = threading.Event()
    errors: list[BaseException] = []
    seen: set[bool] = set()

    def reader() -> None:
        try:
            while not stop.is_set():
                d = stored.decide(TRANSFER)
                seen.add(d.allowed)
                # every answer is one whole generation: allowed with its line, or denied with its rule
                assert (d.allowed and d.matched == "bessi1-4-transfer") or \
                    (not d.allowed and d.rule == "TRANSFER_NOT_PERMITTED" and d.matched is None)
                assert stored.decide(RECIPIENT).allowed  # the recipient line is never touched
                time.sleep(0.0002)  # let the writer thread run
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=reader) for _ in range(4)]
    for t in threads:
        t.start()
    try:
        for i in range(8):
            if i % 2 == 0:
                ad.remove_policy("p", "p", line)
            else:
                ad.add_policy("p", "p", line)
            stored.reload()
            expected_allowed = i % 2 == 1
            assert stored.decide(TRANSFER).allowed is expected_allowed
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=30)
    assert not errors, errors[0]
    assert seen == {True, False}
    assert stored.decide(TRANSFER) == allowed


def test_database_missing_table_loads_empty_policy(db: tuple[str, str]) -> None:
    url, table = db
    empty = Policy.from_database(url, table_name=table)
    d = empty.decide(TRANSFER)
    assert not d.allowed and d.rule == "TRANSFER_NOT_PERMITTED"
    assert empty.decide(TRANSFER.model_copy(update={"action": "login"})).allowed is False
