"""verify() and `pia-policy verify`: hashes, unlisted files, signature, exit codes, languages."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from outputs_helpers import make_finding, rejected_rows

from pia_policy._i18n import set_lang
from pia_policy.cli import main
from pia_policy.outputs import KEY_ENV, canonical_json, load_key, SigningKeyError, verify, write_outputs

KEY = b"city-audit-key \xe9\x8d\xb5"


@pytest.fixture(autouse=True)
def _english_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PIA_POLICY_LANG", raising=False)
    monkeypatch.delenv(KEY_ENV, raising=False)
    set_lang(None)
    yield
    set_lang(None)


def make_out(tmp_path: Path, key: bytes | None = KEY) -> Path:
    def extras(staging: Path) -> list[str]:
        (staging / "notices").mkdir()
        (staging / "report.html").write_text("<html>report</html>", encoding="utf-8")
        (staging / "notices" / "介護保険課.html").write_text("notice", encoding="utf-8")
        return ["report.html", "notices/介護保険課.html"]

    return write_outputs(tmp_path / "out", findings=[make_finding(i) for i in range(2)],
                         summary={"schema_version": "1.0", "counts": {"lines_read": 5}, "run": {"seconds": 0.1}},
                         rejected=rejected_rows(3), extras=extras, key=key)


def test_signature_is_hmac_over_canonical_json(tmp_path: Path) -> None:
    out = make_out(tmp_path)
    doc = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert doc["signature"]["alg"] == "HMAC-SHA256"
    body = {k: v for k, v in doc.items() if k != "signature"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    assert canonical_json(doc) == canonical
    assert doc["signature"]["value"] == hmac.new(KEY, canonical, hashlib.sha256).hexdigest()
    paths = [o["path"] for o in doc["outputs"]]
    assert "notices/介護保険課.html" in paths and "report.html" in paths and "summary.json" not in paths
    for entry in doc["outputs"]:
        data = (out / entry["path"]).read_bytes()
        assert entry["size"] == len(data) and entry["sha256"] == hashlib.sha256(data).hexdigest()


def test_verify_ok(tmp_path: Path) -> None:
    out = make_out(tmp_path)
    assert verify(out, KEY) == []
    assert verify(out) == []  # without a key the hashes are still checked


def test_changed_file(tmp_path: Path) -> None:
    out = make_out(tmp_path)
    with (out / "findings.csv").open("ab") as handle:
        handle.write(b"x")
    problems = verify(out, KEY)
    assert len(problems) == 1 and "findings.csv" in problems[0] and "変更" in problems[0]


def test_changed_same_size(tmp_path: Path) -> None:
    out = make_out(tmp_path)
    path = out / "notices" / "介護保険課.html"
    path.write_text("NOTICE", encoding="utf-8")
    problems = verify(out)
    assert len(problems) == 1 and "notices/介護保険課.html" in problems[0]


def test_missing_file(tmp_path: Path) -> None:
    out = make_out(tmp_path)
    (out / "rejected.jsonl").unlink()
    problems = verify(out, KEY)
    assert len(problems) == 1 and "rejected.jsonl" in problems[0] and "ありません" in problems[0]


def test_extra_unlisted_file(tmp_path: Path) -> None:
    out = make_out(tmp_path)
    (out / "notices" / "extra.html").write_text("planted")
    problems = verify(out, KEY)
    assert len(problems) == 1 and "notices/extra.html" in problems[0]


def test_summary_edit_caught_by_signature_only(tmp_path: Path) -> None:
    out = make_out(tmp_path)
    path = out / "summary.json"
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc["counts"]["lines_read"] = 4
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=2), encoding="utf-8")
    assert verify(out) == []  # no key: an edit of the summary itself cannot be seen
    problems = verify(out, KEY)
    assert len(problems) == 1 and "署名" in problems[0]


def test_rehashed_tampering_needs_the_key(tmp_path: Path) -> None:
    out = make_out(tmp_path)
    (out / "findings.jsonl").write_text("", encoding="utf-8")  # hide the findings...
    path = out / "summary.json"
    doc = json.loads(path.read_text(encoding="utf-8"))
    for entry in doc["outputs"]:  # ...and fix up the hashes
        if entry["path"] == "findings.jsonl":
            entry["size"], entry["sha256"] = 0, hashlib.sha256(b"").hexdigest()
    path.write_text(json.dumps(doc), encoding="utf-8")
    assert verify(out) == []
    assert len(verify(out, KEY)) == 1


def test_wrong_key_and_missing_signature(tmp_path: Path) -> None:
    signed = make_out(tmp_path / "a")
    assert len(verify(signed, b"other key")) == 1
    unsigned = make_out(tmp_path / "b", key=None)
    assert verify(unsigned) == []
    problems = verify(unsigned, KEY)
    assert len(problems) == 1 and "署名" in problems[0]


def test_malformed_summary(tmp_path: Path) -> None:
    out = make_out(tmp_path)
    (out / "summary.json").write_text("{not json", encoding="utf-8")
    assert len(verify(out)) == 1
    (out / "summary.json").unlink()
    problems = verify(out)
    assert len(problems) == 1 and "summary.json" in problems[0]


def test_path_traversal_in_summary_rejected(tmp_path: Path) -> None:
    out = make_out(tmp_path, key=None)
    path = out / "summary.json"
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc["outputs"].append({"path": "../out/summary.json", "size": 1, "sha256": "0" * 64})
    path.write_text(json.dumps(doc), encoding="utf-8")
    problems = verify(out)
    assert len(problems) == 1 and "../out/summary.json" in problems[0]


def test_verify_missing_dir(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        verify(tmp_path / "nope")


def test_english_messages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = make_out(tmp_path)
    (out / "findings.csv").unlink()
    monkeypatch.setenv("PIA_POLICY_LANG", "en")
    problems = verify(out)
    assert problems == ["findings.csv: file is missing"]


def test_load_key(tmp_path: Path) -> None:
    key_file = tmp_path / "key"
    key_file.write_bytes(KEY + b"\n")
    assert load_key(key_file, environ={}) == KEY
    assert load_key(None, environ={KEY_ENV: "s3cret"}) == b"s3cret"
    assert load_key(key_file, environ={KEY_ENV: "s3cret"}) == KEY  # the file wins
    assert load_key(None, environ={}) is None
    (tmp_path / "empty").write_bytes(b"\n")
    with pytest.raises(SigningKeyError):
        load_key(tmp_path / "empty", environ={})
    with pytest.raises(SigningKeyError):
        load_key(tmp_path / "missing", environ={})


# --- the command line ---------------------------------------------------------------------------

def test_cli_ok_and_fail(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    out = make_out(tmp_path)
    key_file = tmp_path / "key"
    key_file.write_bytes(KEY)
    assert main(["verify", str(out), "--key-file", str(key_file)]) == 0
    assert "検証成功" in capsys.readouterr().out
    monkeypatch.setenv(KEY_ENV, KEY.decode("utf-8"))
    assert main(["verify", str(out)]) == 0
    assert "署名も有効" in capsys.readouterr().out
    monkeypatch.setenv(KEY_ENV, "wrong")
    assert main(["verify", str(out), "--lang", "en"]) == 1
    text = capsys.readouterr().out
    assert "signature does not match" in text and "verification failed: 1 problem" in text
    monkeypatch.delenv(KEY_ENV)
    (out / "report.html").write_text("changed")
    assert main(["verify", str(out), "--lang", "en"]) == 1
    assert "report.html: content changed" in capsys.readouterr().out


def test_cli_bad_arguments(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify", str(tmp_path / "missing")]) == 2
    assert "出力ディレクトリがありません" in capsys.readouterr().err
    out = make_out(tmp_path)
    assert main(["verify", str(out), "--key-file", str(tmp_path / "no-key")]) == 2
    with pytest.raises(SystemExit) as exc:
        main(["verify"])
    assert exc.value.code == 2


def test_cli_subprocess_exit_codes(tmp_path: Path) -> None:
    out = make_out(tmp_path)
    env = {**os.environ, KEY_ENV: KEY.decode("utf-8"), "PIA_POLICY_LANG": "en"}
    ok = subprocess.run([sys.executable, "-m", "pia_policy", "verify", str(out)], env=env, capture_output=True,
                        text=True, check=False)
    assert ok.returncode == 0, ok.stderr
    (out / "duplicates.jsonl").write_text("{}\n")
    bad = subprocess.run([sys.executable, "-m", "pia_policy", "verify", str(out)], env=env, capture_output=True,
                         text=True, check=False)
    assert bad.returncode == 1 and "duplicates.jsonl" in bad.stdout


def test_inputs_checked_against_data_dir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data"
    (data / "events").mkdir(parents=True)
    events = data / "events" / "a.jsonl"
    events.write_bytes(b'{"event_id": "e1"}\n')
    accounts = data / "accounts.csv"
    accounts.write_bytes(b"account_id\nu1\n")
    inputs = [{"path": p.relative_to(data).as_posix(), "role": r, "size": p.stat().st_size,
               "sha256": hashlib.sha256(p.read_bytes()).hexdigest()} for p, r in ((events, "events"),
                                                                                   (accounts, "accounts"))]
    out = write_outputs(tmp_path / "out", findings=[], summary={"inputs": inputs}, rejected=[])
    assert verify(out, data_dir=data) == []
    assert main(["verify", str(out), "--data", str(data)]) == 0
    events.write_bytes(b'{"event_id": "e2"}\n')  # same size, other content
    accounts.unlink()
    problems = verify(out, data_dir=data)
    assert len(problems) == 2
    assert "events/a.jsonl" in problems[0] and "変更" in problems[0]
    assert "accounts.csv" in problems[1] and "ありません" in problems[1]
    assert verify(out) == []  # inputs are only checked when asked
    capsys.readouterr()
    assert main(["verify", str(out), "--data", str(data), "--lang", "en"]) == 1
    assert "input events/a.jsonl: changed since the audit" in capsys.readouterr().out
    assert main(["verify", str(out), "--data", str(tmp_path / "nodata")]) == 2


def counted_out(tmp_path: Path, counts: dict[str, int], by_rule: dict[str, int]) -> Path:
    return write_outputs(tmp_path / "out", findings=[make_finding(i) for i in range(2)],
                         summary={"counts": counts, "findings_by_rule": by_rule},
                         rejected=rejected_rows(3),
                         duplicates=[{"file": "f", "line": 2, "event_id": "e", "first_file": "f", "first_line": 1}])


GOOD_COUNTS = {"lines_read": 9, "events_evaluated": 6, "duplicates": 1, "lines_rejected": 2, "ledger_rows_rejected": 1}


def test_counts_consistent(tmp_path: Path) -> None:
    out = counted_out(tmp_path, GOOD_COUNTS, {"ACCESS_AFTER_REVOCATION": 2, "BULK_ACCESS": 0})
    assert verify(out) == []


@pytest.mark.parametrize(
    ("change", "by_rule", "needle"),
    [
        ({"lines_rejected": 1, "lines_read": 8}, {"A": 2}, "rejected.jsonl"),  # a rejected line unaccounted for
        ({"duplicates": 2, "lines_read": 10}, {"A": 2}, "duplicates.jsonl"),
        ({}, {"A": 3}, "findings.jsonl"),
        ({"lines_read": 10}, {"A": 2}, "10"),  # read != evaluated + duplicates + rejected
    ],
)
def test_counts_inconsistent(tmp_path: Path, change: dict[str, int], by_rule: dict[str, int], needle: str) -> None:
    out = counted_out(tmp_path, {**GOOD_COUNTS, **change}, by_rule)
    problems = verify(out)
    assert len(problems) == 1 and needle in problems[0], problems


# --- issue 16 items 9 and 10: a hostile tree or summary.json is a FAIL (exit 1), never a traceback -------

def test_added_directory_and_symlinked_directory_fail(tmp_path: Path) -> None:
    out = make_out(tmp_path, key=None)
    assert verify(out) == []
    (out / "x").mkdir(mode=0o700)
    problems = verify(out)
    assert len(problems) == 1 and problems[0].startswith("x/:")
    (out / "x").rmdir()
    (out / "notices" / "evil").symlink_to(tmp_path)  # a directory outside, through a link
    problems = verify(out)
    assert len(problems) == 1 and "notices/evil" in problems[0] and "シンボリックリンク" in problems[0]


def test_symlink_in_place_of_a_listed_file_fails(tmp_path: Path) -> None:
    out = make_out(tmp_path, key=None)
    real = tmp_path / "copy.html"
    real.write_bytes((out / "report.html").read_bytes())
    (out / "report.html").unlink()
    (out / "report.html").symlink_to(real)  # same bytes, same hash: still not the written file
    problems = verify(out)
    assert any("report.html" in p and "シンボリックリンク" in p for p in problems)


def test_fifo_in_the_tree_fails(tmp_path: Path) -> None:
    out = make_out(tmp_path, key=None)
    os.mkfifo(out / "notices" / "pipe")
    problems = verify(out)
    assert len(problems) == 1 and "notices/pipe" in problems[0]


def test_modes_are_checked(tmp_path: Path) -> None:
    out = make_out(tmp_path, key=None)
    os.chmod(out / "findings.jsonl", 0o666)
    problems = verify(out)
    assert len(problems) == 1 and "findings.jsonl" in problems[0] and "666" in problems[0]
    os.chmod(out / "findings.jsonl", 0o600)
    os.chmod(out / "notices", 0o777)
    problems = verify(out)
    assert len(problems) == 1 and "notices/" in problems[0] and "700" in problems[0]
    os.chmod(out / "notices", 0o700)
    assert verify(out) == []  # near miss: restored


@pytest.mark.parametrize("text", [
    '{"outputs": [], "counts": {"lines_read": NaN}}',
    '{"outputs": [], "x": Infinity}',
    "[" * 100_000 + "]" * 100_000,
    '{"a":' * 100_000 + "1" + "}" * 100_000,
    '{"outputs": [], "deep": ' + "[" * 70 + "]" * 70 + "}",
])
def test_hostile_summary_is_a_failure_not_a_crash(tmp_path: Path, text: str,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    out = make_out(tmp_path, key=None)
    (out / "summary.json").write_text(text, encoding="utf-8")
    problems = verify(out, KEY)
    assert problems and any("summary.json" in p for p in problems)
    assert main(["verify", str(out), "--lang", "en"]) == 1
    captured = capsys.readouterr()
    assert "FAIL: summary.json" in captured.out and "Traceback" not in captured.err


def test_summary_nesting_at_the_bound_is_read(tmp_path: Path) -> None:
    out = make_out(tmp_path, key=None)
    path = out / "summary.json"
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc["deep"] = json.loads("[" * 62 + "]" * 62)  # 63 levels below the object: 64 in all
    path.write_text(json.dumps(doc), encoding="utf-8")
    assert verify(out) == []
