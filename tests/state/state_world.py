"""A small city whose events span the 2025-03-24 policy version change, a personnel transfer, a
session across midnight, a bulk-access day, a seq hole and repeat and a log gap: split into nights
at chosen instants, audited night by night with a state or in one go without."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "audit"))

from audit_data import account, write_data  # noqa: E402

from pia_policy.audit import audit  # noqa: E402
from pia_policy.models import JST  # noqa: E402

#: The fields of the invariant (SPEC §8).
KEY = ("finding_id", "rule", "severity", "system", "account_id", "first_ts", "last_ts", "event_count")
START = dt.datetime(2025, 3, 21, 0, 0, tzinfo=JST)  # Friday (03-20 is a holiday)
END = dt.datetime(2025, 3, 27, 0, 0, tzinfo=JST)
THRESHOLDS = {"bulk_subjects": 5}

ACCOUNTS = [
    account("A1", last_login_at="2025-03-01T09:00:00+09:00"),
    account("A2", last_login_at="2025-03-01T09:00:00+09:00"),  # holder moves out on 03-24
    account("A3", last_login_at="2025-03-01T09:00:00+09:00"),
    account("R1", department="保護課", roles="", last_login_at="2025-03-01T09:00:00+09:00"),  # recipient
    account("D1", last_login_at="2024-10-01T09:00:00+09:00"),  # dormant, logs in on 03-25
    account("D2", last_login_at="2024-10-01T09:00:00+09:00"),  # dormant, stays so
    account("V1", last_login_at="2025-03-01T09:00:00+09:00", revoked_at="2025-03-25"),
]
PERSONNEL = [{"person_id": "P-A2", "event": "transfer", "effective_date": "2025-03-24",
              "from_department": "健康保険課", "to_department": "保護課"}]


def _at(day: int, hh: int, mm: int = 0) -> dt.datetime:
    return dt.datetime(2025, 3, day, hh, mm, tzinfo=JST)


def base_events() -> list[dict[str, Any]]:
    """Every event of the city, in time order, with per-system ``seq`` (a hole and a repeat)."""
    raw: list[tuple[dt.datetime, str, str, dict[str, Any]]] = []

    def add(at: dt.datetime, acc: str, action: str, **kw: Any) -> None:
        if action not in ("login", "logout"):
            kw.setdefault("resource", "kihon_joho")
            kw.setdefault("affair", "kouki-01")
        raw.append((at, acc, action, kw))

    for day in range(21, 27):
        if day in (22, 23):  # weekend: a little traffic
            add(_at(day, 10), "A1", "view", subject_id="S0")
            continue
        for acc in ("A1", "A2", "A3"):
            add(_at(day, 8, 30), acc, "login", session_id=f"{acc}-{day}")
        minutes = list(range(8 * 60 + 40, 17 * 60 + 30, 25))
        if day == 25:  # a 2 h silence in business hours: LOG_GAP
            minutes = [m for m in minutes if not 13 * 60 <= m < 15 * 60]
        for i, m in enumerate(minutes):
            add(_at(day, m // 60, m % 60), ("A1", "A2", "A3")[i % 3], "view", subject_id=f"S{i % 4}")
        for acc in ("A1", "A2"):
            add(_at(day, 17, 45), acc, "logout", session_id=f"{acc}-{day}")
        if day != 24:  # A3 forgets to log out on 03-24: a session open across midnight
            add(_at(day, 17, 50), "A3", "logout", session_id=f"A3-{day}")
        add(_at(day, 11), "R1", "view", affair="gaikokujin_hogo")  # a transfer: denied before 03-24
        add(_at(day, 12), "V1", "view")  # revoked from 03-25
        add(_at(day, 12, 5), "U9", "view")  # not in the ledger
    # a session across midnight, 12 h (LONG_SESSION), and a short one across midnight
    add(_at(21, 20), "A1", "login", session_id="late-21")
    add(_at(22, 8), "A1", "logout", session_id="late-21")
    add(_at(25, 23), "A2", "login", session_id="late-25")
    add(_at(26, 1), "A2", "logout", session_id="late-25")
    # a bulk day: A3 touches 8 people on 03-25, spread over the day (threshold 5)
    for i in range(8):
        add(_at(25, 9, 10) + dt.timedelta(minutes=20 * i), "A3", "search", subject_id=f"B{i}")
    # D1 wakes up on 03-25
    add(_at(25, 9, 1), "D1", "login", session_id="d1")
    add(_at(25, 9, 2), "D1", "logout", session_id="d1")
    raw.sort(key=lambda r: (r[0], r[1], r[2]))
    events = []
    seq = 1000
    for n, (at, acc, action, kw) in enumerate(raw):
        seq += 1
        if n == 40:
            seq += 3  # a hole of three numbers
        row = {"ts": at.isoformat(), "system": "fukushi", "seq": seq, "event_id": f"E{n:05d}",
               "account_id": acc, "action": action, **kw}
        events.append(row)
        if n == 90:  # the same number twice (another event id)
            events.append({**row, "event_id": f"E{n:05d}b"})
    return events


def ts_of(e: dict[str, Any]) -> dt.datetime:
    return dt.datetime.fromisoformat(e["ts"])


def write_night(root: Path, name: str, events: list[Any]) -> Path:
    if root.exists():
        shutil.rmtree(root)
    return write_data(root, {f"{name}.jsonl": events}, ACCOUNTS, PERSONNEL)


def keys(findings: list[Any]) -> list[tuple[Any, ...]]:
    return sorted(tuple(getattr(f, k) for k in KEY) for f in findings)


def run_nights(tmp: Path, nights: list[tuple[str, list[dict[str, Any]]]], state: str, **kw: Any) -> list[Any]:
    """Audit each (as_of, events) night with one state; returns the results."""
    out = []
    for i, (as_of, evs) in enumerate(nights):
        data = write_night(tmp / f"night{i}", f"n{i:02d}", evs)
        out.append(audit(data, as_of=as_of, out=tmp / f"out{i}", state=state, reports=False,
                         thresholds=THRESHOLDS, log=lambda *a, **k: None, **kw))
    return out


def run_all(tmp: Path, nights: list[tuple[str, list[dict[str, Any]]]]) -> Any:
    """One audit without state over every night's events (one file per night) at the last --as-of."""
    root = tmp / "all"
    if root.exists():
        shutil.rmtree(root)
    data = write_data(root, {f"n{i:02d}.jsonl": evs for i, (_, evs) in enumerate(nights)}, ACCOUNTS, PERSONNEL)
    return audit(data, as_of=nights[-1][0], out=tmp / "out_all", reports=False, thresholds=THRESHOLDS,
                 log=lambda *a, **k: None)


def dumps(e: dict[str, Any]) -> str:
    return json.dumps(e, ensure_ascii=False)
