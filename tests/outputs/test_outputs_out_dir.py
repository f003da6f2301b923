"""OUT_DIR safety (issue 16 items 1 and 11): what the swap may replace, and one writer at a time."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from outputs_helpers import make_finding

from pia_policy.outputs import OutputDirError, check_out_dir, lock_out_dir, verify, write_outputs


@pytest.fixture(autouse=True)
def _english(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIA_POLICY_LANG", "en")


def write(out: Path, tag: str = "t") -> Path:
    return write_outputs(out, findings=[make_finding(1)], summary={"run_tag": tag}, rejected=[])


def test_empty_name_is_refused() -> None:
    for given in ("", "  "):
        with pytest.raises(OutputDirError, match="--out"):
            check_out_dir(given)


def test_root_is_refused() -> None:
    with pytest.raises(OutputDirError, match="root"):
        check_out_dir("/")


def test_new_and_empty_directories_are_accepted(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    assert check_out_dir(tmp_path / "empty") == tmp_path / "empty"
    assert check_out_dir(tmp_path / "new" / "deeper") == tmp_path / "new" / "deeper"
    assert verify(write(tmp_path / "empty")) == []


def test_a_directory_with_other_files_is_kept(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "keep.txt").write_text("keep")
    with pytest.raises(OutputDirError, match="not empty") as err:
        write(home)
    assert str(home) in str(err.value)
    assert (home / "keep.txt").read_text() == "keep"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home"]


def test_a_previous_output_is_replaced(tmp_path: Path) -> None:
    out = write(tmp_path / "out", "first")
    write(out, "second")
    assert json.loads((out / "summary.json").read_text(encoding="utf-8"))["run_tag"] == "second"


@pytest.mark.parametrize("extra", ["file", "dir", "link"])
def test_a_previous_output_with_anything_added_is_kept(tmp_path: Path, extra: str) -> None:
    out = write(tmp_path / "out")
    added = out / "notes"
    if extra == "file":
        added.write_text("mine")
    elif extra == "dir":
        added.mkdir()
    else:
        added.symlink_to(tmp_path)
    with pytest.raises(OutputDirError, match="not empty"):
        write(out, "second")
    assert os.path.lexists(added)


def test_a_summary_that_does_not_list_the_files_is_not_an_output(tmp_path: Path) -> None:
    fake = tmp_path / "fake"
    fake.mkdir()
    (fake / "summary.json").write_text(json.dumps({"schema_version": "1.0", "outputs": []}))
    (fake / "data.csv").write_text("precious")
    with pytest.raises(OutputDirError):
        write(fake)
    (fake / "summary.json").write_text("{not json")
    (fake / "data.csv").unlink()
    with pytest.raises(OutputDirError):
        write(fake)


def test_symlink_in_the_parent_path_is_fine(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "via").symlink_to(tmp_path / "real")
    out = write(tmp_path / "via" / "out")
    assert out == tmp_path / "real" / "out" and verify(out) == []


@pytest.mark.parametrize("where", ["same", "inside", "contains"])
def test_out_dir_and_data_dir_must_not_overlap(tmp_path: Path, where: str) -> None:
    data = tmp_path / "data"
    (data / "events").mkdir(parents=True)
    out = {"same": data, "inside": data / "out", "contains": tmp_path}[where]
    with pytest.raises(OutputDirError, match="data directory"):
        check_out_dir(out, data_dir=data)
    link = tmp_path / "alias"  # through a link to the data directory too
    link.symlink_to(data)
    with pytest.raises(OutputDirError, match="data directory"):
        check_out_dir(out, data_dir=link)


def test_a_held_lock_stops_a_second_writer_with_the_holders_pid(tmp_path: Path) -> None:
    out = tmp_path / "out"
    child = textwrap.dedent(
        """
        import sys
        from pathlib import Path
        from pia_policy.outputs import OutputDirError, write_outputs
        try:
            write_outputs(Path(sys.argv[1]), findings=[], summary={}, rejected=[])
        except OutputDirError as exc:
            print(exc)
            sys.exit(2)
        """
    )
    with lock_out_dir(out):
        with lock_out_dir(out):  # re-entrant in the holding thread
            pass
        p = subprocess.run([sys.executable, "-c", child, str(out)], capture_output=True, text=True, timeout=60,
                           env=dict(os.environ, PIA_POLICY_LANG="en"))
        assert p.returncode == 2, p.stderr
        assert f"another run (pid {os.getpid()}) is writing it" in p.stdout and str(out) in p.stdout
        assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # the lock file goes with the lock
    assert verify(write(out)) == []


RACER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from pia_policy.outputs import OutputDirError, write_outputs
    out, tag, start = Path(sys.argv[1]), sys.argv[2], float(sys.argv[3])
    rows = [{"file": "f", "line": i, "reason": "r", "detail": tag} for i in range(2000)]
    while time.time() < start:
        pass
    try:
        write_outputs(out, findings=[], summary={"run_tag": tag}, rejected=rows)
    except OutputDirError as exc:
        print("refused:", exc)
        sys.exit(2)
    print("written")
    """
)


def test_two_first_runs_on_one_fresh_out_dir(tmp_path: Path) -> None:
    outcomes: dict[int, int] = {}
    for trial in range(8):
        out = tmp_path / f"out{trial}"
        start = time.time() + 1.5  # both spin until the same instant (after their imports)
        procs = [subprocess.Popen([sys.executable, "-c", RACER, str(out), tag, str(start)], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True, env=dict(os.environ, PIA_POLICY_LANG="en"))
                 for tag in ("a", "b")]
        results = [p.communicate(timeout=120) + (p.returncode,) for p in procs]
        for stdout, stderr, code in results:
            assert "Traceback" not in stderr, stderr
            assert code == 0 or (code == 2 and "is writing it" in stdout), (code, stdout, stderr)
            outcomes[code] = outcomes.get(code, 0) + 1
        assert 0 in [r[2] for r in results]
        assert verify(out) == []
        assert json.loads((out / "summary.json").read_text(encoding="utf-8"))["run_tag"] in {"a", "b"}
        assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(f".out{trial}.")) == []
    assert sum(outcomes.values()) == 16
