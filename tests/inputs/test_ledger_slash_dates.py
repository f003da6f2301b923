"""Ledger dates in Excel's Japanese display (2025/4/1) are read, not rejected."""

from __future__ import annotations

import datetime as dt

import pytest

from pia_policy.inputs._ledger import parse_ledger_ts


@pytest.mark.parametrize(
    ("text", "utc"),
    [
        ("2025/4/1", dt.datetime(2025, 3, 31, 15, 0)),
        ("2025/04/01", dt.datetime(2025, 3, 31, 15, 0)),
        ("2025/4/1 9:30", dt.datetime(2025, 4, 1, 0, 30)),
        ("2025/4/1 09:30:15", dt.datetime(2025, 4, 1, 0, 30, 15)),
        ("2025-04-01", dt.datetime(2025, 3, 31, 15, 0)),
    ],
)
def test_slash_and_iso_dates_are_jst(text: str, utc: dt.datetime) -> None:
    assert parse_ledger_ts(text) == utc


@pytest.mark.parametrize("text", ["2025/13/1", "2025/2/30", "25/4/1", "2025/4/1 25:00", "2025/4"])
def test_impossible_slash_dates_are_still_rejected(text: str) -> None:
    assert parse_ledger_ts(text) is None


def test_ledger_row_with_slash_dates_is_ingested_not_rejected(tmp_path) -> None:
    import duckdb

    from pia_policy.inputs import ingest

    (tmp_path / "events").mkdir()
    (tmp_path / "events" / "a.jsonl").write_text(
        '{"ts":"2025-04-02T09:00:00","system":"fukushi","event_id":"e1","account_id":"F1",'
        '"action":"login","session_id":"s1"}\n',
        encoding="utf-8",
    )
    (tmp_path / "accounts.csv").write_text(
        "account_id,system,person_id,employment,department,roles,permission,issued_at,issued_by,"
        "approved_by,request_ref,revoked_at,expires_at,last_login_at\n"
        "F1,fukushi,P1,regular,健康保険課,kouki_staff,read,2024/4/1,P9,,,2025/4/1,,\n",
        encoding="cp932",
    )
    (tmp_path / "personnel.csv").write_text(
        "person_id,event,effective_date,from_department,to_department\n", encoding="utf-8"
    )
    con = duckdb.connect()
    result = ingest(con, tmp_path, as_of_utc=dt.datetime(2025, 4, 30, 15, 0))
    assert result.counts["ledger_rows_rejected"] == 0
    assert con.execute("SELECT revoked_at, issued_at FROM accounts WHERE account_id = 'F1'").fetchone() == (
        dt.datetime(2025, 3, 31, 15, 0),
        dt.datetime(2024, 3, 31, 15, 0),
    )
