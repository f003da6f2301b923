"""Property tests: every line accounted for, under random mixtures of valid and broken lines."""

from __future__ import annotations

import datetime as dt
import gzip
import json

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pia_policy.inputs import REJECT_REASONS, ingest, parse_ts
from pia_policy.inputs._time import sql_parse_ts

AS_OF = dt.datetime(2025, 4, 1, 15)

_valid = st.fixed_dictionaries(
    {
        "ts": st.sampled_from(["2025-04-01T09:00:00+09:00", "2025-03-31T23:00:00Z", "2025-04-01", "2025-04-02T00:00:00"]),
        "system": st.sampled_from(["fukushi", "hyojun", "gyomu_kyotsu", "other"]),
        "event_id": st.sampled_from([f"e{i}" for i in range(8)]),
        "account_id": st.one_of(st.just("a1"), st.integers(0, 3), st.none()),
        "action": st.sampled_from(["view", "login", "print", "hack"]),
    },
    optional={
        "session_id": st.one_of(st.none(), st.just("s1"), st.just("")),
        "seq": st.one_of(st.integers(-5, 2**64), st.text(max_size=3), st.floats(allow_nan=False)),
        "resource": st.sampled_from(["kihon_joho", "kojin_bango", "x", None]),
        "note": st.text(max_size=20),
    },
)
_line = st.one_of(
    _valid.map(lambda d: json.dumps(d, ensure_ascii=False).encode()),
    _valid.map(lambda d: json.dumps(d).encode() + b"\r"),  # CRLF once joined
    st.binary(max_size=40).filter(lambda b: b"\n" not in b),
    st.sampled_from([b"", b"  ", b"\t", b"[]", b"null", b"{", b"\xef\xbb\xbf{}", b"\x00", b"\r", b"\r\r"]),
    st.text(max_size=30).map(lambda s: s.replace("\n", " ").encode("utf-8")),
)


def _non_blank(lines: list[bytes]) -> set[int]:
    out = set()
    for i, raw in enumerate(lines, start=1):
        text = raw[:-1] if raw.endswith(b"\r") else raw
        if text.startswith(b"\xef\xbb\xbf") and i > 1:
            text = text[3:]
        if i == 1 and text.startswith(b"\xef\xbb\xbf"):
            text = text[3:]
        if text.strip(b" \t") != b"":
            out.add(i)
    return out


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(
    files=st.lists(st.lists(_line, max_size=25), min_size=1, max_size=3),
    gz=st.booleans(),
    final_lf=st.booleans(),
    batch=st.sampled_from([1, 64, 1 << 20]),
)
def test_every_line_is_accounted_for(tmp_path_factory, files, gz, final_lf, batch):
    d = tmp_path_factory.mktemp("prop")
    (d / "events").mkdir()
    (d / "accounts.csv").write_text("account_id,system,department\n")
    (d / "personnel.csv").write_text("person_id,event,effective_date\n")
    expected: dict[str, set[int]] = {}
    for n, lines in enumerate(files):
        body = b"\n".join(lines) + (b"\n" if final_lf and lines else b"")
        name = f"events/f{n}.jsonl" + (".gz" if gz else "")
        (d / name).write_bytes(gzip.compress(body) if gz else body)
        expected[name] = _non_blank(body.split(b"\n")[: len(lines)] if lines else [])
    con = duckdb.connect()
    res = ingest(con, d, as_of_utc=AS_OF, batch_bytes=batch)
    c = res.counts
    assert c["lines_read"] == c["events_evaluated"] + c["duplicates"] + c["lines_rejected"]
    seen = con.execute(
        """SELECT file, line FROM events UNION ALL SELECT file, line FROM duplicates
           UNION ALL SELECT file, line FROM rejected"""
    ).fetchall()
    assert len(seen) == len(set(seen)) == c["lines_read"]
    got: dict[str, set[int]] = {name: set() for name in expected}
    for f, line in seen:
        got[f].add(line)
    assert got == expected
    assert {r[0] for r in con.execute("SELECT DISTINCT reason FROM rejected").fetchall()} <= set(REJECT_REASONS)
    assert con.execute("SELECT count(*) FROM rejected WHERE detail IS NULL OR detail = ''").fetchone()[0] == 0
    # event_id is unique among evaluated events, and each duplicate points to its evaluated event.
    assert con.execute("SELECT count(*) - count(DISTINCT event_id) FROM events").fetchone()[0] == 0
    assert con.execute(
        "SELECT count(*) FROM duplicates d ANTI JOIN events e ON e.event_id = d.event_id AND e.file = d.first_file AND e.line = d.first_line"
    ).fetchone()[0] == 0


_ts_text = st.one_of(
    st.builds(
        "{:04d}-{:02d}-{:02d}{}".format,
        st.integers(1, 9999),
        st.integers(0, 13),
        st.integers(0, 32),
        st.one_of(
            st.just(""),
            st.builds(
                "{}{:02d}:{:02d}{}{}".format,
                st.sampled_from(["T", " ", "t"]),
                st.integers(0, 25),
                st.integers(0, 61),
                st.one_of(st.just(""), st.builds(":{:02d}".format, st.integers(0, 61)), st.builds(":{:02d}.{}".format, st.integers(0, 59), st.from_regex(r"\A[0-9]{1,9}\Z"))),
                st.sampled_from(["", "Z", "z", "+09:00", "-0330", "+09", " +09:00", "+24:00", "-00:00"]),
            ),
        ),
    ),
    st.text(max_size=25),
)


@settings(max_examples=300, deadline=None)
@given(values=st.lists(_ts_text, min_size=1, max_size=20))
def test_python_and_sql_timestamp_parsers_agree(values):
    con = duckdb.connect()
    for v in values:
        got = con.execute(f"SELECT {sql_parse_ts('$1')}", [v]).fetchone()[0]
        assert got == parse_ts(v), v


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-04-01", dt.datetime(2025, 3, 31, 15)),
        ("2025-04-01T00:00:00+09:00", dt.datetime(2025, 3, 31, 15)),
        ("2025-04-01T00:00:00Z", dt.datetime(2025, 4, 1)),
        ("0001-01-01T00:00:00", None),  # before 0001-01-02 UTC: not representable everywhere
        ("2025-04-31", None),
        (None, None),
    ],
)
def test_parse_ts(text, expected):
    assert parse_ts(text) == expected


_csv_cell = st.one_of(
    st.sampled_from(["", "fukushi", "view", "acc1", "2025-04-01", "x,y", '"q"', "a\nb", "漢字", "\r", " "]),
    st.text(max_size=6),
)


def _csv_value(v: str) -> str:
    return '"' + v.replace('"', '""') + '"' if any(c in v for c in ',"\n\r') else v


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(
    rows=st.lists(st.lists(_csv_cell, min_size=4, max_size=6), max_size=20),
    raw=st.lists(st.binary(max_size=20), max_size=3),
    enc=st.sampled_from(["utf-8", "cp932"]),
    batch=st.sampled_from([1, 50, 1 << 20]),
)
def test_csv_lines_are_accounted_for(tmp_path_factory, rows, raw, enc, batch):
    d = tmp_path_factory.mktemp("csvprop")
    (d / "events").mkdir()
    (d / "accounts.csv").write_text("account_id,system,department\n")
    (d / "personnel.csv").write_text("person_id,event,effective_date\n")
    text = "ts,system,event_id,account_id,action\n" + "".join(",".join(_csv_value(c) for c in r) + "\n" for r in rows)
    body = text.encode(enc, "replace") + b"\n".join(raw)
    (d / "events" / "a.csv").write_bytes(body)
    con = duckdb.connect()
    res = ingest(con, d, as_of_utc=AS_OF, batch_bytes=batch)
    c = res.counts
    assert c["lines_read"] == c["events_evaluated"] + c["duplicates"] + c["lines_rejected"]
    seen = con.execute(
        "SELECT line FROM events UNION ALL SELECT line FROM duplicates UNION ALL SELECT line FROM rejected"
    ).fetchall()
    assert len(seen) == len(set(seen)) == c["lines_read"]
    n_lines = body.count(b"\n") + (0 if body.endswith(b"\n") else 1)
    assert all(2 <= line <= n_lines for (line,) in seen)
    # Records never outnumber the non-blank physical lines after the header.
    assert c["lines_read"] <= sum(1 for ln in body.split(b"\n")[1:] if ln.strip(b" \t\r"))


_any_value = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**70), 2**70),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=8),
        st.sampled_from(["fukushi", "view", "login", "kihon_joho", "2025-04-01T09:00:00", "s1", "", "12"]),
    ),
    lambda children: st.one_of(st.lists(children, max_size=2), st.dictionaries(st.text(max_size=3), children, max_size=2)),
    max_leaves=4,
)
_keys = st.sampled_from(["ts", "system", "seq", "event_id", "account_id", "session_id", "action", "resource", "subject_id", "note"])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(
    objs=st.lists(st.dictionaries(_keys, _any_value, max_size=8), min_size=1, max_size=15),
    ascii_only=st.booleans(),
    spaced=st.booleans(),
)
def test_fast_and_exact_json_paths_agree(tmp_path_factory, monkeypatch, objs, ascii_only, spaced):
    from pia_policy.inputs import _sql

    base = {"ts": "2025-04-01T09:00:00", "system": "fukushi", "event_id": "e", "account_id": "a", "action": "view"}
    lines = []
    for i, o in enumerate(objs):
        rec = {**base, "event_id": f"e{i}", **o}
        sep = (", ", " :  ") if spaced else (",", ":")
        lines.append(json.dumps(rec, ensure_ascii=ascii_only, separators=sep).encode())
    d = tmp_path_factory.mktemp("paths")
    (d / "events").mkdir()
    (d / "accounts.csv").write_text("account_id,system,department\n")
    (d / "personnel.csv").write_text("person_id,event,effective_date\n")
    (d / "events" / "a.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    results = []
    for force in (False, True):
        monkeypatch.setattr(_sql, "FORCE_EXACT", force)
        con = duckdb.connect()
        ingest(con, d, as_of_utc=AS_OF)
        results.append(
            (
                con.execute("SELECT * FROM events ORDER BY line").fetchall(),
                con.execute("SELECT line, reason, field FROM rejected ORDER BY line").fetchall(),
            )
        )
    assert results[0] == results[1]
