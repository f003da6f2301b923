"""End to end: audit() and `pia-policy audit` over real files (SPEC §3–§6)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from audit_data import HOLDER, account, clean_day, event, write_data

from pia_policy import cli
from pia_policy.audit import DEFAULT_THRESHOLDS, audit
from pia_policy.models import SEVERITIES
from pia_policy.rules import RULE_IDS

AS_OF = "2025-06-02"


def _quiet() -> tuple[io.StringIO, object]:
    from pia_policy.audit._log import run_logger

    buf = io.StringIO()
    return buf, run_logger(buf)


def _violations(root: Path) -> Path:
    evs = [
        event(1, "2025-05-30T09:00:00+09:00", "S1"),
        event(2, "2025-05-30T09:10:00+09:00", "GHOST"),                                 # UNKNOWN_ACCOUNT
        event(3, "2025-05-30T09:20:00+09:00", "S1", resource="kojin_bango"),           # MY_NUMBER_WITHOUT_PERMISSION
        event(4, "2025-05-30T09:30:00+09:00", "S1", "update"),                         # ACCESS_DENIED_BY_POLICY
    ]
    return write_data(root, {"a.jsonl": evs}, [account("S1")])


def test_clean_day_exit_0_and_outputs(tmp_path: Path) -> None:
    data = clean_day(tmp_path / "data")
    out = tmp_path / "out"
    _, log = _quiet()
    result = audit(data, as_of=AS_OF, out=out, log=log, reports=False)
    assert result.exit_code == 0
    assert not [f for f in result.findings if f.severity in ("high", "critical")]
    for name in ("findings.jsonl", "summary.json", "rejected.jsonl", "findings.csv"):
        assert (out / name).is_file(), name
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary == result.summary
    assert summary["schema_version"] == "1.0" and summary["exit_code"] == 0
    assert set(summary) == {
        "schema_version", "tool", "as_of", "audit_time", "run", "inputs", "outputs", "policy", "thresholds",
        "fail_on", "rules_run", "rules_skipped", "file_errors", "ignored_files", "counts", "findings_by_rule",
        "findings_by_severity", "breakdowns", "exit_code"}
    assert set(summary["counts"]) == {"lines_read", "events_evaluated", "duplicates", "lines_rejected",
                                      "ledger_rows_rejected", "rejected_by_reason"}
    assert set(summary["breakdowns"]) == {"events_by_day", "events_by_hour", "flagged_events_by_day",
                                          "flagged_events_by_hour", "findings_by_department", "findings_by_system"}
    assert {"events", "accounts", "personnel"} <= {i["role"] for i in summary["inputs"]}
    assert set(summary["findings_by_rule"]) == set(RULE_IDS)
    assert set(summary["findings_by_severity"]) == set(SEVERITIES)
    assert summary["thresholds"] == DEFAULT_THRESHOLDS
    assert summary["audit_time"] == "2025-06-02T00:00:00+09:00"
    assert summary["policy"]["versions_used"] == ["2025-03-24"]
    assert summary["counts"]["events_evaluated"] == summary["breakdowns"]["events_by_day"]["2025-05-30"]
    skipped = {s["rule"]: s["missing"] for s in summary["rules_skipped"]}
    assert skipped == {"CONTRACTOR_WITHOUT_APPROVAL": "approvals.csv", "TERMINAL_NOT_AUTHORIZED": "terminals.csv",
                       "PLEDGE_MISSING": "pledges.csv", "TRANSFER_WITHOUT_CONSULTATION": "consultations.csv",
                       "CONTRACTOR_NOT_ON_ROSTER": "contractor_roster.csv", "LOG_RETENTION_SHORT": "log_archive.csv"}
    assert set(summary["rules_run"]) == set(RULE_IDS) - set(skipped)


def test_findings_summary_and_fail_on(tmp_path: Path) -> None:
    data = _violations(tmp_path / "data")
    _, log = _quiet()
    result = audit(data, as_of=AS_OF, log=log)
    rules = {f.rule for f in result.findings}
    assert {"UNKNOWN_ACCOUNT", "MY_NUMBER_WITHOUT_PERMISSION", "ACCESS_DENIED_BY_POLICY"} <= rules
    assert result.exit_code == 1
    by_rule = result.summary["findings_by_rule"]
    assert sum(by_rule.values()) == len(result.findings)
    assert by_rule["UNKNOWN_ACCOUNT"] == 1 and by_rule["LONG_SESSION"] == 0
    assert result.summary["breakdowns"]["flagged_events_by_day"] == {"2025-05-30": 3}
    assert audit(data, as_of=AS_OF, log=log, fail_on="critical").exit_code == 1
    only_high = write_data(tmp_path / "d2", {"a.jsonl": [event(1, "2025-05-30T09:00:00+09:00", "S1", "update")]},
                           [account("S1")])
    assert audit(only_high, as_of=AS_OF, log=log, fail_on="critical").exit_code == 0
    assert audit(only_high, as_of=AS_OF, log=log, fail_on="high").exit_code == 1


def test_counts_reconcile_with_malformed_lines(tmp_path: Path) -> None:
    lines = [
        event(1, "2025-05-30T09:00:00+09:00", "S1"),
        "{not json",
        event(2, "2025-05-30T09:01:00+09:00", "S1", action="dance"),                # unknown value
        {"ts": "2025-05-30T09:02:00+09:00", "system": "fukushi", "event_id": "E9"},   # missing fields
        "",                                                                          # blank: not a record
        event(1, "2025-05-30T09:03:00+09:00", "S1"),                                # duplicate event_id
        event(3, "2025-06-02T00:00:00+09:00", "S1"),                                # at the audit time
        "[1, 2]",
        event(4, "2025-05-30T09:04:00+09:00", "S1"),
    ]
    data = write_data(tmp_path / "data", {"a.jsonl": lines}, [account("S1")])
    out = tmp_path / "out"
    _, log = _quiet()
    result = audit(data, as_of=AS_OF, out=out, log=log, reports=False)
    c = result.summary["counts"]
    assert c["lines_read"] == c["events_evaluated"] + c["duplicates"] + c["lines_rejected"]
    assert (c["events_evaluated"], c["duplicates"], c["lines_rejected"]) == (2, 1, 5)
    rejected = [json.loads(x) for x in (out / "rejected.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(rejected) == c["lines_rejected"] + c["ledger_rows_rejected"]
    assert sum(c["rejected_by_reason"].values()) == len(rejected)
    assert sorted(r["line"] for r in rejected) == [2, 3, 4, 7, 8]


def test_same_inputs_byte_identical_findings(tmp_path: Path) -> None:
    data = _violations(tmp_path / "data")
    _, log = _quiet()
    audit(data, as_of=AS_OF, out=tmp_path / "o1", log=log, reports=False)
    audit(data, as_of=AS_OF, out=tmp_path / "o2", log=log, reports=False)
    one = (tmp_path / "o1" / "findings.jsonl").read_bytes()
    assert one and one == (tmp_path / "o2" / "findings.jsonl").read_bytes()


def test_thresholds_cli_over_config_over_defaults(tmp_path: Path) -> None:
    data = clean_day(tmp_path / "data")
    cfg = tmp_path / "audit.toml"
    cfg.write_text('[thresholds]\nsession_hours = 8\nbulk_subjects = 100\n[audit]\nfail_on = "medium"\n',
                   encoding="utf-8")
    _, log = _quiet()
    result = audit(data, as_of=AS_OF, config=cfg, thresholds={"bulk_subjects": 200}, log=log)
    t = result.summary["thresholds"]
    assert t["session_hours"] == 8 and t["bulk_subjects"] == 200 and t["dormant_days"] == 90
    assert result.summary["fail_on"] == "medium"
    # the 9 h 10 min session is now a LONG_SESSION (medium) and medium fails the run
    assert "LONG_SESSION" in {f.rule for f in result.findings} and result.exit_code == 1


def test_decisions_once_per_distinct_request(tmp_path: Path) -> None:
    evs = [event(i, f"2025-05-30T{9 + i // 60:02d}:{i % 60:02d}:00+09:00", "S1", subject_id=f"X{i}")
           for i in range(1, 301)]
    evs += [event(1000 + i, f"2025-05-30T15:{i:02d}:00+09:00", "S2", "update") for i in range(30)]
    data = write_data(tmp_path / "data", {"a.jsonl": evs}, [account("S1"), account("S2")])
    buf, log = _quiet()
    result = audit(data, as_of=AS_OF, log=log)
    assert result.summary["counts"]["events_evaluated"] == 330
    joined = [json.loads(x) for x in buf.getvalue().splitlines() if '"decisions_joined"' in x]
    assert joined[0]["distinct_requests"] == 2  # view by S1 and update by S2: two requests for 330 events
    assert "ACCESS_DENIED_BY_POLICY" in {f.rule for f in result.findings}


def test_run_log_is_json_without_personal_data(tmp_path: Path) -> None:
    data = _violations(tmp_path / "data")
    buf, log = _quiet()
    audit(data, as_of=AS_OF, log=log)
    records = [json.loads(line) for line in buf.getvalue().splitlines()]
    events = [r["event"] for r in records]
    assert events[0] == "run_start" and events[-1] == "run_end"
    assert records[-1]["findings"] >= 3
    text = buf.getvalue()
    assert "GHOST" not in text and "P-S1" not in text and HOLDER not in text


# ---- command line: exit codes 0 / 1 / 2 -------------------------------------------------------

def _cli(*args: str) -> int:
    return cli.main(["audit", *args])


def test_cli_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    clean = clean_day(tmp_path / "clean")
    bad = _violations(tmp_path / "bad")
    assert _cli(str(clean), "--as-of", AS_OF, "--out", str(tmp_path / "o0"), "--no-reports") == 0
    assert _cli(str(bad), "--as-of", AS_OF, "--out", str(tmp_path / "o1"), "--no-reports") == 1
    assert (tmp_path / "o1" / "findings.jsonl").is_file()
    (bad / "accounts.csv").unlink()
    capsys.readouterr()
    assert _cli(str(bad), "--as-of", AS_OF, "--out", str(tmp_path / "o2")) == 2
    assert "accounts.csv" in capsys.readouterr().err


def test_cli_exit_2_on_bad_arguments_and_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = clean_day(tmp_path / "data")
    out = str(tmp_path / "out")
    assert _cli(str(data), "--as-of", "2025-13-01", "--out", out) == 2
    assert "--as-of" in capsys.readouterr().err
    cfg = tmp_path / "bad.toml"
    cfg.write_text("[thresholds]\nsession_hourz = 3\n", encoding="utf-8")
    assert _cli(str(data), "--as-of", AS_OF, "--out", out, "--config", str(cfg)) == 2
    err = capsys.readouterr().err
    assert "bad.toml" in err and "session_hourz" in err
    assert _cli(str(data), "--as-of", AS_OF, "--out", out, "--config", str(cfg), "--lang", "en") == 2
    assert "unknown option" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        _cli(str(data), "--as-of", AS_OF, "--out", out, "--fail-on", "severe")
    assert exc.value.code == 2
    assert _cli(str(tmp_path / "nowhere"), "--as-of", AS_OF, "--out", out) == 2
    assert _cli(str(data), "--as-of", AS_OF, "--out", out, "--bulk-subjects", "-1") == 2


def test_cli_threshold_flags_reach_the_summary(tmp_path: Path) -> None:
    data = clean_day(tmp_path / "data")
    out = tmp_path / "out"
    code = _cli(str(data), "--as-of", AS_OF, "--out", str(out), "--no-reports", "--session-hours", "9",
                "--gap-minutes", "45", "--departure-grace-hours", "2", "--fail-on", "medium")
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["thresholds"]["session_hours"] == 9 and summary["thresholds"]["gap_minutes"] == 45
    assert summary["thresholds"]["departure_grace_hours"] == 2 and summary["fail_on"] == "medium"
    assert code == 1  # the 9 h 10 min session is LONG_SESSION (medium)


_VENDOR = Path(__file__).resolve().parents[2] / "examples" / "vendor"


@pytest.mark.skipif(not (_VENDOR / "mapping.toml").is_file(), reason="vendor example not present")
def test_cli_vendor_cp932_csv_through_a_mapping(tmp_path: Path) -> None:
    out = tmp_path / "out"
    code = _cli(str(_VENDOR / "data"), "--as-of", "2025-04-02", "--out", str(out), "--no-reports",
                "--mapping", str(_VENDOR / "mapping.toml"))
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    c = summary["counts"]
    assert c["events_evaluated"] > 0 and "encoding" not in c["rejected_by_reason"]
    assert c["lines_read"] == c["events_evaluated"] + c["duplicates"] + c["lines_rejected"]
    findings = [json.loads(x) for x in (out / "findings.jsonl").read_text(encoding="utf-8").splitlines()]
    assert all(f["system"] == "fukushi" for f in findings)
    assert code == (1 if any(f["severity"] in ("high", "critical") for f in findings) else 0)


def test_cli_refuses_an_out_dir_it_would_destroy(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    data = clean_day(tmp_path / "data")
    keep = tmp_path / "v"
    keep.mkdir()
    (keep / "k").write_text("keep")
    (tmp_path / "L").symlink_to(keep)
    monkeypatch.chdir(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    cases = {"": "--out is empty", str(tmp_path / "L"): "symbolic link", str(keep): "not empty",
             str(data): "data directory", str(data / "out"): "data directory", str(tmp_path): "data directory"}
    for out, why in cases.items():
        assert _cli(str(data), "--as-of", AS_OF, "--out", out, "--lang", "en") == 2, out
        err = capsys.readouterr().err
        assert why in err and "Traceback" not in err, (out, err)
    assert (keep / "k").read_text() == "keep" and sorted(p.name for p in tmp_path.iterdir()) == before
    assert sorted(p.name for p in (data / "events").iterdir()) == ["a.jsonl"]


def test_config_allow_link_root_reads_linked_logs(tmp_path: Path) -> None:
    logs = tmp_path / "var" / "log"
    src = clean_day(tmp_path / "src")
    logs.mkdir(parents=True)
    (src / "events" / "a.jsonl").rename(logs / "a.jsonl")
    (src / "events" / "a.jsonl").symlink_to(logs / "a.jsonl")
    _, log = _quiet()
    from pia_policy.inputs import InputError

    with pytest.raises(InputError, match="allow-link-root"):  # the only log is a link out: named, not read
        audit(src, as_of=AS_OF, out=tmp_path / "o1", log=log)
    cfg = tmp_path / "audit.toml"
    cfg.write_text('[audit]\nallow_link_root = "var/log"\n', encoding="utf-8")
    res = audit(src, as_of=AS_OF, out=tmp_path / "o2", config=cfg, log=log)
    assert res.summary["file_errors"] == [] and res.summary["counts"]["events_evaluated"] > 1


def test_numbers_grouped_by_any_space_are_masked_in_every_output(tmp_path: Path) -> None:
    # issue 16 item 6: U+00A0, U+2009, TAB (and every Zs) group a My Number like a space.
    nb, thin, tab = "1234\u00a05678\u00a09018", "1234\u20095678\u20099018", "1234\t5678\t9018"
    evs = [
        event(1, "2025-05-30T09:00:00+09:00", "S1", "update"),                  # a finding for S1 (department)
        event(2, "2025-05-30T09:10:00+09:00", thin),                            # UNKNOWN_ACCOUNT: account id
        f'{{"ts": "2025-05-30T09:20:00+09:00", "note": "{tab}"}}'.replace("\t", "\\t"),  # a reject (excerpt)
        "broken " + tab,
    ]
    data = write_data(tmp_path / "data", {"a.jsonl": evs}, [  # dormant: a notice to the department
        account("S1", department=f"課{nb}", last_login_at="2024-01-05T09:00:00+09:00")])
    _, log = _quiet()
    res = audit(data, as_of=AS_OF, out=tmp_path / "out", log=log)
    assert res.summary["counts"]["lines_rejected"] == 2 and res.summary["findings_by_rule"]["UNKNOWN_ACCOUNT"] == 1
    files = [p for p in (tmp_path / "out").rglob("*")]
    assert any(p.parent.name == "notices" for p in files)
    texts = {p: p.read_bytes().decode("utf-8", "replace") for p in files if p.is_file()}
    for raw in (nb, thin, tab):
        for sep_form in (raw, raw.replace("\t", "\\t"), raw.replace("\u00a0", "&nbsp;")):
            assert all(sep_form not in t for t in texts.values()), sep_form
            assert all(sep_form not in p.name for p in files)
    assert any("****\u2009****\u20099018" in t for t in texts.values())  # masked, separators kept


@pytest.mark.parametrize(("sig", "code"), [("SIGTERM", 143), ("SIGINT", 130)])
def test_a_signal_removes_the_work_directory_and_exits_128_plus_n(tmp_path: Path, sig: str, code: int) -> None:
    # issue 16 item 12: the DuckDB work directory holds raw (unmasked) events; a stopped run removes it.
    import os
    import signal
    import subprocess
    import sys
    import time

    from pia_policy.outputs import verify

    data = clean_day(tmp_path / "data")
    with open(data / "events" / "big.jsonl", "w", encoding="utf-8") as fh:
        for n in range(300_000):
            fh.write(json.dumps(event(100 + n, "2025-05-30T10:00:00+09:00", "S1", subject_id=f"X{n}")) + "\n")
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    out = tmp_path / "out"
    env = dict(os.environ, TMPDIR=str(tmp), PIA_POLICY_LANG="en")
    p = subprocess.Popen([sys.executable, "-m", "pia_policy", "audit", str(data), "--as-of", AS_OF, "--out", str(out)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.time() + 120
    while not any(tmp.glob("pia-policy-duckdb-*")) and p.poll() is None and time.time() < deadline:
        time.sleep(0.02)
    assert p.poll() is None, "the run ended before the signal"
    time.sleep(0.3)  # inside the ingest
    p.send_signal(getattr(signal, sig))
    _stdout, stderr = p.communicate(timeout=120)
    assert p.returncode == code, stderr[-2000:]
    assert "Traceback" not in stderr and f"stopped by {sig}" in stderr
    assert list(tmp.iterdir()) == []  # no audit.duckdb with raw events left behind
    assert not out.exists() or verify(out) == []
    assert sorted(q.name for q in tmp_path.iterdir()) == ["data", "tmp"] + (["out"] if out.exists() else [])
