#!/usr/bin/env python3
"""Generate a deterministic synthetic municipality in the SPEC §3 audit layout.

Usage::

    python examples/generate_city.py --seed 7 --events 30000 --days 16 --out examples/city \
        [--start 2025-03-19] [--truth examples/city_truth.json] [--format mixed|jsonl] [--jobs N]

The city: the holder departments (健康保険課 and the six 区 市民総合窓口課) and the 別紙1
recipient departments with their six wards, ~2,000 staff with ~3,900 accounts across the
three systems (``gyomu_kyotsu``, ``fukushi``, ``hyojun``), business-hour traffic with a lunch
dip, next to nothing on weekends and holidays, sessions, transfers to the recipients once a
policy version that declares them is in force (2025-03-24), exports by officers in office,
contractors inside their approval windows, the April 1 personnel-transfer wave.

It plants violations of every SPEC §4 rule and near misses that must not be flagged, and
writes the ground truth (``--truth``, default ``<out>_truth.json`` beside the data directory).

Output files (``--format mixed``, the default; ``jsonl`` writes plain NDJSON only):

- ``events/<system>-<YYYY-MM-DD>.jsonl[.gz]``: one file per system per JST day, rotated the
  logrotate way (every day but the last gzipped); ``hyojun`` of the first day is a CSV file.
  ``fukushi`` writes ``+09:00`` times, ``gyomu_kyotsu`` UTC (``Z``), ``hyojun`` naive JST.
- ``accounts.csv`` UTF-8 with BOM; ``personnel.csv`` **CP932** (Shift_JIS, as 人事 systems
  export it); ``officers.csv``, ``terminals.csv``, ``approvals.csv`` UTF-8 without BOM.

Generation streams per (day, system) in parallel worker processes; the output is byte-identical
for a seed whatever ``--jobs`` is.
"""

from __future__ import annotations

import argparse
import calendar
import csv
import datetime as dt
import gzip
import io
import itertools
import json
import math
import multiprocessing as mp
import os
import random
import shlex
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import jpholiday

try:
    from pia_policy.departments import DEFAULT_HOLDER_DEPARTMENTS, WARDS, expand_department
except ModuleNotFoundError:  # pragma: no cover - run from a checkout without install
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from pia_policy.departments import DEFAULT_HOLDER_DEPARTMENTS, WARDS, expand_department

__all__ = ["generate", "main", "business_day", "PURPOSES"]

SYSTEMS: tuple[str, ...] = ("gyomu_kyotsu", "fukushi", "hyojun")
SYS_PREFIX = {"gyomu_kyotsu": "G", "fukushi": "F", "hyojun": "H"}
SYS_SHARE = {"gyomu_kyotsu": 0.25, "fukushi": 0.45, "hyojun": 0.30}

#: SPEC §2.2 (別紙1): purpose code → recipient departments (「各区X課」 expanded).
PURPOSES: dict[str, tuple[str, ...]] = {
    "gaikokujin_hogo": ("保護課",) + expand_department("各区社会支援課"),
    "shinshin_iryohi": ("障害者自立支援課",) + expand_department("各区高齢障害支援課"),
    "hitorioya_iryohi": ("こども家庭支援課",) + expand_department("各区こども家庭課"),
    "seishin_nyuin_iryohi": ("精神保健福祉課",) + expand_department("各区健康課"),
    "shoni_shitei_iryohi": ("健康支援課",) + expand_department("各区健康課"),
}
#: Transfers are declared from this JST day on (policy version ``2025-03-24``).
TRANSFERS_FROM = dt.date(2025, 3, 24)
#: My Number affairs common to every version (15 is removed and 16 added on 2025-11-26).
MN_AFFAIRS: tuple[str, ...] = tuple(f"kouki-{n:02d}" for n in (1, 4, 5, 6, 8, 9, 11, 13, 14))
KOUKI_AFFAIRS: tuple[str, ...] = tuple(f"kouki-{n:02d}" for n in range(1, 13))
GENERAL_RESOURCES: tuple[str, ...] = (
    "kihon_joho", "kihon_joho", "kihon_joho", "iryo_hoken", "iryo_hoken", "iryo_hoken",
    "chihouzei", "kaigo", "nenkin", "kenko_iryo", "seikatsu_hogo",
)
TRANSFER_RESOURCES: tuple[str, ...] = ("kihon_joho", "iryo_hoken")
NON_BUSINESS_DEPARTMENT = "総務課"

_HOLDER_SIZES = {"健康保険課": 150, **{f"{w}市民総合窓口課": 80 for w in WARDS}}
_RECIPIENT_SIZES = {
    "保護課": 45, "障害者自立支援課": 40, "こども家庭支援課": 40, "精神保健福祉課": 35, "健康支援課": 35,
    **{f"{w}社会支援課": 55 for w in WARDS}, **{f"{w}高齢障害支援課": 45 for w in WARDS},
    **{f"{w}こども家庭課": 40 for w in WARDS}, **{f"{w}健康課": 45 for w in WARDS},
}
_OFFICER_FROM = dt.date(2010, 4, 1)
_DAY = 86400
_HOUR = 3600
_HMS = [f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in range(_DAY)]
_EVENT_COLUMNS = ("ts", "system", "seq", "event_id", "account_id", "session_id", "terminal_id", "action",
                  "resource", "affair", "subject_id", "recipient_department", "method", "record_ref")
#: Session starts by JST half hour (08:00 … 19:30): a morning ramp, a lunch dip, an evening tail.
_START_WEIGHTS = (0.5, 0.8, 1.0, 1.0, 1.0, 1.0, 0.9, 0.8, 0.3, 0.3, 0.8, 0.9, 1.0, 1.0, 1.0, 0.9, 0.8, 0.6,
                  0.3, 0.15, 0.1, 0.05, 0.03, 0.02)
_CAP_SUBJECT_EVENTS = 400  # per account per day: benign traffic stays far below BULK_ACCESS
_HEARTBEAT_STEP = 25 * 60  # at least one session every 25 minutes on business days


# --------------------------------------------------------------------------------------- time
def business_day(d: dt.date) -> bool:
    """SPEC §4: not a weekend, a national holiday (振替休日/国民の休日 included) or 12/29–1/3."""
    if d.weekday() >= 5 or jpholiday.is_holiday(d):
        return False
    return not ((d.month == 12 and d.day >= 29) or (d.month == 1 and d.day <= 3))


def _epoch(d: dt.date, seconds: int = 0) -> int:
    """Epoch seconds of JST day ``d`` plus ``seconds``."""
    return calendar.timegm((d.year, d.month, d.day, 0, 0, 0)) - 9 * _HOUR + seconds


def _jst_day(t: int) -> dt.date:
    return dt.date(1970, 1, 1) + dt.timedelta(days=(t + 9 * _HOUR) // _DAY)


def _iso_jst(t: int) -> str:
    d = _jst_day(t)
    return f"{d.isoformat()}T{_HMS[(t + 9 * _HOUR) % _DAY]}+09:00"


def _hm(h: int, m: int = 0, s: int = 0) -> int:
    return h * _HOUR + m * 60 + s


# ------------------------------------------------------------------------------------ records
@dataclass
class Acc:
    """One ledger row plus what the traffic generator needs to know about it."""

    account_id: str
    system: str
    person_id: str
    employment: str
    department: str
    roles: tuple[str, ...]
    permission: str
    issued_at: dt.date
    issued_by: str = ""
    approved_by: str = ""
    request_ref: str = ""
    revoked_at: dt.date | None = None
    expires_at: dt.date | None = None
    last_login_at: str = ""
    pool: bool = True  # in the benign traffic pool (plants and contractors are not)
    left_at: dt.date | None = None  # its holder leaves its department on this day
    starts_at: dt.date | None = None  # its holder joins its department on this day

    def active_all_day(self, d: dt.date) -> bool:
        end = d + dt.timedelta(days=1)
        if self.issued_at > d or (self.starts_at is not None and self.starts_at > d):
            return False
        for limit in (self.revoked_at, self.expires_at, self.left_at):
            if limit is not None and limit < end:
                return False
        return True


@dataclass
class Truth:
    findings: list[dict[str, Any]] = field(default_factory=list)
    must_not_flag: list[dict[str, Any]] = field(default_factory=list)

    def plant(self, rule: str, system: str, account_id: str | None, note: str) -> None:
        self.findings.append({"rule": rule, "system": system, "account_id": account_id, "note": note})

    def near(self, rule: str, system: str, account_id: str | None, note: str) -> None:
        self.must_not_flag.append({"rule": rule, "system": system, "account_id": account_id, "note": note})


# Scenario event: (t, account_id, session_id, terminal_id, action, resource, affair, subject, extra)
Ev = tuple[int, str, str, str, str, str, str, str, "dict[str, str] | None"]


@dataclass
class Hole:
    """A planted stretch without events: [t0, t1], boundary sessions end at t0 and start at t1."""

    t0: int
    t1: int


@dataclass
class Plan:
    seed: int
    events: int
    start: dt.date
    days: int
    fmt: str
    scale: int
    as_of: dt.date
    day_list: list[dt.date]
    targets: dict[tuple[dt.date, str], int]
    scenario: dict[tuple[dt.date, str], list[Ev]]
    holes: dict[tuple[dt.date, str], Hole]
    seq_skip: tuple[dt.date, str, int] | None
    dup: tuple[dt.date, str, int] | None
    pools: dict[tuple[dt.date, str], list[tuple[Any, ...]]]
    heartbeat_pools: dict[tuple[dt.date, str], list[tuple[Any, ...]]]
    seq_start: dict[tuple[dt.date, str], int] = field(default_factory=dict)
    counts: dict[tuple[dt.date, str], int] = field(default_factory=dict)


# ------------------------------------------------------------------------------------- city
class City:
    """People, accounts and the ledgers of the synthetic municipality."""

    def __init__(self, seed: int, start: dt.date, as_of: dt.date, scale: int) -> None:
        self.rng = random.Random(f"city:{seed}")
        self.start, self.as_of, self.scale = start, as_of, scale
        self.accounts: list[Acc] = []
        self.by_id: dict[str, Acc] = {}
        self.personnel: list[tuple[str, str, str, str, str]] = []
        self.officers: list[tuple[str, str, str, str, str]] = []
        self.approvals: list[tuple[str, str, str, str, str, str]] = []
        self.terminals: dict[str, list[str]] = {}
        self.extra_terminals: list[tuple[str, str]] = []
        self.person_dept: dict[str, str] = {}
        self._ids = {s: self.rng.sample(range(100000, 999999), 60000 * scale) for s in SYSTEMS}
        self._next_person = 1
        self._next_contractor = 1
        self.owners: dict[str, list[str]] = {s: [] for s in SYSTEMS}
        self.isms: list[str] = []
        self.admins: dict[str, str] = {}

    # ---- people
    def person(self, dept: str) -> str:
        pid = f"P{self._next_person:06d}"
        self._next_person += 1
        self.person_dept[pid] = dept
        return pid

    def contractor(self) -> str:
        pid = f"V{self._next_contractor:05d}"
        self._next_contractor += 1
        return pid

    def account_id(self, system: str) -> str:
        return f"{SYS_PREFIX[system]}{self._ids[system].pop():06d}"

    # ---- issuers (SPEC §2.5 発効管理): valid unless a plant overrides them
    def valid_issuer(self, system: str, person_id: str) -> tuple[str, str]:
        if system == "fukushi":
            return next(p for p in self.owners["fukushi"] if p != person_id), ""
        if system == "hyojun":
            return self.admins["hyojun"], next(p for p in self.isms if p != person_id)
        by = self.admins["gyomu_kyotsu"] if self.admins["gyomu_kyotsu"] != person_id else self.admins["gk2"]
        return by, ""

    def add(self, system: str, person_id: str, dept: str, *, roles: Iterable[str] = ("kouki_staff",),
            permission: str = "read", employment: str = "regular", issued_at: dt.date | None = None,
            pool: bool = True, last_login: str | None = None, **over: Any) -> Acc:
        rng = self.rng
        if issued_at is None:
            lo = max(dt.date(2012, 4, 1), self.start - dt.timedelta(days=6 * 365)).toordinal()
            hi = (self.start - dt.timedelta(days=120)).toordinal()
            issued_at = dt.date.fromordinal(rng.randint(lo, max(lo, hi)))
        issued_by, approved_by = self.valid_issuer(system, person_id)
        acc = Acc(self.account_id(system), system, person_id, employment, dept, tuple(sorted(roles)),
                  permission, issued_at, issued_by, approved_by, pool=pool)
        if employment == "non_regular" and system == "gyomu_kyotsu":
            acc.request_ref = f"REQ-{issued_at.year}-{rng.randint(1, 9999):04d}"
        if employment == "non_regular":
            acc.expires_at = _next_april(self.as_of)
        for k, v in over.items():
            setattr(acc, k, v)
        if last_login is None:
            last_login = self._recent_login(acc)
        acc.last_login_at = last_login
        self.accounts.append(acc)
        self.by_id[acc.account_id] = acc
        return acc

    def _recent_login(self, acc: Acc) -> str:
        """A last login within 60 days of the audit time (before revocation), never dormant."""
        end = acc.revoked_at or acc.expires_at or self.as_of
        end = min(end, self.as_of, acc.left_at or self.as_of)
        lo = max(acc.issued_at, end - dt.timedelta(days=60))
        hi = end - dt.timedelta(days=1)
        if hi < lo:
            return ""
        day = dt.date.fromordinal(self.rng.randint(lo.toordinal(), hi.toordinal()))
        return _iso_jst(_epoch(day, _hm(8) + self.rng.randint(0, 10 * _HOUR)))

    def terminal(self, dept: str) -> str:
        return self.rng.choice(self.terminals[dept])


def _next_april(d: dt.date) -> dt.date:
    a = dt.date(d.year, 4, 1)
    return a if a > d else dt.date(d.year + 1, 4, 1)


def _build_city(seed: int, start: dt.date, as_of: dt.date, day_list: list[dt.date], scale: int) -> City:
    city = City(seed, start, as_of, scale)
    rng = city.rng
    depts = list(_HOLDER_SIZES) + list(_RECIPIENT_SIZES)
    for i, dept in enumerate(depts, start=1):
        size = (_HOLDER_SIZES.get(dept) or _RECIPIENT_SIZES[dept]) * scale
        city.terminals[dept] = [f"T{i:02d}-{n:04d}" for n in range(1, size // 2 + 2)]
    city.extra_terminals.append(("T90-0001", NON_BUSINESS_DEPARTMENT))
    city.extra_terminals.append(("T90-0002", NON_BUSINESS_DEPARTMENT))

    # officers (SPEC §2.5): two fukushi owners issue each other's accounts; hyojun ISMs approve.
    hoken = "健康保険課"
    for _ in range(2):
        p = city.person(hoken)
        city.owners["fukushi"].append(p)
        city.officers.append(("fukushi", "system_owner", p, _OFFICER_FROM.isoformat(), ""))
    for _ in range(2):
        p = city.person("情報政策課")
        city.isms.append(p)
        city.officers.append(("hyojun", "info_system_manager", p, _OFFICER_FROM.isoformat(), ""))
    city.admins["hyojun"] = city.person("情報政策課")
    city.officers.append(("hyojun", "system_owner", city.admins["hyojun"], _OFFICER_FROM.isoformat(), ""))
    city.admins["gyomu_kyotsu"] = city.person(hoken)
    city.admins["gk2"] = city.person(hoken)
    city.officers.append(("gyomu_kyotsu", "system_owner", city.admins["gyomu_kyotsu"], _OFFICER_FROM.isoformat(), ""))

    # wave: April 1 in the window, else the last April 1 before it
    aprils = [d for d in day_list if d.month == 4 and d.day == 1]
    wave = aprils[0] if aprils else (dt.date(start.year, 4, 1) if start > dt.date(start.year, 4, 1)
                                     else dt.date(start.year - 1, 4, 1))
    prev_wave = dt.date(wave.year - 1, 4, 1)

    staff: list[tuple[str, str]] = [(p, hoken) for p in city.owners["fukushi"]]
    staff += [(city.admins["gyomu_kyotsu"], hoken), (city.admins["gk2"], hoken)]
    for dept in depts:
        size = (_HOLDER_SIZES.get(dept) or _RECIPIENT_SIZES[dept]) * scale
        staff += [(city.person(dept), dept) for _ in range(size)]
    holders = set(DEFAULT_HOLDER_DEPARTMENTS)
    movers = {p for p, _ in staff if rng.random() < 0.08} - set(city.owners["fukushi"]) - {
        city.admins["gyomu_kyotsu"], city.admins["gk2"]}
    leavers = {p for p, _ in staff if p not in movers and rng.random() < 0.02} - set(city.owners["fukushi"]) - {
        city.admins["gyomu_kyotsu"], city.admins["gk2"]}

    def accounts_for(p: str, dept: str, employment: str, issued: dt.date | None, **over: Any) -> list[Acc]:
        out = []
        if dept in holders:
            mn = rng.random() < 0.2
            perm = "update" if rng.random() < 0.3 else "read"
            for system in SYSTEMS:
                roles = ["kouki_staff"] + (["my_number_user"] if mn and system != "gyomu_kyotsu" else [])
                out.append(city.add(system, p, dept, roles=roles, permission=perm, employment=employment,
                                    issued_at=issued, **over))
        else:
            perm = "read"
            out.append(city.add("fukushi", p, dept, roles=(), permission=perm, employment=employment,
                                issued_at=issued, **over))
        return out

    for p, dept in staff:
        employment = "non_regular" if rng.random() < 0.15 else "regular"
        if rng.random() < 0.1 and p not in city.owners["fukushi"]:
            # moved in last year: the old accounts were revoked on the day (on time)
            old = rng.choice([d for d in depts if d != dept])
            city.personnel.append((p, "transfer", prev_wave.isoformat(), old, dept))
            accounts_for(p, old, "regular", prev_wave - dt.timedelta(days=rng.randint(200, 2000)),
                         revoked_at=prev_wave, left_at=prev_wave)
            issued: dt.date | None = prev_wave - dt.timedelta(days=rng.randint(0, 5))
        else:
            issued = None
        if p in movers:
            new = rng.choice([d for d in depts if d != dept])
            late = rng.random() < 0.15
            rev = wave + dt.timedelta(days=rng.randint(1, 7) if late else 0)
            city.personnel.append((p, "transfer", wave.isoformat(), dept, new))
            accounts_for(p, dept, employment, issued, revoked_at=rev if rev < as_of else None, left_at=wave)
            accounts_for(p, new, employment, wave - dt.timedelta(days=rng.randint(0, 3)), starts_at=wave)
            city.person_dept[p] = new
        elif p in leavers:
            event = "contract_end" if employment == "non_regular" else "retire"
            city.personnel.append((p, event, wave.isoformat(), dept, ""))
            over: dict[str, Any] = {"left_at": wave}
            if employment == "non_regular":
                over["expires_at"] = wave
            else:
                over["revoked_at"] = wave if wave < as_of else None
            accounts_for(p, dept, employment, issued, **over)
        else:
            accounts_for(p, dept, employment, issued)
    for _ in range(max(3, 10 * scale)):  # new hires of the wave
        dept = rng.choice(depts)
        p = city.person(dept)
        city.personnel.append((p, "hire", wave.isoformat(), "", dept))
        accounts_for(p, dept, "regular", wave - dt.timedelta(days=rng.randint(0, 3)), starts_at=wave)
    return city


# ---------------------------------------------------------------------------------- plants
class _Scenarios:
    """Scenario events (plants, near misses and special benign traffic) bucketed by day/system."""

    def __init__(self, city: City) -> None:
        self.city = city
        self.events: dict[tuple[dt.date, str], list[Ev]] = {}
        self._sid = 0
        self._subj = 9_000_000

    def subjects(self, n: int) -> list[str]:
        out = [f"S{self._subj + i:07d}" for i in range(n)]
        self._subj += n
        return out

    def add(self, system: str, ev: Ev) -> None:
        self.events.setdefault((_jst_day(ev[0]), system), []).append(ev)

    def session(self, acc_or_id: Acc | str, system: str, t_login: int, t_logout: int | None,
                acts: list[tuple[int, str, str, str, str, dict[str, str] | None]], *,
                terminal: str | None = None) -> None:
        """login at ``t_login``, ``acts`` (t, action, resource, affair, subject, extra), logout (if any)."""
        self._sid += 1
        aid = acc_or_id if isinstance(acc_or_id, str) else acc_or_id.account_id
        if terminal is None:
            dept = acc_or_id.department if isinstance(acc_or_id, Acc) else "健康保険課"
            terminal = self.city.terminal(dept) if dept in self.city.terminals else ""
        sid = f"X{system[0].upper()}{self._sid:06d}"
        self.add(system, (t_login, aid, sid, terminal, "login", "", "", "", None))
        for t, action, resource, affair, subject, extra in acts:
            self.add(system, (t, aid, sid, terminal, action, resource, affair, subject, extra))
        if t_logout is not None:
            self.add(system, (t_logout, aid, sid, terminal, "logout", "", "", "", None))

    def views(self, t0: int, n: int, *, resource: str = "kihon_joho", affair: str = "kouki-01",
              action: str = "view", step: int = 60, subjects: list[str] | None = None,
              extra: dict[str, str] | None = None) -> list[tuple[int, str, str, str, str, dict[str, str] | None]]:
        subs = subjects or self.subjects(n)
        return [(t0 + i * step, action, resource, affair, subs[i % len(subs)], extra) for i in range(n)]


def _plant(city: City, sc: _Scenarios, truth: Truth, day_list: list[dt.date], as_of: dt.date,
           holes: dict[tuple[dt.date, str], Hole]) -> tuple[tuple[dt.date, str, int] | None,
                                                             tuple[dt.date, str, int] | None]:
    """Plant a violation of every SPEC §4 rule and the near misses; returns (seq skip, duplicate)."""
    rng = city.rng
    bdays = [d for d in day_list if business_day(d)]
    if len(bdays) < 4:
        raise SystemExit("the window needs at least 4 business days (raise --days)")
    post = [d for d in bdays if d >= TRANSFERS_FROM]
    b = [bdays[min(i, len(bdays) - 1)] for i in range(4)]
    bp = [post[min(i, len(post) - 1)] for i in range(3)] if post else []
    T = _epoch
    hoken = "健康保険課"

    holder_cycle = itertools.cycle(DEFAULT_HOLDER_DEPARTMENTS)

    def staff(system: str, dept: str | None = None, **kw: Any) -> Acc:
        """A dedicated account (out of the benign pool), by default of the next holder department."""
        kw.setdefault("pool", False)
        dept = dept or next(holder_cycle)
        return city.add(system, city.person(dept), dept, **kw)

    def short(acc: Acc, system: str, t: int, acts: list[tuple[int, str, str, str, str, dict[str, str] | None]],
              **kw: Any) -> None:
        end = max([a[0] for a in acts] + [t]) + 120
        sc.session(acc, system, t, end, acts, **kw)

    # UNKNOWN_ACCOUNT: an id that is in no ledger, and a hyojun id used on gyomu_kyotsu
    ghost = f"G{999990 + rng.randint(0, 9)}"
    sc.session(ghost, "gyomu_kyotsu", T(b[1], _hm(9, 5)), T(b[1], _hm(9, 20)),
               sc.views(T(b[1], _hm(9, 6)), 5), terminal=city.terminal(hoken))
    truth.plant("UNKNOWN_ACCOUNT", "gyomu_kyotsu", ghost, "account id in no ledger")
    other = next(a for a in city.accounts if a.system == "hyojun" and a.pool)
    sc.session(other.account_id, "gyomu_kyotsu", T(b[2], _hm(9, 5)), T(b[2], _hm(9, 15)),
               sc.views(T(b[2], _hm(9, 6)), 3), terminal=city.terminal(other.department))
    truth.plant("UNKNOWN_ACCOUNT", "gyomu_kyotsu", other.account_id, "hyojun account id used on gyomu_kyotsu")
    truth.near("UNKNOWN_ACCOUNT", "hyojun", other.account_id, "the same id on its own system")

    # ACCESS_AFTER_REVOCATION
    a = staff("hyojun", revoked_at=b[1])
    short(a, "hyojun", T(b[1], _hm(9, 30)), sc.views(T(b[1], _hm(9, 31)), 4))
    truth.plant("ACCESS_AFTER_REVOCATION", "hyojun", a.account_id, "events on the day of revoked_at")
    a = staff("fukushi", revoked_at=b[2])
    sc.session(a, "fukushi", T(b[2]), T(b[2], 90), sc.views(T(b[2], 30), 1))
    truth.plant("ACCESS_AFTER_REVOCATION", "fukushi", a.account_id, "login exactly at revoked_at (00:00 JST)")
    a = staff("gyomu_kyotsu", employment="non_regular", expires_at=b[1],
              request_ref=f"REQ-{b[1].year}-0042")
    short(a, "gyomu_kyotsu", T(b[2], _hm(9, 40)), sc.views(T(b[2], _hm(9, 41)), 3))
    truth.plant("ACCESS_AFTER_REVOCATION", "gyomu_kyotsu", a.account_id, "events after expires_at")
    a = staff("hyojun", revoked_at=b[2])
    prev = b[2] - dt.timedelta(days=1)
    sc.session(a, "hyojun", T(prev, _hm(23, 50)), T(prev, _hm(23, 59, 59)), sc.views(T(prev, _hm(23, 51)), 3))
    truth.near("ACCESS_AFTER_REVOCATION", "hyojun", a.account_id, "last event 1 s before revoked_at")

    # ACCESS_AFTER_DEPARTURE
    a = staff("hyojun", revoked_at=min(b[1] + dt.timedelta(days=2), as_of), left_at=b[1])
    city.personnel.append((a.person_id, "transfer", b[1].isoformat(), a.department, "保護課"))
    short(a, "hyojun", T(b[1], _hm(10, 5)), sc.views(T(b[1], _hm(10, 6)), 4))
    truth.plant("ACCESS_AFTER_DEPARTURE", "hyojun", a.account_id, "account of the old department used after a transfer")
    a = staff("gyomu_kyotsu", revoked_at=min(b[2] + dt.timedelta(days=1), as_of), left_at=b[2])
    city.personnel.append((a.person_id, "retire", b[2].isoformat(), a.department, ""))
    sc.session(a, "gyomu_kyotsu", T(b[2]), T(b[2], 100), sc.views(T(b[2], 40), 1))
    truth.plant("ACCESS_AFTER_DEPARTURE", "gyomu_kyotsu", a.account_id, "login at 00:00 JST of the retirement day")
    a = staff("fukushi", revoked_at=b[2], left_at=b[2])
    city.personnel.append((a.person_id, "transfer", b[2].isoformat(), a.department, "保護課"))
    sc.session(a, "fukushi", T(prev, _hm(23, 0)), T(prev, _hm(23, 59, 59)), sc.views(T(prev, _hm(23, 1)), 3))
    truth.near("ACCESS_AFTER_DEPARTURE", "fukushi", a.account_id, "last event 1 s before the transfer day")

    # CONTRACTOR_WITHOUT_APPROVAL (contractor accounts of 健康保険課 on hyojun)
    def contractor() -> Acc:
        return city.add("hyojun", city.contractor(), hoken, employment="contractor", pool=False)

    boss, witness = city.admins["gk2"], city.admins["gyomu_kyotsu"]
    c = contractor()
    short(c, "hyojun", T(b[1], _hm(10, 30)), sc.views(T(b[1], _hm(10, 31)), 4))
    truth.plant("CONTRACTOR_WITHOUT_APPROVAL", "hyojun", c.account_id, "no approval at all")
    c = contractor()
    city.approvals.append((f"AP-{len(city.approvals) + 1:05d}", c.account_id, _iso_jst(T(b[2], _hm(9))),
                           _iso_jst(T(b[2], _hm(17))), boss, ""))
    short(c, "hyojun", T(b[2], _hm(10, 30)), sc.views(T(b[2], _hm(10, 31)), 4))
    truth.plant("CONTRACTOR_WITHOUT_APPROVAL", "hyojun", c.account_id, "approval without a witness")
    c = contractor()
    city.approvals.append((f"AP-{len(city.approvals) + 1:05d}", c.account_id, _iso_jst(T(b[3], _hm(9))),
                           _iso_jst(T(b[3], _hm(12))), boss, witness))
    sc.session(c, "hyojun", T(b[3], _hm(9)), T(b[3], _hm(12)), sc.views(T(b[3], _hm(9, 1)), 5))
    truth.plant("CONTRACTOR_WITHOUT_APPROVAL", "hyojun", c.account_id, "logout exactly at the window's end (to)")
    c = contractor()
    city.approvals.append((f"AP-{len(city.approvals) + 1:05d}", c.account_id, _iso_jst(T(b[3], _hm(13))),
                           _iso_jst(T(b[3], _hm(17))), boss, witness))
    sc.session(c, "hyojun", T(b[3], _hm(13)), T(b[3], _hm(16, 59, 59)), sc.views(T(b[3], _hm(13, 1)), 5))
    truth.near("CONTRACTOR_WITHOUT_APPROVAL", "hyojun", c.account_id, "from exactly the window's start to 1 s before its end")
    # benign contractors: approved with a witness every business day, working inside the window
    for _ in range(2):
        c = contractor()
        for d in bdays:
            city.approvals.append((f"AP-{len(city.approvals) + 1:05d}", c.account_id, _iso_jst(T(d, _hm(9))),
                                   _iso_jst(T(d, _hm(17, 30))), boss, witness))
            t0 = T(d, _hm(10) + rng.randint(0, 3600))
            sc.session(c, "hyojun", t0, t0 + 5400,
                       sc.views(t0 + 60, 8, step=600, affair=rng.choice(KOUKI_AFFAIRS),
                                subjects=[f"S{rng.randint(0, 150000):07d}" for _ in range(8)]))

    # MY_NUMBER_WITHOUT_PERMISSION
    a = staff("hyojun")
    short(a, "hyojun", T(b[1], _hm(11)), sc.views(T(b[1], _hm(11, 1)), 3, resource="kojin_bango"))
    truth.plant("MY_NUMBER_WITHOUT_PERMISSION", "hyojun", a.account_id, "kojin_bango view without my_number_user")
    a = staff("fukushi")
    short(a, "fukushi", T(b[2], _hm(11)), sc.views(T(b[2], _hm(11, 1)), 2, resource="kojin_bango",
                                                     action="search", affair="kouki-04"))
    truth.plant("MY_NUMBER_WITHOUT_PERMISSION", "fukushi", a.account_id, "kojin_bango search on fukushi (市の運用)")
    a = staff("hyojun", roles=("kouki_staff", "my_number_user"))
    short(a, "hyojun", T(b[1], _hm(11, 10)), sc.views(T(b[1], _hm(11, 11)), 3, resource="kojin_bango"))
    truth.near("MY_NUMBER_WITHOUT_PERMISSION", "hyojun", a.account_id, "my_number_user in a My Number affair")

    # MY_NUMBER_OUTSIDE_AFFAIR
    a = staff("hyojun", roles=("kouki_staff", "my_number_user"))
    short(a, "hyojun", T(b[2], _hm(11, 30)), sc.views(T(b[2], _hm(11, 31)), 3, resource="kojin_bango",
                                                        affair="kouki-02"))
    truth.plant("MY_NUMBER_OUTSIDE_AFFAIR", "hyojun", a.account_id, "kojin_bango in kouki-02")
    a = staff("hyojun", roles=("kouki_staff", "my_number_user"))
    short(a, "hyojun", T(b[2], _hm(11, 40)), sc.views(T(b[2], _hm(11, 41)), 3, resource="kojin_bango",
                                                        affair="kouki-14"))
    truth.near("MY_NUMBER_OUTSIDE_AFFAIR", "hyojun", a.account_id, "kojin_bango in kouki-14 (listed)")
    v3 = dt.date(2025, 11, 26)  # affair 15 leaves the My Number affairs, 16 joins
    if v3 in day_list and v3 - dt.timedelta(days=1) in day_list:
        eve = v3 - dt.timedelta(days=1)
        a = staff("hyojun", roles=("kouki_staff", "my_number_user"))
        short(a, "hyojun", T(v3, _hm(11, 50)), sc.views(T(v3, _hm(11, 51)), 2, resource="kojin_bango",
                                                          affair="kouki-15"))
        truth.plant("MY_NUMBER_OUTSIDE_AFFAIR", "hyojun", a.account_id, "kouki-15 on 2025-11-26 (removed)")
        a = staff("hyojun", roles=("kouki_staff", "my_number_user"))
        short(a, "hyojun", T(eve, _hm(23, 50)), sc.views(T(eve, _hm(23, 51)), 2, resource="kojin_bango",
                                                           affair="kouki-15"))
        truth.near("MY_NUMBER_OUTSIDE_AFFAIR", "hyojun", a.account_id, "kouki-15 on 2025-11-25 (still listed)")
        a = staff("hyojun", roles=("kouki_staff", "my_number_user"))
        sc.session(a, "hyojun", T(v3), T(v3, 120), sc.views(T(v3, 1), 2, resource="kojin_bango", affair="kouki-16"))
        truth.near("MY_NUMBER_OUTSIDE_AFFAIR", "hyojun", a.account_id, "kouki-16 from 2025-11-26 00:00 JST (added)")

    # TRANSFER_NOT_PERMITTED / TRANSFER_METHOD_NOT_PERMITTED / recipient ACCESS_DENIED_BY_POLICY
    def transfer(dept: str, purpose: str, method: str = "fukushi_system",
                 resource: str = "kihon_joho") -> tuple[dict[str, str], str, str]:
        return {"recipient_department": dept, "method": method}, purpose, resource

    pre = dt.date(2025, 3, 23)
    if pre in day_list and TRANSFERS_FROM in day_list:
        a = staff("fukushi")
        extra, purpose, res = transfer("保護課", "gaikokujin_hogo")
        sc.session(a, "fukushi", T(pre, _hm(23, 50)), T(pre, _hm(23, 59, 59)),
                   [(T(pre, _hm(23, 59, 59)) - 1, "transfer", res, purpose, sc.subjects(1)[0], extra)])
        truth.plant("TRANSFER_NOT_PERMITTED", "fukushi", a.account_id, "permitted pair, 2025-03-23 23:59:58 (version 2020)")
        a = staff("fukushi")
        sc.session(a, "fukushi", T(TRANSFERS_FROM), T(TRANSFERS_FROM, 120),
                   [(T(TRANSFERS_FROM, 1), "transfer", res, purpose, sc.subjects(1)[0], extra)])
        truth.near("TRANSFER_NOT_PERMITTED", "fukushi", a.account_id, "permitted pair, 2025-03-24 00:00:01 (in force)")
    elif not post:
        a = staff("fukushi")
        extra, purpose, res = transfer("保護課", "gaikokujin_hogo")
        short(a, "fukushi", T(b[1], _hm(14)), [(T(b[1], _hm(14, 1)), "transfer", res, purpose,
                                                 sc.subjects(1)[0], extra)])
        truth.plant("TRANSFER_NOT_PERMITTED", "fukushi", a.account_id, "transfer while version 2020 is in force")
    if post:
        a = staff("fukushi")
        extra, purpose, res = transfer("保護課", "shinshin_iryohi")
        short(a, "fukushi", T(bp[0], _hm(14)), [(T(bp[0], _hm(14, 1)), "transfer", res, purpose,
                                                  sc.subjects(1)[0], extra)])
        truth.plant("TRANSFER_NOT_PERMITTED", "fukushi", a.account_id, "保護課 × shinshin_iryohi is not a 別紙1 pair")
        kenko = f"{WARDS[1]}健康課"
        a = staff("fukushi", dept=kenko, roles=())
        short(a, "fukushi", T(bp[1], _hm(14)), sc.views(T(bp[1], _hm(14, 1)), 2, affair="gaikokujin_hogo"))
        truth.plant("TRANSFER_NOT_PERMITTED", "fukushi", a.account_id, "各区健康課 viewing for gaikokujin_hogo")
        a = staff("fukushi", dept=kenko, roles=())
        short(a, "fukushi", T(bp[1], _hm(14, 20)),
              sc.views(T(bp[1], _hm(14, 21)), 2, affair="seishin_nyuin_iryohi")
              + sc.views(T(bp[1], _hm(14, 25)), 2, affair="shoni_shitei_iryohi", resource="iryo_hoken"))
        truth.near("TRANSFER_NOT_PERMITTED", "fukushi", a.account_id, "各区健康課 with both of its purposes")
        truth.near("ACCESS_DENIED_BY_POLICY", "fukushi", a.account_id, "recipient views kihon_joho/iryo_hoken")
        a = staff("fukushi")
        extra, purpose, res = transfer("中央区社会支援課", "gaikokujin_hogo", method="usb_memory")
        short(a, "fukushi", T(bp[1], _hm(14, 40)), [(T(bp[1], _hm(14, 41)), "transfer", res, purpose,
                                                      sc.subjects(1)[0], extra)])
        truth.plant("TRANSFER_METHOD_NOT_PERMITTED", "fukushi", a.account_id, "permitted pair by usb_memory")
        a = staff("fukushi")
        extra, purpose, res = transfer("中央区社会支援課", "gaikokujin_hogo")
        short(a, "fukushi", T(bp[1], _hm(14, 50)), [(T(bp[1], _hm(14, 51)), "transfer", res, purpose,
                                                      sc.subjects(1)[0], extra)])
        truth.near("TRANSFER_METHOD_NOT_PERMITTED", "fukushi", a.account_id, "permitted pair by fukushi_system")
        truth.near("TRANSFER_NOT_PERMITTED", "fukushi", a.account_id, "permitted pair by fukushi_system")
        a = staff("fukushi", dept="中央区社会支援課", roles=())
        short(a, "fukushi", T(bp[2], _hm(14)), sc.views(T(bp[2], _hm(14, 1)), 2, affair="gaikokujin_hogo",
                                                         extra={"method": "email"}))
        truth.near("TRANSFER_METHOD_NOT_PERMITTED", "fukushi", a.account_id, "a view carrying method=email (ignored)")
        # recipient doing more than view, or on another resource; a transfer of another resource
        a = staff("fukushi", dept="中央区社会支援課", roles=())
        short(a, "fukushi", T(bp[2], _hm(14, 10)), sc.views(T(bp[2], _hm(14, 11)), 2, affair="gaikokujin_hogo",
                                                             action="search"))
        truth.plant("ACCESS_DENIED_BY_POLICY", "fukushi", a.account_id, "recipient with a permitted pair searches")
        a = staff("fukushi", dept="保護課", roles=())
        short(a, "fukushi", T(bp[2], _hm(14, 20)), sc.views(T(bp[2], _hm(14, 21)), 2, affair="gaikokujin_hogo",
                                                             resource="kaigo"))
        truth.plant("ACCESS_DENIED_BY_POLICY", "fukushi", a.account_id, "recipient with a permitted pair views kaigo")
        a = staff("fukushi")
        extra, purpose, res = transfer("保護課", "gaikokujin_hogo", resource="nenkin")
        short(a, "fukushi", T(bp[2], _hm(14, 30)), [(T(bp[2], _hm(14, 31)), "transfer", res, purpose,
                                                      sc.subjects(1)[0], extra)])
        truth.plant("ACCESS_DENIED_BY_POLICY", "fukushi", a.account_id, "transfer of nenkin")
    a = staff("gyomu_kyotsu", dept="税制課", roles=())
    short(a, "gyomu_kyotsu", T(b[3], _hm(15)), sc.views(T(b[3], _hm(15, 1)), 2), terminal="")
    truth.plant("TRANSFER_NOT_PERMITTED", "gyomu_kyotsu", a.account_id, "税制課 (not a recipient) views kihon_joho")

    # MEDIA_EXPORT_*: exports by officers in office carry record_ref
    def officer(system: str, role: str, frm: dt.date, to: dt.date | None = None) -> str:
        p = city.person(hoken)
        city.officers.append((system, role, p, frm.isoformat(), to.isoformat() if to else ""))
        return p

    def export(acc: Acc, system: str, t: int, ref: str | None, resource: str = "iryo_hoken") -> None:
        extra = {"record_ref": ref} if ref else None
        short(acc, system, t, [(t + 60, "export", resource, "kouki-03", "", extra)])

    a = staff("gyomu_kyotsu")
    export(a, "gyomu_kyotsu", T(b[1], _hm(15, 30)), "COPY-0001")
    truth.plant("MEDIA_EXPORT_UNAUTHORIZED", "gyomu_kyotsu", a.account_id, "export by plain staff")
    p = officer("fukushi", "export_delegate", dt.date(2020, 4, 1), b[2])
    a = city.add("fukushi", p, hoken, pool=False)
    export(a, "fukushi", T(b[2], _hm(15, 30)), "COPY-0002")
    truth.plant("MEDIA_EXPORT_UNAUTHORIZED", "fukushi", a.account_id, "export on the first day out of office (to)")
    p = officer("fukushi", "export_delegate", b[2])
    a = city.add("fukushi", p, hoken, pool=False)
    export(a, "fukushi", T(b[2], _hm(15, 40)), "COPY-0003")
    truth.near("MEDIA_EXPORT_UNAUTHORIZED", "fukushi", a.account_id, "export_delegate from that day, with record_ref")
    truth.near("MEDIA_EXPORT_UNRECORDED", "fukushi", a.account_id, "export with record_ref")
    g = city.add("gyomu_kyotsu", p, hoken, pool=False)
    export(g, "gyomu_kyotsu", T(b[2], _hm(15, 50)), "COPY-0004")
    truth.plant("MEDIA_EXPORT_UNAUTHORIZED", "gyomu_kyotsu", g.account_id, "fukushi export_delegate exporting on gyomu_kyotsu")
    p = officer("fukushi", "system_owner", _OFFICER_FROM)
    a = city.add("fukushi", p, hoken, pool=False)
    export(a, "fukushi", T(b[3], _hm(15, 30)), None)
    truth.plant("MEDIA_EXPORT_UNRECORDED", "fukushi", a.account_id, "system_owner export without record_ref")
    # benign daily exports by the fukushi owner and the gyomu_kyotsu owner
    owner_acc = next(x for x in city.accounts if x.person_id == city.owners["fukushi"][0] and x.system == "fukushi")
    gk_acc = next(x for x in city.accounts if x.person_id == city.admins["gyomu_kyotsu"] and x.system == "gyomu_kyotsu")
    for i, d in enumerate(bdays):
        export(owner_acc, "fukushi", T(d, _hm(16, 20)), f"COPY-F-{d:%Y%m%d}")
        if i % 3 == 0:
            export(gk_acc, "gyomu_kyotsu", T(d, _hm(16, 40)), f"COPY-G-{d:%Y%m%d}")

    # ACCESS_DENIED_BY_POLICY (holder)
    a = staff("hyojun", permission="read")
    short(a, "hyojun", T(b[1], _hm(15)), sc.views(T(b[1], _hm(15, 1)), 2, action="update", affair="kouki-03"))
    truth.plant("ACCESS_DENIED_BY_POLICY", "hyojun", a.account_id, "update by a read account")
    a = staff("hyojun", permission="update")
    short(a, "hyojun", T(b[1], _hm(15, 10)), sc.views(T(b[1], _hm(15, 11)), 2, action="update", affair="kouki-03"))
    truth.near("ACCESS_DENIED_BY_POLICY", "hyojun", a.account_id, "update by an update account")
    a = staff("gyomu_kyotsu")
    short(a, "gyomu_kyotsu", T(b[2], _hm(15)), sc.views(T(b[2], _hm(15, 1)), 2, affair=""))
    truth.plant("ACCESS_DENIED_BY_POLICY", "gyomu_kyotsu", a.account_id, "holder view without an affair")

    # TERMINAL_NOT_AUTHORIZED (judged independently)
    a = staff("hyojun")
    short(a, "hyojun", T(b[2], _hm(15, 20)), sc.views(T(b[2], _hm(15, 21)), 2), terminal="T99-9999")
    truth.plant("TERMINAL_NOT_AUTHORIZED", "hyojun", a.account_id, "unregistered terminal")
    a = staff("gyomu_kyotsu")
    short(a, "gyomu_kyotsu", T(b[3], _hm(15, 20)), sc.views(T(b[3], _hm(15, 21)), 2), terminal="T90-0001")
    truth.plant("TERMINAL_NOT_AUTHORIZED", "gyomu_kyotsu", a.account_id, "terminal of 総務課 (not a business department)")
    a = staff("fukushi")
    short(a, "fukushi", T(b[3], _hm(15, 30)), sc.views(T(b[3], _hm(15, 31)), 2), terminal=city.terminal("保護課"))
    truth.near("TERMINAL_NOT_AUTHORIZED", "fukushi", a.account_id, "terminal of another business department (保護課)")

    # LONG_SESSION (independent)
    a = staff("hyojun")
    sc.session(a, "hyojun", T(b[2], _hm(8)), T(b[2], _hm(18, 0, 1)), sc.views(T(b[2], _hm(9)), 3, step=3 * _HOUR))
    truth.plant("LONG_SESSION", "hyojun", a.account_id, "10 h 0 min 1 s")
    a = staff("gyomu_kyotsu")
    sc.session(a, "gyomu_kyotsu", T(b[2], _hm(8)), T(b[2], _hm(18)), sc.views(T(b[2], _hm(9)), 3, step=3 * _HOUR))
    truth.near("LONG_SESSION", "gyomu_kyotsu", a.account_id, "exactly 10 h")
    last = day_list[-1]
    a = staff("fukushi")
    sc.session(a, "fukushi", T(last, _hm(9)), None, sc.views(T(last, _hm(9, 1)), 2))
    truth.plant("LONG_SESSION", "fukushi", a.account_id, "no logout: open until the audit time")

    # BULK_ACCESS (independent): > 500 distinct subjects per account per JST day
    a = staff("hyojun")
    short(a, "hyojun", T(b[1], _hm(13)), sc.views(T(b[1], _hm(13)), 501, step=7))
    truth.plant("BULK_ACCESS", "hyojun", a.account_id, "501 distinct subjects in a day")
    a = staff("hyojun")
    subs = sc.subjects(500)
    short(a, "hyojun", T(b[2], _hm(13)), sc.views(T(b[2], _hm(13)), 600, step=7, subjects=subs))
    truth.near("BULK_ACCESS", "hyojun", a.account_id, "exactly 500 distinct subjects (600 events)")
    a = staff("fukushi")
    nxt = b[1] + dt.timedelta(days=1)
    if nxt in day_list:
        sc.session(a, "fukushi", T(b[1], _hm(21)), T(nxt, _hm(1, 30)),
                   sc.views(T(b[1], _hm(21, 1)), 300, step=17) + sc.views(T(nxt, _hm(0, 0, 1)), 300, step=17))
        truth.near("BULK_ACCESS", "fukushi", a.account_id, "300 + 300 subjects across JST midnight (one UTC day)")

    # ACCOUNT_NOT_REVOKED (as of the audit date; no events after departure)
    for days_ago, flagged, kind, system in ((8, True, "retire", "gyomu_kyotsu"), (30, True, "transfer", "hyojun"),
                                            (7, False, "retire", "fukushi")):
        eff = as_of - dt.timedelta(days=days_ago)
        a = staff(system, left_at=eff)
        city.personnel.append((a.person_id, kind, eff.isoformat(), a.department,
                               "保護課" if kind == "transfer" else ""))
        note = f"{kind} {days_ago} days before the audit date, not revoked"
        (truth.plant if flagged else truth.near)("ACCOUNT_NOT_REVOKED", system, a.account_id, note)
    for days_ago, late in ((20, 7), (25, 9)):
        eff = as_of - dt.timedelta(days=days_ago)
        a = staff("hyojun", left_at=eff, revoked_at=eff + dt.timedelta(days=late))
        city.personnel.append((a.person_id, "transfer", eff.isoformat(), a.department, "保護課"))
        truth.near("ACCOUNT_NOT_REVOKED", "hyojun", a.account_id, f"revoked {late} days after the transfer, before the audit")

    # ACCOUNT_DORMANT
    audit_t = T(as_of)
    a = staff("gyomu_kyotsu", last_login=_iso_jst(audit_t - 90 * _DAY - 1))
    truth.plant("ACCOUNT_DORMANT", "gyomu_kyotsu", a.account_id, "last login 90 days and 1 s before the audit time")
    a = staff("hyojun", issued_at=as_of - dt.timedelta(days=120), last_login="")
    truth.plant("ACCOUNT_DORMANT", "hyojun", a.account_id, "never logged in, issued 120 days ago")
    a = staff("gyomu_kyotsu", last_login=_iso_jst(audit_t - 90 * _DAY))
    truth.near("ACCOUNT_DORMANT", "gyomu_kyotsu", a.account_id, "last login exactly 90 days before the audit time")
    a = staff("hyojun", issued_at=as_of - dt.timedelta(days=90), last_login="")
    truth.near("ACCOUNT_DORMANT", "hyojun", a.account_id, "never logged in, issued exactly 90 days ago")
    a = staff("fukushi", last_login=_iso_jst(audit_t - 200 * _DAY))
    short(a, "fukushi", T(b[1], _hm(16)), sc.views(T(b[1], _hm(16, 1)), 2))
    truth.near("ACCOUNT_DORMANT", "fukushi", a.account_id, "old last_login_at but a login in the logs")
    a = staff("gyomu_kyotsu", last_login=_iso_jst(audit_t - 300 * _DAY), revoked_at=as_of - dt.timedelta(days=200),
              issued_at=as_of - dt.timedelta(days=1000))
    truth.near("ACCOUNT_DORMANT", "gyomu_kyotsu", a.account_id, "revoked account")

    # ACCOUNT_ISSUER_INVALID (every ledger row, revoked or not, judged at issued_at)
    nobody = city.person(hoken)
    a = staff("fukushi", issued_by=nobody)
    truth.plant("ACCOUNT_ISSUER_INVALID", "fukushi", a.account_id, "issued by someone who is not system_owner")
    ex_owner = officer("fukushi", "system_owner", dt.date(2005, 4, 1), dt.date(2015, 4, 1))
    a = staff("fukushi", issued_by=ex_owner, issued_at=dt.date(2015, 4, 1), revoked_at=as_of - dt.timedelta(days=400))
    truth.plant("ACCOUNT_ISSUER_INVALID", "fukushi", a.account_id, "issued on the owner's first day out of office (revoked row)")
    new_owner = officer("fukushi", "system_owner", dt.date(2020, 4, 1))
    a = staff("fukushi", issued_by=new_owner, issued_at=dt.date(2020, 4, 1))
    truth.near("ACCOUNT_ISSUER_INVALID", "fukushi", a.account_id, "issued on the owner's first day in office")
    a = staff("hyojun", approved_by=city.admins["hyojun"])
    truth.plant("ACCOUNT_ISSUER_INVALID", "hyojun", a.account_id, "approved by the system_owner, not the info_system_manager")
    a = staff("gyomu_kyotsu", employment="non_regular", request_ref="")
    truth.plant("ACCOUNT_ISSUER_INVALID", "gyomu_kyotsu", a.account_id, "non_regular without request_ref")
    a = staff("gyomu_kyotsu", employment="non_regular")
    truth.near("ACCOUNT_ISSUER_INVALID", "gyomu_kyotsu", a.account_id, "non_regular with request_ref")
    a = staff("gyomu_kyotsu")
    a.issued_by = a.person_id
    truth.plant("ACCOUNT_ISSUER_INVALID", "gyomu_kyotsu", a.account_id, "self-issued")
    self_owner = officer("fukushi", "system_owner", _OFFICER_FROM)
    a = city.add("fukushi", self_owner, hoken, pool=False, issued_by=self_owner)
    truth.plant("ACCOUNT_ISSUER_INVALID", "fukushi", a.account_id, "system_owner issued their own account")

    # LOG_GAP: gyomu_kyotsu 61 min without events, fukushi exactly 60 min (holes in the benign traffic)
    holes[(b[1], "gyomu_kyotsu")] = Hole(T(b[1], _hm(13, 30)), T(b[1], _hm(14, 31)))
    holes[(b[1], "fukushi")] = Hole(T(b[1], _hm(10)), T(b[1], _hm(11)))
    truth.plant("LOG_GAP", "gyomu_kyotsu", None, f"{b[1]} 13:30–14:31 JST: 61 minutes")
    truth.near("LOG_GAP", "fukushi", None, f"{b[1]} 10:00–11:00 JST: exactly 60 minutes")
    truth.near("LOG_GAP", "hyojun", None, "no gap")
    # LOG_SEQUENCE_GAP: hyojun skips one seq; fukushi repeats a line (a duplicate, removed first)
    truth.plant("LOG_SEQUENCE_GAP", "hyojun", None, f"{b[2]}: one seq number missing")
    truth.near("LOG_SEQUENCE_GAP", "fukushi", None, f"{b[2]}: a duplicated line (same event_id and seq)")
    truth.near("LOG_SEQUENCE_GAP", "gyomu_kyotsu", None, "contiguous")
    return (b[2], "hyojun", 100), (b[2], "fukushi", 50)


# ------------------------------------------------------------------------------------ plan
def _day_weight(d: dt.date) -> float:
    return 1.0 if business_day(d) else 0.03


def _pool_entry(acc: Acc, city: City) -> tuple[Any, ...]:
    kind = "R" if not acc.roles else "H"
    purposes = tuple(p for p, ds in PURPOSES.items() if acc.department in ds)
    return (acc.account_id, kind, tuple(city.terminals[acc.department]), purposes,
            "my_number_user" in acc.roles, acc.permission == "update")


def _session_sizes(seed: int, d: dt.date, system: str, target: int) -> list[int]:
    rng = random.Random(f"sizes:{seed}:{d}:{system}")
    out: list[int] = []
    left = target
    while left >= 3:  # a session is at least login, one event, logout
        n = 2 + rng.randint(3, 28)
        if left - n < 3:
            n = left
        out.append(n)
        left -= n
    return out


def make_plan(seed: int, events: int, start: dt.date, days: int, fmt: str) -> tuple[Plan, City, Truth]:
    """Build the city, the plants and the per-(day, system) plan (counts known before writing)."""
    day_list = [start + dt.timedelta(days=i) for i in range(days)]
    as_of = day_list[-1] + dt.timedelta(days=1)
    n_bdays = sum(1 for d in day_list if business_day(d))
    per_bday = events / max(1e-9, sum(_day_weight(d) for d in day_list))
    scale = max(1, math.ceil(per_bday / 240_000)) if n_bdays else 1
    city = _build_city(seed, start, as_of, day_list, scale)
    truth = Truth()
    sc = _Scenarios(city)
    holes: dict[tuple[dt.date, str], Hole] = {}
    seq_skip, dup = _plant(city, sc, truth, day_list, as_of, holes)
    total_w = sum(_day_weight(d) for d in day_list)
    targets: dict[tuple[dt.date, str], int] = {}
    for d in day_list:
        for s in SYSTEMS:
            targets[(d, s)] = int(round(events * _day_weight(d) / total_w * SYS_SHARE[s]))
    pools: dict[tuple[dt.date, str], list[tuple[Any, ...]]] = {}
    hb: dict[tuple[dt.date, str], list[tuple[Any, ...]]] = {}
    for d in day_list:
        for s in SYSTEMS:
            accs = [a for a in city.accounts if a.pool and a.system == s and a.active_all_day(d)]
            holders = [_pool_entry(a, city) for a in accs if a.roles]
            recips = [_pool_entry(a, city) for a in accs if not a.roles] if d >= TRANSFERS_FROM else []
            pools[(d, s)] = holders + recips
            hb[(d, s)] = holders
    scen = {k: sorted(v, key=lambda e: (e[0], e[1], e[4])) for k, v in sc.events.items()}
    for (d, s), evs in scen.items():
        if d not in day_list:
            raise SystemExit(f"internal: scenario event on {d} outside the window")
        hole = holes.get((d, s))
        if hole and any(hole.t0 <= e[0] <= hole.t1 for e in evs):
            raise SystemExit(f"internal: a scenario event falls in the planted hole on {d} {s}")
    plan = Plan(seed, events, start, days, fmt, scale, as_of, day_list, targets, scen, holes, seq_skip, dup,
                pools, hb)
    seq = {s: 1 for s in SYSTEMS}
    for d in day_list:
        for s in SYSTEMS:
            n = sum(_session_sizes(seed, d, s, targets[(d, s)])) + len(scen.get((d, s), []))
            if business_day(d):
                n += 3 * len(_heartbeats(d))
            if (d, s) in holes:
                n += 6
            plan.seq_start[(d, s)] = seq[s]
            plan.counts[(d, s)] = n
            seq[s] += n + (1 if seq_skip and (d, s) == seq_skip[:2] and n > seq_skip[2] else 0)
    return plan, city, truth


def _heartbeats(d: dt.date) -> list[int]:
    return list(range(_hm(8, 5), _hm(18), _HEARTBEAT_STEP))


# --------------------------------------------------------------------------------- writing
_PLAN: Plan | None = None  # inherited by forked workers


def _sample_start(rng: random.Random, business: bool) -> int:
    if not business:
        return _hm(9) + rng.randint(0, 8 * _HOUR)
    slot = rng.choices(range(len(_START_WEIGHTS)), weights=_START_WEIGHTS)[0]
    return _hm(8) + slot * 1800 + rng.randint(0, 1799)


def _gen_day(task: tuple[dt.date, str]) -> tuple[dt.date, str, int, int, str]:
    """Generate and write one (day, system) file; returns (day, system, lines, events, file name)."""
    plan = _PLAN
    assert plan is not None
    d, system = task
    rng = random.Random(f"traffic:{plan.seed}:{d}:{system}")
    day0 = _epoch(d)
    business = business_day(d)
    pool = plan.pools[(d, system)]
    hb_pool = plan.heartbeat_pools[(d, system)]
    hole = plan.holes.get((d, system))
    transfers_ok = d >= TRANSFERS_FROM and system == "fukushi"
    my_number_sys = system != "gyomu_kyotsu"
    load: dict[str, int] = {}
    out: list[tuple] = []
    pairs = [(dept, p) for p, ds in PURPOSES.items() for dept in ds]
    sid_prefix = f"{SYS_PREFIX[system]}{d:%Y%m%d}-"
    nsid = 0

    def pick(candidates: list[tuple[Any, ...]]) -> tuple[Any, ...]:
        for _ in range(30):
            acc = candidates[rng.randrange(len(candidates))]
            if load.get(acc[0], 0) < _CAP_SUBJECT_EVENTS:
                return acc
        raise RuntimeError(f"the account pool of {system} on {d} is too small for the traffic; raise the scale")

    def place(start: int, dur: int, fixed: bool = False) -> int:
        if hole and not fixed and start <= hole.t1 - day0 and start + dur >= hole.t0 - day0:
            start = hole.t1 - day0 + 60 + rng.randint(0, 2 * _HOUR)
        return min(start, _DAY - dur - 1)

    def session(acc: tuple[Any, ...], start: int, dur: int, n_act: int) -> None:
        nonlocal nsid
        nsid += 1
        aid, kind, terms, purposes, mn, upd = acc
        sid = f"{sid_prefix}{nsid:06d}"
        term = terms[rng.randrange(len(terms))]
        t0 = day0 + start
        out.append((t0, aid, sid, term, "login", "", "", "", None))
        subj_events = 0
        for _ in range(n_act):
            t = t0 + 1 + int(rng.random() * (dur - 2))
            subject = f"S{rng.randrange(150000 * plan.scale):07d}"
            extra = None
            if kind == "R":
                action, resource, affair = "view", TRANSFER_RESOURCES[rng.randrange(2)], purposes[rng.randrange(len(purposes))]
            else:
                r = rng.random()
                if mn and my_number_sys and r < 0.15:
                    action = "view" if r < 0.1 else "search"
                    resource, affair = "kojin_bango", MN_AFFAIRS[rng.randrange(len(MN_AFFAIRS))]
                elif transfers_ok and r > 0.99:
                    dept, affair = pairs[rng.randrange(len(pairs))]
                    action, resource = "transfer", TRANSFER_RESOURCES[rng.randrange(2)]
                    extra = {"recipient_department": dept, "method": "fukushi_system"}
                else:
                    r2 = rng.random()
                    action = ("view" if r2 < 0.6 else "search" if r2 < 0.85 else "print" if r2 < 0.93
                              else "update" if upd else "view")
                    resource = GENERAL_RESOURCES[rng.randrange(len(GENERAL_RESOURCES))]
                    affair = KOUKI_AFFAIRS[rng.randrange(len(KOUKI_AFFAIRS))]
            if action == "search" and rng.random() < 0.5:
                subject = ""
            else:
                subj_events += 1
            out.append((t, aid, sid, term, action, resource, affair, subject, extra))
        out.append((t0 + dur, aid, sid, term, "logout", "", "", "", None))
        load[aid] = load.get(aid, 0) + subj_events

    for n in _session_sizes(plan.seed, d, system, plan.targets[(d, system)]):
        acc = pick(pool)
        dur = min(6 * _HOUR, max(n * 40, 600 + int(rng.expovariate(1 / 2400))))
        start = place(_sample_start(rng, business), dur)
        session(acc, start, dur, n - 2)
    if business:
        for h in _heartbeats(d):
            session(pick(hb_pool), place(h, 120), 120, 1)
    if hole:
        session(pick(hb_pool), hole.t0 - day0 - 120, 120, 1)
        session(pick(hb_pool), hole.t1 - day0, 120, 1)
    out.extend(plan.scenario.get((d, system), []))
    out.sort(key=lambda e: (e[0], e[1], e[2], e[4]))
    expected = plan.counts[(d, system)]
    if len(out) != expected:
        raise RuntimeError(f"internal: {d} {system}: {len(out)} events, planned {expected}")
    return _write(plan, d, system, out)


def _fmt_ts(system: str, d: dt.date) -> Any:
    day0 = _epoch(d)
    ds = d.isoformat()
    prev = (d - dt.timedelta(days=1)).isoformat()
    if system == "fukushi":
        return lambda t: f"{ds}T{_HMS[t - day0]}+09:00"
    if system == "gyomu_kyotsu":
        def utc(t: int) -> str:
            s = t - day0
            return f"{ds}T{_HMS[s - 9 * _HOUR]}Z" if s >= 9 * _HOUR else f"{prev}T{_HMS[s + 15 * _HOUR]}Z"
        return utc
    return lambda t: f"{ds}T{_HMS[t - day0]}"


def _write(plan: Plan, d: dt.date, system: str, out: list[tuple]) -> tuple[dt.date, str, int, int, str]:
    ev_dir = _OUT / "events"
    fmt_ts = _fmt_ts(system, d)
    seq = plan.seq_start[(d, system)]
    skip_at = plan.seq_skip[2] if plan.seq_skip and plan.seq_skip[:2] == (d, system) else -1
    dup_at = plan.dup[2] if plan.dup and plan.dup[:2] == (d, system) else -1
    as_csv = plan.fmt == "mixed" and system == "hyojun" and d == plan.day_list[0]
    gz = plan.fmt == "mixed" and d != plan.day_list[-1] and not as_csv
    name = f"{system}-{d.isoformat()}.{'csv' if as_csv else 'jsonl'}{'.gz' if gz else ''}"
    ev_prefix = f"{SYS_PREFIX[system]}-{d:%Y%m%d}-"
    lines: list[str] = []
    if as_csv:
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(_EVENT_COLUMNS)
    for i, (t, aid, sid, term, action, resource, affair, subject, extra) in enumerate(out):
        if i == skip_at:
            seq += 1
        eid = f"{ev_prefix}{i + 1:07d}"
        if as_csv:
            x = extra or {}
            w.writerow((fmt_ts(t), system, seq, eid, aid, sid, term, action, resource, affair, subject,
                        x.get("recipient_department", ""), x.get("method", ""), x.get("record_ref", "")))
        else:
            parts = [f'{{"ts":"{fmt_ts(t)}","system":"{system}","seq":{seq},"event_id":"{eid}","account_id":"{aid}"']
            if sid:
                parts.append(f',"session_id":"{sid}"')
            if term:
                parts.append(f',"terminal_id":"{term}"')
            parts.append(f',"action":"{action}"')
            if resource:
                parts.append(f',"resource":"{resource}"')
            if affair:
                parts.append(f',"affair":"{affair}"')
            if subject:
                parts.append(f',"subject_id":"{subject}"')
            if extra:
                for k, v in extra.items():
                    parts.append(f",{json.dumps(k)}:{json.dumps(v, ensure_ascii=False)}")
            parts.append("}\n")
            line = "".join(parts)
            lines.append(line)
            if i == dup_at:
                lines.append(line)
        seq += 1
    data = (buf.getvalue() if as_csv else "".join(lines)).encode("utf-8")
    path = ev_dir / name
    if gz:
        with open(path, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as f:
            f.write(data)
    else:
        path.write_bytes(data)
    n_lines = len(out) + (1 if dup_at >= 0 else 0)
    return d, system, n_lines, len(out), name


_OUT = Path(".")


def _write_ledgers(city: City, out: Path) -> None:
    def csv_bytes(header: tuple[str, ...], rows: Iterable[Iterable[Any]]) -> str:
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\r\n")
        w.writerow(header)
        w.writerows(rows)
        return buf.getvalue()

    def date(d: dt.date | None) -> str:
        return d.isoformat() if d else ""

    acc_rows = [(a.account_id, a.system, a.person_id, a.employment, a.department, ";".join(a.roles),
                 a.permission, date(a.issued_at), a.issued_by, a.approved_by, a.request_ref, date(a.revoked_at),
                 date(a.expires_at), a.last_login_at)
                for a in sorted(city.accounts, key=lambda a: (a.system, a.account_id))]
    header = ("account_id", "system", "person_id", "employment", "department", "roles", "permission", "issued_at",
              "issued_by", "approved_by", "request_ref", "revoked_at", "expires_at", "last_login_at")
    (out / "accounts.csv").write_bytes(b"\xef\xbb\xbf" + csv_bytes(header, acc_rows).encode("utf-8"))
    pers = sorted(city.personnel, key=lambda r: (r[2], r[0], r[1]))
    (out / "personnel.csv").write_bytes(
        csv_bytes(("person_id", "event", "effective_date", "from_department", "to_department"), pers).encode("cp932"))
    (out / "officers.csv").write_bytes(
        csv_bytes(("system", "role", "person_id", "from", "to"), city.officers).encode("utf-8"))
    terms = [(t, dept) for dept, ts in city.terminals.items() for t in ts] + city.extra_terminals
    (out / "terminals.csv").write_bytes(csv_bytes(("terminal_id", "department"), sorted(terms)).encode("utf-8"))
    (out / "approvals.csv").write_bytes(
        csv_bytes(("approval_id", "account_id", "from", "to", "approved_by", "witness"), city.approvals).encode("utf-8"))


def generate(seed: int, events: int, days: int, out: Path, *, start: dt.date = dt.date(2025, 3, 19),
             truth_path: Path | None = None, fmt: str = "mixed", jobs: int | None = None,
             command: str | None = None) -> dict[str, Any]:
    """Write the city into ``out`` and the ground truth beside it; returns the truth document."""
    global _PLAN, _OUT
    t_start = time.perf_counter()
    out = Path(out)
    truth_path = Path(truth_path) if truth_path else out.parent / f"{out.name}_truth.json"
    if truth_path.resolve().is_relative_to(out.resolve()):
        raise SystemExit("--truth must be outside the data directory")
    plan, city, truth = make_plan(seed, events, start, days, fmt)
    (out / "events").mkdir(parents=True, exist_ok=True)
    for old in (out / "events").iterdir():
        old.unlink()
    _write_ledgers(city, out)
    _PLAN, _OUT = plan, out
    tasks = [(d, s) for d in plan.day_list for s in SYSTEMS]
    jobs = jobs or min(len(tasks), os.cpu_count() or 1)
    if jobs > 1 and "fork" in mp.get_all_start_methods():
        with mp.get_context("fork").Pool(jobs) as pool:
            results = pool.map(_gen_day, tasks, chunksize=1)
    else:
        results = [_gen_day(t) for t in tasks]
    _PLAN = None
    per_system = {s: sum(r[3] for r in results if r[1] == s) for s in SYSTEMS}
    doc = {
        "generator": "examples/generate_city.py",
        "command": command,
        "seed": seed, "events_requested": events, "start": start.isoformat(), "days": days, "format": fmt,
        "as_of": plan.as_of.isoformat(),
        "counts": {"lines": sum(r[2] for r in results), "events": sum(r[3] for r in results),
                   "events_by_system": per_system, "accounts": len(city.accounts),
                   "persons": len({a.person_id for a in city.accounts}), "personnel_rows": len(city.personnel),
                   "files": sorted(r[4] for r in results)},
        "encodings": {"accounts.csv": "utf-8-sig", "personnel.csv": "cp932", "officers.csv": "utf-8",
                      "terminals.csv": "utf-8", "approvals.csv": "utf-8", "events": "utf-8"},
        "findings": sorted(truth.findings, key=lambda f: (f["rule"], f["system"], f["account_id"] or "")),
        "must_not_flag": sorted(truth.must_not_flag, key=lambda f: (f["rule"], f["system"], f["account_id"] or "")),
    }
    truth_path.parent.mkdir(parents=True, exist_ok=True)
    truth_path.write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    doc["_seconds"] = time.perf_counter() - t_start
    return doc


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--events", type=int, required=True, help="benign events (plants come on top)")
    p.add_argument("--days", type=int, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--start", type=dt.date.fromisoformat, default=dt.date(2025, 3, 19), help="first JST day")
    p.add_argument("--truth", type=Path, default=None, help="ground truth (default: <out>_truth.json)")
    p.add_argument("--format", choices=("mixed", "jsonl"), default="mixed",
                   help="mixed: rotated .jsonl.gz + one CSV; jsonl: plain NDJSON only")
    p.add_argument("--jobs", type=int, default=None, help="worker processes (output does not depend on it)")
    args = p.parse_args(argv)
    if args.days < 1 or args.events < 0:
        p.error("--days must be ≥ 1 and --events ≥ 0")
    cmd = "python examples/generate_city.py " + " ".join(
        shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:]) if a)
    doc = generate(args.seed, args.events, args.days, args.out, start=args.start, truth_path=args.truth,
                   fmt=args.format, jobs=args.jobs, command=cmd)
    c = doc["counts"]
    print(f"{c['events']:,} events ({c['lines']:,} lines) in {len(c['files'])} files, {c['accounts']:,} accounts, "
          f"{len(doc['findings'])} planted findings, {len(doc['must_not_flag'])} near misses; "
          f"audit with --as-of {doc['as_of']} ({doc['_seconds']:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
