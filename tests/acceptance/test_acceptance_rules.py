"""SPEC §4 end to end: every rule's violation, near miss and boundary, read from real files in every
accepted form (JSON Lines, gzip, CSV UTF-8 with BOM, CSV CP932) through ``pia-policy audit``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from acceptance_kit import HOLDER, account, ev, read_jsonl, read_summary, write_events, write_ledgers

from pia_policy.cli import main
from pia_policy.rules import DUTY_RULE_IDS

AS_OF = "2025-12-01"  # audit time 2025-12-01T00:00+09:00; version 2025-11-26 in force since 11-26
RECIPIENT = "中央区健康課"  # 各区健康課: seishin_nyuin_iryohi and shoni_shitei_iryohi


def _accounts() -> list[dict[str, Any]]:
    a = account
    return [
        a("OK"), a("OKUPD", permission="update"),
        a("REV", revoked_at="2025-11-20"), a("REVNEAR", revoked_at="2025-11-20"),
        a("EXP", expires_at="2025-11-25"),
        a("DEP", person_id="P-DEP"), a("RET", person_id="P-RET"),
        a("NR7", person_id="P-NR7"), a("NR8", person_id="P-NR8"),
        a("NRLATE", person_id="P-NRLATE", revoked_at="2025-11-30"),
        a("D90", last_login_at="2025-09-02T00:00:00+09:00"),
        a("D91", last_login_at="2025-09-01T23:59:59+09:00"),
        a("DNEVER", last_login_at=None, issued_at="2025-09-01"),
        a("DNEVEROK", last_login_at=None, issued_at="2025-09-02"),
        a("DLOGEV", last_login_at="2025-01-01"),
        a("CON", employment="contractor"),
        a("MN15", roles="kouki_staff;my_number_user"), a("MN16", roles="kouki_staff;my_number_user"),
        a("NOMN"),
        a("TR"), a("TRM"), a("TRX"), a("TR20"), a("TRK"),
        a("R1", department=RECIPIENT, roles=""), a("R2", department=RECIPIENT, roles=""),
        a("R3", department="保護課", roles=""), a("R4", department="保護課", roles=""),
        a("R5", department="保護課", roles=""), a("R6", department="保護課", roles=""),
        a("R8", department="保護課", roles=""),
        a("NOAFF"),
        a("DEL", person_id="P-DEL", roles="kouki_staff;system_owner"),
        a("LS10"), a("LS"), a("LSOPEN"), a("LSOPEN10"),
        a("BULK"), a("BULK500"), a("BULKJST"), a("BULKDAYS"),
        a("TERM"),
        a("REVDEP", person_id="P-REVDEP", revoked_at="2025-11-01"),
        # ACCOUNT_ISSUER_INVALID (every row, revoked or not, at its issued_at)
        a("H1", system="hyojun", approved_by="P-ISM", issued_at="2025-05-01"),
        a("H2", system="hyojun", approved_by="P-ISM", issued_at="2025-10-01"),
        a("H3", system="hyojun", issued_at="2025-05-01"),
        a("F2", issued_by="P-X"),
        a("F3", person_id="P-OWNER"),
        a("F4", issued_by="P-X", revoked_at="2025-06-01"),
        a("G1", system="gyomu_kyotsu", employment="non_regular"),
        a("G2", system="gyomu_kyotsu", employment="non_regular", request_ref="REQ-1"),
        a("G3", system="gyomu_kyotsu"),
    ]


PERSONNEL = [
    {"person_id": "P-DEP", "event": "transfer", "effective_date": "2025-11-10", "from_department": HOLDER,
     "to_department": "保護課"},
    {"person_id": "P-RET", "event": "retire", "effective_date": "2025-11-10", "from_department": HOLDER},
    {"person_id": "P-RET", "event": "hire", "effective_date": "2025-11-15", "to_department": HOLDER},
    {"person_id": "P-NR7", "event": "transfer", "effective_date": "2025-11-24", "from_department": HOLDER,
     "to_department": "保護課"},
    {"person_id": "P-NR8", "event": "transfer", "effective_date": "2025-11-23", "from_department": HOLDER,
     "to_department": "保護課"},
    {"person_id": "P-NRLATE", "event": "contract_end", "effective_date": "2025-11-01", "from_department": HOLDER},
    {"person_id": "P-REVDEP", "event": "transfer", "effective_date": "2025-10-01", "from_department": HOLDER,
     "to_department": "保護課"},
]
OFFICERS = [
    {"system": "fukushi", "role": "system_owner", "person_id": "P-OWNER", "from": "2025-01-01"},
    {"system": "fukushi", "role": "export_delegate", "person_id": "P-DEL", "from": "2025-11-01", "to": "2025-11-20"},
    {"system": "hyojun", "role": "info_system_manager", "person_id": "P-ISM", "from": "2025-04-01",
     "to": "2025-10-01"},
]
TERMINALS = [{"terminal_id": "T1", "department": HOLDER}, {"terminal_id": "T2", "department": RECIPIENT},
             {"terminal_id": "T3", "department": "総務課"}]
APPROVALS = [
    {"approval_id": "AP1", "account_id": "CON", "from": "2025-11-28T09:00:00+09:00",
     "to": "2025-11-28T12:00:00+09:00", "approved_by": "P-BOSS", "witness": "P-W"},
    {"approval_id": "AP2", "account_id": "CON", "from": "2025-11-29", "to": "2025-11-30", "approved_by": "P-BOSS",
     "witness": ""},
]


def _events() -> tuple[list[dict[str, Any]], dict[tuple[str, str], int]]:
    """The events and the expected event-level findings: (rule, account) -> event_count."""
    t = "2025-11-27T10:00:00+09:00"
    mn = {"resource": "kojin_bango"}
    exp: dict[tuple[str, str], int] = {}
    e: list[dict[str, Any]] = [
        ev(t, "OK"), ev(t, "OKUPD", "update"), ev(t, "OK", "print"), ev(t, "OK", "search"),
        ev(t, "OK", system="hyojun"),                                            # known only on fukushi
        ev(t, "GHOST", terminal_id="T3"),                                        # unknown + terminal
        ev("2025-11-20T00:00:00+09:00", "REV"), ev("2025-11-19T23:59:59+09:00", "REVNEAR"),
        ev("2025-11-25T00:00:00", "EXP"),                                        # naive = JST
        ev("2025-11-09T23:59:59+09:00", "DEP"), ev("2025-11-10T00:00:00+09:00", "DEP"),
        ev("2025-11-09T15:00:00Z", "DEP"),                                       # = 11-10 00:00 JST
        ev("2025-11-12T10:00:00+09:00", "RET"), ev("2025-11-16T10:00:00+09:00", "RET"),
        ev("2025-09-10T10:00:00+09:00", "DLOGEV", "login", session_id="dl"),
        ev("2025-09-10T11:00:00+09:00", "DLOGEV", "logout", session_id="dl"),
        ev("2025-11-28T09:00:00+09:00", "CON"), ev("2025-11-28T12:00:00+09:00", "CON"),
        ev("2025-11-29T10:00:00+09:00", "CON"),
        ev("2025-11-25T23:59:59+09:00", "MN15", affair="kouki-15", **mn),
        ev("2025-11-26T00:00:00+09:00", "MN15", affair="kouki-15", **mn),
        ev("2025-11-25T23:59:59+09:00", "MN16", affair="kouki-16", **mn),
        ev("2025-11-26T00:00:00+09:00", "MN16", affair="kouki-16", **mn),
        ev(t, "NOMN", "print", **mn), ev(t, "NOMN", "export", record_ref="R-1", **mn),
        ev(t, "TR", "transfer", recipient_department=RECIPIENT, affair="shoni_shitei_iryohi",
           method="fukushi_system"),
        ev(t, "TRM", "transfer", recipient_department=RECIPIENT, affair="shoni_shitei_iryohi", method="email"),
        ev(t, "TRX", "transfer", recipient_department=RECIPIENT, affair="hitorioya_iryohi",
           method="fukushi_system"),
        ev("2025-03-23T23:59:59+09:00", "TR20", "transfer", recipient_department=RECIPIENT,
           affair="shoni_shitei_iryohi", method="fukushi_system"),
        ev("2025-03-24T00:00:00+09:00", "TR20", "transfer", recipient_department=RECIPIENT,
           affair="shoni_shitei_iryohi", method="fukushi_system"),
        ev(t, "TRK", "transfer", resource="kaigo", recipient_department=RECIPIENT, affair="shoni_shitei_iryohi",
           method="fukushi_system"),
        ev(t, "R1", affair="seishin_nyuin_iryohi"), ev(t, "R1", resource="iryo_hoken", affair="shoni_shitei_iryohi"),
        ev(t, "R2", affair="hitorioya_iryohi"),
        ev(t, "R3", "update", affair="gaikokujin_hogo"), ev(t, "R4", resource="kaigo", affair="gaikokujin_hogo"),
        ev(t, "R5", affair=None),
        ev(t, "R6", affair="gaikokujin_hogo", method="email"),
        ev(t, "R6", "login", session_id="r6"), ev("2025-11-27T11:00:00+09:00", "R6", "logout", session_id="r6"),
        ev(t, "R8", "transfer", recipient_department=RECIPIENT, affair="shoni_shitei_iryohi",
           method="fukushi_system"),
        ev(t, "NOAFF", affair=None),
        ev("2025-11-19T10:00:00+09:00", "DEL", "export", record_ref="R-2"),
        ev("2025-11-20T00:00:00+09:00", "DEL", "export", record_ref="R-3"),
        ev("2025-11-10T10:00:00+09:00", "DEL", "export"),
        ev(t, "TERM", terminal_id="T1"), ev(t, "TERM", terminal_id="T2"), ev(t, "TERM"),
        ev(t, "TERM", terminal_id="T3"), ev(t, "TERM", terminal_id="T9"),
        ev("2025-11-27T08:00:00+09:00", "LS10", "login", session_id="a"),
        ev("2025-11-27T18:00:00+09:00", "LS10", "logout", session_id="a"),
        ev("2025-11-27T08:00:00+09:00", "LS", "login", session_id="b"),
        ev("2025-11-27T18:00:01+09:00", "LS", "logout", session_id="b"),
        ev("2025-11-30T13:59:59+09:00", "LSOPEN", "login", session_id="c"),
        ev("2025-11-30T14:00:00+09:00", "LSOPEN10", "login", session_id="d"),
        ev("2025-11-05T10:00:00+09:00", "REVDEP"),
    ]
    for n in range(501):
        e.append(ev(f"2025-11-27T13:{n // 60 % 60:02d}:{n % 60:02d}+09:00", "BULK", subject_id=f"S{n}"))
    for n in range(500):
        e.append(ev(f"2025-11-27T13:{n // 60 % 60:02d}:{n % 60:02d}+09:00", "BULK500", subject_id=f"S{n}"))
    for n in range(501):  # one JST day, two UTC days
        e.append(ev(f"2025-11-28T{'08' if n < 250 else '10'}:{n // 60 % 60:02d}:{n % 60:02d}+09:00", "BULKJST",
                    subject_id=f"S{n}"))
    for n in range(600):  # 300 a JST day on two days
        e.append(ev(f"2025-11-2{8 if n < 300 else 9}T23:{n // 60 % 5:02d}:{n % 60:02d}+09:00", "BULKDAYS",
                    subject_id=f"S{n}"))
    exp.update({
        ("UNKNOWN_ACCOUNT", "OK"): 1, ("UNKNOWN_ACCOUNT", "GHOST"): 1,
        ("ACCESS_AFTER_REVOCATION", "REV"): 1, ("ACCESS_AFTER_REVOCATION", "EXP"): 1,
        ("ACCESS_AFTER_DEPARTURE", "DEP"): 2, ("ACCESS_AFTER_DEPARTURE", "RET"): 1,
        ("CONTRACTOR_WITHOUT_APPROVAL", "CON"): 2,
        ("MY_NUMBER_OUTSIDE_AFFAIR", "MN15"): 1, ("MY_NUMBER_OUTSIDE_AFFAIR", "MN16"): 1,
        ("MY_NUMBER_WITHOUT_PERMISSION", "NOMN"): 1, ("MEDIA_EXPORT_UNAUTHORIZED", "NOMN"): 1,
        ("TRANSFER_METHOD_NOT_PERMITTED", "TRM"): 1, ("TRANSFER_NOT_PERMITTED", "TRX"): 1,
        ("TRANSFER_NOT_PERMITTED", "TR20"): 1, ("ACCESS_DENIED_BY_POLICY", "TRK"): 1,
        ("TRANSFER_NOT_PERMITTED", "R2"): 1, ("ACCESS_DENIED_BY_POLICY", "R3"): 1,
        ("ACCESS_DENIED_BY_POLICY", "R4"): 1, ("TRANSFER_NOT_PERMITTED", "R5"): 1,
        ("ACCESS_DENIED_BY_POLICY", "R8"): 1, ("ACCESS_DENIED_BY_POLICY", "NOAFF"): 1,
        ("MEDIA_EXPORT_UNAUTHORIZED", "DEL"): 1, ("MEDIA_EXPORT_UNRECORDED", "DEL"): 1,
        ("TERMINAL_NOT_AUTHORIZED", "TERM"): 2, ("TERMINAL_NOT_AUTHORIZED", "GHOST"): 1,
        ("LONG_SESSION", "LS"): 1, ("LONG_SESSION", "LSOPEN"): 1,
        ("BULK_ACCESS", "BULK"): 501, ("BULK_ACCESS", "BULKJST"): 501,
        ("ACCESS_AFTER_REVOCATION", "REVDEP"): 1,
    })
    return e, exp


ACCOUNT_LEVEL = {
    ("ACCOUNT_NOT_REVOKED", "DEP"), ("ACCOUNT_NOT_REVOKED", "NR8"),
    ("ACCOUNT_DORMANT", "D91"), ("ACCOUNT_DORMANT", "DNEVER"),
    ("ACCOUNT_ISSUER_INVALID", "H2"), ("ACCOUNT_ISSUER_INVALID", "H3"), ("ACCOUNT_ISSUER_INVALID", "F2"),
    ("ACCOUNT_ISSUER_INVALID", "F3"), ("ACCOUNT_ISSUER_INVALID", "F4"), ("ACCOUNT_ISSUER_INVALID", "G1"),
}


Run = tuple[Path, int, dict[tuple[str, str], int], Path]  # out, exit code, expected findings, data dir


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    root = tmp_path_factory.mktemp("city")
    events, expected = _events()
    forms = ("a.jsonl", "b.jsonl.gz", "c.csv", "d.cp932.csv")
    for i, name in enumerate(forms):  # round robin: every form carries every kind of event
        write_events(root / "events", name, events[i::len(forms)])
    write_ledgers(root, _accounts(), PERSONNEL, OFFICERS, TERMINALS, APPROVALS)
    out = tmp_path_factory.mktemp("out") / "run"
    code = main(["audit", str(root), "--as-of", AS_OF, "--out", str(out), "--no-reports"])
    return out, code, expected, root


def test_every_rule_finds_exactly_the_planted_cases(run: Run) -> None:
    out, code, expected, _root = run
    findings = read_jsonl(out / "findings.jsonl")
    got = {(f["rule"], f["account_id"]): f["event_count"] for f in findings if not f["rule"].startswith("LOG_")}
    want = dict(expected) | {k: 0 for k in ACCOUNT_LEVEL}
    assert {k: v for k, v in got.items() if k not in want} == {}  # no near miss flagged
    assert {k: v for k, v in want.items() if k not in got} == {}  # every violation found
    assert got == want
    assert code == 1
    summary = read_summary(out)
    assert summary["counts"]["lines_rejected"] == 0
    assert [s["rule"] for s in summary["rules_skipped"]] == list(DUTY_RULE_IDS)
    assert summary["counts"]["events_evaluated"] == summary["counts"]["lines_read"] == len(_events()[0])


def test_findings_fields_times_and_account_level_shape(run: Run) -> None:
    out, _code, _, _root = run
    findings = {(f["rule"], f["account_id"]): f for f in read_jsonl(out / "findings.jsonl")}
    dep = findings[("ACCESS_AFTER_DEPARTURE", "DEP")]
    assert dep["first_ts"] == dep["last_ts"] == "2025-11-10T00:00:00+09:00"
    assert dep["person_id"] == "P-DEP" and dep["department"] == HOLDER and dep["system"] == "fukushi"
    assert dep["basis"] and dep["action"] and dep["severity"] == "critical"
    for key in ACCOUNT_LEVEL:
        f = findings[key]
        assert f["event_count"] == 0 and f["first_ts"] is None and f["last_ts"] is None and f["evidence"] == []
    open_session = findings[("LONG_SESSION", "LSOPEN")]
    assert open_session["first_ts"] == "2025-11-30T13:59:59+09:00"
    bulk = findings[("BULK_ACCESS", "BULK")]
    lines = [(e["file"], e["line"]) for e in bulk["evidence"]]
    assert len(lines) == 20 and lines == sorted(lines)  # the first 20 in (file, line) order
    assert {e["file"] for e in bulk["evidence"]} <= {"events/a.jsonl"}


def test_summary_and_findings_lines_follow_spec_5(run: Run) -> None:
    import hashlib

    from pia_policy.models import SEVERITIES

    out, code, _, _root = run
    summary = read_summary(out)
    findings = read_jsonl(out / "findings.jsonl")
    assert summary["schema_version"] and all(f["schema_version"] == summary["schema_version"] for f in findings)
    c = summary["counts"]
    assert c["lines_read"] == c["events_evaluated"] + c["duplicates"] + c["lines_rejected"]
    by_rule = {r: sum(f["rule"] == r for f in findings) for r in summary["findings_by_rule"]}
    assert summary["findings_by_rule"] == by_rule and len(by_rule) == 19 + len(DUTY_RULE_IDS)
    assert summary["findings_by_severity"] == {s: sum(f["severity"] == s for f in findings) for s in SEVERITIES}
    assert summary["exit_code"] == code == 1 and summary["fail_on"] == "high"
    rank = {s: i for i, s in enumerate(reversed(SEVERITIES))}
    keys = [(rank[f["severity"]], f["rule"], f["system"], f["account_id"] or "") for f in findings]
    assert keys == sorted(keys)
    for f in findings:
        raw = f"{f['rule']}|{f['system']}|{f['account_id'] or ''}".encode()
        assert f["finding_id"] == hashlib.sha256(raw).hexdigest()[:16]
        assert list(f)[:14] == ["schema_version", "finding_id", "rule", "severity", "account_id", "person_id",
                                "department", "system", "first_ts", "last_ts", "event_count", "evidence", "basis",
                                "action"]
    assert {i["path"] for i in summary["inputs"]} >= {"events/a.jsonl", "events/b.jsonl.gz", "events/c.csv",
                                                      "events/d.cp932.csv", "accounts.csv", "personnel.csv",
                                                      "officers.csv", "terminals.csv", "approvals.csv"}
    assert all(len(i["sha256"]) == 64 and i["size"] > 0 for i in summary["inputs"])
    assert summary["policy"]["versions_used"] == ["2020", "2025-03-24", "2025-11-26"]


def test_same_problem_keeps_its_finding_id_night_after_night(
        run: Run, tmp_path: Path) -> None:
    out, _code, _, root = run
    again = tmp_path / "again"
    assert main(["audit", str(root), "--as-of", AS_OF, "--out", str(again), "--no-reports"]) == 1
    assert (again / "findings.jsonl").read_bytes() == (out / "findings.jsonl").read_bytes()
    assert (again / "findings.csv").read_bytes() == (out / "findings.csv").read_bytes()


def test_event_when_no_policy_version_is_in_force_is_denied(tmp_path: Path) -> None:
    # The start of the first version (2020) is not in the source; it is judged from its first known day,
    # 2020-11-17 00:00 JST (metadata.toml first_known_day): before it no policy line allows anything.
    data = tmp_path / "data"
    before, first = "2020-11-16T23:59:59+09:00", "2020-11-17T00:00:00+09:00"
    write_events(data / "events", "a.jsonl", [
        ev(before, "EARLY", resource="kojin_bango"),                      # violation: denied by default
        ev(before, "EARLY", "login", session_id="s"),                     # near miss: login needs no policy
        ev(before, "EARLY", "logout", session_id="s"),
        ev(first, "ONTIME"),                                              # boundary: judged by 2020, allowed
    ])
    write_ledgers(data, [account("EARLY", issued_at="2020-01-01", last_login_at="2020-11-16"),
                         account("ONTIME", issued_at="2020-01-01", last_login_at="2020-11-17")])
    out = tmp_path / "out"
    assert main(["audit", str(data), "--as-of", "2020-11-20", "--out", str(out), "--no-reports"]) == 1
    findings = read_jsonl(out / "findings.jsonl")
    got = {(f["rule"], f["account_id"]): f for f in findings if not f["rule"].startswith("LOG_")}
    assert set(got) == {("ACCESS_DENIED_BY_POLICY", "EARLY")}
    f = got[("ACCESS_DENIED_BY_POLICY", "EARLY")]
    assert f["event_count"] == 1 and f["first_ts"] == before and f["evidence"][0]["line"] == 1
    assert read_summary(out)["policy"]["versions_used"] == ["2020"]
