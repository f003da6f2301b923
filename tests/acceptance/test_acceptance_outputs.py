"""SPEC §5 output set kept whole: rebuilding the report (another reply period or sender) leaves a set
that ``pia-policy verify`` accepts, never launders a changed file, and keeps the signature."""

from __future__ import annotations

from pathlib import Path

import pytest
from acceptance_kit import account, ev, read_summary, write_events, write_ledgers

from pia_policy.cli import main
from pia_policy.outputs import verify
from pia_policy.report.__main__ import main as rebuild

AS_OF = "2025-12-01"
SPEC_FILES = ("findings.jsonl", "findings.csv", "rejected.jsonl", "duplicates.jsonl")


@pytest.fixture
def audited(tmp_path: Path) -> tuple[Path, Path]:
    data = tmp_path / "data"
    write_events(data / "events", "a.jsonl", [ev("2025-11-27T10:00:00+09:00", "OK"), "{broken"])
    write_ledgers(data, [account("OK"), account("OLD", last_login_at="2025-01-06T09:00:00+09:00")])
    key = tmp_path / "key"
    key.write_text("city secret\n", encoding="utf-8")
    out = tmp_path / "out"
    assert main(["audit", str(data), "--as-of", AS_OF, "--out", str(out), "--key-file", str(key)]) == 0
    return out, key


def test_rebuilt_reports_still_verify_and_keep_the_spec_files(audited: tuple[Path, Path]) -> None:
    out, key = audited
    before = {name: (out / name).read_bytes() for name in SPEC_FILES}
    summary_before = read_summary(out)
    assert rebuild([str(out), "--reply-days", "30", "--sender", "保健福祉局長", "--key-file", str(key)]) == 0
    (notice,) = (out / "notices").glob("*.html")
    assert "(2025-12-31)" in notice.read_text(encoding="utf-8")
    assert verify(out, key.read_bytes().rstrip(b"\n")) == []
    assert {name: (out / name).read_bytes() for name in SPEC_FILES} == before
    after = read_summary(out)
    for name in ("counts", "findings_by_rule", "run", "inputs", "thresholds"):
        assert after[name] == summary_before[name]
    assert after["signature"] != summary_before["signature"]  # signed again over the new outputs


def test_rebuild_of_a_signed_set_needs_the_key(audited: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    out, key = audited
    report = (out / "report.html").read_bytes()
    assert rebuild([str(out), "--reply-days", "30"]) == 2
    assert "--key-file" in capsys.readouterr().err
    assert (out / "report.html").read_bytes() == report and verify(out, key.read_bytes().rstrip(b"\n")) == []


def test_rebuild_refuses_a_changed_set(audited: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    out, key = audited
    with open(out / "findings.csv", "ab") as fh:
        fh.write(b"x\r\n")
    assert rebuild([str(out), "--key-file", str(key)]) == 2
    assert "findings.csv" in capsys.readouterr().err
    assert any("findings.csv" in p for p in verify(out, key.read_bytes().rstrip(b"\n")))  # not laundered


def test_files_in_events_that_are_not_logs_are_named_in_summary_and_report(tmp_path: Path) -> None:
    # a log saved as .json or .log is never audited: the officer must see that it was left out
    data = tmp_path / "data"
    write_events(data / "events", "a.jsonl", [ev("2025-11-27T10:00:00+09:00", "OK")])
    write_events(data / "events", "fukushi-2025-11-27.json", [ev("2025-11-27T11:00:00+09:00", "GHOST")])
    (data / "events" / "README.txt").write_text("exporter notes\n", encoding="utf-8")
    write_ledgers(data, [account("OK")])
    out = tmp_path / "out"
    assert main(["audit", str(data), "--as-of", AS_OF, "--out", str(out)]) == 0  # GHOST was not read
    summary = read_summary(out)
    assert summary["ignored_files"] == ["events/README.txt", "events/fukushi-2025-11-27.json"]
    assert summary["counts"]["lines_read"] == 1
    html = (out / "report.html").read_text(encoding="utf-8")
    assert 'data-ignored-file="events/fukushi-2025-11-27.json"' in html and "のファイル 2 件を確認する" in html
    clean = tmp_path / "clean"
    (data / "events" / "README.txt").unlink()
    (data / "events" / "fukushi-2025-11-27.json").unlink()
    assert main(["audit", str(data), "--as-of", AS_OF, "--out", str(clean)]) == 0
    assert read_summary(clean)["ignored_files"] == []
    assert "data-ignored-file" not in (clean / "report.html").read_text(encoding="utf-8")
