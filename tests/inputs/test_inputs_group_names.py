"""SPEC §4: a group name (各区X課, grp:…) is never a department — in an input it is unknown_value."""

from __future__ import annotations

import pytest

ACC = "account_id,system,person_id,employment,department,roles,permission,issued_at\n"


@pytest.mark.parametrize("group", ["各区健康課", "grp:holder", "grp:bessi1-4"])
def test_account_department_that_is_a_group_is_unknown_value(run, jl, event, reconcile, group):
    acc = ACC + f"a1,fukushi,p1,regular,{group},,read,2024-04-01\n" + "a2,fukushi,p2,regular,中央区健康課,,read,2024-04-01\n"
    con, res = run({"events/a.jsonl": jl(event()), "accounts.csv": acc})
    assert con.execute("SELECT file, line, reason, field FROM rejected").fetchall() == [
        ("accounts.csv", 2, "unknown_value", "department")]
    detail = con.execute("SELECT detail FROM rejected").fetchone()[0]
    assert group in detail and "グループ名" in detail
    # near miss: the ward's own department is a department
    assert con.execute("SELECT account_id, department FROM accounts").fetchall() == [("a2", "中央区健康課")]
    reconcile(con, res)


def test_personnel_and_terminal_departments_that_are_groups_are_rejected(run, jl, event):
    per = ("person_id,event,effective_date,from_department,to_department\n"
           "p1,transfer,2025-04-01,健康保険課,各区社会支援課\n"
           "p2,transfer,2025-04-01,健康保険課,中央区社会支援課\n")
    term = "terminal_id,department\nT1,grp:holder\nT2,健康保険課\n"
    con, _ = run({"events/a.jsonl": jl(event()), "personnel.csv": per, "terminals.csv": term})
    assert con.execute("SELECT file, line, reason, field FROM rejected ORDER BY file").fetchall() == [
        ("personnel.csv", 2, "unknown_value", "to_department"),
        ("terminals.csv", 2, "unknown_value", "department"),
    ]
    assert con.execute("SELECT person_id FROM personnel").fetchall() == [("p2",)]
    assert con.execute("SELECT terminal_id FROM terminals").fetchall() == [("T2",)]


@pytest.mark.parametrize(("recipient", "rejected"), [
    ("各区健康課", True), ("grp:bessi1-5", True),
    ("中央区健康課", False),   # near miss: one ward's department
    ("各区", False),           # boundary: the bare prefix names no group (an unknown department, judged by policy)
])
def test_transfer_recipient_that_is_a_group_is_unknown_value(run, jl, event, reconcile, recipient, rejected):
    e = event(action="transfer", recipient_department=recipient, affair="shoni_shitei_iryohi",
              method="fukushi_system")
    con, res = run({"events/a.jsonl": jl(e)})
    got = con.execute("SELECT reason, field FROM rejected").fetchall()
    assert got == ([("unknown_value", "recipient_department")] if rejected else [])
    assert res.counts["events_evaluated"] == (0 if rejected else 1)
    reconcile(con, res)
