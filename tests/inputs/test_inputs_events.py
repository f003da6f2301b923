"""Events files: reading rules, validation with reasons, duplicates, counts (SPEC §4 "Lines, records and rejects")."""

from __future__ import annotations

import datetime as dt
import gzip

import pytest

from pia_policy.inputs import REJECT_REASONS

UTC = dt.datetime


def one_reject(con):
    r = con.execute("SELECT reason, field, line, detail, excerpt FROM rejected").fetchall()
    assert len(r) == 1, r
    return r[0]


def test_tables_have_the_design_columns(run, jl, event):
    con, res = run({"events/a.jsonl": jl(event())})
    cols = [r[0] for r in con.execute("DESCRIBE events").fetchall()]
    assert cols == [
        "file", "file_idx", "line", "event_id", "ts", "system", "seq", "account_id", "session_id", "terminal_id",
        "action", "resource", "affair", "subject_id", "recipient_department", "method", "record_ref",
    ]  # fmt: skip
    assert [r[0] for r in con.execute("DESCRIBE duplicates").fetchall()] == [
        "file", "line", "event_id", "first_file", "first_line"
    ]
    assert [r[0] for r in con.execute("DESCRIBE rejected").fetchall()] == [
        "file", "line", "reason", "field", "detail", "excerpt"
    ]
    types = dict((r[0], r[1]) for r in con.execute("DESCRIBE events").fetchall())
    assert types["ts"] == "TIMESTAMP" and types["seq"] == "BIGINT" and types["line"] == "BIGINT"
    assert res.counts["events_evaluated"] == 1


@pytest.mark.parametrize(
    ("ts", "utc"),
    [
        ("2025-04-01T09:00:00+09:00", UTC(2025, 4, 1, 0, 0)),
        ("2025-04-01T09:00:00", UTC(2025, 4, 1, 0, 0)),  # no offset: JST
        ("2025-04-01T00:30:00Z", UTC(2025, 4, 1, 0, 30)),
        ("2025-04-01 09:00:00.25-03:00", UTC(2025, 4, 1, 12, 0, 0, 250000)),
        ("2025-04-01T09:00+0530", UTC(2025, 4, 1, 3, 30)),
        ("2025-04-01", UTC(2025, 3, 31, 15, 0)),  # a date: 00:00 JST
        ("1970-01-01T00:00:00Z", UTC(1970, 1, 1)),  # far past is read (the rules judge it)
    ],
)
def test_timestamps_become_naive_utc(run, jl, event, ts, utc):
    con, _ = run({"events/a.jsonl": jl(event(ts=ts))})
    assert con.execute("SELECT ts FROM events").fetchone()[0] == utc


@pytest.mark.parametrize("ts", ["2025-02-30T09:00:00", "2025/04/01 09:00", "yesterday", "2025-04-01T25:00", "2025-04-01+09:00"])
def test_unreadable_timestamp_is_bad_timestamp(run, jl, event, ts):
    con, _ = run({"events/a.jsonl": jl(event(ts=ts))})
    reason, field, line, detail, _ = one_reject(con)
    assert (reason, field, line) == ("bad_timestamp", "ts", 1)
    assert ts[:20] in detail


def test_audit_time_boundary(run, jl, event):
    # as_of 2025-04-02 00:00 JST = 2025-04-01 15:00 UTC: at it is rejected, a microsecond before is read.
    con, res = run(
        {
            "events/a.jsonl": jl(
                event(event_id="at", ts="2025-04-02T00:00:00+09:00"),
                event(event_id="before", ts="2025-04-01T23:59:59.999999+09:00"),
                event(event_id="far", ts="9000-01-01T00:00:00Z"),
            )
        }
    )
    assert [r[0] for r in con.execute("SELECT event_id FROM events").fetchall()] == ["before"]
    assert con.execute("SELECT line, reason, field FROM rejected ORDER BY line").fetchall() == [
        (1, "after_audit_time", "ts"),
        (3, "after_audit_time", "ts"),
    ]
    assert res.counts["rejected_by_reason"] == {"after_audit_time": 2}


@pytest.mark.parametrize("field", ["ts", "system", "event_id", "account_id", "action"])
@pytest.mark.parametrize("value", [..., None, "", "  "])
def test_required_field_missing_null_or_empty(run, jl, event, field, value):
    con, _ = run({"events/a.jsonl": jl(event(**{field: value}))})
    reason, got_field, *_ = one_reject(con)
    assert (reason, got_field) == ("missing_field", field)


@pytest.mark.parametrize("field", ["seq", "session_id", "terminal_id", "resource", "affair", "subject_id", "record_ref"])
def test_null_optional_field_is_absent(run, jl, event, field):
    con, res = run({"events/a.jsonl": jl(event(action="view", **{field: None}))})
    assert res.counts["lines_rejected"] == 0
    assert con.execute(f"SELECT {field} FROM events").fetchone()[0] is None


@pytest.mark.parametrize(
    ("over", "field"),
    [
        ({"account_id": 12345}, "account_id"),
        ({"event_id": 7}, "event_id"),
        ({"subject_id": {"id": 1}}, "subject_id"),
        ({"resource": ["kihon_joho"]}, "resource"),
        ({"terminal_id": True}, "terminal_id"),
        ({"ts": 1743465600}, "ts"),
        ({"seq": "12"}, "seq"),
        ({"seq": 1.5}, "seq"),
        ({"seq": 1e3}, "seq"),
        ({"seq": 2**64}, "seq"),
    ],
)
def test_wrong_type(run, jl, event, over, field):
    con, _ = run({"events/a.jsonl": jl(event(**over))})
    reason, got, _, detail, _ = one_reject(con)
    assert (reason, got) == ("wrong_type", field)
    assert field in detail


def test_integer_seq_near_misses_are_read(run, jl, event):
    con, res = run({"events/a.jsonl": jl(event(event_id="a", seq=0), event(event_id="b", seq=-3), event(event_id="c", seq=2**63 - 1))})
    assert res.counts["lines_rejected"] == 0
    assert [r[0] for r in con.execute("SELECT seq FROM events ORDER BY line").fetchall()] == [0, -3, 2**63 - 1]


@pytest.mark.parametrize(("field", "value"), [("system", "fukushi2"), ("action", "delete"), ("resource", "address"), ("action", "View")])
def test_unknown_value(run, jl, event, field, value):
    con, _ = run({"events/a.jsonl": jl(event(**{field: value}))})
    reason, got, _, detail, _ = one_reject(con)
    assert (reason, got) == ("unknown_value", field)
    assert value in detail


@pytest.mark.parametrize("action", ["login", "logout"])
def test_session_id_required_for_login_logout(run, jl, event, action):
    con, res = run(
        {
            "events/a.jsonl": jl(
                event(event_id="bad", action=action, session_id=..., resource=...),
                event(event_id="empty", action=action, session_id="", resource=...),
                event(event_id="ok", action=action, session_id="s9", resource=...),
                event(event_id="view", action="view", session_id=...),
            )
        }
    )
    assert con.execute("SELECT line, reason FROM rejected ORDER BY line").fetchall() == [
        (1, "missing_session_id"),
        (2, "missing_session_id"),
    ]
    assert sorted(r[0] for r in con.execute("SELECT event_id FROM events").fetchall()) == ["ok", "view"]


def test_structural_rejects(run, jl, event):
    con, res = run(
        {"events/a.jsonl": jl("not json", "[1, 2]", '"a string"', "null", '{"ts": "2025-04-01", ', "12", event())}
    )
    got = con.execute("SELECT line, reason FROM rejected ORDER BY line").fetchall()
    assert got == [(1, "invalid_json"), (2, "not_object"), (3, "not_object"), (4, "not_object"), (5, "invalid_json"), (6, "not_object")]
    assert res.counts["events_evaluated"] == 1


def test_other_fields_are_kept_but_not_judged(run, jl, event):
    con, res = run({"events/a.jsonl": jl(event(note="窓口で確認", nested={"a": [1, {"b": None}]}, method="usb"))})
    assert res.counts["events_evaluated"] == 1


def test_line_numbers_blank_lines_and_line_ends(run, event, jl):
    body = (
        jl(event(event_id="a")).rstrip(b"\n") + b"\r\n"  # CRLF
        + b"\n"  # blank
        + b"   \t \r\n"  # blank (spaces, CRLF)
        + b'{"event_id": "b\rc"}\n'  # a lone CR inside a string: data (invalid JSON control char)
        + jl(event(event_id="d")).rstrip(b"\n")  # last line without LF
    )
    con, res = run({"events/a.jsonl": body})
    assert con.execute("SELECT event_id, line FROM events ORDER BY line").fetchall() == [("a", 1), ("d", 5)]
    assert con.execute("SELECT line, reason FROM rejected").fetchall() == [(4, "invalid_json")]
    assert res.counts["lines_read"] == 3  # blank lines are not records


def test_duplicates_first_valid_wins_and_rejects_claim_no_id(run, jl, event):
    con, res = run(
        {
            "events/a.jsonl": jl(
                event(event_id="x", ts="bad"),  # rejected: claims no id
                event(event_id="x", seq=2),  # first valid: evaluated
                event(event_id="x", seq=3),  # duplicate
            ),
            "events/b.jsonl": jl(event(event_id="x", seq=4), event(event_id="y")),
        }
    )
    assert con.execute("SELECT file, line, seq FROM events WHERE event_id = 'x'").fetchall() == [("events/a.jsonl", 2, 2)]
    assert con.execute("SELECT * FROM duplicates ORDER BY file, line").fetchall() == [
        ("events/a.jsonl", 3, "x", "events/a.jsonl", 2),
        ("events/b.jsonl", 1, "x", "events/a.jsonl", 2),
    ]
    assert res.counts == {
        "lines_read": 5, "events_evaluated": 2, "duplicates": 2, "lines_rejected": 1, "ledger_rows_rejected": 0,
        "rejected_by_reason": {"bad_timestamp": 1},
    }  # fmt: skip


def test_files_are_read_in_file_name_order(run, jl, event):
    con, _ = run({"events/b.jsonl": jl(event(event_id="x", seq=2)), "events/a.jsonl": jl(event(event_id="x", seq=1))})
    assert con.execute("SELECT file, seq FROM events").fetchall() == [("events/a.jsonl", 1)]
    assert con.execute("SELECT file, first_file FROM duplicates").fetchall() == [("events/b.jsonl", "events/a.jsonl")]


def test_invalid_utf8_line_is_an_encoding_reject(run, jl, event):
    body = jl(event(event_id="a")) + b'{"event_id": "\xff\xfe"}\n' + "{\"x\": \"漢字\"}\n".encode("cp932") + jl(event(event_id="b"))
    con, res = run({"events/a.jsonl": body})
    assert con.execute("SELECT line, reason FROM rejected ORDER BY line").fetchall() == [(2, "encoding"), (3, "encoding")]
    assert [r[0] for r in con.execute("SELECT line FROM events ORDER BY line").fetchall()] == [1, 4]
    excerpts = dict(con.execute("SELECT line, excerpt FROM rejected").fetchall())
    # Shown decoded (the CP932 line as CP932), never as backslash escapes of raw bytes.
    assert excerpts[3] == '{"x": "漢字"}'
    assert excerpts[2].startswith('{"event_id": "') and "\\x" not in excerpts[2]


def test_boms_at_start_and_mid_file(run, jl, event):
    body = b"\xef\xbb\xbf" + jl(event(event_id="a")) + b"\xef\xbb\xbf" + jl(event(event_id="b"))
    con, res = run({"events/a.jsonl": body})
    assert res.counts["events_evaluated"] == 2 and res.counts["lines_rejected"] == 0


def test_nul_bytes_are_rejected_with_a_clear_detail(run, jl, event):
    con, _ = run({"events/a.jsonl": jl(event(event_id="a")) + b'{"event_id": "a\x00b"}\n\x00\x00\x00\n'})
    got = con.execute("SELECT line, reason, detail FROM rejected ORDER BY line").fetchall()
    assert [(l, r) for l, r, _ in got] == [(2, "invalid_json"), (3, "invalid_json")]
    assert all("NUL" in d for _, _, d in got)


def test_gzip_and_multi_member_gzip(run, jl, event):
    one = gzip.compress(jl(event(event_id="a"), event(event_id="b")))
    two = gzip.compress(jl(event(event_id="c")))
    con, res = run({"events/a.jsonl.gz": one + two})
    assert [r[0] for r in con.execute("SELECT event_id FROM events ORDER BY line").fetchall()] == ["a", "b", "c"]
    assert res.file_errors == []


def test_truncated_gzip_reads_what_it_can(run, jl, event):
    data = jl(*[event(event_id=f"e{i}", subject_id="x" * 50) for i in range(200)])
    gz = gzip.compress(data)
    con, res = run({"events/a.jsonl.gz": gz[: len(gz) * 2 // 3]})
    assert [f["file"] for f in res.file_errors] == ["events/a.jsonl.gz"]
    n = res.counts["events_evaluated"]
    assert 0 < n < 200
    # The cut line is an io_error, every earlier line was read.
    assert con.execute("SELECT reason FROM rejected").fetchall() in ([("io_error",)], [])
    assert con.execute("SELECT max(line) FROM events").fetchone()[0] == n


def test_not_a_gzip_file(run):
    con, res = run({"events/a.jsonl.gz": b"this is not gzip\n"})
    assert res.file_errors and "gzip" in res.file_errors[0]["error"]
    assert res.counts["lines_read"] == 0


def test_unrelated_files_are_ignored(run, jl, event):
    con, res = run(
        {"events/a.jsonl": jl(event()), "events/notes.txt": "x", "events/.hidden.jsonl": "x", "events/sub/b.jsonl": jl(event(event_id="z"))}
    )
    assert res.ignored_files == ["events/.hidden.jsonl", "events/notes.txt", "events/sub"]
    assert res.events_files == ["events/a.jsonl"]
    assert [i["path"] for i in res.inputs if i["role"] == "events"] == ["events/a.jsonl"]


def test_a_file_with_nothing_readable_is_named(run, jl, event):
    con, res = run({"events/a.jsonl": jl(event()), "events/b.jsonl": b"\x89PNG\r\n\x1a\n\x00\x00garbage\n"})
    assert [f["file"] for f in res.file_errors] == ["events/b.jsonl"]


def test_inputs_carry_size_and_sha256(run, jl, event):
    import hashlib

    body = jl(event())
    con, res = run({"events/a.jsonl": body})
    ev = [i for i in res.inputs if i["role"] == "events"][0]
    assert ev == {"path": "events/a.jsonl", "role": "events", "size": len(body), "sha256": hashlib.sha256(body).hexdigest()}
    assert {i["role"] for i in res.inputs} == {"events", "accounts", "personnel"}


def test_progress_is_reported(run, jl, event):
    calls = []
    run({"events/a.jsonl": jl(event()), "events/b.jsonl": jl(event(event_id="2"))}, progress=lambda *a: calls.append(a))
    assert calls[0] == (0, 2, 0)
    assert calls[-1] == (2, 2, 2)


def test_small_batches_give_the_same_result(run, jl, event):
    lines = [event(event_id=f"e{i % 37}", seq=i, subject_id="s" * (i % 13)) for i in range(300)]
    lines[17] = "garbage"
    body = jl(*lines).replace(b"\n", b"\r\n", 50)
    results = []
    for batch in (1 << 20, 97, 1):
        con, res = run({"events/a.jsonl": body, "events/b.jsonl.gz": gzip.compress(body)}, batch_bytes=batch)
        results.append(
            (
                res.counts,
                con.execute("SELECT * FROM events ORDER BY file, line").fetchall(),
                con.execute("SELECT * FROM duplicates ORDER BY file, line").fetchall(),
                con.execute("SELECT * FROM rejected ORDER BY file, line").fetchall(),
            )
        )
    assert results[0] == results[1] == results[2]
    assert results[0][0]["lines_read"] == 600


def test_reject_reasons_constant():
    assert set(REJECT_REASONS) == {
        "encoding", "invalid_json", "not_object", "csv_width", "missing_field", "wrong_type", "bad_timestamp",
        "unknown_value", "missing_session_id", "after_audit_time", "io_error", "line_too_long",
    }  # fmt: skip


def test_excerpt_is_at_most_200_characters(run, jl, event):
    con, _ = run({"events/a.jsonl": jl(event(ts="nope", note="あ" * 1000))})
    assert len(con.execute("SELECT excerpt FROM rejected").fetchone()[0]) == 200


def test_utf16_file_is_named(run, jl, event):
    body = jl(event()).decode().encode("utf-16")
    con, res = run({"events/a.jsonl": body, "events/b.jsonl": jl(event(event_id="b"))})
    assert any(e["file"] == "events/a.jsonl" and "UTF-16" in e["error"] for e in res.file_errors)
    assert res.counts["events_evaluated"] == 1


def test_rejects_of_small_files_sharing_a_batch_keep_their_file(run, jl, event):
    con, res = run(
        {
            "events/a.jsonl": jl(event(event_id="a")),
            "events/b.jsonl": jl(event(event_id="b")) + b'{"x": "\xff"}\n',
            "events/c.jsonl": b"{broken\n" + jl(event(event_id="c")),
        }
    )
    assert con.execute("SELECT file, line, reason FROM rejected").fetchall() == [
        ("events/b.jsonl", 2, "encoding"),
        ("events/c.jsonl", 1, "invalid_json"),
    ]
    assert con.execute("SELECT file, line, event_id FROM events").fetchall() == [
        ("events/a.jsonl", 1, "a"),
        ("events/b.jsonl", 1, "b"),
        ("events/c.jsonl", 2, "c"),
    ]


@pytest.mark.parametrize("keep_order", [True, False])
def test_events_table_is_in_file_and_line_order(run, jl, event, keep_order, tmp_path):
    import duckdb

    from pia_policy.inputs import ingest

    lines = [event(event_id=f"e{i}") for i in range(400)]
    body = jl(*lines[:200]) + b'{"x": "\xff"}\n' + jl(*lines[200:])
    csv = "ts,system,event_id,account_id,action,note\n" + "".join(
        f'2025-04-01,fukushi,c{i},a,view,"multi\nline {i}"\n' for i in range(300)
    )
    d = run.dir({"events/a.jsonl": body, "events/b.csv": csv, "events/c.jsonl": jl(*lines[:50])})
    con = duckdb.connect()
    con.execute(f"SET preserve_insertion_order = {str(keep_order).lower()}")
    ingest(con, d, as_of_utc=dt.datetime(2025, 4, 1, 15), batch_bytes=4096)
    got = con.execute("SELECT file_idx, line FROM events").fetchall()
    assert got == sorted(got) and len(got) == 400 + 300
