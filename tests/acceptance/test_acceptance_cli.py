"""SPEC §5/§6 and the requests on the command line: notices options, usage errors in both languages,
and no full My Number on the console or in the run log."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from acceptance_kit import account, ev, write_events, write_ledgers

from pia_policy import _i18n
from pia_policy.audit._log import run_logger
from pia_policy.cli import main
from pia_policy.outputs import mask_my_number

MY_NUMBER = "123456789018"  # valid check digit
MY_NUMBER_WIDE = "１２３４ ５６７８ ９０１８"
AS_OF = "2025-12-01"


@pytest.fixture(autouse=True)
def _japanese(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PIA_POLICY_LANG", raising=False)
    _i18n.set_lang(None)
    yield
    _i18n.set_lang(None)


def _holds_my_number(text: str) -> bool:
    return mask_my_number(text) != text


def _dormant_city(root: Path) -> Path:
    """One dormant account of 健康保険課 (a notice) and one clean event."""
    write_events(root / "events", "a.jsonl", [ev("2025-11-27T10:00:00+09:00", "OK")])
    write_ledgers(root, [account("OK"), account("OLD", last_login_at="2025-01-06T09:00:00+09:00")])
    return root


def _notice(out: Path) -> str:
    (page,) = (out / "notices").glob("*.html")
    return page.read_text(encoding="utf-8")


# --- request (a): the run log never holds a My Number -------------------------------------------

def test_run_log_masks_my_numbers_in_fields_and_tracebacks() -> None:
    stream = io.StringIO()
    log = run_logger(stream)
    log("ingest_done", detail=f"id {MY_NUMBER}", nested={"k": [MY_NUMBER_WIDE]}, number=int(MY_NUMBER))
    try:
        raise ValueError(f"bad value {MY_NUMBER}")
    except ValueError:
        log("run_failed", exc_info=True)
    text = stream.getvalue()
    records = [json.loads(line) for line in text.splitlines()]
    assert [r["event"] for r in records] == ["ingest_done", "run_failed"]
    assert not _holds_my_number(text)
    assert records[0]["detail"] == "id ********9018" and records[0]["nested"]["k"] == ["**** **** ９０１８"]
    assert records[0]["number"] == "********9018"  # a My Number held as an int, as in the output files
    assert "ValueError: bad value ********9018" in records[1]["exception"]  # rendered, then masked


def test_run_log_leaves_other_numbers_alone() -> None:
    stream = io.StringIO()
    run_logger(stream)("run_end", lines_read=123456789012, note="123456789019 is no My Number")
    record = json.loads(stream.getvalue())
    assert record["lines_read"] == 123456789012 and record["note"].startswith("123456789019")


# --- request (b): --reply-days and --notice-sender -------------------------------------------------

def test_reply_days_and_sender_reach_the_notices(tmp_path: Path) -> None:
    data = _dormant_city(tmp_path / "data")
    out = tmp_path / "out"
    assert main(["audit", str(data), "--as-of", AS_OF, "--out", str(out), "--reply-days", "21",
                 "--notice-sender", "保健福祉局 情報化推進担当課長"]) == 0
    html = _notice(out)
    assert "回答期限：令和7年12月22日 (2025-12-22)" in html and "保健福祉局 情報化推進担当課長" in html
    default = tmp_path / "default"
    assert main(["audit", str(data), "--as-of", AS_OF, "--out", str(default)]) == 0
    html = _notice(default)
    assert "回答期限：令和7年12月15日 (2025-12-15)" in html and "システム責任者" in html


def test_reply_days_and_sender_from_config_and_cli_over_config(tmp_path: Path) -> None:
    data = _dormant_city(tmp_path / "data")
    cfg = tmp_path / "audit.toml"
    cfg.write_text('[audit]\nreply_days = 10\nnotice_sender = "市長"\n', encoding="utf-8")
    out = tmp_path / "out"
    assert main(["audit", str(data), "--as-of", AS_OF, "--out", str(out), "--config", str(cfg)]) == 0
    assert "(2025-12-11)" in _notice(out) and '<p class="sender">市長</p>' in _notice(out)
    assert main(["audit", str(data), "--as-of", AS_OF, "--out", str(out), "--config", str(cfg),
                 "--reply-days", "30"]) == 0
    assert "(2025-12-31)" in _notice(out) and '<p class="sender">市長</p>' in _notice(out)


@pytest.mark.parametrize("text", ["reply_days = 0", "reply_days = 1.5", 'reply_days = "14"', "reply_days = 366",
                                  'notice_sender = ""', "notice_sender = 3"])
def test_invalid_notice_config_is_exit_2(tmp_path: Path, text: str, capsys: pytest.CaptureFixture[str]) -> None:
    data = _dormant_city(tmp_path / "data")
    cfg = tmp_path / "audit.toml"
    cfg.write_text(f"[audit]\n{text}\n", encoding="utf-8")
    assert main(["audit", str(data), "--as-of", AS_OF, "--out", str(tmp_path / "o"), "--config", str(cfg)]) == 2
    err = capsys.readouterr().err
    assert str(cfg) in err and ("reply_days" in err or "notice_sender" in err)
    assert not (tmp_path / "o").exists()


def test_reply_days_out_of_range_on_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = _dormant_city(tmp_path / "data")
    assert main(["audit", str(data), "--as-of", AS_OF, "--out", str(tmp_path / "o"), "--reply-days", "0"]) == 2
    assert "--reply-days" in capsys.readouterr().err


# --- request (d): usage errors: exit 2, valid choices, Japanese when ja --------------------------------

def _usage_error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    return capsys.readouterr().err


def test_usage_error_in_japanese_and_english(capsys: pytest.CaptureFixture[str]) -> None:
    err = _usage_error(["audit", "d", "--as-of", AS_OF, "--out", "o", "--fail-on", "severe"], capsys)
    assert "invalid choice: 'severe'" in err and "エラー: 引数 --fail-on の値 'severe' は無効です" in err
    assert "critical" in err.splitlines()[-1]  # the Japanese line names the valid values too
    err = _usage_error(["audit", "d", "--as-of", AS_OF, "--out", "o", "--fail-on"], capsys)
    assert "expected one argument (valid: --fail-on: low, medium, high, critical)" in err
    assert "引数 --fail-on には値が必要です（有効な値: --fail-on: low, medium, high, critical）" in err
    err = _usage_error(["check-transfer", "--department", "保護課"], capsys)
    assert "required: --purpose" in err and "必須の引数がありません: --purpose" in err
    err = _usage_error(["audit", "d", "--as-of", AS_OF, "--out", "o", "--bulk-subjects", "many"], capsys)
    assert "invalid int value: 'many'" in err and "整数として読めません" in err
    err = _usage_error(["inspect"], capsys)
    assert "check-transfer" in err and "audit" in err and "エラー:" in err


def test_usage_error_english_only_with_lang_en(capsys: pytest.CaptureFixture[str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    err = _usage_error(["audit", "d", "--lang", "en", "--as-of", AS_OF, "--out", "o", "--encoding", "latin1"], capsys)
    assert "choose from 'utf-8', 'cp932'" in err and "エラー" not in err
    _i18n.set_lang(None)
    monkeypatch.setenv("PIA_POLICY_LANG", "en")
    err = _usage_error(["verify"], capsys)
    assert "required: OUT_DIR" in err and "エラー" not in err


# --- SPEC §5: nothing the tool prints holds a full My Number ----------------------------------------

def test_console_messages_are_masked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = _dormant_city(tmp_path / "data")
    assert main(["audit", str(tmp_path / f"x{MY_NUMBER}"), "--as-of", AS_OF, "--out", str(tmp_path / "o")]) == 2
    assert main(["audit", str(data), "--as-of", MY_NUMBER, "--out", str(tmp_path / "o")]) == 2
    assert main(["check-access", "--department", "健康保険課", "--action", "view", "--resource", "kihon_joho",
                 "--at", MY_NUMBER_WIDE]) == 2
    assert main(["audit", str(data), "--as-of", AS_OF, "--out", str(tmp_path / f"o{MY_NUMBER}")]) == 0
    with pytest.raises(SystemExit):
        main(["audit", str(data), "--as-of", AS_OF, "--out", "o", "--fail-on", MY_NUMBER])
    captured = capsys.readouterr()
    text = captured.out + captured.err
    assert "********9018" in text and not _holds_my_number(text)
    assert (tmp_path / f"o{MY_NUMBER}" / "summary.json").is_file()  # only the console is masked


def test_masking_stream_sees_numbers_written_in_pieces() -> None:
    from pia_policy._cli_console import MaskingStream

    inner = io.StringIO()
    stream = MaskingStream(inner)
    stream.write("id 1234")
    stream.write("5678")
    stream.write("9018\nnext 1234-5678-")
    assert inner.getvalue() == "id ********9018\n"
    stream.write("9018")
    stream.flush()
    assert inner.getvalue() == "id ********9018\nnext ****-****-9018"


def test_real_process_stderr_log_and_stdout_hold_no_my_number(tmp_path: Path) -> None:
    data = tmp_path / "data"
    write_events(data / "events", f"{MY_NUMBER}.jsonl", [ev("2025-11-27T10:00:00+09:00", MY_NUMBER)])
    write_ledgers(data, [account("OK", person_id=MY_NUMBER)])
    out = tmp_path / f"out-{MY_NUMBER}"
    env = dict(os.environ, PIA_POLICY_LANG="ja")
    proc = subprocess.run([sys.executable, "-m", "pia_policy", "audit", str(data), "--as-of", AS_OF, "--out", str(out),
                           "--no-reports"], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 1, proc.stderr  # UNKNOWN_ACCOUNT (critical)
    assert [json.loads(line)["event"] for line in proc.stderr.splitlines()][-1] == "run_end"
    assert not _holds_my_number(proc.stdout + proc.stderr) and "********9018" in proc.stdout
    for path in out.iterdir():
        assert not _holds_my_number(path.read_text(encoding="utf-8-sig")), path.name


# --- SPEC §6: exit 2 messages name what the user typed ---------------------------------------------

@pytest.mark.parametrize(("flag", "value"), [("--session-hours", "0"), ("--gap-minutes", "-5"),
                                             ("--bulk-subjects", "-1")])
def test_bad_threshold_flag_is_named_as_typed(tmp_path: Path, capsys: pytest.CaptureFixture[str], flag: str,
                                              value: str) -> None:
    data = _dormant_city(tmp_path / "data")
    assert main(["audit", str(data), "--as-of", AS_OF, "--out", str(tmp_path / "o"), flag, value]) == 2
    assert capsys.readouterr().err.startswith(f"pia-policy audit: エラー: {flag}: ")


def test_unreadable_key_file_is_named_in_both_languages(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = _dormant_city(tmp_path / "data")
    missing = tmp_path / "no.key"
    assert main(["audit", str(data), "--as-of", AS_OF, "--out", str(tmp_path / "o"), "--key-file", str(missing)]) == 2
    assert f"署名鍵ファイル {missing} を読めません" in capsys.readouterr().err
    empty = tmp_path / "empty.key"
    empty.write_text("\n", encoding="utf-8")
    assert main(["verify", str(data), "--key-file", str(empty), "--lang", "en"]) == 2
    assert f"error: the signing key file {empty} is empty" in capsys.readouterr().err


def test_check_commands_print_the_time_judged_as_iso(capsys: pytest.CaptureFixture[str]) -> None:
    import datetime as dt

    assert main(["check-transfer", "--department", "保護課", "--purpose", "gaikokujin_hogo"]) == 0
    at = json.loads(capsys.readouterr().out)["at"]
    parsed = dt.datetime.fromisoformat(at)  # default: now, to the second, JST
    assert at.endswith("+09:00") and "T" in at and parsed.microsecond == 0
    assert main(["check-transfer", "--department", "保護課", "--purpose", "gaikokujin_hogo", "--at", "2025-01-01"]) == 1
    assert json.loads(capsys.readouterr().out)["at"] == "2025-01-01"  # as given


def test_unwritable_out_is_exit_2_naming_the_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = _dormant_city(tmp_path / "data")
    blocker = tmp_path / "afile"
    blocker.write_text("", encoding="utf-8")
    assert main(["audit", str(data), "--as-of", AS_OF, "--out", str(blocker / "sub")]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith(f"pia-policy audit: エラー: {blocker}: ") and "--out" in err


def test_a_reader_that_goes_away_does_not_fail_the_command() -> None:
    r, w = os.pipe()
    os.close(r)  # like `pia-policy lint | head -0`: nobody reads stdout
    try:
        proc = subprocess.run([sys.executable, "-m", "pia_policy", "lint"], stdout=w, stderr=subprocess.PIPE,
                              text=True, timeout=120)
    finally:
        os.close(w)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr


def test_masking_stream_swallows_a_broken_pipe_once() -> None:
    from pia_policy._cli_console import MaskingStream

    class Gone(io.StringIO):
        calls = 0

        def write(self, text: str) -> int:
            Gone.calls += 1
            raise BrokenPipeError

    stream = MaskingStream(Gone())
    stream.write("one\n")
    stream.write("two\n")
    stream.flush()
    assert Gone.calls == 1


@pytest.mark.parametrize(("fail_on", "expected"), [(None, 0), ("critical", 0), ("high", 0), ("medium", 0),
                                                   ("low", 1)])
def test_exit_code_follows_fail_on(tmp_path: Path, fail_on: str | None, expected: int) -> None:
    data = _dormant_city(tmp_path / "data")  # one finding: ACCOUNT_DORMANT (low)
    extra = ["--fail-on", fail_on] if fail_on else []
    out = tmp_path / "out"
    assert main(["audit", str(data), "--as-of", AS_OF, "--out", str(out), "--no-reports", *extra]) == expected
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["exit_code"] == expected and summary["fail_on"] == (fail_on or "high")
    assert summary["findings_by_severity"]["low"] == 1 and sum(summary["findings_by_severity"].values()) == 1


def test_fail_on_from_config_and_cli_over_config(tmp_path: Path) -> None:
    data = _dormant_city(tmp_path / "data")
    cfg = tmp_path / "audit.toml"
    cfg.write_text('[audit]\nfail_on = "low"\n', encoding="utf-8")
    base = ["audit", str(data), "--as-of", AS_OF, "--out", str(tmp_path / "o"), "--no-reports", "--config", str(cfg)]
    assert main(base) == 1
    assert main([*base, "--fail-on", "medium"]) == 0


@pytest.mark.parametrize("case", ["no_events_dir", "no_events_file", "no_accounts", "no_personnel",
                                  "empty_accounts", "accounts_without_columns"])
def test_missing_required_input_is_exit_2_naming_file_and_fix(tmp_path: Path, case: str,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    import shutil

    data = _dormant_city(tmp_path / "data")
    named = {"no_events_dir": "events", "no_events_file": "events", "no_accounts": "accounts.csv",
             "no_personnel": "personnel.csv", "empty_accounts": "accounts.csv",
             "accounts_without_columns": "accounts.csv"}[case]
    if case == "no_events_dir":
        shutil.rmtree(data / "events")
    elif case == "no_events_file":
        (data / "events" / "a.jsonl").rename(data / "events" / "a.jsonl.bak")
    elif case == "no_accounts":
        (data / "accounts.csv").unlink()
    elif case == "no_personnel":
        (data / "personnel.csv").unlink()
    elif case == "empty_accounts":
        (data / "accounts.csv").write_bytes(b"")
    else:
        (data / "accounts.csv").write_text("id,dept\nOK,x\n", encoding="utf-8")
    out = tmp_path / "out"
    assert main(["audit", str(data), "--as-of", AS_OF, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("pia-policy audit: エラー: ") and named in err
    if case != "no_events_file":  # that message names the directory and the patterns only (request to inputs)
        assert any(word in err for word in ("置いて", "ください", "必要な列", "ヘッダー")), err  # says what to do
    assert not out.exists()
    assert main(["audit", str(data), "--as-of", AS_OF, "--out", str(out), "--lang", "en"]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("pia-policy audit: error: ") and named in err and not any("\u3040" <= c <= "\u30ff" for c in err)


def test_an_unexpected_error_is_exit_2_not_1(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    # exit 1 tells cron "findings at or above --fail-on": a run that crashed must say 2 (SPEC §6).
    # The known crashes are fixed (a %Q timestamp format is now a named mapping error), so a defect
    # is planted in the engine's last step.
    from pia_policy.audit import _engine

    def defect(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("planted engine defect")

    monkeypatch.setattr(_engine, "_aggregate", defect)
    data = _dormant_city(tmp_path / "data")
    out = tmp_path / "out"
    assert main(["audit", str(data), "--as-of", AS_OF, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" in err and "pia-policy audit: エラー: 内部エラーのため実行できませんでした" in err
    assert "planted engine defect" in err.strip().splitlines()[-1] and not out.exists()


@pytest.mark.parametrize("as_of", ["0001-01-01", "9999-12-31"])
def test_as_of_outside_the_representable_range_is_exit_2(tmp_path: Path, as_of: str,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    data = _dormant_city(tmp_path / "data")
    assert main(["audit", str(data), "--as-of", as_of, "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert f"--as-of {as_of} は範囲外です" in err and "Traceback" not in err
