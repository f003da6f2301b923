"""The example-city generator: layout, encodings, determinism, traffic shape, and that its
benign traffic keeps every SPEC §4 invariant (checked here independently of the audit)."""

from __future__ import annotations

import collections
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from examples_helpers import JST, keys, parse_ts, read_csv, tree_digest

from pia_policy.rules import SPEC_RULE_IDS

def test_every_rule_is_planted_and_has_near_misses(city: tuple[Path, dict[str, Any]]) -> None:
    _, truth = city
    assert {f["rule"] for f in truth["findings"]} == set(SPEC_RULE_IDS)
    near_rules = {f["rule"] for f in truth["must_not_flag"]}
    assert len(near_rules) >= 15, sorted(set(SPEC_RULE_IDS) - near_rules)
    assert truth["as_of"] == "2025-04-04"


def test_planted_accounts_are_distinct(city: tuple[Path, dict[str, Any]]) -> None:
    """One planted finding per account, so the SPEC §4 precedence cannot hide a plant."""
    _, truth = city
    planted = [(f["system"], f["account_id"]) for f in truth["findings"] if f["account_id"]]
    assert len(planted) == len(set(planted))
    near = {(f["system"], f["account_id"]) for f in truth["must_not_flag"] if f["account_id"]}
    assert not set(planted) & near
    assert not keys(truth["findings"]) & keys(truth["must_not_flag"])


def test_layout_and_encodings(city: tuple[Path, dict[str, Any]]) -> None:
    data, truth = city
    names = sorted(p.name for p in (data / "events").iterdir())
    assert names == truth["counts"]["files"]
    assert any(n.endswith(".jsonl.gz") for n in names)
    assert any(n.endswith(".csv") for n in names)
    assert [n for n in names if n.endswith(".jsonl")] == [f"{s}-2025-04-03.jsonl" for s in ("fukushi", "gyomu_kyotsu", "hyojun")]
    assert (data / "accounts.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    raw = (data / "personnel.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    assert "健康保険課" in raw.decode("cp932")
    for name in ("officers.csv", "terminals.csv", "approvals.csv"):
        text = (data / name).read_bytes()
        assert not text.startswith(b"\xef\xbb\xbf")
        text.decode("utf-8")
    assert not (data / "city_truth.json").exists() and not list(data.rglob("*truth*"))


def test_same_seed_is_byte_identical_whatever_the_jobs(gen: Any, tmp_path: Path) -> None:
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    gen.generate(5, 4000, 8, a, jobs=1)
    gen.generate(5, 4000, 8, b, jobs=3)
    gen.generate(6, 4000, 8, c, jobs=1)
    da, db = tree_digest(a), tree_digest(b)
    assert da == db
    assert {p: (a / p).read_bytes() for p in da} == {p: (b / p).read_bytes() for p in db}  # gzip too
    assert (tmp_path / "a_truth.json").read_text() == (tmp_path / "b_truth.json").read_text()
    assert tree_digest(c) != da


def test_seq_runs_by_one_except_the_planted_gap(city_events: list[dict[str, Any]]) -> None:
    first: dict[str, dict[str, Any]] = {}
    for e in city_events:
        first.setdefault(e["event_id"], e)
    assert len(city_events) - len(first) == 1  # the planted duplicate line
    by_sys: dict[str, list[int]] = collections.defaultdict(list)
    for e in first.values():
        by_sys[e["system"]].append(e["seq"])
    for system, seqs in by_sys.items():
        seqs.sort()
        missing = (seqs[-1] - seqs[0] + 1) - len(set(seqs))
        assert len(set(seqs)) == len(seqs)
        assert missing == (1 if system == "hyojun" else 0), system


def test_traffic_shape_business_hours_lunch_and_holidays(gen: Any, city_events: list[dict[str, Any]]) -> None:
    per_day: collections.Counter[dt.date] = collections.Counter()
    per_hour: collections.Counter[int] = collections.Counter()
    for e in city_events:
        t = e["_t"].astimezone(JST)
        per_day[t.date()] += 1
        if gen.business_day(t.date()):
            per_hour[t.hour] += 1
    busy = [n for d, n in per_day.items() if gen.business_day(d)]
    quiet = [n for d, n in per_day.items() if not gen.business_day(d)]
    assert dt.date(2025, 3, 20) in per_day and not gen.business_day(dt.date(2025, 3, 20))  # 春分の日
    assert max(quiet) < 0.2 * min(busy)
    assert per_hour[12] < 0.7 * (per_hour[10] + per_hour[14]) / 2  # lunch dip
    assert per_hour[3] == 0 and per_hour[10] > per_hour[19]


def _business_seconds(gen: Any, a: dt.datetime, b: dt.datetime) -> float:
    total = 0.0
    d = a.astimezone(JST).date()
    while d <= b.astimezone(JST).date():
        if gen.business_day(d):
            lo = dt.datetime.combine(d, dt.time(8, 30), JST)
            hi = dt.datetime.combine(d, dt.time(17, 15), JST)
            total += max(0.0, (min(b, hi) - max(a, lo)).total_seconds())
        d += dt.timedelta(days=1)
    return total


def test_business_hour_gaps(gen: Any, city_events: list[dict[str, Any]]) -> None:
    """gyomu_kyotsu has the planted 61-minute gap, fukushi exactly 60, hyojun far less."""
    by_sys: dict[str, list[dt.datetime]] = collections.defaultdict(list)
    for e in city_events:
        by_sys[e["system"]].append(e["_t"])
    worst = {}
    for system, ts in by_sys.items():
        ts.sort()
        worst[system] = max(_business_seconds(gen, x, y) for x, y in zip(ts, ts[1:]))
    assert worst == {"gyomu_kyotsu": 61 * 60, "fukushi": 60 * 60, "hyojun": pytest.approx(worst["hyojun"])}
    assert worst["hyojun"] <= 30 * 60


def test_benign_traffic_keeps_the_invariants(city: tuple[Path, dict[str, Any]],
                                             city_events: list[dict[str, Any]]) -> None:
    data, truth = city
    planted = {(f["system"], f["account_id"]) for f in truth["findings"] if f["account_id"]}
    ledger = {(r["system"], r["account_id"]): r for r in read_csv(data / "accounts.csv")}
    terminals = {r["terminal_id"]: r["department"] for r in read_csv(data / "terminals.csv")}
    business = set(terminals.values()) - {"総務課"}
    subjects: dict[tuple[str, str, dt.date], set[str]] = collections.defaultdict(set)
    logins: dict[str, dt.datetime] = {}
    sessions: dict[str, float] = {}
    for e in city_events:
        key = (e["system"], e["account_id"])
        if "subject_id" in e:
            subjects[(*key, e["_t"].astimezone(JST).date())].add(e["subject_id"])
        if key in planted:
            continue
        assert key in ledger, key
        if "terminal_id" in e:
            assert terminals.get(e["terminal_id"]) in business, e
        if e["action"] == "login":
            logins[e["session_id"]] = e["_t"]
        elif e["action"] == "logout":
            sessions[e["session_id"]] = (e["_t"] - logins.pop(e["session_id"])).total_seconds()
        acc = ledger[key]
        t = e["_t"]
        for col in ("revoked_at", "expires_at"):
            if acc[col]:
                assert t < dt.datetime.combine(dt.date.fromisoformat(acc[col]), dt.time(), JST), (e, acc)
    assert not logins, "every benign session is closed"
    assert max(sessions.values()) <= 10 * 3600
    over = {k for k, v in subjects.items() if len(v) > 500}
    assert {(k[0], k[1]) for k in over} == {(f["system"], f["account_id"]) for f in truth["findings"]
                                            if f["rule"] == "BULK_ACCESS"}


def test_ledgers_are_consistent(city: tuple[Path, dict[str, Any]]) -> None:
    data, truth = city
    accounts = read_csv(data / "accounts.csv")
    assert len(accounts) == truth["counts"]["accounts"] > 2000
    assert {a["system"] for a in accounts} == {"gyomu_kyotsu", "fukushi", "hyojun"}
    assert {a["employment"] for a in accounts} == {"regular", "non_regular", "contractor"}
    depts = {a["department"] for a in accounts}
    assert {"健康保険課", "美浜区市民総合窓口課", "保護課", "緑区健康課", "中央区社会支援課"} <= depts
    personnel = read_csv(data / "personnel.csv", encoding="cp932")
    wave = [p for p in personnel if p["effective_date"] == "2025-04-01" and p["event"] == "transfer"]
    assert len(wave) > 50
    leaving = {p["person_id"]: p["from_department"] for p in wave}
    old = [a for a in accounts if a["person_id"] in leaving and a["department"] == leaving[a["person_id"]]]
    on_time = [a for a in old if a["revoked_at"] == "2025-04-01"]
    assert len(on_time) > 0.7 * len(old)
    assert all(a["revoked_at"] <= "2025-04-08" or not a["revoked_at"] for a in old)
    officers = read_csv(data / "officers.csv")
    assert {o["role"] for o in officers} == {"system_owner", "export_delegate", "info_system_manager"}
    approvals = read_csv(data / "approvals.csv")
    assert sum(1 for a in approvals if a["witness"]) > 10


def test_truth_file_lists_plants_beside_the_data(gen: Any, tmp_path: Path) -> None:
    with pytest.raises(SystemExit):
        gen.generate(1, 1000, 8, tmp_path / "d", truth_path=tmp_path / "d" / "truth.json")
    with pytest.raises(SystemExit, match="business days"):
        gen.generate(1, 1000, 2, tmp_path / "e")
    gen.generate(1, 1000, 8, tmp_path / "f", truth_path=tmp_path / "t.json")
    truth = json.loads((tmp_path / "t.json").read_text(encoding="utf-8"))
    assert truth["as_of"] == "2025-03-27"
    assert all({"rule", "system", "account_id", "note"} <= set(f) for f in truth["findings"] + truth["must_not_flag"])


def test_plain_jsonl_format_for_benchmarks(gen: Any, tmp_path: Path) -> None:
    gen.generate(2, 3000, 8, tmp_path / "p", fmt="jsonl")
    names = [p.name for p in (tmp_path / "p" / "events").iterdir()]
    assert names and all(n.endswith(".jsonl") for n in names)
    line = next(iter((tmp_path / "p" / "events" / "hyojun-2025-03-19.jsonl").open()))
    rec = json.loads(line)
    assert parse_ts(rec["ts"]).utcoffset() == dt.timedelta(hours=9) and "+" not in rec["ts"]
