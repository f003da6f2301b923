"""write_outputs: files, masking everywhere, modes, determinism, streaming, staging and cleanup."""

from __future__ import annotations

import json
import os
import stat
import tracemalloc
from pathlib import Path

import pytest
from outputs_helpers import make_finding, rejected_rows

from pia_policy.outputs import OutputDirError, cleanup_leftovers, dir_mode_for, verify, write_outputs
from pia_policy.outputs._atomic import swap_in

MY_NUMBER = "123456789018"  # valid check digit
WIDE_GROUPED = "１２３４－５６７８－９０１８"
NOT_MY_NUMBER = "123456789017"  # same digits, wrong check digit


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def summary(**over: object) -> dict[str, object]:
    data: dict[str, object] = {
        "schema_version": "1.0",
        "inputs": [{"path": "data/events/a.jsonl", "role": "events", "size": 10, "sha256": "ab" * 32}],
        "counts": {"lines_read": 4, "events_evaluated": 1, "duplicates": 1, "lines_rejected": 2},
        "run": {"started_at": "2026-04-02T00:00:00Z", "finished_at": "2026-04-02T00:00:01Z", "seconds": 1.25},
    }
    data.update(over)
    return data


def write(out: Path, **over: object) -> Path:
    args: dict[str, object] = {
        "findings": [make_finding(i) for i in range(3)],
        "summary": summary(),
        "rejected": list(rejected_rows(2)),
        "duplicates": [{"file": "events/a.jsonl", "line": 9, "event_id": "e1", "first_file": "events/a.jsonl",
                        "first_line": 1}],
    }
    args.update(over)
    return write_outputs(out, **args)  # type: ignore[arg-type]


def test_spec_files_written(tmp_path: Path) -> None:
    out = write(tmp_path / "out")
    names = sorted(p.name for p in out.iterdir())
    assert names == ["duplicates.jsonl", "findings.csv", "findings.jsonl", "rejected.jsonl", "summary.json"]
    lines = (out / "findings.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 3
    first = json.loads(lines[0])
    assert list(first)[:3] == ["schema_version", "finding_id", "rule"]
    assert first["evidence"][0] == {"file": "events/a.jsonl", "line": 1, "event_id": "e0"}
    assert "介護保険課" in lines[0]  # ensure_ascii=False
    rejected = [json.loads(x) for x in (out / "rejected.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [list(r) for r in rejected][0] == ["schema_version", "file", "line", "reason", "field", "detail", "excerpt"]
    assert [r["line"] for r in rejected] == [1, 2]
    dup = json.loads((out / "duplicates.jsonl").read_text(encoding="utf-8"))
    assert dup["schema_version"] == "1.0" and dup["first_line"] == 1
    doc = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert doc["inputs"] == summary()["inputs"]
    assert doc["counts"] == summary()["counts"]
    assert [o["path"] for o in doc["outputs"]] == ["duplicates.jsonl", "findings.csv", "findings.jsonl",
                                                   "rejected.jsonl"]
    assert "signature" not in doc
    assert verify(out) == []


def test_tuple_rows_and_extra_keys(tmp_path: Path) -> None:
    out = write(tmp_path / "out", rejected=[("f.csv", 3, "csv_width", None, "4 columns, 5 expected", "a,b")],
                duplicates=[{"file": "f", "line": 2, "event_id": "e", "first_file": "f", "first_line": 1, "zz": 1}])
    rejected = json.loads((out / "rejected.jsonl").read_text(encoding="utf-8"))
    assert rejected == {"schema_version": "1.0", "file": "f.csv", "line": 3, "reason": "csv_width", "field": None,
                        "detail": "4 columns, 5 expected", "excerpt": "a,b"}
    dup = json.loads((out / "duplicates.jsonl").read_text(encoding="utf-8"))
    assert list(dup)[-1] == "zz"


def test_my_numbers_masked_in_every_file(tmp_path: Path) -> None:
    finding = make_finding(1, account_id=f"acc {MY_NUMBER}", basis=f"free text {WIDE_GROUPED}",
                           action=f"keep {NOT_MY_NUMBER}")
    rejected = [{"file": f"events/{MY_NUMBER}.jsonl", "line": 1, "reason": "invalid_json", "field": None,
                 "detail": f"x {MY_NUMBER}", "excerpt": f'{{"subject": "{MY_NUMBER}", "tel": "{NOT_MY_NUMBER}"'}]

    def extras(staging: Path) -> list[str]:
        (staging / "notices").mkdir()
        (staging / "report.html").write_text(f"<p>{MY_NUMBER}</p>", encoding="utf-8")
        (staging / "notices" / "介護保険課.txt").write_bytes(f"番号 {MY_NUMBER}".encode("cp932"))
        return ["report.html", "notices/介護保険課.txt"]

    duplicates = [{"file": "a", "line": 2, "event_id": f"ev-{MY_NUMBER}", "first_file": "a", "first_line": 1}]
    out = write(tmp_path / "out", findings=[finding], rejected=rejected, duplicates=duplicates,
                summary=summary(note=f"{MY_NUMBER}", by={MY_NUMBER: 1},
                                counts={"lines_read": 3, "events_evaluated": 1, "duplicates": 1, "lines_rejected": 1}),
                extras=extras)
    seen_not = 0
    for path in sorted(p for p in out.rglob("*") if p.is_file()):
        raw = path.read_bytes()
        for encoding in ("utf-8-sig", "cp932"):
            try:
                text = raw.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        normalized = text.translate(str.maketrans("０１２３４５６７８９", "0123456789")).replace("－", "")
        assert MY_NUMBER not in normalized, path
        assert "****" in text, path
        seen_not += NOT_MY_NUMBER in text
    assert seen_not >= 3  # an invalid check digit is kept (findings.jsonl, csv, rejected)
    assert verify(out) == []


def test_modes_default(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        out = write(tmp_path / "new" / "out", extras=lambda s: [(s / "report.html").write_text("x") and "report.html"])
    finally:
        os.umask(old)
    assert mode_of(out) == 0o700
    files = [p for p in out.rglob("*") if p.is_file()]
    assert len(files) == 6
    assert {mode_of(p) for p in files} == {0o600}


def test_modes_wider_on_request(tmp_path: Path) -> None:
    old = os.umask(0o077)  # a strict umask must not narrow what the operator asked for
    try:
        def extras(staging: Path) -> list[str]:
            (staging / "notices").mkdir()
            (staging / "notices" / "a.html").write_text("a")
            return ["notices/a.html"]

        out = write(tmp_path / "out", file_mode=0o640, extras=extras)
    finally:
        os.umask(old)
    assert mode_of(out) == 0o750
    assert mode_of(out / "notices") == 0o750
    assert {mode_of(p) for p in out.rglob("*") if p.is_file()} == {0o640}


def test_existing_out_dir_keeps_its_mode(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    os.chmod(out, 0o750)
    write(out, extras=lambda s: [(s / "old-report.html").write_text("older run") and "old-report.html"])
    write(out)
    assert mode_of(out) == 0o750
    assert not (out / "old-report.html").exists()  # the directory is replaced as a whole
    assert {mode_of(p) for p in out.iterdir()} == {0o600}


@pytest.mark.parametrize(("file_mode", "dir_mode"), [(0o600, 0o700), (0o640, 0o750), (0o644, 0o755), (0o400, 0o500)])
def test_dir_mode_for(file_mode: int, dir_mode: int) -> None:
    assert dir_mode_for(file_mode) == dir_mode


def test_deterministic(tmp_path: Path) -> None:
    a = write(tmp_path / "a", summary=summary(run={"started_at": "2026-04-02T00:00:00Z"}))
    b = write(tmp_path / "b", summary=summary(run={"started_at": "2026-04-03T09:09:09Z"}))
    for name in ("findings.jsonl", "findings.csv", "rejected.jsonl", "duplicates.jsonl"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    assert (a / "summary.json").read_bytes() != (b / "summary.json").read_bytes()
    # a different finding changes the bytes (the comparison above can fail)
    c = write(tmp_path / "c", findings=[make_finding(i) for i in range(2)])
    assert (a / "findings.jsonl").read_bytes() != (c / "findings.jsonl").read_bytes()


def test_rejected_is_streamed(tmp_path: Path) -> None:
    n = 20_000
    consumed = 0

    def rows():  # a generator: write_outputs must not need a list
        nonlocal consumed
        for row in rejected_rows(n, prefix="x" * 400):
            consumed += 1
            yield row

    tracemalloc.start()
    try:
        out = write(tmp_path / "out", rejected=rows())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    size = (out / "rejected.jsonl").stat().st_size
    assert consumed == n
    assert size > 15_000_000
    assert peak < size / 4, (peak, size)  # far less than the file: nothing builds it in memory
    with (out / "rejected.jsonl").open(encoding="utf-8") as handle:
        assert sum(1 for _ in handle) == n


def test_failure_leaves_previous_outputs(tmp_path: Path) -> None:
    out = write(tmp_path / "out")
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def boom(staging: Path) -> list[str]:
        raise RuntimeError("report failed")

    with pytest.raises(RuntimeError):
        write(out, findings=[], extras=boom)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no staging left behind


def test_extras_symlink_refused(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("x")

    def extras(staging: Path) -> list[str]:
        (staging / "link").symlink_to(secret)
        return ["link"]

    with pytest.raises(ValueError, match="non-regular"):
        write(tmp_path / "out", extras=extras)
    assert not (tmp_path / "out").exists()


def test_out_dir_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "out").write_text("x")
    with pytest.raises(OutputDirError, match="ディレクトリではありません"):
        write(tmp_path / "out")
    assert (tmp_path / "out").read_text() == "x"


def test_leftovers_of_dead_runs_are_removed(tmp_path: Path) -> None:
    out = write(tmp_path / "out")
    dead = 2**22 + 12345  # above the default pid_max: no such process
    staging = tmp_path / f".out.staging-{dead}-abc123"
    old = tmp_path / f".out.old-{dead}-abc124"
    mine = tmp_path / f".out.staging-{os.getpid()}-abc125"  # a live process: left alone
    other = tmp_path / ".other.staging-1-abc"  # another output directory: left alone
    for d in (staging, old, mine, other):
        d.mkdir()
        (d / "findings.jsonl").write_text("partial")
    write(out)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([".other.staging-1-abc", mine.name, "out"])


def test_orphaned_previous_set_is_restored(tmp_path: Path) -> None:
    # Killed between the two renames of the fallback swap: no out, the previous set in .old-…
    out = write(tmp_path / "out")
    dead = 2**22 + 12346
    old = tmp_path / f".out.old-{dead}-abcdef"
    os.rename(out, old)
    restored = cleanup_leftovers(out)
    assert restored == [old]
    assert verify(out) == []


def test_fallback_swap_without_exchange(tmp_path: Path) -> None:
    out = write(tmp_path / "out")
    staging = tmp_path / ".out.staging-1-ff"
    staging.mkdir()
    (staging / "new.txt").write_text("new")
    swap_in(staging, out, use_exchange=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    assert [p.name for p in out.iterdir()] == ["new.txt"]


def test_jsonl_masking_through_escapes_and_numbers(tmp_path: Path) -> None:
    rows = [
        {"file": "f", "line": 123456789018, "reason": "wrong_type", "field": "x", "detail": "\x01123456789018",
         "excerpt": 'say "123456789018"\t1234 5678 9018\n'},
        {"file": "f", "line": 2, "reason": "r", "field": None, "detail": "\x01123456789017", "excerpt": "1234567890180"},
    ]
    out = write(tmp_path / "out", rejected=rows)
    lines = (out / "rejected.jsonl").read_text(encoding="utf-8").splitlines()
    first, second = (json.loads(x) for x in lines)  # still valid JSON after masking
    assert first["line"] == "********9018"
    assert first["detail"] == "\x01********9018"
    assert first["excerpt"] == 'say "********9018"\t**** **** 9018\n'
    assert second["detail"] == "\x01123456789017" and second["excerpt"] == "1234567890180"
    assert second["line"] == 2


def test_symlinked_out_dir_is_refused_and_its_target_kept(tmp_path: Path) -> None:
    real = write(tmp_path / "2026-04-01")
    before = (real / "findings.jsonl").read_bytes()
    link = tmp_path / "latest"
    link.symlink_to(real)
    with pytest.raises(OutputDirError, match="シンボリックリンク") as err:
        write(link, findings=[make_finding(7)])
    assert str(real) in str(err.value)  # the fix names the directory itself
    assert link.is_symlink() and (real / "findings.jsonl").read_bytes() == before


def test_non_finite_numbers_become_null(tmp_path: Path) -> None:
    out = write(tmp_path / "out", summary=summary(run={"seconds": float("nan")}))
    assert json.loads((out / "summary.json").read_text(encoding="utf-8"))["run"]["seconds"] is None


from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from pia_policy.outputs import mask_value  # noqa: E402
from pia_policy.outputs._files import write_jsonl  # noqa: E402

_piece = st.one_of(
    st.sampled_from(["123456789018", "１２３４－５６７８－９０１８", "1234 5678 9018", "123456789017", "\x01", "\x1f",
                     "\"", "\\", "\n", "-", " ", "9"]),
    st.text(max_size=4),
)


@given(st.lists(st.tuples(st.lists(_piece, max_size=6).map("".join), st.one_of(st.integers(), st.none())),
                min_size=1, max_size=5))
@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
def test_line_shortcut_equals_value_masking(tmp_path_factory: pytest.TempPathFactory,
                                            rows: list[tuple[str, int | None]]) -> None:
    # The writer scans the serialized line once and only masks value by value when needed:
    # the result must equal masking every value first.
    path = tmp_path_factory.mktemp("jsonl") / "rows.jsonl"
    records = [{"file": text, "line": number, "reason": "r", "field": None, "detail": text[::-1], "excerpt": text}
               for text, number in rows]
    write_jsonl(path, records, mode=0o600, columns=("file", "line", "reason", "field", "detail", "excerpt"),
                schema_version="1.0")
    got = [json.loads(line) for line in path.read_text(encoding="utf-8").split("\n")[:-1]]
    want = [mask_value({"schema_version": "1.0", **r}) for r in records]
    assert got == want


def test_unicode_line_breaks_stay_inside_one_line(tmp_path: Path) -> None:
    hostile = "a\x85b\u2028c\u2029d\x0be\x0cf\x1cg\x1dh\x1ei\rj"
    out = write(tmp_path / "out", rejected=[{"file": "f", "line": 1, "reason": "r", "detail": hostile,
                                              "excerpt": hostile}],
                summary=summary(note=hostile, counts={}))
    text = (out / "rejected.jsonl").read_text(encoding="utf-8")
    assert len(text.splitlines()) == 1  # str.splitlines splits on all of those
    assert json.loads(text)["excerpt"] == hostile
    doc = (out / "summary.json").read_text(encoding="utf-8")
    assert json.loads(doc)["note"] == hostile and "\u2028" not in doc
