"""CSV events (encodings, quoting, width), ledgers, mapping files and InputError."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pytest

from pia_policy.inputs import InputError, ingest

HEADER = "ts,system,event_id,account_id,session_id,action,resource,affair,subject_id,note\n"
ROOT = Path(__file__).resolve().parents[2]


def csv_row(eid: str, note: str = "", ts: str = "2025-04-01 09:00:00") -> str:
    return f"{ts},fukushi,{eid},acc1,s1,view,kihon_joho,kouki-01,sub1,{note}\n"


def test_csv_header_is_line_1_and_not_counted(run):
    con, res = run({"events/a.csv": HEADER + csv_row("a") + csv_row("b")})
    assert con.execute("SELECT event_id, line, ts FROM events ORDER BY line").fetchall() == [
        ("a", 2, dt.datetime(2025, 4, 1, 0, 0)),
        ("b", 3, dt.datetime(2025, 4, 1, 0, 0)),
    ]
    assert res.counts["lines_read"] == 2


def test_quoted_record_spanning_lines_counts_once(run):
    body = HEADER + csv_row("a", '"line one\nline ""two"", with comma"') + csv_row("b") + csv_row("c", '"x\n\ny"') + csv_row("d")
    con, res = run({"events/a.csv": body})
    assert con.execute("SELECT event_id, line FROM events ORDER BY line").fetchall() == [("a", 2), ("b", 4), ("c", 5), ("d", 8)]
    assert res.counts["lines_read"] == 4


def test_quoted_values_with_commas_map_to_the_right_column(run):
    body = 'ts,system,event_id,account_id,action,resource,subject_id\n2025-04-01T09:00,"fukushi","e,1","a""1",view,kihon_joho,""\n'
    con, _ = run({"events/a.csv": body})
    assert con.execute("SELECT event_id, account_id, subject_id FROM events").fetchone() == ("e,1", 'a"1', None)


@pytest.mark.parametrize(("row", "n"), [("2025-04-01,fukushi,x,acc1,s1,view,kihon_joho,kouki-01,sub1\n", 9), (csv_row("x", "a,b"), 11)])
def test_csv_width(run, row, n):
    con, res = run({"events/a.csv": HEADER + csv_row("ok") + row})
    assert con.execute("SELECT line, reason FROM rejected").fetchall() == [(3, "csv_width")]
    assert f"{n}" in con.execute("SELECT detail FROM rejected").fetchone()[0]
    assert res.counts["events_evaluated"] == 1


def test_csv_missing_required_column_is_named(run):
    con, res = run({"events/a.csv": "ts,system,event_id,action\n2025-04-01,fukushi,e1,view\n"})
    assert con.execute("SELECT reason, field FROM rejected").fetchall() == [("missing_field", "account_id")]
    assert res.file_errors and "account_id" in res.file_errors[0]["error"]


def test_csv_seq_must_be_an_integer(run):
    body = "ts,system,seq,event_id,account_id,action\n2025-04-01,fukushi,7,a,x,view\n2025-04-01,fukushi,7.0,b,x,view\n2025-04-01,fukushi,,c,x,view\n"
    con, _ = run({"events/a.csv": body})
    assert con.execute("SELECT event_id, seq FROM events ORDER BY line").fetchall() == [("a", 7), ("c", None)]
    assert con.execute("SELECT line, reason, field FROM rejected").fetchall() == [(3, "wrong_type", "seq")]


@pytest.mark.parametrize("enc", ["utf-8", "utf-8-sig", "cp932"])
def test_csv_encodings_are_detected(run, enc):
    body = (HEADER.replace("note", "備考") + csv_row("a", "窓口で確認") + csv_row("b", "〜①髙")).encode(enc)
    con, res = run({"events/a.csv": body})
    assert res.counts["events_evaluated"] == 2 and res.counts["lines_rejected"] == 0


def test_forced_utf8_rejects_cp932_lines(run):
    body = (HEADER + csv_row("a") + csv_row("b", "漢字")).encode("cp932")
    con, res = run({"events/a.csv": body}, encoding="utf-8")
    assert con.execute("SELECT line, reason FROM rejected").fetchall() == [(3, "encoding")]
    con, res = run({"events/a.csv": body}, encoding="cp932")
    assert res.counts["lines_rejected"] == 0


def test_cp932_file_with_a_broken_line(run):
    body = (HEADER + csv_row("a", "漢字")).encode("cp932") + b"2025-04-01,fukushi,b,acc1,s1,view,kihon_joho,kouki-01,sub1,\x81\n" + (csv_row("c", "ｶﾅ")).encode("cp932")
    con, res = run({"events/a.csv": body})
    assert con.execute("SELECT line, reason FROM rejected").fetchall() == [(3, "encoding")]
    assert [r[0] for r in con.execute("SELECT event_id FROM events ORDER BY line").fetchall()] == ["a", "c"]


def test_csv_crlf_and_blank_lines(run):
    body = (HEADER + csv_row("a") + "\n" + csv_row("b")).replace("\n", "\r\n")
    con, res = run({"events/a.csv": body})
    assert con.execute("SELECT event_id, line, affair FROM events ORDER BY line").fetchall() == [("a", 2, "kouki-01"), ("b", 4, "kouki-01")]


def test_empty_and_header_only_csv(run):
    con, res = run({"events/a.csv": b"", "events/b.csv": HEADER, "events/c.jsonl": b""})
    assert res.counts["lines_read"] == 0 and res.file_errors == []


def test_a_quote_inside_an_unquoted_field_is_data(run):
    # RFC 4180: a quote opens a quoted field only at the field's start; "x"y" is a (bad) timestamp.
    body = HEADER + csv_row("a") + 'x"y,fukushi,b,acc1,s1,view,kihon_joho,kouki-01,sub1,\n' + csv_row("c")
    con, res = run({"events/a.csv": body})
    assert res.counts["lines_read"] == 3
    assert con.execute("SELECT line, reason FROM rejected").fetchall() == [(3, "bad_timestamp")]
    assert [r[0] for r in con.execute("SELECT event_id FROM events ORDER BY line").fetchall()] == ["a", "c"]


def test_stray_quote_hides_no_later_line(run):
    # issue 16 item 3: one stray quote used to turn the next 1,000 rows into one csv_width reject.
    rows = [csv_row(f"e{i}") for i in range(1000)]
    stray = '2025-04-01 09:00:00,fukushi,T"1,acc1,s1,view,kihon_joho,kouki-01,sub1,\n'
    opener = '2025-04-01 09:00:00,fukushi,"T2,acc1,s1,view,kihon_joho,kouki-01,sub1,\n'  # opens, never closes
    for body in (HEADER + stray + "".join(rows), HEADER + opener + "".join(rows)):
        con, res = run({"events/a.csv": body})
        assert res.counts["lines_read"] == 1001
        assert res.counts["events_evaluated"] + res.counts["lines_rejected"] == 1001
        assert con.execute("SELECT count(*) FROM events WHERE event_id LIKE 'e%'").fetchone()[0] == 1000
    assert con.execute("SELECT line, reason FROM rejected").fetchall() == [(2, "csv_width")]
    assert "does not close" in con.execute("SELECT detail FROM rejected").fetchone()[0] or \
        "閉じて" in con.execute("SELECT detail FROM rejected").fetchone()[0]


def test_quoted_record_over_lines_counts_once_and_a_bad_one_is_its_first_line_only(run):
    good = '2025-04-01 09:00:00,fukushi,m1,acc1,s1,view,kihon_joho,kouki-01,sub1,"two\nlines, ""quoted"""\n'
    # A quote that closes on a later line but not into a row of the header's width: line 3 alone is rejected.
    bad = '2025-04-01 09:00:00,fukushi,"m2,acc1,s1,view,kihon_joho,kouki-01,sub1,x\n'
    body = HEADER + good + bad + csv_row("m3", note='"a",b') + csv_row("m4")
    con, res = run({"events/a.csv": body})
    assert dict(con.execute("SELECT event_id, line FROM events").fetchall()) == {"m1": 2, "m4": 6}
    assert con.execute("SELECT line, reason FROM rejected ORDER BY line").fetchall() == [(4, "csv_width"),
                                                                                      (5, "csv_width")]
    assert res.counts["lines_read"] == 4


@pytest.mark.parametrize("batch", [64, 1 << 20])
def test_quoted_record_over_the_line_bound(run, batch):
    from pia_policy.inputs._records import CSV_MAX_RECORD_LINES

    inside = "\n".join(f"l{i}" for i in range(CSV_MAX_RECORD_LINES))  # the record has exactly the bound
    ok = f'2025-04-01 09:00:00,fukushi,b1,acc1,s1,view,kihon_joho,kouki-01,sub1,"{inside}"\n'
    longer = f'2025-04-01 09:00:00,fukushi,b2,acc1,s1,view,kihon_joho,kouki-01,sub1,"{inside}\nmore"\n'
    con, res = run({"events/a.csv": HEADER + ok + longer + csv_row("b3")}, batch_bytes=batch)
    assert con.execute("SELECT event_id, line FROM events ORDER BY line").fetchall() == [
        ("b1", 2), ("b3", 2 * CSV_MAX_RECORD_LINES + 3)]
    rejected = con.execute("SELECT line FROM rejected ORDER BY line").fetchall()
    assert rejected[0] == (CSV_MAX_RECORD_LINES + 2,)  # the opening line of the longer one
    assert res.counts["lines_read"] == res.counts["events_evaluated"] + res.counts["lines_rejected"]


# ---------------------------------------------------------------- ledgers

ACC_HEADER = "account_id,system,person_id,employment,department,roles,permission,issued_at,issued_by,approved_by,request_ref,revoked_at,expires_at,last_login_at\n"


def test_accounts_roles_and_dates(run, jl, event, rows):
    acc = ACC_HEADER + "a1,fukushi,p1,regular,健康保険課, my_number_user ;kouki_staff;;kouki_staff,update,2024-04-01,p9,,,2025-03-31T17:00:00,,\n"
    con, res = run({"events/a.jsonl": jl(event()), "accounts.csv": acc})
    a = rows(con, "SELECT * FROM accounts")[0]
    assert a["roles"] == "kouki_staff;my_number_user"
    assert a["issued_at"] == dt.datetime(2024, 3, 31, 15, 0)
    assert a["revoked_at"] == dt.datetime(2025, 3, 31, 8, 0)
    assert a["expires_at"] is None and a["file"] == "accounts.csv" and a["line"] == 2
    assert con.execute("SELECT * FROM account_roles ORDER BY role").fetchall() == [
        ("fukushi", "a1", "kouki_staff"),
        ("fukushi", "a1", "my_number_user"),
    ]


def test_ledger_rows_that_cannot_be_read_are_rejected_and_counted_apart(run, jl, event, reconcile):
    acc = (
        ACC_HEADER
        + "a1,fukushi,p1,regular,健康保険課,,read,2024-04-01,,,,,,\n"
        + "a2,fukushi2,p1,regular,健康保険課,,read,2024-04-01,,,,,,\n"
        + "a3,fukushi,p1,regular,健康保険課,,read,2024-13-01,,,,,,\n"
        + ",fukushi,p1,regular,健康保険課,,read,2024-04-01,,,,,,\n"
        + "a5,fukushi,p1\n"
    )
    per = "person_id,event,effective_date,from_department,to_department\np1,transfer,2025-04-01,健康保険課,保護課\np2,moved,2025-04-01,,\n"
    con, res = run({"events/a.jsonl": jl(event()), "accounts.csv": acc, "personnel.csv": per})
    assert con.execute("SELECT file, line, reason, field FROM rejected ORDER BY file, line").fetchall() == [
        ("accounts.csv", 3, "unknown_value", "system"),
        ("accounts.csv", 4, "bad_timestamp", "issued_at"),
        ("accounts.csv", 5, "missing_field", "account_id"),
        ("accounts.csv", 6, "csv_width", None),
        ("personnel.csv", 3, "unknown_value", "event"),
    ]
    assert res.counts["ledger_rows_rejected"] == 5 and res.counts["lines_rejected"] == 0
    assert con.execute("SELECT person_id, effective_at FROM personnel").fetchall() == [("p1", dt.datetime(2025, 3, 31, 15))]
    reconcile(con, res)


@pytest.mark.parametrize("bad", ['a"x,fukushi,p1,regular,健康保険課,,read,2024-04-01,,,,,,',
                                 '"a0,fukushi,p1,regular,健康保険課,,read,2024-04-01,,,,,,'])
def test_a_stray_quote_in_accounts_hides_no_later_account(run, jl, event, bad):
    # issue 16 item 3: a quote used to swallow every later account (a cascade of false UNKNOWN_ACCOUNT).
    rows_ = [f"a{i},fukushi,p1,regular,健康保険課,,read,2024-04-01,,,,,," for i in range(1, 301)]
    acc = ACC_HEADER + bad + "\n" + "\n".join(rows_) + "\n"
    con, res = run({"events/a.jsonl": jl(event()), "accounts.csv": acc})
    ids = {r[0] for r in con.execute("SELECT account_id FROM accounts").fetchall()}
    assert {f"a{i}" for i in range(1, 301)} <= ids
    if bad.startswith('"'):  # opened at the field's start, never closed: that line alone is rejected
        assert con.execute("SELECT line, reason FROM rejected").fetchall() == [(2, "csv_width")]
    else:  # inside an unquoted field a quote is data (RFC 4180)
        assert 'a"x' in ids and res.counts["ledger_rows_rejected"] == 0


def test_quoted_ledger_cell_over_lines(run, jl, event):
    acc = ACC_HEADER + 'a1,fukushi,p1,regular,"健康\n保険課",,read,2024-04-01,,,,,,\n' + \
        "a2,fukushi,p1,regular,健康保険課,,read,2024-04-01,,,,,,\n"
    con, res = run({"events/a.jsonl": jl(event()), "accounts.csv": acc})
    assert con.execute("SELECT account_id, department, line FROM accounts ORDER BY line").fetchall() == [
        ("a1", "健康\n保険課", 2), ("a2", "健康保険課", 4)]


def test_cp932_ledger_and_defaults(run, jl, event):
    acc = ("account_id,system,department\nａ1,hyojun,美浜区市民総合窓口課\n").encode("cp932")
    con, res = run({"events/a.jsonl": jl(event()), "accounts.csv": acc})
    assert con.execute("SELECT account_id, department, employment, permission, roles FROM accounts").fetchone() == (
        "ａ1", "美浜区市民総合窓口課", "regular", "read", ""
    )


def test_optional_ledgers(run, jl, event):
    con, res = run(
        {
            "events/a.jsonl": jl(event()),
            "officers.csv": "system,role,person_id,from,to\nfukushi,system_owner,p9,2020-04-01,\nhyojun,boss,p8,2020-04-01,\n",
            "terminals.csv": "terminal_id,department\nT1,健康保険課\n",
        }
    )
    assert res.present == {"accounts.csv", "personnel.csv", "officers.csv", "terminals.csv"}
    assert con.execute("SELECT * FROM officers").fetchall() == [("fukushi", "system_owner", "p9", dt.datetime(2020, 3, 31, 15), None)]
    assert con.execute("SELECT count(*) FROM approvals").fetchone()[0] == 0
    assert [r[0] for r in con.execute("DESCRIBE approvals").fetchall()] == ["approval_id", "account_id", "from_at", "to_at", "approved_by", "witness"]
    assert con.execute("SELECT reason, field FROM rejected").fetchall() == [("unknown_value", "role")]


def test_optional_ledger_without_its_columns_is_a_file_error(run, jl, event):
    con, res = run({"events/a.jsonl": jl(event()), "approvals.csv": "id,who\n1,x\n"})
    assert "approvals.csv" not in res.present
    assert [f["file"] for f in res.file_errors] == ["approvals.csv"]


@pytest.mark.parametrize("name", ["accounts.csv", "personnel.csv"])
def test_missing_required_ledger_is_an_input_error(run, jl, event, name):
    d = run.dir({"events/a.jsonl": jl(event())})
    (d / name).unlink()
    with pytest.raises(InputError) as exc:
        ingest(duckdb.connect(), d, as_of_utc=dt.datetime(2025, 4, 1, 15))
    assert name in str(exc.value) and exc.value.file == name


@pytest.mark.parametrize("content", [b"", b"person\n", b"\xff\xfe\x00\x01"])
def test_unreadable_required_ledger_is_an_input_error(run, jl, event, content):
    d = run.dir({"events/a.jsonl": jl(event()), "personnel.csv": content})
    with pytest.raises(InputError, match="personnel.csv"):
        ingest(duckdb.connect(), d, as_of_utc=dt.datetime(2025, 4, 1, 15))


def test_no_events_is_an_input_error(run, jl, event, tmp_path):
    d = run.dir({"events/readme.txt": "x"})
    with pytest.raises(InputError, match="events"):
        ingest(duckdb.connect(), d, as_of_utc=dt.datetime(2025, 4, 1, 15))
    shutil.rmtree(d / "events")
    with pytest.raises(InputError, match="events"):
        ingest(duckdb.connect(), d, as_of_utc=dt.datetime(2025, 4, 1, 15))
    with pytest.raises(InputError):
        ingest(duckdb.connect(), tmp_path / "nope", as_of_utc=dt.datetime(2025, 4, 1, 15))


def test_input_error_messages_in_english(run, jl, event, monkeypatch):
    monkeypatch.setenv("PIA_POLICY_LANG", "en")
    d = run.dir({"events/a.jsonl": jl(event())})
    (d / "accounts.csv").unlink()
    with pytest.raises(InputError, match="required ledger file accounts.csv is missing"):
        ingest(duckdb.connect(), d, as_of_utc=dt.datetime(2025, 4, 1, 15))


def test_bad_encoding_argument(run, jl, event):
    with pytest.raises(InputError, match="latin"):
        run({"events/a.jsonl": jl(event())}, encoding="latin-1")


# ---------------------------------------------------------------- mapping


def test_vendor_example_end_to_end(tmp_path, rows):
    src = ROOT / "examples" / "vendor"
    con = duckdb.connect()
    res = ingest(con, src / "data", as_of_utc=dt.datetime(2025, 4, 1, 15), mapping=src / "mapping.toml")
    assert res.counts["events_evaluated"] == 7 and res.counts["lines_rejected"] == 1
    ev = rows(con, "SELECT * FROM events ORDER BY line")
    assert ev[0]["action"] == "login" and ev[0]["system"] == "fukushi" and ev[0]["ts"] == dt.datetime(2025, 3, 31, 23, 31, 2)
    t = [e for e in ev if e["action"] == "transfer"][0]
    assert (t["resource"], t["recipient_department"], t["method"], t["affair"]) == (
        "iryo_hoken", "障害者自立支援課", "fukushi_system", "shinshin_iryohi"
    )
    assert t["ts"] == dt.datetime(2025, 4, 1, 0, 12)  # "%Y/%m/%d %H:%M" second format, JST
    assert con.execute("SELECT line, reason, field FROM rejected").fetchall() == [(7, "unknown_value", "action")]
    assert any(i["role"] == "mapping" for i in res.inputs)


def test_mapping_applies_only_to_matching_files(run, jl, event, tmp_path):
    m = tmp_path / "m.toml"
    m.write_text('[mapping]\nfiles = "v_*.jsonl"\n[mapping.columns]\n"時刻" = "ts"\n[mapping.values.action]\n"照会" = "view"\n', encoding="utf-8")
    e = event()
    vend = dict(e)
    vend["時刻"] = vend.pop("ts")
    vend["action"] = "照会"
    con, res = run({"events/v_1.jsonl": jl(vend), "events/std.jsonl": jl(event(event_id="s")), "events/other.jsonl": jl(vend)}, mapping=m)
    assert sorted(r[0] for r in con.execute("SELECT file FROM events").fetchall()) == ["events/std.jsonl", "events/v_1.jsonl"]
    assert con.execute("SELECT file, reason FROM rejected").fetchall() == [("events/other.jsonl", "missing_field")]


@pytest.mark.parametrize(
    "text",
    [
        "not toml [",
        "[other]\n",
        '[mapping]\n[mapping.columns]\n"x" = "timestamp"\n',
        '[mapping]\nencoding = "latin-1"\n',
        '[mapping]\nfoo = 1\n',
        '[mapping]\n[mapping.values.seq]\n"a" = "1"\n',
    ],
)
def test_invalid_mapping_is_an_input_error(run, jl, event, tmp_path, text):
    m = tmp_path / "m.toml"
    m.write_text(text, encoding="utf-8")
    with pytest.raises(InputError):
        run({"events/a.jsonl": jl(event())}, mapping=m)
