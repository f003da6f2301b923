"""SPEC §8 continuity: deferred events, duplicates across nights, night order, reruns, the state
file's mode, one run at a time, and the example city split per day (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import json
import fcntl
import os
import shutil
import stat
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from state_world import keys, run_nights, write_night

from pia_policy.audit import audit
from pia_policy.cli import main
from pia_policy.state import StateError

CITY = Path(__file__).resolve().parents[2] / "examples" / "city"


def ev(n: int, ts: str, acc: str = "A1", action: str = "view", **kw: Any) -> dict[str, Any]:
    row = {"ts": ts, "system": "fukushi", "event_id": f"X{n}", "account_id": acc, "action": action, **kw}
    if action not in ("login", "logout"):
        row.setdefault("resource", "kihon_joho")
        row.setdefault("affair", "kouki-01")
    return row


def test_event_after_midnight_is_judged_the_next_night(tmp_path: Path, state: str) -> None:
    """logrotate at 00:05 puts a 00:01 event in the previous day's file: deferred, then judged."""
    n1 = [ev(1, "2025-03-25T10:00:00+09:00"), ev(2, "2025-03-26T00:01:00+09:00", acc="U9")]
    n2 = [ev(3, "2025-03-26T10:00:00+09:00")]
    r1, r2 = run_nights(tmp_path, [("2025-03-26", n1), ("2025-03-27", n2)], state)
    c1, c2 = r1.summary["counts"], r2.summary["counts"]
    assert (c1["deferred"], c1["lines_rejected"], c1["events_evaluated"]) == (1, 0, 1)
    assert c1["lines_read"] == c1["events_evaluated"] + c1["duplicates"] + c1["lines_rejected"] + c1["deferred"]
    assert not [f for f in r1.findings if f.rule == "UNKNOWN_ACCOUNT"]
    assert (c2["resumed"], c2["deferred"], c2["events_evaluated"]) == (1, 0, 1)
    unknown = [f for f in r2.findings if f.rule == "UNKNOWN_ACCOUNT"]
    assert [(f.account_id, f.event_count, f.first_ts, f.lifecycle) for f in unknown] == \
        [("U9", 1, "2025-03-26T00:01:00+09:00", "new")]
    assert [(e.file, e.line) for e in unknown[0].evidence] == [("events/n00.jsonl", 2)]


def test_without_state_the_same_event_is_rejected(tmp_path: Path) -> None:
    """The near miss: a stateless night still rejects it (SPEC §4), as before."""
    data = write_night(tmp_path / "d", "n00", [ev(2, "2025-03-26T00:01:00+09:00", acc="U9")])
    r = audit(data, as_of="2025-03-26", out=tmp_path / "o", reports=False)
    assert r.summary["counts"]["rejected_by_reason"] == {"after_audit_time": 1}
    assert "deferred" not in r.summary["counts"]


def test_event_id_seen_on_an_earlier_night_is_a_duplicate(tmp_path: Path, state: str) -> None:
    first = ev(1, "2025-03-25T10:00:00+09:00", acc="U9")
    later = ev(2, "2025-03-26T00:30:00+09:00", acc="U9")  # deferred on night 1, resent on night 2
    r1, r2 = run_nights(tmp_path, [("2025-03-26", [first, later]),
                                   ("2025-03-27", [first, later, ev(3, "2025-03-26T10:00:00+09:00")])], state)
    c2 = r2.summary["counts"]
    assert (c2["duplicates"], c2["events_evaluated"], c2["resumed"]) == (2, 1, 1)
    assert c2["lines_read"] == 3
    dups = (tmp_path / "out1" / "duplicates.jsonl").read_text(encoding="utf-8")
    assert '"first_file":"events/n00.jsonl"' in dups.replace(" ", "")
    unknown = next(f for f in r2.findings if f.rule == "UNKNOWN_ACCOUNT")
    assert unknown.event_count == 2  # each event counted once across nights


def test_earlier_night_is_refused_naming_the_latest(tmp_path: Path, state: str, capsys: Any) -> None:
    run_nights(tmp_path, [("2025-03-26", [ev(1, "2025-03-25T10:00:00+09:00")])], state)
    data = write_night(tmp_path / "old", "n00", [ev(2, "2025-03-24T10:00:00+09:00")])
    code = main(["audit", str(data), "--as-of", "2025-03-25", "--out", str(tmp_path / "o"), "--state", state])
    assert code == 2
    err = capsys.readouterr().err
    assert "2025-03-26" in err
    assert not (tmp_path / "o").exists()


def test_rerunning_the_latest_night_replaces_it(tmp_path: Path, state: str) -> None:
    n1 = ("2025-03-26", [ev(1, "2025-03-25T10:00:00+09:00", acc="U9")])
    wrong = ("2025-03-27", [ev(2, "2025-03-26T10:00:00+09:00", acc="U9"), ev(3, "2025-03-26T11:00:00+09:00", acc="U8")])
    right = ("2025-03-27", [ev(2, "2025-03-26T10:00:00+09:00", acc="U9")])
    run_nights(tmp_path / "a", [n1, wrong], state)
    (rerun,) = run_nights(tmp_path / "b", [right], state)
    fresh = run_nights(tmp_path / "c", [n1, right], str(tmp_path / "fresh.db"))[-1]
    assert keys(rerun.findings) == keys(fresh.findings)
    assert rerun.summary["state"]["rerun"] is True
    assert {f.account_id for f in rerun.findings if f.rule == "UNKNOWN_ACCOUNT"} == {"U9"}
    assert next(f for f in rerun.findings if f.account_id == "U9").lifecycle == "ongoing"


def test_sqlite_state_is_created_0600(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    run_nights(tmp_path, [("2025-03-26", [ev(1, "2025-03-25T10:00:00+09:00")])], str(path))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_second_run_on_a_busy_state_exits_2(tmp_path: Path, state: str, capsys: Any) -> None:
    """A run holds the state (the lock a running audit takes): a second one exits 2, writes nothing."""
    run_nights(tmp_path, [("2025-03-26", [ev(1, "2025-03-25T10:00:00+09:00")])], state)
    data = write_night(tmp_path / "d2", "n01", [ev(2, "2025-03-26T10:00:00+09:00")])
    holder: Any
    if "://" in state:
        engine = sa.create_engine(state)
        holder = engine.connect()
        from pia_policy.state._store import StateStore

        store = StateStore(state)
        store.lock()  # what a running audit holds
        holder.close()
        engine.dispose()
        release = store.close
    else:
        fd = os.open(f"{state}.lock", os.O_CREAT | os.O_RDWR, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        release = lambda: os.close(fd)  # noqa: E731
    try:
        code = main(["audit", str(data), "--as-of", "2025-03-27", "--out", str(tmp_path / "o2"), "--state", state])
        assert code == 2
        err = capsys.readouterr().err
        assert "使用中" in err or "in use" in err
        assert not (tmp_path / "o2").exists()
    finally:
        release()
    code = main(["audit", str(data), "--as-of", "2025-03-27", "--out", str(tmp_path / "o2"), "--state", state])
    assert code in (0, 1)


def test_state_errors_name_the_problem(tmp_path: Path) -> None:
    with pytest.raises(StateError, match="not usable|使えません"):
        audit(tmp_path, as_of="2025-03-26", state="mysql://x/y")
    with pytest.raises(StateError, match="does not exist|ありません"):
        audit(tmp_path, as_of="2025-03-26", state=str(tmp_path / "nowhere" / "s.db"))


def test_city_split_per_day(tmp_path: Path) -> None:
    """examples/city, one night per day of logs, gives the findings of one audit over all of it."""
    state = str(tmp_path / "state.db")
    files = sorted((CITY / "events").iterdir())
    days = sorted({f.name.split("-", 1)[1].split(".")[0] for f in files})
    last = None
    for d in days:
        data = tmp_path / f"d{d}"
        (data / "events").mkdir(parents=True)
        for c in CITY.glob("*.csv"):
            shutil.copy(c, data)
        for f in files:
            if d in f.name:
                shutil.copy(f, data / "events" / f.name)
        as_of = (dt.date.fromisoformat(d) + dt.timedelta(days=1)).isoformat()
        last = audit(data, as_of=as_of, out=tmp_path / f"o{d}", state=state, reports=False,
                     log=lambda *a, **k: None)
        shutil.rmtree(data)
    assert last is not None
    whole = audit(CITY, as_of=last.summary["as_of"], out=tmp_path / "all", reports=False, log=lambda *a, **k: None)
    assert keys(last.findings) == keys(whole.findings)
    assert len(whole.findings) > 20
    # nightly memory: a dormant account that logged in on an earlier night is not dormant tonight
    assert sum(last.summary["lifecycle"].values()) >= len(last.findings)


def test_duplicates_found_in_any_row_group_of_earlier_nights(tmp_path: Path, monkeypatch: Any) -> None:
    """The earlier ids are read by row group ranges (SEEN_ROW_GROUP): a repeated id is found in
    whichever group holds it; an id inside a group's range but never seen is not a duplicate."""
    from pia_policy.state import _store

    monkeypatch.setattr(_store, "SEEN_ROW_GROUP", 4)
    state = str(tmp_path / "s.db")
    n1 = [dict(ev(0, "2025-03-25T10:00:00+09:00"), event_id=f"X{i:03d}") for i in range(40)]
    n2 = [dict(ev(0, "2025-03-26T10:00:00+09:00"), event_id=e) for e in ("X017", "X039", "X0175", "Y001")]
    n3 = [dict(ev(0, "2025-03-27T10:00:00+09:00"), event_id=e) for e in ("X000", "X0175", "Z001")]
    _, r2, r3 = run_nights(tmp_path, [("2025-03-26", n1), ("2025-03-27", n2), ("2025-03-28", n3)], state)
    assert (r2.summary["counts"]["duplicates"], r2.summary["counts"]["events_evaluated"]) == (2, 2)
    assert (r3.summary["counts"]["duplicates"], r3.summary["counts"]["events_evaluated"]) == (2, 1)
    dups = sorted(json.loads(x)["event_id"] for x in
                  (tmp_path / "out2" / "duplicates.jsonl").read_text(encoding="utf-8").splitlines())
    assert dups == ["X000", "X0175"]
