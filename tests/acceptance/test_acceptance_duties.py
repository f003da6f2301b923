"""The optional-input duties end to end through the CLI: CSV files in, findings and summary out."""

from __future__ import annotations

from pathlib import Path

from acceptance_kit import account, ev, read_jsonl, read_summary, write_events, write_ledgers

from pia_policy.cli import main

AS_OF = "2025-12-01"
T = "2025-11-20T10:00:00+09:00"


def test_duties_from_their_csv_files(tmp_path: Path) -> None:
    data = tmp_path / "data"
    write_events(data / "events", "a.jsonl", [
        ev(T, "NR"),                                                               # non-regular, no pledge
        ev(T, "NRP"),                                                              # pledged: near miss
        ev(T, "REC", affair="shoni_shitei_iryohi"),                                # recipient, no 事前協議
        ev(T, "RECOK", affair="shoni_shitei_iryohi"),                              # agreed before: near miss
        ev(T, "CON"), ev(T, "CONOK"),                                              # contractor off / on roster
    ])
    write_ledgers(data, [
        account("NR", employment="non_regular"), account("NRP", employment="non_regular"),
        account("REC", department="中央区健康課", roles=""), account("RECOK", department="緑区健康課", roles=""),
        account("CON", employment="contractor"), account("CONOK", employment="contractor"),
    ])
    (data / "pledges.csv").write_text(
        "person_id,signed_at,submitted_to\nP-NRP,2025-04-01,所属長\nP-REC,2025-04-01,所属長\nP-RECOK,2025-04-01,所属長\n",
        encoding="utf-8")
    (data / "consultations.csv").write_text(
        "recipient_department,purpose,agreed_on\n緑区健康課,shoni_shitei_iryohi,2025-03-24\n"
        "各区健康課,shoni_shitei_iryohi,2025-03-24\n", encoding="utf-8")           # a group name: rejected
    (data / "contractor_roster.csv").write_text("person_id,role,from,to\nP-CONOK,worker,2025-04-01,\n",
                                                encoding="utf-8")
    (data / "log_archive.csv").write_text("system,from,to\nfukushi,2020-12-01,2025-12-01\n", encoding="utf-8")
    out = tmp_path / "out"
    assert main(["audit", str(data), "--as-of", AS_OF, "--out", str(out), "--no-reports"]) == 1
    got = {(f["rule"], f["account_id"]) for f in read_jsonl(out / "findings.jsonl")
           if f["rule"] in ("PLEDGE_MISSING", "TRANSFER_WITHOUT_CONSULTATION", "CONTRACTOR_NOT_ON_ROSTER",
                            "LOG_RETENTION_SHORT")}
    assert got == {("PLEDGE_MISSING", "NR"), ("TRANSFER_WITHOUT_CONSULTATION", "REC"),
                   ("CONTRACTOR_NOT_ON_ROSTER", "CON")}
    summary = read_summary(out)
    assert {s["rule"] for s in summary["rules_skipped"]}.isdisjoint(
        {"PLEDGE_MISSING", "TRANSFER_WITHOUT_CONSULTATION", "CONTRACTOR_NOT_ON_ROSTER", "LOG_RETENTION_SHORT"})
    assert summary["log_retention"] == {
        "years": 5, "required_from": "2020-12-01T00:00:00+09:00",
        "systems": {"fukushi": {"covered": True, "missing": []}}}
    rejected = read_jsonl(out / "rejected.jsonl")
    assert [(r["file"], r["line"], r["reason"], r["field"]) for r in rejected] == [
        ("consultations.csv", 3, "unknown_value", "recipient_department")]


def test_log_retention_gap_in_the_summary(tmp_path: Path) -> None:
    data = tmp_path / "data"
    write_events(data / "events", "a.jsonl", [ev(T, "S1"), ev(T, "S1H", system="hyojun")])
    write_ledgers(data, [account("S1"), account("S1H", system="hyojun")])
    (data / "log_archive.csv").write_text("system,from,to\nfukushi,2020-12-01,2025-12-01\n"
                                          "hyojun,2021-01-01,2025-12-01\n", encoding="utf-8")
    out = tmp_path / "out"
    main(["audit", str(data), "--as-of", AS_OF, "--out", str(out), "--no-reports"])
    systems = read_summary(out)["log_retention"]["systems"]
    assert systems["fukushi"]["covered"] is True
    assert systems["hyojun"] == {"covered": False, "missing": [
        {"from": "2020-12-01T00:00:00+09:00", "to": "2021-01-01T00:00:00+09:00"}]}
    (f,) = [f for f in read_jsonl(out / "findings.jsonl") if f["rule"] == "LOG_RETENTION_SHORT"]
    assert f["system"] == "hyojun" and f["severity"] == "medium" and "5年間保存" in f["basis"]
