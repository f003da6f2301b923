"""The committed corpus of nasty files (tests/corpus, issue 5): no crash, every line accounted for,
reasons a person can act on, damaged files named."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from pathlib import Path

import duckdb
import pytest

from pia_policy.inputs import REJECT_REASONS, InputError, ingest
from pia_policy.inputs._ingest import EXCERPT_CAP

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "cases"
AS_OF = dt.datetime(2025, 4, 1, 15)
CASES = sorted(p.name for p in CORPUS.iterdir()) if CORPUS.exists() else []


def _ingest(tmp_path: Path, case: str):
    d = tmp_path / case
    shutil.copytree(CORPUS / case, d)
    (d / "accounts.csv").write_bytes("\ufeffaccount_id,system,department\nacc1,fukushi,健康保険課\n".encode())
    (d / "personnel.csv").write_bytes("person_id,event,effective_date\np1,hire,2020-04-01\n".encode("cp932"))
    con = duckdb.connect()
    return con, ingest(con, d, as_of_utc=AS_OF)


def _reasons(con) -> dict[str, int]:
    return dict(con.execute("SELECT reason, count(*) FROM rejected GROUP BY reason").fetchall())


def test_corpus_is_committed():
    assert len(CASES) >= 14


@pytest.mark.parametrize("case", CASES)
def test_no_crash_and_every_line_accounted_for(tmp_path, case, reconcile):
    con, res = _ingest(tmp_path, case)
    reconcile(con, res)
    assert set(_reasons(con)) <= set(REJECT_REASONS)
    # Every reject says what is wrong; every file error names its file.
    assert con.execute("SELECT count(*) FROM rejected WHERE detail IS NULL OR length(detail) < 10").fetchone()[0] == 0
    for err in res.file_errors:
        assert err["file"] and err["error"]
    json.dumps(res.to_dict(), ensure_ascii=False)  # serialisable for summary.json


def test_random_bytes(tmp_path):
    con, res = _ingest(tmp_path, "random_bytes")
    named = {e["file"] for e in res.file_errors}
    assert {"events/random.jsonl", "events/random.jsonl.gz"} <= named
    assert res.counts["events_evaluated"] == 0 and res.counts["lines_rejected"] > 0


def test_truncated_last_line(tmp_path):
    con, res = _ingest(tmp_path, "truncated_last_line")
    assert res.counts["events_evaluated"] == 2
    assert con.execute("SELECT line, reason FROM rejected").fetchall() == [(3, "invalid_json")]


def test_mixed_encodings(tmp_path):
    con, res = _ingest(tmp_path, "mixed_encodings")
    got = con.execute("SELECT file, line, reason FROM rejected ORDER BY file, line").fetchall()
    assert [(f, l) for f, l, r in got if f == "events/a.jsonl"] == [("events/a.jsonl", n) for n in (2, 3, 4, 5)]
    assert all(r == "encoding" for f, _, r in got if f == "events/a.jsonl")
    # The CSV is not valid UTF-8, so it is read as CP932: the UTF-8 line does not decode and is named.
    ev = con.execute("SELECT event_id FROM events WHERE file = 'events/b.csv' ORDER BY line").fetchall()
    assert ("m2",) in ev and ("m3",) in ev


def test_bom_in_the_middle(tmp_path):
    con, res = _ingest(tmp_path, "bom_in_the_middle")
    rej = con.execute("SELECT file, line, reason FROM rejected ORDER BY file, line").fetchall()
    assert [r[0] for r in con.execute("SELECT event_id FROM events WHERE file = 'events/a.jsonl' ORDER BY line").fetchall()] == ["c00001", "c00002"]
    assert ("events/a.jsonl", 3, "bad_timestamp") in rej  # a BOM inside the ts value
    # A repeated CSV header (files concatenated) is one rejected row, the rows around it are read.
    assert ("events/b.csv", 3, "bad_timestamp") in rej
    assert sorted(r[0] for r in con.execute("SELECT event_id FROM events WHERE file = 'events/b.csv'").fetchall()) == ["b1", "b2"]


def test_crlf_and_lone_cr(tmp_path):
    con, res = _ingest(tmp_path, "crlf_and_lone_cr")
    ids = {r[0] for r in con.execute("SELECT event_id FROM events").fetchall()}
    assert {"c00001", "c00002", "cr1", "x1"} <= ids
    rej = dict(((f, l), r) for f, l, r in con.execute("SELECT file, line, reason FROM rejected").fetchall())
    assert rej[("events/a.jsonl", 4)] == "invalid_json"  # raw CR inside a JSON string
    assert "x2\racc1" in ids  # a lone CR is data, not a line end
    assert ("events/b.csv", 3) not in rej


def test_nul_bytes(tmp_path):
    con, res = _ingest(tmp_path, "nul_bytes")
    assert con.execute("SELECT count(*) FROM rejected WHERE detail LIKE '%NUL%'").fetchone()[0] == 2
    assert ("events/b.csv", 3, "unknown_value") in con.execute("SELECT file, line, reason FROM rejected").fetchall()


def test_deep_nesting(tmp_path):
    con, res = _ingest(tmp_path, "deep_nesting")
    assert {r[0] for r in con.execute("SELECT event_id FROM events").fetchall()} == {"c00001", "c00002"}
    assert con.execute("SELECT line, reason FROM rejected ORDER BY line").fetchall() == [(2, "not_object"), (3, "missing_field")]


def test_numbers_and_strings(tmp_path):
    con, res = _ingest(tmp_path, "numbers_and_strings")
    got = con.execute("SELECT line, reason, field FROM rejected ORDER BY line").fetchall()
    assert got == [
        (1, "wrong_type", "account_id"),
        (2, "wrong_type", "event_id"),
        (3, "wrong_type", "seq"),
        (4, "wrong_type", "seq"),
        (5, "wrong_type", "ts"),
        (6, "wrong_type", "subject_id"),
        (7, "wrong_type", "terminal_id"),
    ]
    assert con.execute("SELECT seq FROM events ORDER BY line").fetchall() == [(-1,), (9,)]


def test_timestamps(tmp_path):
    con, res = _ingest(tmp_path, "timestamps")
    got = dict(con.execute("SELECT line, reason FROM rejected").fetchall())
    assert got == {4: "bad_timestamp", 6: "after_audit_time", 7: "after_audit_time", 11: "bad_timestamp", 12: "bad_timestamp"}
    ts = dict(con.execute("SELECT line, ts FROM events").fetchall())
    assert ts[1] == dt.datetime(2025, 4, 1, 3) == ts[2]
    assert ts[5] == dt.datetime(1899, 12, 31, 15)
    assert ts[9] < ts[8]  # out of order is kept as it is; the rules sort


def test_duplicates(tmp_path):
    con, res = _ingest(tmp_path, "duplicates")
    assert res.counts["duplicates"] == 3 and res.counts["events_evaluated"] == 3
    assert con.execute("SELECT file, line, first_file, first_line FROM duplicates ORDER BY file, line").fetchall() == [
        ("events/a.jsonl", 2, "events/a.jsonl", 1),
        ("events/b.jsonl.gz", 1, "events/a.jsonl", 1),
        ("events/b.jsonl.gz", 2, "events/a.jsonl", 3),
    ]


def test_empty_files(tmp_path):
    con, res = _ingest(tmp_path, "empty_files")
    assert res.counts["lines_read"] == 1 and res.file_errors == []
    assert len(res.events_files) == 6


def test_gzip_cut_short(tmp_path):
    con, res = _ingest(tmp_path, "gzip_cut_short")
    assert [e["file"] for e in res.file_errors] == ["events/a.jsonl.gz"]
    n = con.execute("SELECT count(*) FROM events WHERE file = 'events/a.jsonl.gz'").fetchone()[0]
    assert 0 < n < 300
    assert con.execute("SELECT count(*) FROM events WHERE file = 'events/b.jsonl'").fetchone()[0] == 1


def test_csv_width(tmp_path):
    con, res = _ingest(tmp_path, "csv_width")
    assert con.execute("SELECT line, reason FROM rejected ORDER BY line").fetchall() == [(3, "csv_width"), (4, "csv_width")]
    assert [r[0] for r in con.execute("SELECT event_id FROM events ORDER BY line").fetchall()] == ["w1", "w4,still one"]


def test_unrelated_files(tmp_path):
    con, res = _ingest(tmp_path, "unrelated_files")
    assert res.events_files == ["events/a.jsonl"]
    assert set(res.ignored_files) == {
        "events/.DS_Store", "events/README.txt", "events/a.jsonl.bak", "events/data.json", "events/export.parquet", "events/old",
    }  # fmt: skip


@pytest.mark.parametrize("valid", [True, False])
def test_ten_megabyte_single_line(tmp_path, valid, reconcile):
    d = tmp_path / "big"
    (d / "events").mkdir(parents=True)
    (d / "accounts.csv").write_text("account_id,system,department\n")
    (d / "personnel.csv").write_text("person_id,event,effective_date\n")
    big = "x" * (10 << 20)
    if valid:
        line = json.dumps({"ts": "2025-04-01", "system": "fukushi", "event_id": "big", "account_id": "a", "action": "view", "note": big})
    else:
        line = '{"event_id": "big", "note": "' + big  # never closed
    small = json.dumps({"ts": "2025-04-01", "system": "fukushi", "event_id": "s", "account_id": "a", "action": "view"})
    (d / "events" / "a.jsonl").write_text(small + "\n" + line + "\n" + small.replace('"s"', '"t"') + "\n")
    con = duckdb.connect()
    res = ingest(con, d, as_of_utc=AS_OF, batch_bytes=1 << 20)
    reconcile(con, res)
    assert res.counts["lines_read"] == 3
    assert res.counts["events_evaluated"] == (3 if valid else 2)
    if not valid:
        excerpt = con.execute("SELECT excerpt FROM rejected").fetchone()[0]
        assert len(excerpt) == 200


# --- Hostile inputs (issue 16): links, non-regular files, names, excerpts ------------------------------------------

LEDGERS = {"accounts.csv": "account_id,system,department\nacc1,fukushi,健康保険課\n",
           "personnel.csv": "person_id,event,effective_date\n"}
GOOD = json.dumps({"ts": "2025-04-01T09:00:00+09:00", "system": "fukushi", "event_id": "g1", "account_id": "acc1",
                   "action": "view"}) + "\n"


def _data(tmp_path: Path, name: str = "d") -> Path:
    d = tmp_path / name
    (d / "events").mkdir(parents=True)
    for rel, text in LEDGERS.items():
        (d / rel).write_text(text, encoding="utf-8")
    (d / "events" / "a.jsonl").write_text(GOOD, encoding="utf-8")
    return d


def _run(d: Path, **kw):
    con = duckdb.connect()
    return con, ingest(con, d, as_of_utc=AS_OF, **kw)


def test_links_into_proc_and_outside_are_not_read(tmp_path, reconcile, monkeypatch):
    monkeypatch.setenv("PIA_POLICY_SIGNING_KEY", "TOPSECRET-KEY-MATERIAL")
    monkeypatch.setenv("PIA_POLICY_LANG", "en")
    d = _data(tmp_path)
    secret = tmp_path / "elsewhere" / "shadow.jsonl"
    secret.parent.mkdir()
    secret.write_text("root:$6$hash:19000:0:99999:7:::\n")
    (d / "events" / "e.jsonl").symlink_to("/proc/self/environ")
    (d / "events" / "sh.jsonl").symlink_to(secret)
    (d / "events" / "z.csv").symlink_to("/dev/zero")
    inside = d / "archive" / "b.jsonl"  # a link to a file inside the data directory is read
    inside.parent.mkdir()
    inside.write_text(GOOD.replace("g1", "g2"), encoding="utf-8")
    (d / "events" / "b.jsonl").symlink_to(inside)
    con, res = _run(d)
    reconcile(con, res)
    errors = {e["file"]: e["error"] for e in res.file_errors}
    assert set(errors) == {"events/e.jsonl", "events/sh.jsonl", "events/z.csv"}
    assert "/proc" in errors["events/e.jsonl"] and "--allow-link-root" in errors["events/sh.jsonl"]
    assert res.events_files == ["events/a.jsonl", "events/b.jsonl"] and res.counts["events_evaluated"] == 2
    dumped = json.dumps(res.to_dict()) + str(con.execute("SELECT * FROM rejected").fetchall())
    assert "TOPSECRET" not in dumped and "$6$" not in dumped
    # The operator allows the root explicitly: the link is read (and its line rejected, as it is no log).
    con, res = _run(d, allow_link_roots=[secret.parent])
    assert not [e for e in res.file_errors if "--allow-link-root" in e["error"] and e["file"] == "events/sh.jsonl"]
    assert con.execute("SELECT file, reason FROM rejected").fetchall() == [("events/sh.jsonl", "invalid_json")]
    # /proc stays closed even when allowed.
    con, res = _run(d, allow_link_roots=["/"])
    assert "events/e.jsonl" in {e["file"] for e in res.file_errors}


def test_fifo_events_file_and_ledger_never_hang(tmp_path, reconcile, monkeypatch):
    monkeypatch.setenv("PIA_POLICY_LANG", "en")
    d = _data(tmp_path)
    os.mkfifo(d / "events" / "pipe.jsonl")
    os.mkfifo(d / "officers.csv")  # optional ledger: named, its rules skipped
    con, res = _run(d)
    reconcile(con, res)
    errors = {e["file"]: e["error"] for e in res.file_errors}
    assert "named pipe (FIFO)" in errors["events/pipe.jsonl"] and "named pipe" in errors["officers.csv"]
    assert res.counts["events_evaluated"] == 1
    # A required ledger that is not a regular file stops the run, naming it.
    (d / "accounts.csv").unlink()
    os.mkfifo(d / "accounts.csv")
    with pytest.raises(InputError, match="accounts.csv") as err:
        _run(d)
    assert "named pipe" in str(err.value)
    (d / "accounts.csv").unlink()
    (d / "accounts.csv").symlink_to("/dev/zero")
    with pytest.raises(InputError, match="accounts.csv.*/dev"):
        _run(d)


def test_cp932_named_files_never_crash(tmp_path, reconcile):
    d = _data(tmp_path)
    raw = os.fsencode(d / "events") + b"/" + "窓口".encode("cp932")
    with open(raw + b".jsonl", "wb") as fh:
        fh.write(GOOD.replace("g1", "g3").encode())
    with open(raw + b".txt", "wb") as fh:  # ignored, but named
        fh.write(b"notes")
    con, res = _run(d)
    reconcile(con, res)
    json.dumps(res.to_dict(), ensure_ascii=False).encode("utf-8")  # no lone surrogates
    assert "events/窓口.jsonl" in res.events_files and "events/窓口.txt" in res.ignored_files
    assert con.execute("SELECT file FROM events WHERE event_id = 'g3'").fetchall() == [("events/窓口.jsonl",)]


def test_excerpts_of_a_mostly_rejected_file_are_capped(tmp_path, reconcile):
    d = _data(tmp_path)
    (d / "events" / "b.jsonl").write_text("".join(f"secret line {i}\n" for i in range(50)) + GOOD.replace("g1", "g4"))
    (d / "events" / "c.jsonl").write_text(GOOD.replace("g1", "g5") * 1 + "".join(
        json.dumps({"ts": "2025-04-01", "system": "fukushi", "event_id": f"c{i}", "account_id": "acc1",
                    "action": "view"}) + "\n" for i in range(30)) + "not json\n" * 12)
    con, res = _run(d)
    reconcile(con, res)
    b = con.execute("SELECT line, excerpt FROM rejected WHERE file = 'events/b.jsonl' ORDER BY line").fetchall()
    assert len(b) == 50 and res.counts["lines_rejected"] == 62  # every line listed and counted
    assert [e for _, e in b[:EXCERPT_CAP]] == [f"secret line {i}" for i in range(EXCERPT_CAP)]
    assert all(e is None for _, e in b[EXCERPT_CAP:])
    c = con.execute("SELECT excerpt FROM rejected WHERE file = 'events/c.jsonl'").fetchall()
    assert len(c) == 12 and all(e == "not json" for (e,) in c)  # mostly read: every excerpt kept


def test_cp932_full_width_my_number_in_a_jsonl_line_is_masked(tmp_path):
    from pia_policy.outputs import write_outputs

    d = _data(tmp_path)
    number = "１２３４５６７８９０１８"  # valid check digit
    (d / "events" / "b.jsonl").write_bytes(('{"note": "' + number + '"}\n').encode("cp932"))
    con, res = _run(d)
    excerpt = con.execute("SELECT excerpt FROM rejected WHERE file = 'events/b.jsonl'").fetchone()[0]
    assert excerpt == '{"note": "' + number + '"}'  # decoded, so the output masking sees the digits
    out = write_outputs(tmp_path / "out", findings=[], summary={}, rejected=[
        dict(zip(("file", "line", "reason", "field", "detail", "excerpt"), row))
        for row in con.execute("SELECT * FROM rejected").fetchall()])
    text = (out / "rejected.jsonl").read_text(encoding="utf-8")
    assert "********９０１８" in text and number not in text and "\\x82" not in text


RSS_CHILD = """
import datetime as dt, json, resource, sys
import duckdb
from pia_policy.inputs import ingest
con = duckdb.connect(config={"memory_limit": "512MB"})
res = ingest(con, sys.argv[1], as_of_utc=dt.datetime(2025, 4, 1, 15))
rows = con.execute("SELECT file, line, reason, length(excerpt) FROM rejected ORDER BY file, line").fetchall()
print(json.dumps({"counts": res.counts, "errors": res.file_errors, "rejected": rows,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024}))
"""


def _child_ingest(d: Path) -> dict:
    import subprocess
    import sys

    p = subprocess.run([sys.executable, "-c", RSS_CHILD, str(d)], capture_output=True, text=True, timeout=600,
                       env=dict(os.environ, PIA_POLICY_LANG="en"))
    assert p.returncode == 0, p.stderr[-2000:]
    return json.loads(p.stdout)


def test_a_200_mb_line_is_a_bounded_reject(tmp_path):
    from pia_policy.inputs._stream import MAX_LINE_BYTES

    d = _data(tmp_path)
    with open(d / "events" / "b.jsonl", "wb") as fh:
        fh.write(GOOD.replace("g1", "b1").encode())
        fh.write(b'{"event_id": "huge", "note": "')
        for _ in range(200):
            fh.write(b"x" * (1 << 20))
        fh.write(b'"}\n')
        fh.write(GOOD.replace("g1", "b2").encode())
    with open(d / "events" / "c.csv", "wb") as fh:  # the same in a CSV, inside an open quote, at the end
        fh.write(b"ts,system,event_id,account_id,action\n2025-04-01,fukushi,c1,acc1,view\n2025-04-01,fukushi,\"")
        for _ in range(40):
            fh.write(b"y" * (1 << 20))
    got = _child_ingest(d)
    assert got["counts"]["lines_read"] == 6 and got["counts"]["events_evaluated"] == 4
    assert [r[:3] for r in got["rejected"]] == [["events/b.jsonl", 2, "line_too_long"],
                                                ["events/c.csv", 3, "line_too_long"]]
    assert all(r[3] == 200 for r in got["rejected"])
    assert got["rss_mb"] < 1024, got["rss_mb"]  # peak RSS ≤ 1 GiB (README); DuckDB ran out of memory before
    assert MAX_LINE_BYTES < 200 << 20


def test_gzip_bomb_of_blank_lines_is_bounded(tmp_path):
    import zlib

    d = _data(tmp_path)
    comp = zlib.compressobj(1, zlib.DEFLATED, 31)
    with open(d / "events" / "bomb.jsonl.gz", "wb") as fh:
        fh.write(comp.compress(GOOD.replace("g1", "z1").encode()))
        for _ in range(256):
            fh.write(comp.compress(b"\n" * (1 << 20)))  # 256 MiB of blank lines
        fh.write(comp.flush())
    assert (d / "events" / "bomb.jsonl.gz").stat().st_size < 2 << 20
    got = _child_ingest(d)
    assert [e["file"] for e in got["errors"]] == ["events/bomb.jsonl.gz"]
    assert "gzip bomb" in got["errors"][0]["error"]
    assert got["counts"]["events_evaluated"] == 2 and got["counts"]["lines_rejected"] == 0
    assert got["rss_mb"] < 1024, got["rss_mb"]  # was 2.2 GB
